"""The generated knative/ manifests: current, valid against the real Knative CRD schemas, and
exactly what the embedded mesh runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from culturemesh.deploy import knative
from culturemesh.mesh import objects
from culturemesh.project import load_products
from tests.conftest import REPO

CRDS = REPO.parent / "shared" / "reference" / "knative"
KINDS = {
    "Broker": "eventing-broker.yaml",
    "Trigger": "eventing-trigger.yaml",
    "Service": "serving-service.yaml",
    "SinkBinding": "eventing-sinkbindings.yaml",
    "EventType": "eventing-eventtype.yaml",
    "PingSource": "eventing-pingsource.yaml",
}


def crd_schema(kind: str, version_name: str = "v1") -> dict[str, Any]:
    for document in yaml.safe_load_all((CRDS / KINDS[kind]).read_text()):
        if document and document.get("kind") == "CustomResourceDefinition":
            version = next(v for v in document["spec"]["versions"] if v["name"] == version_name)
            return dict(version["schema"]["openAPIV3Schema"])
    raise AssertionError(f"no CRD for {kind}")


def generated() -> list[dict[str, Any]]:
    return knative.objects(load_products(REPO / "functions"), REPO)


def cluster_only() -> list[dict[str, Any]]:
    products = load_products(REPO / "functions")
    return [*knative.s3_adapter(), *(obj for d in products for obj in knative.event_types(d))]


def test_committed_knative_folder_matches_the_descriptors(tmp_path: Path) -> None:
    written = knative.write(load_products(REPO / "functions"), REPO, tmp_path)
    for path in written:
        committed = REPO / "knative" / path.relative_to(tmp_path)
        assert committed.is_file(), f"knative/{path.name} is missing: run `culturemesh build knative`"
        assert committed.read_text() == path.read_text(), (
            f"knative/{path.name} is stale: run `culturemesh build knative`"
        )


@pytest.mark.parametrize("obj", generated() + cluster_only(), ids=lambda o: f"{o['kind']}-{o['metadata']['name']}")
def test_every_generated_object_is_valid_against_its_crd_schema(obj: dict[str, Any]) -> None:
    schema = crd_schema(obj["kind"], obj["apiVersion"].rsplit("/", 1)[-1])
    errors = list(Draft202012Validator(schema).iter_errors(obj))
    assert errors == [], [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_a_wrong_field_type_is_caught_by_the_crd_schema() -> None:
    service = next(o for o in generated() if o["kind"] == "Service")
    service["spec"]["template"]["spec"]["containerConcurrency"] = "ten"
    assert list(Draft202012Validator(crd_schema("Service")).iter_errors(service))


def test_the_embedded_mesh_accepts_every_generated_object() -> None:
    for obj in generated():
        parse = {
            "Broker": objects.parse_broker,
            "Trigger": objects.parse_trigger,
            "Service": objects.parse_service,
            "SinkBinding": objects.parse_sink_binding,
        }
        parsed = parse[obj["kind"]](obj)
        assert parsed.name == obj["metadata"]["name"]


def test_upload_trigger_routes_object_created_events_under_the_port_prefix_to_the_function() -> None:
    trigger = objects.parse_trigger(next(o for o in generated() if o["kind"] == "Trigger"))
    key = "ticketing/ticket-sales/sales-upload/20261127T101500Z/sales.csv"
    assert trigger.matches({"type": "com.amazonaws.s3.ObjectCreated:Put", "subject": key})
    assert not trigger.matches({"type": "com.amazonaws.s3.ObjectCreated:Put", "subject": "museum/visits/x/a.csv"})
    assert not trigger.matches({"type": "com.amazonaws.s3.ObjectRemoved:Delete", "subject": key})
    assert trigger.subscriber["ref"]["name"] == "ticket-sales-ingest"


def test_cluster_only_services_pass_knative_admission() -> None:
    from culturemesh.mesh.admission import admit

    for obj in cluster_only():
        if obj["kind"] == "Service":
            admit(obj)


def test_the_vendored_crd_schemas_are_the_reference_ones_unchanged() -> None:
    import json

    vendored = json.loads((REPO / "src" / "culturemesh" / "deploy" / "knative-schemas.json").read_text())
    for key, schema in vendored.items():
        if key.startswith("_"):
            continue
        _group, version, kind = key.split("/")
        assert schema == crd_schema(kind, version), key


def test_validate_reports_a_field_the_crd_schema_refuses() -> None:
    from culturemesh.deploy.crds import crd_problems

    service = next(o for o in generated() if o["kind"] == "Service")
    service["spec"]["template"]["spec"]["timeoutSeconds"] = "five minutes"
    assert any("timeoutSeconds" in problem for problem in crd_problems(service))
    assert crd_problems(next(o for o in generated() if o["kind"] == "Trigger")) == []

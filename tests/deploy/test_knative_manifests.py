"""The generated knative/ manifests: current, valid against the real Knative CRD schemas, and
exactly what the embedded mesh runs."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from culturemesh import deadletters, events
from culturemesh.deploy import catalog, irsa, knative
from culturemesh.errors import ConfigError
from culturemesh.mesh import objects
from culturemesh.mesh.ping import parse_ping_source
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


FIXTURES = REPO / "tests" / "fixtures" / "functions"


def generated() -> list[dict[str, Any]]:
    """What the project generates, and what the scheduled fixture product adds (PingSource and its Trigger)."""
    scheduled = [obj for d in load_products(FIXTURES) for obj in knative.objects([d], REPO / "tests" / "fixtures")]
    names = set()
    result = []
    for obj in [*knative.objects(load_products(REPO / "functions"), REPO), *scheduled]:
        key = (obj["kind"], obj["metadata"]["name"])
        if key not in names:
            names.add(key)
            result.append(obj)
    return result


def cluster_only() -> list[dict[str, Any]]:
    products = load_products(REPO / "functions")
    return [
        *knative.s3_adapter(),
        *catalog.freshness_check(),
        *(obj for d in products for obj in knative.event_types(d)),
    ]


def service_accounts() -> list[dict[str, Any]]:
    return irsa.service_accounts([*load_products(REPO / "functions"), *load_products(FIXTURES)])


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
        parse: dict[str, Callable[[dict[str, Any]], Any]] = {
            "Broker": objects.parse_broker,
            "Trigger": objects.parse_trigger,
            "Service": objects.parse_service,
            "SinkBinding": objects.parse_sink_binding,
            "PingSource": parse_ping_source,
        }
        parsed = parse[obj["kind"]](obj)
        assert parsed.name == obj["metadata"]["name"]


def test_upload_trigger_routes_object_created_events_under_the_port_prefix_to_the_function() -> None:
    trigger = objects.parse_trigger(
        next(o for o in generated() if o["kind"] == "Trigger" and o["metadata"]["name"] == "ticket-sales-sales-upload")
    )
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


# -- scheduled runs: PingSource and its Trigger ------------------------------------------------


def scheduled_fixture() -> Any:
    (descriptor,) = [d for d in load_products(FIXTURES) if d.schedule]
    return descriptor


def test_a_scheduled_product_gets_a_ping_source_into_the_broker_and_a_trigger_to_its_scheduled_function() -> None:
    descriptor = scheduled_fixture()
    ping, trigger = knative.scheduled_run(descriptor)
    assert ping["spec"]["schedule"] == descriptor.schedule == "0 3 * * *"
    assert ping["spec"]["timezone"] == "UTC"
    assert ping["spec"]["sink"]["ref"] == {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
    assert json.loads(ping["spec"]["data"])["dataproduct"] == "museums/visit-counts"

    event = parse_ping_source(ping).event(datetime(2026, 11, 28, 3, tzinfo=UTC))
    other = copy.deepcopy(ping)
    other["metadata"]["name"] = "another-schedule"
    assert objects.parse_trigger(trigger).matches(event.attributes)
    assert not objects.parse_trigger(trigger).matches(parse_ping_source(other).event(datetime.now(UTC)).attributes)
    subscriber = trigger["spec"]["subscriber"]["ref"]["name"]
    assert subscriber == "visit-counts-scheduled"
    assert subscriber in {o["metadata"]["name"] for o in knative.services(descriptor, REPO) if o["kind"] == "Service"}


def test_products_without_a_schedule_get_no_ping_source() -> None:
    assert [knative.scheduled_run(d) for d in load_products(REPO / "functions") if d.schedule is None] != []
    assert all(knative.scheduled_run(d) == [] for d in load_products(REPO / "functions") if d.schedule is None)


def test_a_schedule_without_a_scheduled_function_is_refused_naming_the_file_and_what_to_add() -> None:
    descriptor = scheduled_fixture()
    only_ingest = {"ingest": descriptor.functions["ingest"]}
    broken = dataclasses.replace(descriptor, extension=dataclasses.replace(descriptor.extension, functions=only_ingest))
    with pytest.raises(ConfigError) as caught:
        knative.objects([broken], REPO)
    message = str(caught.value)
    assert "visit-counts/data-product.yaml: spec.transformer.schedule" in message
    assert "no 'scheduled' function" in message


def test_a_wrong_ping_source_field_type_is_caught_by_the_crd_schema() -> None:
    from culturemesh.deploy.crds import crd_problems

    ping, _ = knative.scheduled_run(scheduled_fixture())
    ping["spec"]["schedule"] = 300
    assert crd_problems(ping) == ["spec.schedule: 300 is not of type 'string'"]


# -- ServiceAccounts for IRSA ------------------------------------------------------------------


def test_every_service_account_a_service_runs_as_is_generated_in_its_namespace() -> None:
    accounts = {(sa["metadata"]["namespace"], sa["metadata"]["name"]) for sa in service_accounts()}
    services = [o for o in generated() + cluster_only() if o["kind"] == "Service"]
    wanted = {
        (s["metadata"]["namespace"], s["spec"]["template"]["spec"]["serviceAccountName"])
        for s in services
        if "serviceAccountName" in s["spec"]["template"]["spec"]
    }
    assert wanted and wanted <= accounts


@pytest.mark.parametrize("account", service_accounts(), ids=lambda sa: sa["metadata"]["name"])
def test_every_generated_service_account_is_valid(account: dict[str, Any]) -> None:
    from culturemesh.deploy.crds import crd_problems

    assert crd_problems(account) == []


def test_service_accounts_name_the_role_of_the_given_account_and_the_committed_ones_a_placeholder() -> None:
    (ticket_sales,) = [d for d in load_products(REPO / "functions") if d.name == "ticket-sales"]
    accounts = irsa.service_accounts([ticket_sales], "123456789012")
    roles = {sa["metadata"]["name"]: sa["metadata"]["annotations"][irsa.ROLE_ANNOTATION] for sa in accounts}
    assert roles == {
        "dp-ticketing-ticket-sales": "arn:aws:iam::123456789012:role/culturemesh-ticketing-ticket-sales",
        "culturemesh-s3-adapter": "arn:aws:iam::123456789012:role/culturemesh-s3-adapter",
        "culturemesh-dead-letters": "arn:aws:iam::123456789012:role/culturemesh-dead-letters",
        "culturemesh-catalog": "arn:aws:iam::123456789012:role/culturemesh-catalog",
    }
    committed = (REPO / "knative" / "cluster" / "service-accounts.yaml").read_text()
    assert f"arn:aws:iam::{irsa.PLACEHOLDER_ACCOUNT}:role/" in committed
    with pytest.raises(ConfigError, match="expected the 12 digits of an AWS account id"):
        irsa.service_accounts(load_products(REPO / "functions"), "12345")


def test_write_renders_the_service_accounts_for_the_given_account(tmp_path: Path) -> None:
    knative.write(load_products(REPO / "functions"), REPO, tmp_path, aws_account_id="210987654321")
    accounts = list(yaml.safe_load_all((tmp_path / "cluster" / "service-accounts.yaml").read_text()))
    assert {sa["metadata"]["annotations"][irsa.ROLE_ANNOTATION].split(":")[4] for sa in accounts} == {"210987654321"}


def _account_edit(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(obj: dict[str, Any]) -> None:
        node = obj
        for key in path[:-1]:
            node = node[key]
        if value is None:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return edit


INVALID_ACCOUNTS = [
    (("metadata", "name"), None, "metadata.name: required: a DNS-1123 subdomain"),
    (("metadata", "name"), "DP_Ticketing", "metadata.name: 'DP_Ticketing' is not a DNS-1123 subdomain"),
    (("metadata", "name"), "dp-" + "x" * 251, "is not a DNS-1123 subdomain"),
    (("metadata", "namespace"), "cultuur.mesh", "metadata.namespace: 'cultuur.mesh' is not a DNS-1123 label"),
    (("metadata",), None, "metadata: required"),
    (("metadata", "annotations", irsa.ROLE_ANNOTATION), "arn:aws:iam::000000000000:user/x", "is not an IAM role ARN"),
    (("metadata", "annotations", irsa.ROLE_ANNOTATION), "culturemesh-ticketing", "is not an IAM role ARN"),
    (("metadata", "labels"), {"culturemesh.be/domain": 7}, "metadata.labels: expected a map of string to string"),
    (("automountServiceAccountToken",), "yes", "automountServiceAccountToken: expected true or false"),
    (("spec",), {"roleArn": "x"}, "spec: unknown field of a v1 ServiceAccount"),
]


@pytest.mark.parametrize(("path", "value", "expected"), INVALID_ACCOUNTS)
def test_validate_refuses_a_broken_service_account(path: tuple[str, ...], value: Any, expected: str) -> None:
    from culturemesh.deploy.crds import crd_problems

    account = copy.deepcopy(service_accounts()[0])
    _account_edit(path, value)(account)
    (problem,) = crd_problems(account)
    assert expected in problem


def test_every_cluster_container_reads_the_platform_config_map_which_the_settings_accept() -> None:
    from culturemesh.deploy import platform
    from culturemesh.deploy.crds import crd_problems
    from culturemesh.settings import Settings

    services = [obj for obj in [*generated(), *cluster_only()] if obj["kind"] == "Service"]
    assert services
    for service in services:
        (container,) = service["spec"]["template"]["spec"]["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": platform.CONFIG_MAP}}], service["metadata"]["name"]
    config = platform.config_map()
    assert crd_problems(config) == []
    settings = Settings.from_env(config["data"], cwd=REPO)
    assert (settings.store, settings.kms, settings.registry) == ("s3", "aws", "dynamodb")


def test_the_platform_config_map_names_the_production_terraform_defaults() -> None:
    import hcl2

    from culturemesh.deploy import platform

    production = REPO / "infra" / "terraform" / "environments" / "production"
    variables = {  # python-hcl2 keeps the quotes of block labels and string values
        name.strip('"'): str(body.get("default", "")).strip('"')
        for block in hcl2.loads((production / "variables.tf").read_text())["variable"]
        for name, body in block.items()
    }
    data = platform.config_map()["data"]
    assert data["CULTUREMESH_BUCKET_PREFIX"] == variables["bucket_prefix"]
    assert data["CULTUREMESH_AWS_REGION"] == variables["region"]
    assert data["CULTUREMESH_REGISTRY_TABLE"] == f"{variables['bucket_prefix']}registry"  # main.tf: table_name


INVALID_CONFIG_MAPS = [
    (("data", "CULTUREMESH STORE"), "s3", "a key is alphanumerics"),
    (("data", "CULTUREMESH_PORT"), 8470, "expected a string value, got int"),
    (("metadata", "name"), "Platform_Config", "is not a DNS-1123 subdomain"),
    (("spec",), {}, "spec: unknown field of a v1 ConfigMap"),
]


@pytest.mark.parametrize(("path", "value", "expected"), INVALID_CONFIG_MAPS)
def test_validate_refuses_a_broken_config_map(path: tuple[str, ...], value: Any, expected: str) -> None:
    from culturemesh.deploy import platform
    from culturemesh.deploy.crds import crd_problems

    config = platform.config_map()
    _account_edit(path, value)(config)
    (problem,) = crd_problems(config)
    assert expected in problem


# -- the platform's Services in a cluster: dead-letter sink and freshness check ---------------


def test_the_dead_letter_sink_runs_as_its_own_service_account_which_is_generated() -> None:
    (sink,) = [o for o in generated() if o["kind"] == "Service" and o["metadata"]["name"] == deadletters.SERVICE]
    account = sink["spec"]["template"]["spec"]["serviceAccountName"]
    assert account == irsa.DEAD_LETTERS_ACCOUNT
    assert account in {sa["metadata"]["name"] for sa in service_accounts()}
    # every generated Trigger dead-letters into exactly this Service
    refs = {t["spec"]["delivery"]["deadLetterSink"]["ref"]["name"] for t in generated() if t["kind"] == "Trigger"}
    assert refs == {sink["metadata"]["name"]}


def test_the_catalog_ping_reaches_the_catalog_service_and_only_it() -> None:
    service, binding, ping, trigger = catalog.freshness_check()
    assert ping["spec"]["schedule"] == "*/5 * * * *" and ping["spec"]["sink"]["ref"]["kind"] == "Broker"
    tick = parse_ping_source(ping).event(datetime(2026, 11, 28, 3, 5, tzinfo=UTC))
    parsed = objects.parse_trigger(trigger)
    assert parsed.matches(tick.attributes)
    product_ping, _ = knative.scheduled_run(scheduled_fixture())
    assert not parsed.matches(parse_ping_source(product_ping).event(datetime.now(UTC)).attributes)
    assert not parsed.matches({"type": events.STALE, "source": tick.attributes["source"]})
    assert trigger["spec"]["subscriber"]["ref"]["name"] == service["metadata"]["name"] == catalog.SERVICE
    assert trigger["spec"]["delivery"]["deadLetterSink"]["ref"]["name"] == deadletters.SERVICE
    assert binding["spec"]["subject"]["name"] == catalog.SERVICE and binding["spec"]["sink"]["ref"]["kind"] == "Broker"
    spec = service["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == irsa.CATALOG_ACCOUNT
    assert spec["containers"][0]["command"] + spec["containers"][0]["args"] == ["culturemesh", "catalog", "serve-check"]


def test_the_catalog_check_is_cluster_only_and_passes_validate(tmp_path: Path) -> None:
    from culturemesh.commands.products import check_manifests

    written = knative.write(load_products(REPO / "functions"), REPO, tmp_path)
    assert tmp_path / "cluster" / "catalog-check.yaml" in written
    top_level = [o for path in tmp_path.glob("*.yaml") for o in yaml.safe_load_all(path.read_text())]
    assert catalog.SERVICE not in {o["metadata"]["name"] for o in top_level}
    assert check_manifests(tmp_path) == []


def test_every_product_declares_its_stale_events_as_an_event_type() -> None:
    for descriptor in load_products(REPO / "functions"):
        stale = [t for t in knative.event_types(descriptor) if t["spec"]["type"] == events.STALE]
        (event_type,) = stale
        event = events.stale(descriptor.qualified_name, "port", "v1", {})
        assert event_type["spec"]["source"] == event.source
    committed = list(yaml.safe_load_all((REPO / "knative" / "cluster" / "event-types.yaml").read_text()))
    assert {t["spec"]["type"] for t in committed} == set(knative.EMITTED)

"""The ODCS v3 export per output port, checked with jsonschema against the vendored official schema."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from culturemesh import versions
from culturemesh.catalog.odcs import SCHEMA_PATH, ContractExportError, contract, problems
from culturemesh.descriptor import Descriptor, load_descriptor
from culturemesh.store import FilesystemStore
from culturemesh.versions import Manifest
from tests.conftest import REPO, SAMPLES
from tests.product.test_product_ingest import make_product, upload

FIXTURES = REPO / "tests" / "descriptor" / "fixtures"
QUALITY = """      updateEvery: PT6H
      quality:
        - {rule: not_null, column: venue}
        - {rule: unique, columns: [ticket_id]}
        - {rule: unique, columns: [event_id, sold_at]}
        - {rule: range, column: price, min: 0, max: 500}
        - {rule: accepted_values, column: quantity, values: [1, 2, 3, 4]}
"""


def odcs_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Descriptor, list[Manifest]]:
    """The real product, with quality rules and a freshness added, and the version its ingest published."""
    root = tmp_path_factory.mktemp("ticket-sales")
    folder = root / "ticket-sales"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    path = folder / "data-product.yaml"
    path.write_text(path.read_text().replace("      format: parquet\n", "      format: parquet\n" + QUALITY))
    store = FilesystemStore(root / "store")
    product = make_product(folder, store)
    product.ingest(upload(product, store, (SAMPLES / "sales.csv").read_bytes()))
    return product.descriptor, [versions.latest(store, "ticketing/ticket-sales", "sales")]


def test_vendored_schema_is_the_published_file_unchanged() -> None:
    import hashlib

    digest = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
    assert digest == "4b530540c9182db45ad879867d9c83a92feefc7c2d911b4b56338b0328070d7c"
    assert digest in SCHEMA_PATH.with_name("odcs-json-schema-v3.2.0.SOURCE.txt").read_text()


def test_contract_of_the_real_product_validates_against_the_odcs_schema(
    published: tuple[Descriptor, list[Manifest]],
) -> None:
    descriptor, manifests = published

    document = contract(descriptor, "sales", manifests)

    odcs_validator().validate(document)
    assert problems(document) == []
    assert document["apiVersion"] == "v3.2.0" and document["status"] == "active"


@pytest.mark.parametrize("fixture", ["legacy-ticket-sales.yaml", "minimal.yaml", "full-product/data-product.yaml"])
def test_contracts_of_every_port_of_the_descriptor_fixtures_validate(fixture: str) -> None:
    descriptor = load_descriptor(FIXTURES / fixture)
    validator = odcs_validator()

    for port in descriptor.output_ports:
        document = contract(descriptor, port.name, [])
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == [], (port.name, errors)
        assert document["status"] == "proposed"


def test_columns_types_keys_and_classification_round_trip(published: tuple[Descriptor, list[Manifest]]) -> None:
    descriptor, manifests = published
    document = json.loads(json.dumps(contract(descriptor, "sales", manifests)))  # as a consumer reads it

    properties = {p["name"]: p for p in document["schema"][0]["properties"]}
    columns = descriptor.output_port("sales").columns
    assert list(properties) == [c.name for c in columns]
    assert {n: p["physicalType"] for n, p in properties.items()} == {c.name: c.type for c in columns}
    assert {n: not p["required"] for n, p in properties.items()} == {c.name: c.nullable for c in columns}
    assert {n: p["classification"] for n, p in properties.items() if "classification" in p} == {
        "buyer_postal_code": "sensitive"
    }
    assert properties["ticket_id"]["primaryKey"] is True and properties["ticket_id"]["primaryKeyPosition"] == 1
    assert properties["quantity"]["logicalType"] == "integer"
    assert properties["quantity"]["logicalTypeOptions"] == {"format": "i32"}
    assert properties["sold_at"]["logicalTypeOptions"] == {"timezone": True, "defaultTimezone": "Europe/Brussels"}
    assert properties["event_date"]["logicalType"] == "date"
    assert properties["price"]["logicalType"] == "number"
    assert [v["value"] for v in properties["channel"]["enum"]] == ["online", "box-office", "uitpas"]


def test_quality_rules_freshness_owner_and_terms_are_in_the_contract(
    published: tuple[Descriptor, list[Manifest]],
) -> None:
    descriptor, manifests = published
    document = contract(descriptor, "sales", manifests)
    properties = {p["name"]: p for p in document["schema"][0]["properties"]}

    def rules(checks: list[dict[str, Any]]) -> list[Any]:
        return [
            next(c["value"] for c in check["customProperties"] if c["property"] == "culturemeshRule")
            for check in checks
        ]

    kept = rules(document["schema"][0]["quality"]) + [
        r for p in properties.values() for r in rules(p.get("quality", []))
    ]
    assert sorted(map(json.dumps, kept)) == sorted(
        map(json.dumps, map(dict, descriptor.output_settings("sales").quality))
    )
    assert properties["venue"]["quality"][0] | {"customProperties": None} == {
        "name": "not_null",
        "dimension": "completeness",
        "severity": "error",
        "type": "library",
        "metric": "nullValues",
        "mustBe": 0,
        "customProperties": None,
    }
    assert properties["price"]["quality"][0]["type"] == "custom"
    assert document["slaProperties"][0]["property"] == "frequency" and document["slaProperties"][0]["value"] == "PT6H"
    assert document["team"]["members"][0] == {
        "username": "data@ticketing.example.be",
        "name": "Ticketing Vlaanderen",
        "role": "owner",
    }
    terms = descriptor.terms_of_use
    assert terms is not None
    assert document["description"]["authoritativeDefinitions"] == [{"type": "license", "url": terms.uri}]
    assert {r["role"] for r in document["roles"]} == {"owner", "analyst", "public"}
    latest = {c["property"]: c["value"] for c in document["customProperties"]}
    assert latest["latestVersion"] == manifests[-1].version and latest["latestVersionRows"] == manifests[-1].rows


def test_contract_version_changes_with_the_contract_not_with_new_data(
    published: tuple[Descriptor, list[Manifest]],
) -> None:
    descriptor, manifests = published
    loose = load_descriptor(FIXTURES / "legacy-ticket-sales.yaml")

    assert contract(descriptor, "sales", manifests)["version"] == contract(descriptor, "sales", [])["version"]
    assert contract(descriptor, "sales", manifests)["version"] != contract(loose, "sales", [])["version"]


def test_broken_documents_do_not_validate(published: tuple[Descriptor, list[Manifest]]) -> None:
    descriptor, manifests = published
    good = contract(descriptor, "sales", manifests)
    validator = odcs_validator()
    breakages: dict[str, Callable[[dict[str, Any]], object]] = {
        "no id": lambda d: d.pop("id"),
        "unknown top-level key": lambda d: d.update(owner="someone"),
        "bad logical type": lambda d: d["schema"][0]["properties"][0].update(logicalType="text"),
        "column without name": lambda d: d["schema"][0]["properties"][0].pop("name"),
        "library check without operator": lambda d: d["schema"][0]["properties"][2]["quality"][0].pop("mustBe"),
    }

    for reason, breaking in breakages.items():
        broken = copy.deepcopy(good)
        breaking(broken)
        assert not validator.is_valid(broken), reason
        assert problems(broken), reason


def test_a_port_the_product_does_not_have_is_refused_naming_the_ports_it_has(
    published: tuple[Descriptor, list[Manifest]],
) -> None:
    descriptor, _ = published

    with pytest.raises(ContractExportError, match="no output port 'refunds'; it has: sales"):
        contract(descriptor, "refunds", [])


def test_a_legacy_descriptor_without_terms_or_owner_contact_still_validates(tmp_path: Path) -> None:
    text = (FIXTURES / "minimal.yaml").read_text().replace("    contact: museumpas@example.be\n", "")
    (tmp_path / "data-product.yaml").write_text(text)
    descriptor = load_descriptor(tmp_path / "data-product.yaml")
    assert descriptor.terms_of_use is None and descriptor.owner.contact is None

    document = contract(descriptor, "visits", [])

    assert problems(document) == []
    assert "support" not in document and "limitations" not in document["description"]
    assert document["team"]["members"][0]["username"] == "Team Museumpas"

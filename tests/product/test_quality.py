"""Quality rules run on a new version before it is published; a failure publishes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from culturemesh import events, keys
from culturemesh.eventschemas import problems
from culturemesh.product import report_context
from culturemesh.sealing import unseal_bytes
from culturemesh.store import FilesystemStore
from tests.conftest import EVENTS_DIR, REPO, SAMPLES
from tests.product.test_product_ingest import by_type, make_product, upload

RULES = """      quality:
        - {rule: unique, columns: [ticket_id]}
        - {rule: range, column: price, min: 0, max: %s}
        - {rule: accepted_values, column: channel, values: [online, box-office, uitpas]}
        - {rule: not_null, column: buyer_postal_code}
"""


def product_with(tmp_path: Path, max_price: str) -> Path:
    folder = tmp_path / "ticket-sales"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    descriptor = folder / "data-product.yaml"
    descriptor.write_text(
        descriptor.read_text().replace("      format: parquet\n", "      format: parquet\n" + RULES % max_price)
    )
    return folder


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "store")


def test_failed_rules_publish_nothing_and_emit_dataproduct_failed_with_a_report(
    tmp_path: Path, store: FilesystemStore
) -> None:
    product = make_product(product_with(tmp_path, "30"), store)
    sample = (SAMPLES / "sales.csv").read_text().splitlines()
    duplicated = "\n".join([*sample, sample[1]]) + "\n"  # T-000001 twice

    emitted = product.ingest(upload(product, store, duplicated.encode()))

    assert [e.type for e in emitted] == [events.FAILED]
    failed = emitted[0]
    assert problems(EVENTS_DIR, failed.to_dict()) == []
    reason = failed.json()["reason"]
    assert "unique on ticket_id" in reason and "range on price" in reason and "not_null on buyer_postal_code" in reason
    assert "accepted_values" not in reason
    assert not store.exists("products", "ticketing/ticket-sales/sales/latest.json")
    report_key = failed.json()["report"].split("/store/reports/")[1]
    report = json.loads(
        unseal_bytes(
            product.kms,
            report_context(product.descriptor, report_key),
            keys.provider_principal(product.descriptor),
            store.get("reports", report_key),
        )
    )
    unique = next(r for r in report["quality"]["sales"] if r["rule"] == "unique")
    assert unique["failingRows"] == 2


def test_a_version_that_passes_every_rule_is_published(tmp_path: Path, store: FilesystemStore) -> None:
    folder = product_with(tmp_path, "100")
    descriptor = folder / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("        - {rule: not_null, column: buyer_postal_code}\n", ""))
    product = make_product(folder, store)
    emitted = product.ingest(upload(product, store, (SAMPLES / "sales.csv").read_bytes()))
    assert by_type(emitted, events.PUBLISHED).json()["rows"] == 200


def test_a_rule_on_an_unknown_column_is_refused_when_the_descriptor_loads(tmp_path: Path) -> None:
    from culturemesh.descriptor import load_descriptor
    from culturemesh.errors import DescriptorError

    folder = product_with(tmp_path, "30")
    descriptor = folder / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("column: channel,", "column: chanel,"))
    with pytest.raises(
        DescriptorError,
        match=r"culturemesh\.outputs\.sales\.quality\[2\]: rule accepted_values: unknown column 'chanel'",
    ):
        load_descriptor(descriptor)

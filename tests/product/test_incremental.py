"""Incremental output ports: uploads merged into the previous state by primary key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from culturemesh import events, versions
from culturemesh.descriptor import load_descriptor
from culturemesh.errors import DescriptorError
from culturemesh.reading import read_port
from culturemesh.store import FilesystemStore
from tests.conftest import REPO
from tests.product.test_product_ingest import by_type, make_product, upload

HEADER = "ticket_id,event_id,venue,sold_at,event_date,price,quantity,channel,buyer_postal_code,_deleted"
MERGE = """      merge:
        mode: incremental
        modifiedColumn: sold_at
        deletedColumn: _deleted
"""


def row(ticket: str, price: str, sold_at: str = "2026-11-01 20:00:00", deleted: str = "") -> str:
    return f"{ticket},e-1,STUK,{sold_at},2026-12-01,{price},1,online,3000,{deleted}"


@pytest.fixture
def product_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ticket-sales"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    descriptor = folder / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("      format: parquet\n", "      format: parquet\n" + MERGE))
    return folder


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "store")


def state(product, store: FilesystemStore, version: str | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    table, _ = read_port(store, product.kms, product.descriptor, "sales", "owner", version)
    return {r["ticket_id"]: str(r["price"]) for r in table.to_pylist()}


def test_new_and_modified_entities_merge_into_the_next_version_and_tombstones_remove_them(
    product_dir: Path, store: FilesystemStore
) -> None:
    product = make_product(product_dir, store)
    lines = [HEADER, row("T-1", "10.00"), row("T-2", "20.00"), row("T-3", "30.00")]
    first = by_type(
        product.ingest(upload(product, store, ("\n".join(lines) + "\n").encode(), "a.csv")), events.PUBLISHED
    )
    changes = [
        HEADER,
        row("T-2", "25.00", "2026-11-02 10:00:00"),
        row("T-4", "40.00"),
        row("T-3", "30.00", deleted="true"),
    ]
    second = by_type(
        product.ingest(upload(product, store, ("\n".join(changes) + "\n").encode(), "b.csv")), events.PUBLISHED
    )

    assert state(product, store) == {"T-1": "10.00", "T-2": "25.00", "T-4": "40.00"}
    assert state(product, store, first.get("dpversion")) == {"T-1": "10.00", "T-2": "20.00", "T-3": "30.00"}
    manifest = versions.latest(store, "ticketing/ticket-sales", "sales")
    assert manifest.version == second.get("dpversion")
    assert manifest.extra["merge"] == {
        "base": first.get("dpversion"),
        "inserted": 1,
        "updated": 1,
        "deleted": 1,
        "unchanged": 0,
    }


def test_an_older_row_does_not_overwrite_a_newer_one(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    product.ingest(
        upload(product, store, f"{HEADER}\n{row('T-1', '10.00', '2026-11-05 10:00:00')}\n".encode(), "a.csv")
    )
    product.ingest(
        upload(product, store, f"{HEADER}\n{row('T-1', '99.00', '2026-11-01 10:00:00')}\n".encode(), "b.csv")
    )
    assert state(product, store) == {"T-1": "10.00"}


def test_the_same_input_delivered_twice_does_not_merge_twice(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    product.ingest(upload(product, store, f"{HEADER}\n{row('T-1', '10.00')}\n".encode(), "a.csv"))
    event = upload(product, store, f"{HEADER}\n{row('T-2', '20.00')}\n".encode(), "b.csv")
    once, twice = product.ingest(event), product.ingest(event)
    assert by_type(once, events.PUBLISHED).get("dpversion") == by_type(twice, events.PUBLISHED).get("dpversion")
    assert len(list(store.list("products", "ticketing/ticket-sales/sales/versions/"))) == 4  # 2 versions x 2 files


def test_a_merge_onto_a_base_that_moved_is_refused_and_nothing_becomes_visible(
    product_dir: Path, store: FilesystemStore
) -> None:
    product = make_product(product_dir, store)
    product.ingest(upload(product, store, f"{HEADER}\n{row('T-1', '10.00')}\n".encode(), "a.csv"))
    current = versions.latest(store, "ticketing/ticket-sales", "sales")
    stale = versions.Manifest(**{**current.__dict__, "version": "0" * 20})
    with pytest.raises(versions.BaseMoved):
        versions.commit(store, stale, base="f" * 20)
    assert versions.latest_version(store, "ticketing/ticket-sales", "sales") == current.version
    assert not store.exists("products", versions.manifest_key("ticketing/ticket-sales", "sales", "0" * 20))


def test_incremental_without_a_primary_key_or_with_an_unknown_column_is_refused(product_dir: Path) -> None:
    path = product_dir / "data-product.yaml"
    text = (
        path.read_text()
        .replace("          primaryKey: [ticket_id]\n", "")
        .replace("modifiedColumn: sold_at", "modifiedColumn: sold")
    )
    path.write_text(text)
    with pytest.raises(DescriptorError) as refused:
        load_descriptor(path)
    message = str(refused.value)
    assert "culturemesh.outputs.sales.merge.mode: incremental versions need a primaryKey" in message
    assert "culturemesh.outputs.sales.merge.modifiedColumn: unknown column 'sold'" in message

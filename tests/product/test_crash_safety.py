"""A crash at any step of publishing leaves the previous version as latest and nothing torn
visible; the redelivered event then finishes the job."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from culturemesh import events, versions
from culturemesh.store import FilesystemStore
from tests.conftest import REPO, SAMPLES
from tests.product.test_product_ingest import by_type, make_product, upload


class Crash(Exception):
    pass


class CrashingStore(FilesystemStore):
    """A real store that dies on the Nth write to the products bucket."""

    def __init__(self, root: Path, crash_on: int) -> None:
        super().__init__(root)
        self.crash_on, self.writes = crash_on, 0

    def put(self, bucket: str, key: str, body: Any, **options: Any) -> Any:  # type: ignore[override]
        if bucket == versions.PRODUCTS:
            self.writes += 1
            if self.writes == self.crash_on:
                raise Crash(f"crash before writing {key}")
        return super().put(bucket, key, body, **options)


@pytest.fixture
def product_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ticket-sales"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    return folder


@pytest.mark.parametrize(("crash_on", "step"), [(2, "the parquet file"), (3, "the manifest"), (4, "latest.json")])
def test_a_crash_at_any_step_leaves_the_previous_version_latest_and_a_retry_finishes(
    product_dir: Path, tmp_path: Path, crash_on: int, step: str
) -> None:
    store = CrashingStore(tmp_path / "store", crash_on=0)
    product = make_product(product_dir, store)
    first = by_type(
        product.ingest(upload(product, store, (SAMPLES / "sales.csv").read_bytes(), "a.csv")), events.PUBLISHED
    )
    changed = (SAMPLES / "sales.csv").read_text().replace("T-000001", "T-900001").encode()
    event = upload(product, store, changed, "b.csv")

    store.crash_on, store.writes = crash_on - 1, 0  # first write of the second ingest is the parquet file
    with pytest.raises(Crash):
        product.ingest(event)

    latest = json.loads(store.get(versions.PRODUCTS, versions.latest_key("ticketing/ticket-sales", "sales")))
    assert latest["version"] == first.get("dpversion"), f"crash before {step} moved latest"
    for manifest in store.list(versions.PRODUCTS, "ticketing/ticket-sales/sales/versions/"):
        if manifest.key.endswith("manifest.json"):
            described = json.loads(store.get(versions.PRODUCTS, manifest.key))
            for file in described["files"]:  # every manifest that exists points at complete files
                assert store.head(versions.PRODUCTS, file["key"]).sha256 == file["sha256"]

    store.crash_on = 0
    second = by_type(product.ingest(event), events.PUBLISHED)  # the broker's retry
    latest = json.loads(store.get(versions.PRODUCTS, versions.latest_key("ticketing/ticket-sales", "sales")))
    assert latest["version"] == second.get("dpversion") != first.get("dpversion")


def test_redelivering_an_old_input_does_not_move_latest_back(product_dir: Path, tmp_path: Path) -> None:
    store = CrashingStore(tmp_path / "store", crash_on=0)
    product = make_product(product_dir, store)
    old_event = upload(product, store, (SAMPLES / "sales.csv").read_bytes(), "a.csv")
    product.ingest(old_event)
    changed = (SAMPLES / "sales.csv").read_text().replace("T-000001", "T-900001").encode()
    newer = by_type(product.ingest(upload(product, store, changed, "b.csv")), events.PUBLISHED)
    product.ingest(old_event)
    assert versions.latest_version(store, "ticketing/ticket-sales", "sales") == newer.get("dpversion")

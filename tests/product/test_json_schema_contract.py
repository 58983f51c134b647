"""A port whose record contract is a JSON Schema 2020-12 file, for CSV and JSON uploads alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from culturemesh import events
from culturemesh.store import FilesystemStore
from tests.conftest import REPO
from tests.product.test_product_ingest import by_type, make_product, upload

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["ticket_id", "event_id", "venue", "sold_at", "event_date", "price", "quantity", "channel"],
    "properties": {
        "ticket_id": {"type": "string", "pattern": "^T-[0-9]+$"},
        "event_id": {"type": "string"},
        "venue": {"type": "string", "minLength": 1},
        "sold_at": {"type": "string", "format": "date-time"},
        "event_date": {"type": "string", "format": "date"},
        "price": {"type": "number", "minimum": 0},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 10},
        "channel": {"enum": ["online", "box-office", "uitpas"]},
        "buyer_postal_code": {"type": ["string", "null"]},
    },
}
HEADER = "ticket_id,event_id,venue,sold_at,event_date,price,quantity,channel,buyer_postal_code"


@pytest.fixture
def product_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ticket-sales"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    (folder / "contract").mkdir()
    (folder / "contract" / "sales.schema.json").write_text(json.dumps(SCHEMA))
    descriptor = folder / "data-product.yaml"
    text = descriptor.read_text().replace("columnsFrom: sales", "jsonSchema: contract/sales.schema.json")
    descriptor.write_text(text.replace("formats: [csv]", "formats: [csv, jsonl]"))
    return folder


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "store")


def test_a_csv_upload_is_checked_against_the_json_schema(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    good = f"{HEADER}\nT-1,e-1,STUK,2026-11-01T20:00:00Z,2026-12-01,12.50,2,online,3000\n"
    assert by_type(product.ingest(upload(product, store, good.encode(), "a.csv")), events.PUBLISHED).json()["rows"] == 1

    bad = f"{HEADER}\nX-1,e-1,STUK,2026-11-01T20:00:00Z,2026-12-01,-1,20,online,3000\n"
    rejected = by_type(product.ingest(upload(product, store, bad.encode(), "b.csv")), events.UPLOAD_REJECTED)
    found = {(v["row"], v["column"]) for v in rejected.json()["violations"]}
    assert found == {(1, "ticket_id"), (1, "price"), (1, "quantity")}


def test_a_json_lines_upload_is_checked_against_the_json_schema(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    record = {
        "ticket_id": "T-1",
        "event_id": "e-1",
        "venue": "STUK",
        "sold_at": "2026-11-01T20:00:00Z",
        "event_date": "2026-12-01",
        "price": 12.5,
        "quantity": 2,
        "channel": "online",
        "buyer_postal_code": None,
    }
    wrong = dict(record, ticket_id="T-2", channel="fax")
    lines = "\n".join(json.dumps(r) for r in (record, wrong)).encode()
    rejected = by_type(product.ingest(upload(product, store, lines, "s.jsonl")), events.UPLOAD_REJECTED)
    assert {(v["row"], v["column"]) for v in rejected.json()["violations"]} == {(2, "channel")}

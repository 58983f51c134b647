"""Product.ingest in-process, on a real filesystem store: what an upload becomes."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from culturemesh import events, keys
from culturemesh.descriptor import load_descriptor
from culturemesh.envelope import Envelope
from culturemesh.eventschemas import problems
from culturemesh.keyring import LocalKms
from culturemesh.keys import provision
from culturemesh.product import LANDING, Product, landing_key, report_context, upload_context
from culturemesh.reading import read_port
from culturemesh.sealing import seal_bytes, unseal_bytes
from culturemesh.store import FilesystemStore
from tests.conftest import EVENTS_DIR, REPO, SAMPLES

HEADER = "ticket_id,event_id,venue,sold_at,event_date,price,quantity,channel,buyer_postal_code"
ROW = "T-1,e-1,STUK,2026-11-01 20:00:00,2026-12-01,12.50,2,online,3000"


@pytest.fixture
def product_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ticket-sales"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    return folder


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "store")


def make_product(folder: Path, store: FilesystemStore) -> Product:
    descriptor = load_descriptor(folder / "data-product.yaml")
    kms = LocalKms(store.root.parent / "keys" / "keyring.json")
    provision(kms, descriptor)
    return Product(descriptor, store, kms)


def upload(product: Product, store: FilesystemStore, content: bytes, name: str = "sales.csv") -> Envelope:
    """What a provider does: seal the file under the product's landing key and store it."""
    key = landing_key(product.descriptor, "sales-upload", f"t/{name}")
    sealed = seal_bytes(
        product.kms,
        keys.landing_key(product.descriptor),
        upload_context(product.descriptor, key),
        keys.provider_principal(product.descriptor),
        content,
    )
    info = store.put(LANDING, key, sealed, notify=False)
    return events.object_created(info.as_stored())


def raw_upload(product: Product, store: FilesystemStore, event: Envelope) -> bytes:
    key = event.get("subject") or ""
    return unseal_bytes(
        product.kms,
        upload_context(product.descriptor, key),
        keys.provider_principal(product.descriptor),
        store.get(LANDING, key),
    )


def by_type(emitted: list[Envelope], event_type: str) -> Envelope:
    return next(e for e in emitted if e.type == event_type)


def assert_conforms(emitted: list[Envelope]) -> None:
    for event in emitted:
        assert problems(EVENTS_DIR, event.to_dict()) == [], event.type


def test_same_input_delivered_twice_yields_the_same_version_not_two(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    event = upload(product, store, (SAMPLES / "sales.csv").read_bytes())

    first, second = product.ingest(event), product.ingest(event)

    assert by_type(first, events.PUBLISHED).get("dpversion") == by_type(second, events.PUBLISHED).get("dpversion")
    assert by_type(first, events.PUBLISHED).id == by_type(second, events.PUBLISHED).id
    assert len(list(store.list("products", "ticketing/ticket-sales/sales/versions/"))) == 2  # one parquet, one manifest
    assert_conforms(first + second)


def test_a_changed_file_becomes_a_new_version_and_latest_moves_to_it(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    one = by_type(product.ingest(upload(product, store, f"{HEADER}\n{ROW}\n".encode(), "a.csv")), events.PUBLISHED)
    two = by_type(
        product.ingest(upload(product, store, f"{HEADER}\n{ROW}\n{ROW.replace('T-1', 'T-2')}\n".encode(), "b.csv")),
        events.PUBLISHED,
    )

    assert one.get("dpversion") != two.get("dpversion")
    latest = json.loads(store.get("products", "ticketing/ticket-sales/sales/latest.json"))
    assert latest["version"] == two.get("dpversion")
    assert two.json()["rows"] == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (f"{HEADER}\n".encode(), "header but no data rows"),
        (f"{HEADER},price\n{ROW},1\n".encode(), "duplicate column name(s) in the header: price"),
        (f"{HEADER}\n{ROW.replace('STUK', 'Théâtre')}\n".encode("latin-1"), "cannot read as CSV (utf-8)"),
        (gzip.compress(f"{HEADER}\n{ROW}\n".encode())[:30], "gzip stream is damaged or truncated"),
    ],
    ids=["empty", "header-only", "duplicate-columns", "wrong-encoding", "binary-garbage"],
)
def test_unreadable_uploads_are_rejected_with_a_clear_reason_and_kept(
    product_dir: Path, store: FilesystemStore, content: bytes, expected: str
) -> None:
    product = make_product(product_dir, store)
    event = upload(product, store, content)

    emitted = product.ingest(event)

    rejected = by_type(emitted, events.UPLOAD_REJECTED)
    assert expected in rejected.json()["reason"]
    assert rejected.json()["object"]["key"] in rejected.json()["reason"] or "sales.csv" in rejected.json()["reason"]
    assert raw_upload(product, store, event) == content
    assert not store.exists("products", "ticketing/ticket-sales/sales/latest.json")
    assert_conforms(emitted)


def test_quarantine_policy_publishes_valid_rows_and_reports_the_rest(product_dir: Path, store: FilesystemStore) -> None:
    descriptor = product_dir / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("invalidRows: reject", "invalidRows: quarantine"))
    product = make_product(product_dir, store)

    emitted = product.ingest(upload(product, store, (SAMPLES / "sales-broken.csv").read_bytes()))

    accepted = by_type(emitted, events.UPLOAD_ACCEPTED)
    assert accepted.json()["rows"] == {"total": 5, "accepted": 2, "quarantined": 3}
    report_key = accepted.get("dataref", "").split("/store/reports/")[1]
    report = json.loads(
        unseal_bytes(
            product.kms,
            report_context(product.descriptor, report_key),
            keys.provider_principal(product.descriptor),
            store.get("reports", report_key),
        )
    )
    assert {v["row"] for v in report["violations"]} == {2, 4, 5}
    assert by_type(emitted, events.PUBLISHED).json()["rows"] == 2
    assert_conforms(emitted)


def test_values_of_classified_columns_are_redacted_in_reports(product_dir: Path, store: FilesystemStore) -> None:
    descriptor = product_dir / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("type: Nullable(String)", "type: Nullable(UInt16)"))
    product = make_product(product_dir, store)

    emitted = product.ingest(upload(product, store, f"{HEADER}\n{ROW.replace(',3000', ',B-1000 Brussel')}\n".encode()))

    violation = by_type(emitted, events.UPLOAD_REJECTED).json()["violations"][0]
    assert violation["column"] == "buyer_postal_code"
    assert violation["value"] == "<redacted>"


def test_an_event_for_another_product_is_refused(product_dir: Path, store: FilesystemStore) -> None:
    from culturemesh.errors import EventError

    product = make_product(product_dir, store)
    info = store.put(LANDING, "museum/visits/upload/x.csv", b"a\n1\n", notify=False)
    with pytest.raises(EventError, match="is not under ticketing/ticket-sales/"):
        product.ingest(events.object_created(info.as_stored()))


def test_a_headerless_csv_takes_the_contract_columns_in_order(product_dir: Path, store: FilesystemStore) -> None:
    descriptor = product_dir / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("header: true", "header: false"))
    product = make_product(product_dir, store)

    emitted = product.ingest(upload(product, store, f"{ROW}\n{ROW.replace('T-1', 'T-2')}\n".encode()))

    assert by_type(emitted, events.PUBLISHED).json()["rows"] == 2


def test_na_and_null_are_text_not_missing_values(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    emitted = product.ingest(upload(product, store, f"{HEADER}\n{ROW.replace('STUK', 'NA')}\n".encode()))
    published = by_type(emitted, events.PUBLISHED)
    table, _ = read_port(store, product.kms, product.descriptor, "sales", "owner", published.get("dpversion"))
    assert table.column("venue").to_pylist() == ["NA"]


def test_a_malformed_row_is_reported_without_quoting_its_content(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    emitted = product.ingest(upload(product, store, f"{HEADER}\nT-9,secret-person@example.be,1\n".encode()))
    reason = by_type(emitted, events.UPLOAD_REJECTED).json()["reason"]
    assert "Expected 9 columns, got 3" in reason
    assert "secret-person" not in reason


def test_quarantine_with_no_valid_row_left_rejects_instead_of_publishing_nothing(
    product_dir: Path, store: FilesystemStore
) -> None:
    descriptor = product_dir / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("invalidRows: reject", "invalidRows: quarantine"))
    product = make_product(product_dir, store)

    emitted = product.ingest(upload(product, store, f"{HEADER}\n{ROW.replace('12.50', 'twelve')}\n".encode()))

    assert [e.type for e in emitted] == [events.UPLOAD_REJECTED]
    assert not store.exists("products", "ticketing/ticket-sales/sales/latest.json")


def test_a_product_asking_for_what_cannot_run_yet_is_refused_at_start(
    product_dir: Path, store: FilesystemStore
) -> None:
    from culturemesh.errors import ConfigError

    descriptor = product_dir / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("      format: parquet\n", "      format: csv\n"))
    with pytest.raises(ConfigError, match=r"outputs\.sales\.format: only parquet ports can be written yet"):
        make_product(product_dir, store)


def test_a_gzipped_csv_is_ingested_like_the_plain_one(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    emitted = product.ingest(upload(product, store, gzip.compress((SAMPLES / "sales.csv").read_bytes()), "s.csv.gz"))
    assert by_type(emitted, events.PUBLISHED).json()["rows"] == 200


def test_a_truncated_gzip_is_rejected_as_damaged_and_publishes_nothing(
    product_dir: Path, store: FilesystemStore
) -> None:
    product = make_product(product_dir, store)
    whole = gzip.compress((SAMPLES / "sales.csv").read_bytes() * 20)
    emitted = product.ingest(upload(product, store, whole[: len(whole) // 2], "s.csv.gz"))
    rejected = by_type(emitted, events.UPLOAD_REJECTED)
    assert "gzip stream is damaged or truncated" in rejected.json()["reason"]
    assert not store.exists("products", "ticketing/ticket-sales/sales/latest.json")


def test_a_10_mb_single_field_is_refused_with_the_limit_named(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    huge = ROW.replace("STUK", "x" * (10 << 20))
    emitted = product.ingest(upload(product, store, f"{HEADER}\n{ROW}\n{huge}\n".encode()))
    violation = by_type(emitted, events.UPLOAD_REJECTED).json()["violations"][0]
    assert (violation["row"], violation["column"]) == (2, "venue")
    assert "at most 1 MiB" in violation["rule"]
    assert len(violation["value"]) <= 40


def test_json_lines_and_json_array_uploads_are_checked_like_csv(product_dir: Path, store: FilesystemStore) -> None:
    descriptor = product_dir / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("formats: [csv]", "formats: [csv, json, jsonl]"))
    product = make_product(product_dir, store)
    records = [
        {
            "ticket_id": "T-1",
            "event_id": "e-1",
            "venue": "STUK",
            "sold_at": "2026-11-01 20:00:00",
            "event_date": "2026-12-01",
            "price": 12.5,
            "quantity": 2,
            "channel": "online",
            "buyer_postal_code": "3000",
        },
        {
            "ticket_id": "T-2",
            "event_id": "e-1",
            "venue": "STUK",
            "sold_at": "2026-11-01T21:00:00+01:00",
            "event_date": "2026-12-01",
            "price": 18,
            "quantity": 1,
            "channel": "uitpas",
            "buyer_postal_code": None,
        },
    ]
    lines = "\n".join(json.dumps(r) for r in records).encode()
    from_lines = product.ingest(upload(product, store, lines, "sales.jsonl"))
    from_array = product.ingest(upload(product, store, json.dumps(records).encode(), "sales.json"))
    assert by_type(from_lines, events.PUBLISHED).json()["rows"] == 2
    assert by_type(from_array, events.PUBLISHED).json()["rows"] == 2

    bad = dict(records[0], price="twelve", quantity=3.5)
    rejected = by_type(
        product.ingest(upload(product, store, json.dumps([bad]).encode(), "bad.json")), events.UPLOAD_REJECTED
    )
    assert {(v["column"], v["row"]) for v in rejected.json()["violations"]} == {("price", 1), ("quantity", 1)}


def test_an_upload_in_a_format_the_port_does_not_accept_is_rejected(product_dir: Path, store: FilesystemStore) -> None:
    product = make_product(product_dir, store)
    rejected = by_type(product.ingest(upload(product, store, b"[]", "sales.json")), events.UPLOAD_REJECTED)
    assert "a json upload, but input port 'sales-upload' accepts csv" in rejected.json()["reason"]


def test_a_semicolon_separated_export_to_a_comma_port_is_detected_and_read(
    product_dir: Path, store: FilesystemStore
) -> None:
    product = make_product(product_dir, store)
    semicolons = f"{HEADER.replace(',', ';')}\n{ROW.replace(',', ';')}\n".encode()
    assert by_type(product.ingest(upload(product, store, semicolons)), events.PUBLISHED).json()["rows"] == 1

"""An upload becomes a published data product and a subscribed consumer is told: real mesh
process, real functions-framework process, real consumer, all over HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from culturemesh import keys
from culturemesh.descriptor import load_descriptor
from culturemesh.eventschemas import problems
from culturemesh.keyring import LocalKms
from culturemesh.product import report_context, upload_context
from culturemesh.reading import read_port
from culturemesh.sealing import unseal_bytes
from culturemesh.store import FilesystemStore
from tests.conftest import EVENTS_DIR, REPO, SAMPLES, Mesh, Received

pytestmark = pytest.mark.e2e
PRODUCT = "ticketing/ticket-sales"
PUBLISHED = "be.culturemesh.dataproduct.published"
REJECTED = "be.culturemesh.upload.rejected"
ACCEPTED = "be.culturemesh.upload.accepted"


def structured(event: Received) -> dict[str, object]:
    document = dict(event.attributes)
    document["data"] = event.data
    return document


DESCRIPTOR = load_descriptor(REPO / "functions" / "ticket-sales" / "data-product.yaml")


def mesh_kms(mesh: Mesh) -> LocalKms:
    return LocalKms(mesh.home / "keys" / "keyring.json")


def read_as(mesh: Mesh, principal: str, version: str) -> pa.Table:
    return read_port(FilesystemStore(mesh.home / "store"), mesh_kms(mesh), DESCRIPTOR, "sales", principal, version)[0]


def local_path(uri: str) -> Path:
    assert uri.startswith("file://"), uri
    return Path(urlparse(uri).path)


def test_upload_becomes_a_published_parquet_version_and_the_subscribed_consumer_is_told(mesh: Mesh, make_sink) -> None:
    consumer = make_sink()
    mesh.cli("subscribe", "--sink", consumer.url, "--product", PRODUCT, "--name", "dashboard")

    uploaded = json.loads(mesh.cli("upload", "ticket-sales", str(SAMPLES / "sales.csv")).stdout)
    published = consumer.of_type(PUBLISHED)

    assert published.attributes["dataproduct"] == PRODUCT
    assert published.attributes["outputport"] == "sales"
    manifest = json.loads(local_path(published.attributes["dataref"]).read_text())
    assert manifest["version"] == published.attributes["dpversion"]
    assert manifest["rows"] == 200
    assert manifest["lineage"]["inputs"][0]["key"] == uploaded["key"]
    parquet = local_path(manifest["files"][0]["uri"])
    with pytest.raises(OSError):  # encrypted at rest: unreadable without keys
        pq.read_table(parquet)
    table = read_as(mesh, "owner", published.attributes["dpversion"])
    assert table.num_rows == 200
    assert str(table.schema.field("price").type) == "decimal128(9, 2)"
    assert table.schema.field("sold_at").type.tz == "Europe/Brussels"  # Parquet keeps seconds as ms
    accepted = consumer.of_type(ACCEPTED)
    assert accepted.data["rows"] == {"total": 200, "accepted": 200, "quarantined": 0}
    for event in (published, accepted):
        assert problems(EVENTS_DIR, structured(event)) == []
    status = mesh.cli("mesh", "status").stdout
    assert "culturemesh/dashboard" in status and "culturemesh/ticket-sales-sales-upload" in status
    assert "running functions: ticket-sales-ingest" in status


def test_a_csv_that_breaks_the_contract_is_rejected_with_a_report_and_publishes_nothing(mesh: Mesh, make_sink) -> None:
    consumer = make_sink()
    mesh.cli("subscribe", "--sink", consumer.url, "--type", REJECTED)

    uploaded = json.loads(mesh.cli("upload", "ticket-sales", str(SAMPLES / "sales-broken.csv")).stdout)
    rejected = consumer.of_type(REJECTED)

    assert problems(EVENTS_DIR, structured(rejected)) == []
    found = {(v["row"], v["column"], v["value"]) for v in rejected.data["violations"]}
    assert found == {(2, "price", "twelve"), (4, "event_date", "2026-02-30"), (5, "venue", "")}
    rules = {v["column"]: v["rule"] for v in rejected.data["violations"]}
    assert "Decimal(9, 2)" in rules["price"] and "Date" in rules["event_date"] and "required" in rules["venue"]
    report_path = local_path(rejected.attributes["dataref"])
    report_key = report_path.as_posix().split("/store/reports/")[1]
    report = json.loads(
        unseal_bytes(
            mesh_kms(mesh),
            report_context(DESCRIPTOR, report_key),
            keys.provider_principal(DESCRIPTOR),
            report_path.read_bytes(),
        )
    )
    assert report["status"] == "rejected" and report["violationCount"] == 3
    raw = mesh.home / "store" / "landing" / uploaded["key"]
    sealed = raw.read_bytes()
    assert b"twelve" not in sealed  # the raw upload is kept, sealed
    plain = unseal_bytes(
        mesh_kms(mesh), upload_context(DESCRIPTOR, uploaded["key"]), keys.provider_principal(DESCRIPTOR), sealed
    )
    assert plain == (SAMPLES / "sales-broken.csv").read_bytes()
    port = mesh.home / "store" / "products" / PRODUCT / "sales"
    assert not (port / "latest.json").exists()
    assert not list(port.glob("versions/*/manifest.json"))


def test_a_missing_column_is_rejected_naming_the_column(mesh: Mesh, make_sink, tmp_path: Path) -> None:
    consumer = make_sink()
    mesh.cli("subscribe", "--sink", consumer.url, "--type", REJECTED)
    lines = (SAMPLES / "sales.csv").read_text().splitlines()
    without_price = [",".join(v for i, v in enumerate(line.split(",")) if i != 5) for line in lines[:4]]
    upload = tmp_path / "no-price.csv"
    upload.write_text("\n".join(without_price) + "\n")

    mesh.cli("upload", "ticket-sales", str(upload))
    rejected = consumer.of_type(REJECTED)

    assert "price" in rejected.data["reason"] and "header lacks" in rejected.data["reason"]


def test_tail_prints_matching_events_as_they_arrive(mesh: Mesh) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    tail = subprocess.Popen(
        [sys.executable, "-m", "culturemesh", "tail", "--type", PUBLISHED, "--count", "1", "--timeout", "60"],
        env=mesh.env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not any(t["name"].startswith("culturemesh/tail-") for t in mesh.status()["triggers"]):
        assert time.monotonic() < deadline, "tail did not subscribe"
        time.sleep(0.1)
    mesh.cli("upload", "ticket-sales", str(SAMPLES / "sales.csv"))
    out, err = tail.communicate(timeout=60)

    assert tail.returncode == 0, err
    event = json.loads(out.strip().splitlines()[-1])
    assert event["type"] == PUBLISHED and event["dataproduct"] == PRODUCT
    assert not any(t["name"].startswith("culturemesh/tail-") for t in mesh.status()["triggers"])


def test_function_runs_as_its_own_process_started_on_demand_and_stopped_when_idle(start_mesh, make_sink) -> None:
    mesh = start_mesh(idle_seconds="1")
    consumer = make_sink()
    mesh.cli("subscribe", "--sink", consumer.url, "--type", PUBLISHED)
    assert mesh.status()["running"] == []

    mesh.cli("upload", "ticket-sales", str(SAMPLES / "sales.csv"))
    consumer.of_type(PUBLISHED)
    running = mesh.status()["running"]
    assert [r["service"] for r in running] == ["ticket-sales-ingest"]
    assert running[0]["pid"] != mesh.process.pid

    deadline = time.monotonic() + 15
    while mesh.status()["running"]:
        assert time.monotonic() < deadline, "the idle function was not stopped"
        time.sleep(0.2)


def test_function_logs_are_json_with_the_event_bound_and_no_personal_data(mesh: Mesh, make_sink) -> None:
    consumer = make_sink()
    mesh.cli("subscribe", "--sink", consumer.url, "--type", PUBLISHED)
    mesh.cli("upload", "ticket-sales", str(SAMPLES / "sales.csv"))
    consumer.of_type(PUBLISHED)

    lines = (mesh.home / "mesh" / "logs" / "ticket-sales-ingest.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    handled = [r for r in records if r.get("event") == "event handled"]
    assert handled, lines
    assert handled[0]["ce_type"] == "com.amazonaws.s3.ObjectCreated:Put"
    assert handled[0]["dataproduct"] == PRODUCT and handled[0]["ce_id"]
    text = "\n".join(lines)
    assert "T-000001" not in text and "deSingel" not in text

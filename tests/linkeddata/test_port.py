"""The linkeddata output port in-process on a real filesystem store and keyring: uploads become
analytical versions, each new version re-runs the OSLO mapping, and the port publishes sealed,
SHACL-checked, incremental linked-data versions (or a failed event with a report)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from culturemesh import events, keys, versions
from culturemesh.access import AccessDenied
from culturemesh.descriptor import load_descriptor
from culturemesh.envelope import Envelope
from culturemesh.eventschemas import problems
from culturemesh.keyring import LocalKms
from culturemesh.linkeddata import portfiles
from culturemesh.linkeddata.port import LinkedDataPort
from culturemesh.product import LANDING, Product, landing_key, report_context, upload_context
from culturemesh.sealing import seal_bytes, unseal_bytes
from culturemesh.store import FilesystemStore
from culturemesh.uploads import REPORTS
from tests.conftest import EVENTS_DIR, REPO

PRODUCT_DIR = REPO / "functions" / "cultuurparticipatie"
SAMPLES = PRODUCT_DIR / "samples"
SOURCES = ("activiteiten", "locaties", "organisatoren", "uitvoerders")
LD = "activiteiten-ld"
CM = "https://data.culturemesh.be/id/"


@pytest.fixture
def product(tmp_path: Path) -> Product:
    folder = tmp_path / "cultuurparticipatie"
    shutil.copytree(PRODUCT_DIR, folder, ignore=shutil.ignore_patterns("samples", "__pycache__"))
    store = FilesystemStore(tmp_path / "store")
    kms = LocalKms(tmp_path / "keys" / "keyring.json")
    descriptor = load_descriptor(folder / "data-product.yaml")
    keys.provision(kms, descriptor)
    return Product(descriptor, store, kms, "linked_data")


def upload(product: Product, name: str, content: bytes, stamp: str = "t1") -> Envelope:
    """A provider's upload to ``<name>-upload``, ingested; returns the analytical port's published event."""
    key = landing_key(product.descriptor, f"{name}-upload", f"{stamp}/{name}.csv")
    sealed = seal_bytes(
        product.kms,
        keys.landing_key(product.descriptor),
        upload_context(product.descriptor, key),
        keys.provider_principal(product.descriptor),
        content,
    )
    info = product.store.put(LANDING, key, sealed, notify=False)
    emitted = product.ingest(events.object_created(info.as_stored()))
    return next(e for e in emitted if e.type == events.PUBLISHED)


def publish_all(product: Product, port: LinkedDataPort) -> list[Envelope]:
    emitted: list[Envelope] = []
    for name in SOURCES:
        emitted.extend(port.handle(upload(product, name, (SAMPLES / f"{name}.csv").read_bytes())))
    return emitted


def read(product: Product, principal: str, version: str | None = None) -> portfiles.PortVersion:
    return portfiles.read_version(product.store, product.kms, product.descriptor, LD, principal, version)


def named_graphs(nquads: bytes) -> set[str]:
    return {str(q.graph_name) for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)}


def test_sources_become_a_sealed_linked_data_version_with_a_graph_per_entity(product: Product) -> None:
    port = LinkedDataPort(product)

    emitted = publish_all(product, port)

    assert [e.type for e in emitted] == [events.PUBLISHED]  # nothing until every source has a version
    published = emitted[0]
    assert published.get("outputport") == LD and problems(EVENTS_DIR, published.to_dict()) == []
    manifest = versions.latest(product.store, "cultuur/cultuurparticipatie", LD)
    assert {f["role"] for f in manifest.files} == {"nquads", "turtle", "jsonld", "index"}
    for entry in manifest.files:  # sealed at rest
        assert product.store.get(versions.PRODUCTS, entry["key"]).startswith(b"CMSEAL1\x00")
    found = read(product, "analyst")
    graphs = named_graphs(found.nquads)
    assert f"<{CM}activiteit/A-2026-0001>" in graphs and f"<{CM}locatie/L-001>" in graphs
    assert manifest.extra["graphs"] == {
        "base": None,
        "total": len(graphs),
        "added": len(graphs),
        "changed": 0,
        "removed": 0,
    }
    assert manifest.extra["shacl"]["conforms"] is True
    assert manifest.extra["shacl"]["shapeRepairs"][0]["shape"].endswith("6fce063e03afed4078f32664201c46b0c53da61a")
    assert [i["source"] for i in manifest.lineage.inputs] == [f"{name}.csv" for name in SOURCES]
    # Turtle and JSON-LD hold the same triples as the N-Quads' union
    union = rdflib.Dataset().parse(data=found.nquads, format="nquads")
    triples = {(s, p, o) for s, p, o, _ in union.quads()}
    for role, fmt in (("turtle", "turtle"), ("jsonld", "json-ld")):
        raw = portfiles.read_file(product.store, product.kms, product.descriptor, "owner", manifest, role)
        parsed = rdflib.Dataset().parse(data=raw, format=fmt)
        assert len({(s, p, o) for s, p, o, _ in parsed.quads()}) == len(triples), role
    jsonld = json.loads(
        portfiles.read_file(product.store, product.kms, product.descriptor, "owner", manifest, "jsonld")
    )
    assert "@context" in jsonld  # compacted with the OSLO context


def test_a_principal_without_a_grant_cannot_read_the_port(product: Product) -> None:
    publish_all(product, LinkedDataPort(product))

    with pytest.raises(AccessDenied, match="stranger"):
        read(product, "stranger")


def test_a_redelivered_event_yields_the_same_version_and_event(product: Product) -> None:
    port = LinkedDataPort(product)
    first = publish_all(product, port)[0]
    last_source = versions.latest(product.store, "cultuur/cultuurparticipatie", "uitvoerders")
    event = product.outcomes.published(last_source)

    again = port.handle(event)

    assert [e.id for e in again] == [first.id]
    assert again[0].get("dpversion") == first.get("dpversion")


def test_a_new_source_version_replaces_only_new_changed_and_removed_entity_graphs(product: Product) -> None:
    port = LinkedDataPort(product)
    first = publish_all(product, port)[0]
    rows = (SAMPLES / "activiteiten.csv").read_text().splitlines(keepends=True)
    changed = rows[1].replace("Het Lied van de Schelde", "Het Nieuwe Lied van de Schelde")
    added = rows[2].replace("A-2026-0002", "A-2026-0099")
    body = "".join([rows[0], changed, added, *rows[3:]])  # A-2026-0002 removed, 0099 added, 0001 changed

    emitted = port.handle(upload(product, "activiteiten", body.encode(), stamp="t2"))

    manifest = versions.latest(product.store, "cultuur/cultuurparticipatie", LD)
    assert manifest.version == emitted[0].get("dpversion") != first.get("dpversion")
    assert manifest.extra["graphs"]["base"] == first.get("dpversion")
    assert {k: manifest.extra["graphs"][k] for k in ("added", "changed", "removed")} == {
        "added": 1,
        "changed": 1,
        "removed": 1,
    }
    graphs = named_graphs(read(product, "owner").nquads)
    assert f"<{CM}activiteit/A-2026-0099>" in graphs and f"<{CM}activiteit/A-2026-0002>" not in graphs


def test_a_shacl_violation_publishes_nothing_and_emits_failed_with_a_report(product: Product) -> None:
    port = LinkedDataPort(product)
    first = publish_all(product, port)[0]
    rows = (SAMPLES / "activiteiten.csv").read_text().splitlines(keepends=True)
    no_start = rows[2].replace("2026-12-03T19:30:00+01:00", "", 1)  # A-2026-0002 loses its start time
    assert no_start != rows[2]

    emitted = port.handle(upload(product, "activiteiten", "".join([rows[0], rows[1], no_start, *rows[3:]]).encode()))

    assert [e.type for e in emitted] == [events.FAILED]
    failed = emitted[0]
    assert problems(EVENTS_DIR, failed.to_dict()) == []
    violation = failed.json()["violations"][0]
    assert violation["focusNode"] == f"{CM}activiteit/A-2026-0002/periode"
    assert violation["path"] == "http://data.europa.eu/m8g/startTime"
    assert violation["constraint"].endswith("MinCountConstraintComponent") and violation["message"]
    assert "1 SHACL violation" in failed.json()["reason"]
    assert versions.latest_version(product.store, "cultuur/cultuurparticipatie", LD) == first.get("dpversion")
    key = failed.json()["report"].split(f"/{REPORTS}/", 1)[1]
    report = json.loads(
        unseal_bytes(
            product.kms,
            report_context(product.descriptor, key),
            keys.provider_principal(product.descriptor),  # the provider may read why its data failed
            product.store.get(REPORTS, key),
        )
    )
    assert report["shacl"]["violations"][0]["path"] == "http://data.europa.eu/m8g/startTime"


def test_an_event_of_a_port_no_linked_data_port_reads_is_refused(product: Product) -> None:
    from culturemesh.errors import EventError

    event = events.published("ticketing/ticket-sales", "sales", "v1", "file:///x", {})
    with pytest.raises(EventError, match="no linked-data port"):
        LinkedDataPort(product).handle(event)


_ = io


def test_reading_a_linked_data_port_as_a_table_says_to_use_sparql(product: Product) -> None:
    from culturemesh.errors import ConfigError
    from culturemesh.reading import read_port

    publish_all(product, LinkedDataPort(product))
    with pytest.raises(ConfigError, match="linked-data port, not a table: query it with SPARQL at /sparql/"):
        read_port(product.store, product.kms, product.descriptor, LD, "owner", None)

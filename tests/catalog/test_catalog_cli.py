"""``culturemesh catalog`` as users run it (real processes), and the catalog end to end: the mesh
registers every product at start, a product function registers the version it publishes, the
mesh records the consumer's subscription."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from culturemesh.catalog.sqlite import SqliteRegistry
from tests.catalog.conftest import FIXTURES, manifest, manifest_uri
from tests.conftest import REPO, SAMPLES, Mesh
from tests.test_cli import cli

PRODUCT = "ticketing/ticket-sales"
TICKET_SALES = REPO / "functions" / "ticket-sales"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A project with the repository's ticket-sales product, the two fixture products, and its own home."""
    return {"CULTUREMESH_HOME": str(tmp_path / "home"), "CULTUREMESH_LOG_FORMAT": "json"}


def _register(env: dict[str, str], *paths: Path) -> None:
    result = cli("catalog", "register", *(str(p) for p in paths), env=env)
    assert result.returncode == 0, result.stderr


def test_register_list_show_and_search_through_the_cli(env: dict[str, str]) -> None:
    _register(env, TICKET_SALES)  # a product folder
    _register(env, FIXTURES / "uit-events.yaml", FIXTURES / "museum-visits.yaml")
    listed = cli("catalog", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "events/uit-events",
        "museums/museum-visits",
        PRODUCT,
    ]
    shown = cli("catalog", "show", PRODUCT, env=env)
    assert "owner: Ticketing Vlaanderen <data@ticketing.example.be>" in shown.stdout
    assert "buyer_postal_code" in shown.stdout and "[sensitive]" in shown.stdout
    document = json.loads(cli("catalog", "show", "museums/museum-visits", "--json", env=env).stdout)
    assert document["upstream"][0]["upstream"] == "events/uit-events"
    assert document["ports"][0]["update_every"] == "P1D" and document["ports"][0]["freshness"]["state"] == "fresh"
    due = document["ports"][0]["freshness"]["due"]
    assert "every P1D): fresh" in cli("catalog", "show", "museums/museum-visits", env=env).stdout
    assert f"next due {due}" in cli("catalog", "show", "museums/museum-visits", env=env).stdout
    found = json.loads(cli("catalog", "search", "postal", "code", "--domain", "ticketing", "--json", env=env).stdout)
    assert [hit["id"] for hit in found] == [PRODUCT] and "columns" in found[0]["matched"]
    assert cli("catalog", "list", "--type", "linkeddata", env=env).stdout.split()[0] == "events/uit-events"


def test_bad_input_gets_a_clear_message_and_exit_code_and_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    _register(env, TICKET_SALES)
    registry_file = Path(env["CULTUREMESH_HOME"]) / "registry.sqlite"
    bad = tmp_path / "data-product.yaml"
    bad.write_text((FIXTURES / "uit-events.yaml").read_text().replace("type: linkeddata", "type: spreadsheet"))

    refused = cli("catalog", "register", str(bad), env=env)
    assert refused.returncode == 11
    assert str(bad) in refused.stderr and "spec.outputPorts[1].type" in refused.stderr
    assert "Traceback" not in refused.stderr

    unknown = cli("catalog", "show", "events/nope", env=env)
    assert unknown.returncode == 11 and "'events/nope' is not in the catalog" in unknown.stderr

    huge = cli("catalog", "search", "x" * 10_240, env=env)
    assert huge.returncode == 11 and "10240 characters is too long; at most 500" in huge.stderr

    odd = cli("catalog", "search", "'; DROP TABLE products; --", "%", "\\", env=env)
    assert odd.returncode == 0 and "no data products match" in odd.stderr
    registry = SqliteRegistry(registry_file)
    assert [p.id for p in registry.products()] == [PRODUCT]
    registry.close()


def test_export_dcat_and_odcs_cover_every_registered_product(env: dict[str, str], tmp_path: Path) -> None:
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCAT, RDF  # imported here: pytest's collection trips over the namespace objects

    _register(env, TICKET_SALES, FIXTURES / "uit-events.yaml")
    registry = SqliteRegistry(Path(env["CULTUREMESH_HOME"]) / "registry.sqlite")
    m = manifest("events/uit-events", "events", "v1")
    registry.register_version(m, manifest_uri(m))
    registry.close()

    turtle = cli("catalog", "export", "--format", "dcat", "--base-uri", "https://data.example.be/", env=env)
    assert turtle.returncode == 0, turtle.stderr
    graph = Graph().parse(data=turtle.stdout, format="turtle")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == 2
    assert any(str(s).startswith("https://data.example.be/") for s in graph.subjects(RDF.type, DCAT.Catalog))
    assert all(isinstance(s, URIRef) for s in graph.subjects(RDF.type, DCAT.Dataset))

    out = tmp_path / "contract.yaml"
    odcs = cli(
        "catalog",
        "export",
        "--format",
        "odcs",
        "--product",
        "events/uit-events",
        "--port",
        "events",
        "-o",
        str(out),
        env=env,
    )
    assert odcs.returncode == 0, odcs.stderr
    import yaml

    (contract,) = list(yaml.safe_load_all(out.read_text()))
    assert contract["apiVersion"].startswith("v3") and contract["kind"] == "DataContract"
    missing = cli("catalog", "export", "--format", "odcs", "--product", "events/uit-events", "--port", "nope", env=env)
    assert missing.returncode == 11 and "no output port 'nope'" in missing.stderr


def _wait(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s")
        time.sleep(0.2)


@pytest.mark.e2e
def test_up_and_an_upload_end_with_the_version_and_subscription_in_catalog_show(
    start_mesh: Callable[..., Mesh], make_sink: Callable[..., Any]
) -> None:
    mesh = start_mesh(catalog_interval="0.3")
    listed = mesh.cli("catalog", "list").stdout  # `up` registers every product under functions/
    functions = REPO / "functions"
    expected = {p.parent.name for p in functions.glob("*/data-product.yaml")}
    assert {line.split()[0].split("/")[1] for line in listed.splitlines()} == expected
    consumer = make_sink()
    mesh.cli("subscribe", "--sink", consumer.url, "--product", PRODUCT, "--name", "dashboard")
    mesh.cli("upload", "ticket-sales", str(SAMPLES / "sales.csv"))
    published = consumer.of_type("be.culturemesh.dataproduct.published")

    def shown() -> dict[str, Any] | None:
        document: dict[str, Any] = json.loads(mesh.cli("catalog", "show", PRODUCT, "--json").stdout)
        return document if document["subscriptions"] else None

    document = _wait(shown)
    (version,) = document["ports"][0]["versions"]
    assert version["version"] == published.attributes["dpversion"]
    assert version["rows"] == 200 and version["manifest"] == published.attributes["dataref"]
    assert document["subscriptions"] == [{"name": "dashboard", "port": "*", "sink": consumer.url}]
    text = mesh.cli("catalog", "show", PRODUCT).stdout
    assert f"{published.attributes['dpversion']}" in text and "200 rows" in text


def test_catalog_check_sends_a_late_ports_stale_event_once(
    env: dict[str, str], tmp_path: Path, make_sink: Callable[..., Any]
) -> None:
    hurried = tmp_path / "data-product.yaml"
    hurried.write_text((FIXTURES / "uit-events.yaml").read_text().replace("updateEvery: PT6H", "updateEvery: PT1S"))
    _register(env, hurried)
    time.sleep(1.2)  # the port never published: it is late one second after its registration
    sink = make_sink()
    first = cli("catalog", "check", env={**env, "K_SINK": sink.url})
    assert first.returncode == 0, first.stderr
    assert "stale: events/uit-events port events" in first.stdout
    event = sink.of_type("be.culturemesh.dataproduct.stale")
    assert event.attributes["dataproduct"] == "events/uit-events" and event.data["updateEvery"] == "PT1S"
    again = cli("catalog", "check", env={**env, "K_SINK": sink.url})
    assert again.returncode == 0 and "0 stale event(s)" in again.stderr
    assert len(sink.events) == 1

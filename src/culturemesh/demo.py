"""``culturemesh demo``: the walking skeleton, end to end, on the embedded mesh.

It starts ``culturemesh up`` as its own process on a free port with a fresh state folder,
subscribes a consumer (a local HTTP sink) to the ticket-sales product's events, uploads the
sample sales CSV and a broken one, prints what the consumer receives, shows where the output
version is; then turns the cultuurparticipatie samples into OSLO linked data and queries it by
SPARQL, searches the catalog, and stops the mesh.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import click

from culturemesh import events
from culturemesh.auth import TokenStore
from culturemesh.backends import open_kms, open_store
from culturemesh.consumer import LocalSink
from culturemesh.descriptor import Descriptor
from culturemesh.envelope import Envelope
from culturemesh.errors import ConfigError, MeshError
from culturemesh.mesh.client import MeshClient
from culturemesh.mesh.host import free_port
from culturemesh.project import find_product
from culturemesh.provider import upload_file
from culturemesh.reading import read_port
from culturemesh.settings import Settings
from culturemesh.subscriptions import subscription
from culturemesh.versions import read_manifest

PRODUCT = "ticket-sales"
LINKED, LINKED_PORT = "cultuurparticipatie", "activiteiten-ld"
WAIT = 45.0


def start_mesh(settings: Settings) -> subprocess.Popen[bytes]:
    settings.home.mkdir(parents=True, exist_ok=True)
    log = (settings.home / "mesh.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "culturemesh",
        "--project",
        str(settings.project),
        "--home",
        str(settings.home),
        "--log-format",
        "json",
        "up",
        "--port",
        str(settings.port),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    client = MeshClient(settings.mesh_url, settings.ingress_url)
    deadline = time.monotonic() + 30
    while not client.health():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise MeshError(f"the mesh did not start; see {settings.home / 'mesh.log'}")
        time.sleep(0.05)
    return process


def stop_mesh(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def _show(event: Envelope, since: float) -> None:
    click.echo(f"  consumer received {event.type}  (+{time.monotonic() - since:.2f}s)")
    for name in ("id", "dataproduct", "outputport", "dpversion", "dataref"):
        if event.get(name):
            click.echo(f"    {name:<12} {event.get(name)}")


async def _until(sink: LocalSink, wanted: set[str], since: float) -> Envelope:
    while True:
        event = await sink.next(WAIT)
        _show(event, since)
        if event.type in wanted:
            return event


async def _scenario(settings: Settings, samples: Path) -> None:
    descriptor = find_product(settings.functions_dir, PRODUCT)
    client = MeshClient(settings.mesh_url, settings.ingress_url)
    async with LocalSink() as sink:
        trigger = subscription("demo-consumer", sink.url, {"dataproduct": descriptor.qualified_name})
        await asyncio.to_thread(client.apply, [trigger])
        click.echo(f"consumer subscribed at {sink.url} to events of {descriptor.qualified_name}")

        good = samples / "sales.csv"
        click.echo(f"\n1. provider uploads {good.name} to {descriptor.qualified_name}")
        since = time.monotonic()
        await asyncio.to_thread(upload_file, settings, descriptor, good)
        published = await _until(sink, {events.PUBLISHED}, since)
        click.echo(f"   upload -> consumer's published event: {time.monotonic() - since:.2f}s")

        bad = samples / "sales-broken.csv"
        click.echo(f"\n2. provider uploads {bad.name} (a bad price, a bad date, a missing value)")
        since = time.monotonic()
        await asyncio.to_thread(upload_file, settings, descriptor, bad)
        rejected = await _until(sink, {events.UPLOAD_REJECTED}, since)
        for violation in rejected.json()["violations"]:
            click.echo(
                f"    row {violation['row']}, column {violation['column']}: {violation['value']!r}: {violation['rule']}"
            )

    _show_version(settings, descriptor, published)
    await _linked_data(settings)
    _catalog(settings)


def _show_version(settings: Settings, descriptor: Descriptor, published: Envelope) -> None:
    port, version = published.get("outputport") or "", published.get("dpversion")
    table, _ = read_port(open_store(settings), open_kms(settings), descriptor, port, "owner", version)
    manifest = published.json()["manifest"]
    click.echo(f"\n3. output port {port!r}, version {version}: {table.num_rows} rows")
    click.echo(f"   manifest: {manifest}")
    click.echo(f"   read it:  culturemesh --home {settings.home} read {PRODUCT} {port} --as owner")
    public, withheld = read_port(open_store(settings), open_kms(settings), descriptor, port, "public", version)
    click.echo(f"   as 'public': {public.num_columns} columns; withheld by the keys: {', '.join(withheld)}")
    click.echo("   " + " | ".join(table.column_names))
    for row in table.slice(0, 3).to_pylist():
        click.echo("   " + " | ".join("" if value is None else str(value) for value in row.values()))


SPARQL_COUNT = (
    "SELECT (COUNT(DISTINCT ?a) AS ?activities) (COUNT(DISTINCT ?g) AS ?graphs) "
    "WHERE { GRAPH ?g { ?s ?p ?o } OPTIONAL { ?a a <http://www.cidoc-crm.org/cidoc-crm/E7_Activity> } }"
)


async def _linked_data(settings: Settings) -> None:
    """Four CSVs become OSLO linked data, SHACL-checked, queried by SPARQL as a granted principal."""
    descriptor = find_product(settings.functions_dir, LINKED)
    samples = settings.functions_dir / LINKED / "samples"
    click.echo(f"\n4. provider uploads activities, places, organisers and performers to {descriptor.qualified_name}")
    client = MeshClient(settings.mesh_url, settings.ingress_url)
    async with LocalSink() as sink:
        wanted = {"dataproduct": descriptor.qualified_name, "type": events.PUBLISHED, "outputport": LINKED_PORT}
        await asyncio.to_thread(client.apply, [subscription("demo-linked", sink.url, wanted)])
        since = time.monotonic()
        for port in ("activiteiten", "locaties", "organisatoren", "uitvoerders"):
            await asyncio.to_thread(upload_file, settings, descriptor, samples / f"{port}.csv", f"{port}-upload")
        published = await _until(sink, {events.PUBLISHED}, since)
    manifest = read_manifest(open_store(settings), descriptor.qualified_name, LINKED_PORT, published.get("dpversion"))
    graphs, shacl = manifest.extra.get("graphs", {}), manifest.extra.get("shacl", {})
    click.echo(
        f"   {LINKED_PORT}: {manifest.rows} quads in {graphs.get('total')} named graphs (one per entity); "
        f"SHACL against the OSLO shapes: {'conforms' if shacl.get('conforms') else shacl}"
    )
    token = TokenStore(settings.home).issue("owner")
    url = f"{settings.mesh_url}/sparql/{descriptor.qualified_name}/{LINKED_PORT}"
    request = urllib.request.Request(  # noqa: S310  (the demo's own mesh, over http)
        url,
        data=urllib.parse.urlencode({"query": SPARQL_COUNT}).encode(),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=WAIT) as answer:  # noqa: S310  (as above)
        row = json.load(answer)["results"]["bindings"][0]
    click.echo(
        f"   SPARQL at {url} as 'owner': {row['activities']['value']} activities in {row['graphs']['value']} graphs"
    )


def _catalog(settings: Settings) -> None:
    from culturemesh.backends import open_registry
    from culturemesh.catalog.search import search

    hits = search(open_registry(settings), "tickets")
    click.echo(f"\n5. the catalog finds {len(hits)} product(s) for 'tickets':")
    for hit in hits:
        click.echo(f"   {hit.product.id}  ({hit.freshness.value}; matched {', '.join(hit.matched)})")
    click.echo(f"   browse: {settings.mesh_url}/catalog/")


def run_demo(settings: Settings, keep: bool = False) -> None:
    samples = settings.functions_dir / PRODUCT / "samples"
    if not (samples / "sales.csv").is_file():
        raise ConfigError(f"the demo needs {samples / 'sales.csv'}; run it from the culturemesh repository")
    home = settings.home / "demo"
    shutil.rmtree(home, ignore_errors=True)
    demo = settings.with_overrides(home=home, port=free_port())
    started = time.monotonic()
    process = start_mesh(demo)
    click.echo(f"embedded mesh up at {demo.mesh_url} in {time.monotonic() - started:.2f}s (state in {home})")
    click.echo(f"web catalog: {demo.mesh_url}/catalog/   JSON API: {demo.mesh_url}/api/openapi.yaml")
    if not keep:
        click.echo("  (the mesh stops when the demo ends; `culturemesh demo --keep` leaves it up to browse)")
    try:
        asyncio.run(_scenario(demo, samples))
    finally:
        if keep:
            click.echo(f"\nthe mesh keeps running (pid {process.pid}); stop it with: kill {process.pid}")
        else:
            stop_mesh(process)
    click.echo(f"\ndemo done in {time.monotonic() - started:.2f}s")

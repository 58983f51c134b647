"""Linked data: SHACL validation time per 100,000 triples (pyshacl against the official OSLO
Cultuurparticipatie shapes, on the `activiteiten-ld` mapping's output), and the latency of a
lookup by identifier on a linked-data port's SPARQL endpoint (a `culturemesh up` process, over
HTTP with a bearer token) against the same query on an in-process pyoxigraph store holding the
same quads, in the same run.

Goal: endpoint p50 / (bare request p50 + in-process query p50) <= 3. The in-process query alone
(0.03 ms) is too small to be a baseline; a bare request to the same server on the same
kept-alive connection is what any endpoint costs. Checking the token and the grant, running the
query on a worker thread and writing SPARQL JSON may add up to twice that: a lookup stays well
under a millisecond on one machine, interactive for an app resolving entities one at a time.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from _mesh import REPO, MeshProcess

ACTIVITIES = int(os.environ.get("BENCH_ACTIVITIES", "4000"))
LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "300"))
GOAL = 3.0
PRODUCT = REPO / "functions" / "cultuurparticipatie"
QUERY = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX adms: <https://www.w3.org/ns/adms#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?activiteit ?titel WHERE {{ ?id skos:notation "{id}" . ?activiteit adms:identifier ?id ; dct:title ?titel . }}"""


def make_activities(path: Path, rows: int) -> None:
    """``rows`` activities shaped like the sample, at the sample's places, organisers and performers."""
    with (PRODUCT / "samples" / "activiteiten.csv").open(newline="") as handle:
        reader = csv.reader(handle)
        header, samples = next(reader), list(reader)
    rng = random.Random(11)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i in range(rows):
            row = list(rng.choice(samples))
            row[0] = f"A-2026-{i:06d}"
            writer.writerow(row)


def shacl_seconds_per_100k(folder: Path) -> tuple[float, int]:
    from culturemesh.linkeddata import engine, shacl, yarrrml

    doc = yarrrml.load(PRODUCT / "mappings" / "activiteiten.yarrrml.yaml")
    files = {name: PRODUCT / "samples" / name for name in doc.sources}
    files["activiteiten.csv"] = folder / "activiteiten.csv"
    quads = engine.run(doc, {name: engine.load_csv(path) for name, path in files.items()})
    shapes = shacl.load_shapes([PRODUCT / "oslo" / "cultuurparticipatie-ap-SHACL.ttl"])
    start = time.perf_counter()
    report = shacl.validate(quads, shapes)
    seconds = time.perf_counter() - start
    if not report.conforms:
        raise SystemExit(f"the generated data does not conform: {report.findings[:3]}")
    return seconds * 100_000 / report.triples, report.triples


def in_process_p50(nquads: bytes, ids: list[str]) -> float:
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
    timings = []
    for identifier in ids:
        start = time.perf_counter()
        rows = list(store.query(QUERY.format(id=identifier), use_default_graph_as_union=True))
        timings.append(time.perf_counter() - start)
        assert len(rows) == 1, identifier
    return statistics.median(timings)


def round_trip_p50(mesh: MeshProcess, rounds: int) -> float:
    """A bare HTTP request to the same server on a kept-alive connection (``/-/health``)."""
    connection = http.client.HTTPConnection("127.0.0.1", mesh.port, timeout=30)
    timings = []
    for _ in range(rounds + 1):
        start = time.perf_counter()
        connection.request("GET", "/-/health")
        response = connection.getresponse()
        response.read()
        timings.append(time.perf_counter() - start)
    connection.close()
    return statistics.median(timings[1:])


def endpoint_p50(mesh: MeshProcess, token: str, ids: list[str]) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", mesh.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/sparql-results+json"}
    path = "/sparql/cultuur/cultuurparticipatie/activiteiten-ld?"
    timings = []
    for identifier in ["A-2026-000000", *ids]:  # the first query syncs the store: not timed
        start = time.perf_counter()
        connection.request(
            "GET", path + urllib.parse.urlencode({"query": QUERY.format(id=identifier)}), headers=headers
        )
        response = connection.getresponse()
        body = response.read()
        timings.append(time.perf_counter() - start)
        assert response.status == 200 and len(json.loads(body)["results"]["bindings"]) == 1, body[:300]
    connection.close()
    return statistics.median(timings[1:])


def cli(mesh: MeshProcess, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "culturemesh", *args], env=mesh.env, cwd=REPO, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"culturemesh {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def publish(mesh: MeshProcess, activities: Path) -> bytes:
    for name in ("locaties", "organisatoren", "uitvoerders"):
        cli(mesh, "upload", "cultuurparticipatie", str(PRODUCT / "samples" / f"{name}.csv"), "--port", f"{name}-upload")
    cli(mesh, "upload", "cultuurparticipatie", str(activities), "--port", "activiteiten-upload")
    latest = mesh.home / "store" / "products" / "cultuur" / "cultuurparticipatie" / "activiteiten-ld" / "latest.json"
    deadline = time.monotonic() + 600
    while not latest.is_file():
        if time.monotonic() > deadline:
            raise SystemExit(f"no linked-data version; see {mesh.home / 'mesh.log'}")
        time.sleep(0.2)
    from culturemesh.descriptor import load_descriptor
    from culturemesh.keyring import LocalKms
    from culturemesh.linkeddata.portfiles import read_version
    from culturemesh.store import FilesystemStore

    store, kms = FilesystemStore(mesh.home / "store"), LocalKms(mesh.home / "keys" / "keyring.json")
    return read_version(store, kms, load_descriptor(PRODUCT), "activiteiten-ld", "owner").nquads


def main() -> None:
    mesh = MeshProcess()
    try:
        activities = mesh.home / "activiteiten.csv"
        make_activities(activities, ACTIVITIES)
        per_100k, triples = shacl_seconds_per_100k(mesh.home)
        nquads = publish(mesh, activities)
        token = cli(mesh, "tokens", "issue", "analyst").strip()
        ids = [f"A-2026-{i:06d}" for i in random.Random(5).sample(range(ACTIVITIES), min(LOOKUPS, ACTIVITIES))]
        endpoint = endpoint_p50(mesh, token, ids)
        round_trip = round_trip_p50(mesh, len(ids))
        baseline = in_process_p50(nquads, ids)
    finally:
        mesh.stop()
    print(f"activities {ACTIVITIES}, triples validated {triples}, lookups {len(ids)}")
    print(f"SHACL validation (pyshacl, OSLO shapes)      {per_100k:7.2f} s per 100,000 triples")
    print(f"lookup by identifier, in-process pyoxigraph  {baseline * 1000:7.2f} ms p50")
    print(f"a bare HTTP request to the same server        {round_trip * 1000:7.2f} ms p50")
    print(f"lookup by identifier, SPARQL endpoint (HTTP) {endpoint * 1000:7.2f} ms p50")
    ratio = endpoint / (round_trip + baseline)
    print(f"ratio sparql_lookup_vs_request_plus_query = {ratio:.1f} (goal <= {GOAL:.0f})")


if __name__ == "__main__":
    main()

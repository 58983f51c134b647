"""Pushing a linked-data port's graphs with the SPARQL 1.1 Graph Store HTTP Protocol to a REAL
Virtuoso (Debian's virtuoso-opensource) that the test starts on its own ports and stops."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from culturemesh import versions
from culturemesh.descriptor import load_descriptor
from culturemesh.linkeddata import graphstore, quadfile
from culturemesh.linkeddata.port import LinkedDataPort
from culturemesh.product import Product
from tests.conftest import free_port
from tests.linkeddata.test_port import PRODUCT_DIR, SAMPLES, upload
from tests.linkeddata.test_shacl import quad_table

pytestmark = pytest.mark.e2e
VIRTUOSO = shutil.which("virtuoso-t")
DBA = "dba:dba"  # a fresh database's administrator; its digest auth guards /sparql-graph-crud-auth
EX = "https://example.org/"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if VIRTUOSO is None:
        pytest.fail("virtuoso-t not installed: apt-get install -y virtuoso-opensource (.ci/run does)")
    folder = tmp_path_factory.mktemp("virtuoso")
    http = free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(
        "[Database]\n"
        f"DatabaseFile = {folder}/v.db\nErrorLogFile = {folder}/v.log\nLockFile = {folder}/v.lck\n"
        f"TransactionFile = {folder}/v.trx\nxa_persistent_file = {folder}/v.pxa\n"
        f"[TempDatabase]\nDatabaseFile = {folder}/v-temp.db\nTransactionFile = {folder}/v-temp.trx\n"
        f"[Parameters]\nServerPort = {free_port()}\nDisableUnixSocket = 1\nNumberOfBuffers = 10000\n"
        "MaxDirtyBuffers = 6000\nDirsAllowed = .\n"
        f"[HTTPServer]\nServerPort = {http}\nServerRoot = /var/lib/virtuoso-opensource-7/vsp\nServerThreads = 4\n"
    )
    with (folder / "out.log").open("wb") as log:
        process = subprocess.Popen([VIRTUOSO, "-f", "-c", str(ini)], cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"virtuoso exited {process.returncode}: {(folder / 'out.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/sparql?query=ASK%7B%7D", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("virtuoso did not answer within 60 s") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def select(virtuoso: str, query: str) -> list[dict[str, str]]:
    url = f"{virtuoso}/sparql?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        rows = json.loads(response.read())["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


def graph_sizes(virtuoso: str, prefix: str) -> dict[str, int]:
    rows = select(
        virtuoso,
        f'SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{prefix}")) }} '
        "GROUP BY ?g",
    )
    return {row["g"]: int(row["n"]) for row in rows}


def entity(n: int, title: str) -> str:
    g = f"<{EX}graph/{n}>"
    return f'<{EX}e/{n}> <{EX}title> "{title}"@nl {g} .\n<{EX}e/{n}> <{EX}n> "{n}" {g} .\n'


def test_a_push_puts_new_and_changed_graphs_and_deletes_removed_ones(virtuoso: str) -> None:
    store = graphstore.GraphStore(f"{virtuoso}/sparql-graph-crud-auth", DBA)
    first = quadfile.write(quad_table(entity(1, "een") + entity(2, "twee") + entity(3, "drie")))
    store.push(first.data, first.index, quadfile.diff(None, first.index))
    assert graph_sizes(virtuoso, f"{EX}graph/") == {f"{EX}graph/{n}": 2 for n in (1, 2, 3)}

    second = quadfile.write(quad_table(entity(1, "een") + entity(2, "TWEE") + entity(4, "vier")))
    delta = quadfile.diff(first.index, second.index)
    assert store.push(second.data, second.index, delta) == (2, 1)

    assert graph_sizes(virtuoso, f"{EX}graph/") == {f"{EX}graph/{n}": 2 for n in (1, 2, 4)}
    titles = select(virtuoso, f"SELECT ?t WHERE {{ GRAPH <{EX}graph/2> {{ ?s <{EX}title> ?t }} }}")
    assert titles == [{"t": "TWEE"}]  # replaced, not added to


def test_wrong_credentials_are_a_graph_store_error_naming_the_graph(virtuoso: str) -> None:
    store = graphstore.GraphStore(f"{virtuoso}/sparql-graph-crud-auth", "dba:wrong")
    with pytest.raises(
        graphstore.GraphStoreError, match=r"PUT of graph <https://example.org/graph/9> failed: HTTP 401"
    ):
        store.put(f"<{EX}graph/9>", b'<https://example.org/a> <https://example.org/b> "c" .\n')


def test_a_linked_data_port_with_a_graph_store_pushes_each_version_incrementally(virtuoso: str, tmp_path: Path) -> None:
    folder = tmp_path / "cultuurparticipatie"
    shutil.copytree(PRODUCT_DIR, folder, ignore=shutil.ignore_patterns("samples", "__pycache__"))
    raw = yaml.safe_load((folder / "data-product.yaml").read_text())
    raw["culturemesh"]["outputs"]["activiteiten-ld"]["graphStore"] = f"{virtuoso}/sparql-graph-crud-auth"
    (folder / "data-product.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    from culturemesh import keys
    from culturemesh.keyring import LocalKms
    from culturemesh.store import FilesystemStore

    store, kms = FilesystemStore(tmp_path / "store"), LocalKms(tmp_path / "keys" / "keyring.json")
    descriptor = load_descriptor(folder)
    keys.provision(kms, descriptor)
    product = Product(descriptor, store, kms, "linked_data")
    port = LinkedDataPort(product, graph_store_auth=DBA)
    for name in ("activiteiten", "locaties", "organisatoren", "uitvoerders"):
        port.handle(upload(product, name, (SAMPLES / f"{name}.csv").read_bytes()))
    prefix = "https://data.culturemesh.be/id/"
    pushed = graph_sizes(virtuoso, prefix)
    assert f"{prefix}activiteit/A-2026-0002" in pushed and f"{prefix}locatie/L-001" in pushed

    rows = (SAMPLES / "activiteiten.csv").read_text().splitlines(keepends=True)
    port.handle(upload(product, "activiteiten", "".join([rows[0], rows[1], *rows[3:]]).encode(), stamp="t2"))

    after = graph_sizes(virtuoso, prefix)
    assert set(after) == set(pushed) - {f"{prefix}activiteit/A-2026-0002"}
    latest = versions.latest_version(store, descriptor.qualified_name, "activiteiten-ld")
    url = f"{virtuoso}/sparql-graph-crud-auth"
    assert graphstore.pushed_version(store, descriptor.qualified_name, "activiteiten-ld", url) == latest

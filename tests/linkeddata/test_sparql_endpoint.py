"""The SPARQL 1.1 query endpoint of a linked-data port, over HTTP against a separate
`culturemesh up` process: real uploads, real functions, real tokens."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, Mesh

pytestmark = pytest.mark.e2e
SAMPLES = REPO / "functions" / "cultuurparticipatie" / "samples"
SOURCES = ("activiteiten", "locaties", "organisatoren", "uitvoerders")
ENDPOINT = "/sparql/cultuur/cultuurparticipatie/activiteiten-ld"
LOOKUP = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX adms: <https://www.w3.org/ns/adms#>
SELECT ?activiteit ?titel WHERE {
  ?id skos:notation "A-2026-0001" . ?activiteit adms:identifier ?id ; dct:title ?titel .
}"""


def request(
    mesh: Mesh, token: str | None, *, query: str | None = None, data: bytes | None = None, headers: dict[str, str]
) -> tuple[int, str, bytes]:
    url = mesh.url + ENDPOINT + (f"?{urllib.parse.urlencode({'query': query})}" if query else "")
    all_headers = {**headers, **({"Authorization": f"Bearer {token}"} if token else {})}
    req = urllib.request.Request(url, data=data, headers=all_headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def wait_for_linked_data(home: Path, timeout: float = 90) -> str:
    latest = home / "store" / "products" / "cultuur" / "cultuurparticipatie" / "activiteiten-ld" / "latest.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if latest.is_file():
            return str(json.loads(latest.read_text())["version"])
        time.sleep(0.2)
    raise AssertionError(
        f"no linked-data version within {timeout}s; log: {(home / 'mesh-test.log').read_text()[-3000:]}"
    )


def test_granted_principals_get_answers_others_are_refused_and_updates_are_refused(mesh: Mesh) -> None:
    for name in SOURCES:
        mesh.cli("upload", "cultuurparticipatie", str(SAMPLES / f"{name}.csv"), "--port", f"{name}-upload")
    wait_for_linked_data(mesh.home)
    analyst = mesh.cli("tokens", "issue", "analyst").stdout.strip()
    stranger = mesh.cli("tokens", "issue", "stranger").stdout.strip()
    json_results = {"Accept": "application/sparql-results+json"}

    status, kind, body = request(mesh, analyst, query=LOOKUP, headers=json_results)
    assert status == 200 and kind.startswith("application/sparql-results+json"), body
    rows = json.loads(body)["results"]["bindings"]
    assert [r["activiteit"]["value"] for r in rows] == ["https://data.culturemesh.be/id/activiteit/A-2026-0001"]
    assert rows[0]["titel"]["xml:lang"] == "nl"

    # the protocol's other forms: a form POST, a direct POST body, CONSTRUCT as Turtle
    form = urllib.parse.urlencode({"query": LOOKUP}).encode()
    form_headers = {**json_results, "Content-Type": "application/x-www-form-urlencoded"}
    assert json.loads(request(mesh, analyst, data=form, headers=form_headers)[2]) == json.loads(body)
    direct = {**json_results, "Content-Type": "application/sparql-query"}
    assert json.loads(request(mesh, analyst, data=LOOKUP.encode(), headers=direct)[2]) == json.loads(body)
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <https://data.culturemesh.be/id/locatie/L-001> { ?s ?p ?o } }"
    status, kind, turtle = request(mesh, analyst, query=construct, headers={"Accept": "text/turtle"})
    assert status == 200 and kind.startswith("text/turtle") and b"deSingel" in turtle

    # refused: no grant (403), an unknown token (401), anonymous on a port with access rules (403)
    assert request(mesh, stranger, query=LOOKUP, headers=json_results)[0] == 403
    assert request(mesh, "cmt_not-a-token", query=LOOKUP, headers=json_results)[0] == 401
    assert request(mesh, None, query=LOOKUP, headers=json_results)[0] == 403

    # updates are refused, in every form the protocol has
    update = 'INSERT DATA { <https://example.org/x> <https://example.org/p> "x" }'
    update_body = {"Content-Type": "application/sparql-update"}
    assert request(mesh, analyst, data=update.encode(), headers=update_body)[0] == 403
    update_form = urllib.parse.urlencode({"update": update}).encode()
    form_only = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(mesh, analyst, data=update_form, headers=form_only)[0] == 403
    assert request(mesh, analyst, query=update, headers=json_results)[0] == 400
    ask = "ASK { <https://example.org/x> ?p ?o }"
    assert json.loads(request(mesh, analyst, query=ask, headers=json_results)[2])["boolean"] is False

"""A running mesh with a populated catalog, shared by the API, schemathesis and browser tests.

``culturemesh up`` runs as its own process; the products are registered over the JSON API
(ticket-sales, and sales-by-venue, whose input reads ticket-sales' ``sales`` port), and the sample
sales CSV is uploaded so ticket-sales has a real, encrypted version to sample.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO, SAMPLES, Mesh, free_port

FIXTURES = Path(__file__).parent / "fixtures"
TICKET_SALES = REPO / "functions" / "ticket-sales" / "data-product.yaml"
SALES_BY_VENUE = FIXTURES / "sales-by-venue.yaml"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


@dataclass
class LiveCatalog:
    mesh: Mesh
    tokens: dict[str, str]  # principal -> bearer token

    @property
    def url(self) -> str:
        return self.mesh.url

    def auth(self, principal: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[principal]}"}

    def get(self, path: str, principal: str | None = None) -> Reply:
        return call(self.url + path, headers=self.auth(principal) if principal else None)

    def register(self, path: Path, principal: str = "operator") -> Reply:
        headers = {**self.auth(principal), "Content-Type": "application/yaml"}
        return call(f"{self.url}/api/products", "POST", path.read_bytes(), headers)


def start_catalog(home: Path) -> LiveCatalog:
    """Start the mesh, issue tokens, register both products and publish one ticket-sales version."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CULTUREMESH_", "K_"))}
    env.update(
        CULTUREMESH_HOME=str(home),
        CULTUREMESH_PROJECT=str(REPO),
        CULTUREMESH_PORT=str(port),
        CULTUREMESH_LOG_FORMAT="json",
        CULTUREMESH_IDLE_SECONDS="30",
    )
    home.mkdir(parents=True, exist_ok=True)
    mesh = Mesh(home, port, env)
    mesh.start()
    tokens = {
        who: mesh.cli("tokens", "issue", who).stdout.strip().splitlines()[-1] for who in ("owner", "public", "operator")
    }
    live = LiveCatalog(mesh, tokens)
    for descriptor in (TICKET_SALES, SALES_BY_VENUE):
        reply = live.register(descriptor)
        assert reply.status in (200, 201), reply.body
    mesh.cli("upload", "ticket-sales", str(SAMPLES / "sales.csv"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        versions = live.get("/api/products/ticketing/ticket-sales/ports/sales/versions").json()["versions"]
        if versions:
            return live
        time.sleep(0.2)
    mesh.stop()
    raise AssertionError("ticket-sales published no version within 60 s of the upload")

"""Pushing a linked-data port's graphs to an external SPARQL server (SPARQL 1.1 Graph Store HTTP
Protocol), for when the embedded store is not enough.

Per version, only what changed travels: ``PUT <endpoint>?graph=<iri>`` with the graph's triples
(N-Triples, sent as ``text/turtle``, of which it is a subset) for each added or changed entity
graph, ``DELETE <endpoint>?graph=<iri>`` for each removed one (a 404 means it is already gone);
the default graph is ``?default``. A marker in the products bucket records the version the
server holds, so a redelivered event finishes an interrupted push, and a new endpoint URL gets
every graph. Credentials (``CULTUREMESH_GRAPH_STORE_AUTH``, ``user:password``; HTTP Digest or
Basic, whichever the server asks for) are never logged.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from culturemesh import versions
from culturemesh.errors import CultureMeshError, ObjectNotFound
from culturemesh.linkeddata import quadfile
from culturemesh.logs import get_logger

if TYPE_CHECKING:
    import pyarrow as pa

    from culturemesh.store import ObjectStore

log = get_logger("culturemesh.linkeddata.graphstore")


class GraphStoreError(CultureMeshError):
    """The SPARQL server refused a request or could not be reached."""

    exit_code = 6

    def __init__(self, method: str, graph: str, url: str, reason: str) -> None:
        self.method, self.graph, self.url, self.reason = method, graph, url, reason
        super().__init__(f"graph store {url}: {method} of graph {graph or '(default)'} failed: {reason}")


@dataclass(frozen=True)
class Pushed:
    version: str
    put: int
    deleted: int


Opener = Callable[[urllib.request.Request, float], int]


class GraphStore:
    """A Graph Store Protocol endpoint such as Virtuoso's ``/sparql-graph-crud-auth``."""

    def __init__(self, url: str, auth: str = "", timeout: float = 60.0, opener: Opener | None = None) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise GraphStoreError("PUT", "", url, "expected an http(s) URL")
        self.url, self.timeout = url, timeout
        self._opener = opener or _urllib_opener(url, auth)

    def _target(self, graph: str) -> str:
        if graph == quadfile.DEFAULT_GRAPH:
            return f"{self.url}?default"
        return f"{self.url}?{urllib.parse.urlencode({'graph': graph[1:-1]})}"

    def _send(self, method: str, graph: str, body: bytes | None = None) -> int:
        headers = {"Content-Type": "text/turtle; charset=utf-8"} if body is not None else {}
        # the URL's scheme is checked to be http(s) in __init__
        request = urllib.request.Request(self._target(graph), data=body, method=method, headers=headers)  # noqa: S310
        try:
            return self._opener(request, self.timeout)
        except urllib.error.HTTPError as exc:
            if method == "DELETE" and exc.code == 404:
                return 404
            raise GraphStoreError(method, graph, self.url, f"HTTP {exc.code} {exc.reason}") from None
        except OSError as exc:
            raise GraphStoreError(method, graph, self.url, f"not reachable ({exc})") from None

    def put(self, graph: str, ntriples: bytes) -> None:
        """Replace graph ``graph`` (an N-Triples IRI term, or "" for the default graph)."""
        self._send("PUT", graph, ntriples)

    def delete(self, graph: str) -> None:
        self._send("DELETE", graph)

    def push(self, nquads: bytes, index: pa.Table, delta: quadfile.Delta) -> tuple[int, int]:
        """PUT the added and changed graphs of ``delta`` (sliced out of ``nquads``), DELETE the removed."""
        for graph in delta.replaced:
            self.put(graph, _triples_of(quadfile.graph_bytes(nquads, index, [graph]), graph))
        for graph in delta.removed:
            self.delete(graph)
        return len(delta.replaced), len(delta.removed)


def _triples_of(lines: bytes, graph: str) -> bytes:
    """N-Quads lines of one graph as N-Triples: each line ends with `` <graph> .``, dropped here."""
    if graph == quadfile.DEFAULT_GRAPH:
        return lines
    return lines.replace(f" {graph} .\n".encode(), b" .\n")


def _urllib_opener(url: str, auth: str) -> Opener:
    handlers: list[urllib.request.BaseHandler] = []
    if auth:
        user, _, password = auth.partition(":")
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, url, user, password)
        handlers += [urllib.request.HTTPDigestAuthHandler(passwords), urllib.request.HTTPBasicAuthHandler(passwords)]
    opener = urllib.request.build_opener(*handlers)

    def open_(request: urllib.request.Request, timeout: float) -> int:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            return int(response.status)

    return open_


def marker_key(qualified_name: str, port: str) -> str:
    return f"{versions.port_prefix(qualified_name, port)}/graphstore.json"


def pushed_version(store: ObjectStore, qualified_name: str, port: str, url: str) -> str | None:
    """The version the server at ``url`` was last brought to, or None (nothing, or another server)."""
    try:
        marker = json.loads(store.get(versions.PRODUCTS, marker_key(qualified_name, port)))
    except ObjectNotFound:
        return None
    return str(marker["version"]) if marker.get("url") == url else None


def record_pushed(store: ObjectStore, qualified_name: str, port: str, url: str, version: str) -> None:
    body = json.dumps({"url": url, "version": version}).encode()
    store.put(versions.PRODUCTS, marker_key(qualified_name, port), body, content_type="application/json", notify=False)

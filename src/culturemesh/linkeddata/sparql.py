"""The embedded SPARQL store of each linked-data port, and its SPARQL 1.1 Protocol query endpoint.

Each ``linkeddata`` port gets an in-memory pyoxigraph store, loaded from the port's sealed version
files (their persistent, encrypted form: no plaintext graph is kept at rest). Before answering,
:meth:`PortStore.apply` brings it to the port's latest version incrementally: the graph indexes
of the loaded and the latest version say which entities' named graphs were added, changed or
removed, and only those are dropped and reloaded (sliced out of the version's N-Quads).

:class:`SparqlEndpoint` serves ``GET|POST /sparql/<domain>/<name>/<port>`` on the embedded mesh:
``query`` as a URL or form parameter or an ``application/sparql-query`` body; results as
``application/sparql-results+json`` (default), ``+xml``, CSV or TSV, graphs as Turtle (default),
N-Triples, RDF/XML or JSON-LD. Without ``default-graph-uri`` the default graph is the union of all
graphs. Only principals granted the port get answers (bearer token, see ``culturemesh.auth``):
401 for an unknown token, 403 without a grant; updates are refused (403): a port's graphs change
only through new versions.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from culturemesh.access import AccessDenied, grant
from culturemesh.auth import TokenStore
from culturemesh.descriptor import Descriptor, PortType
from culturemesh.errors import CultureMeshError, ObjectNotFound
from culturemesh.linkeddata import quadfile
from culturemesh.logs import get_logger

if TYPE_CHECKING:
    import pyarrow as pa
    import pyoxigraph as ox
    from aiohttp import web

    from culturemesh.kms import Kms
    from culturemesh.settings import Settings
    from culturemesh.store import ObjectStore

log = get_logger("culturemesh.linkeddata.sparql")
RESULT_TYPES = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
GRAPH_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")


class QueryRefused(CultureMeshError):
    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str


def _graph_node(name: str) -> ox.NamedNode | ox.DefaultGraph:
    import pyoxigraph as ox

    return ox.DefaultGraph() if name == quadfile.DEFAULT_GRAPH else ox.NamedNode(name[1:-1])


class PortStore:
    """One port's query store and the version it holds.

    In memory on purpose: the port's sealed version files are its persistent form, and a store
    on disk would keep the graphs in plaintext at rest. After a restart the first query loads the
    latest version (pyoxigraph bulk-loads about a million quads a second); later versions replace
    only the graphs that changed."""

    def __init__(self) -> None:
        import pyoxigraph as ox

        self.store = ox.Store()
        self.version: str | None = None
        self._index: pa.Table | None = None
        self._lock = threading.Lock()

    def apply(self, version: str, nquads: bytes, index: pa.Table) -> quadfile.Delta:
        """Bring the store to ``version`` (its N-Quads and index), replacing only changed graphs."""
        import pyoxigraph as ox

        with self._lock:
            if self.version == version:
                return quadfile.Delta((), (), ())
            delta = quadfile.diff(self._index, index)
            for name in delta.removed + delta.changed:
                self.store.remove_graph(_graph_node(name))
            if delta.replaced:
                body = quadfile.graph_bytes(nquads, index, delta.replaced)
                self.store.bulk_load(body, format=ox.RdfFormat.N_QUADS)
            self.version, self._index = version, index
        log.info("sparql store synced", version=version, **delta.counts())
        return delta

    def query(self, text: str, accept: str, default_graphs: list[str], named_graphs: list[str]) -> Answer:
        import pyoxigraph as ox

        options: dict[str, Any] = {"use_default_graph_as_union": not default_graphs}
        if default_graphs:
            options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        if named_graphs:
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        try:
            results = self.store.query(text, **options)
        except SyntaxError as exc:
            raise QueryRefused(400, f"not a SPARQL 1.1 query (updates are not accepted here): {exc}") from None
        if isinstance(results, ox.QueryTriples):
            media = _negotiate(accept, GRAPH_TYPES)
            return Answer(results.serialize(format=ox.RdfFormat.from_media_type(media)) or b"", media)
        media = _negotiate(accept, RESULT_TYPES)
        return Answer(results.serialize(format=ox.QueryResultsFormat.from_media_type(media)) or b"", media)


def _negotiate(accept: str, offered: tuple[str, ...]) -> str:
    """The first offered type the Accept header allows, by its q order; the default for */*."""
    ranked = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = next((float(p[2:]) for p in params if p.startswith("q=") and _number(p[2:])), 1.0)
        ranked.append((-quality, position, media.lower()))
    for _, _, media in sorted(ranked):
        if media in offered:
            return media
        if media in ("*/*", "application/*", "text/*", ""):
            return offered[0]
    raise QueryRefused(406, f"cannot answer as {accept!r}; this query's results come as: {', '.join(offered)}")


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class SparqlEndpoint:
    """The mesh's ``/sparql/{domain}/{name}/{port}`` route: one :class:`PortStore` per port."""

    def __init__(self, settings: Settings, store: ObjectStore, kms: Kms) -> None:
        self.settings, self.objects, self.kms = settings, store, kms
        self._stores: dict[str, PortStore] = {}
        self._loaded: tuple[tuple[int, ...], list[Descriptor]] | None = None
        self.tokens = TokenStore(settings.home)  # one, so the token file is parsed only when it changes

    def _descriptor(self, domain: str, name: str, port: str) -> Descriptor:
        """The product's descriptor, re-read only when a descriptor file changed (not per query)."""
        from culturemesh.project import descriptor_paths, load_products

        stamp = tuple(path.stat().st_mtime_ns for path in descriptor_paths(self.settings.functions_dir))
        if self._loaded is None or self._loaded[0] != stamp:
            self._loaded = (stamp, load_products(self.settings.functions_dir))
        for descriptor in self._loaded[1]:
            linked = any(p.name == port and p.type == PortType.LINKEDDATA for p in descriptor.output_ports)
            if descriptor.qualified_name == f"{domain}/{name}" and linked:
                return descriptor
        raise QueryRefused(404, f"no linked-data port {port!r} on a data product {domain}/{name}")

    def port_store(self, descriptor: Descriptor, port: str) -> PortStore:
        key = f"{descriptor.qualified_name}/{port}"
        if key not in self._stores:
            self._stores[key] = PortStore()
        return self._stores[key]

    def sync(self, descriptor: Descriptor, port: str) -> PortStore:
        """The port's store, at the port's latest version (as the product's own principal reads it)."""
        from culturemesh import keys, versions
        from culturemesh.linkeddata.portfiles import read_version

        target = self.port_store(descriptor, port)
        latest = versions.latest_version(self.objects, descriptor.qualified_name, port)
        if latest is None:
            raise QueryRefused(404, f"{descriptor.qualified_name} port {port!r} has no published version yet")
        if latest != target.version:
            principal = keys.function_principal(descriptor)
            found = read_version(self.objects, self.kms, descriptor, port, principal, latest)
            target.apply(found.manifest.version, found.nquads, found.index)
        return target

    def answer(self, principal: str, domain: str, name: str, port: str, params: Mapping[str, list[str]]) -> Answer:
        descriptor = self._descriptor(domain, name, port)
        try:
            grant(descriptor, port, principal, [])
        except AccessDenied as exc:
            raise QueryRefused(403, str(exc)) from None
        if params.get("update"):
            raise QueryRefused(403, "this endpoint only answers queries; a port's graphs change only by new versions")
        queries = params.get("query", [])
        if len(queries) != 1:
            raise QueryRefused(400, f"expected exactly one 'query' parameter, found {len(queries)}")
        try:
            target = self.sync(descriptor, port)
        except ObjectNotFound as exc:
            raise QueryRefused(404, str(exc)) from None
        accept = (params.get("accept") or ["*/*"])[0]
        return target.query(queries[0], accept, params.get("default-graph-uri", []), params.get("named-graph-uri", []))

    async def handle(self, request: web.Request) -> web.Response:
        from aiohttp import web

        principal = self.tokens.authenticate(request.headers.get("Authorization"))
        if principal is None:
            headers = {"WWW-Authenticate": 'Bearer realm="culturemesh"'}
            return web.json_response({"error": "invalid bearer token"}, status=401, headers=headers)
        try:
            params = await _params(request)
            info = request.match_info
            answer = await asyncio.to_thread(self.answer, principal, info["domain"], info["name"], info["port"], params)
        except QueryRefused as exc:
            return web.json_response({"error": exc.reason}, status=exc.status)
        except CultureMeshError as exc:
            log.warning("sparql query failed", error_type=type(exc).__name__)
            return web.json_response({"error": str(exc)}, status=500)
        return web.Response(body=answer.body, content_type=answer.media_type, charset="utf-8")


async def _params(request: web.Request) -> dict[str, list[str]]:
    """The protocol's parameters from the URL and, for POST, the form or a direct query/update body."""
    params: dict[str, list[str]] = {}
    for key, value in request.query.items():
        params.setdefault(key, []).append(value)
    if request.method == "POST":
        content_type = request.content_type
        if content_type == "application/x-www-form-urlencoded":
            for key, field in (await request.post()).items():
                params.setdefault(key, []).append(field if isinstance(field, str) else "")
        elif content_type == "application/sparql-query":
            params.setdefault("query", []).append(await request.text())
        elif content_type == "application/sparql-update":
            params.setdefault("update", []).append(await request.text())
        else:
            raise QueryRefused(415, f"unsupported content type {content_type!r} for a SPARQL POST")
    elif request.method != "GET":
        raise QueryRefused(405, f"method {request.method} not allowed; use GET or POST")
    params["accept"] = [request.headers.get("Accept", "*/*")]
    return params


PATH = "/sparql/{domain}/{name}/{port}"


def mount(app: web.Application, settings: Settings) -> None:
    """Serve every linked-data port's SPARQL endpoint at ``/sparql/<domain>/<name>/<port>``."""
    from aiohttp import web

    from culturemesh.backends import open_kms, open_store

    endpoint = SparqlEndpoint(settings, open_store(settings), open_kms(settings))
    app.add_routes([web.get(PATH, endpoint.handle), web.post(PATH, endpoint.handle)])

"""The catalog's JSON HTTP API, served by the embedded mesh under ``/api/`` (documented in
``openapi.yaml``, which is served at ``/api/openapi.yaml``).

Reads are open; sample rows are read as the caller's principal (a bearer token, else
``anonymous``) and only within the port's grant. Writes need the token of an ``operator`` or of
the product itself (``product:<domain>/<name>``). Every error is
``{"error": CODE, "detail": MESSAGE}`` with a 4xx status and changes nothing. The registry's
blocking calls run in a worker thread, so the broker on the same event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import yaml
from aiohttp import web

from culturemesh.access import AccessDenied, grant
from culturemesh.auth import ANONYMOUS, TokenStore
from culturemesh.catalog import search as catalog_search
from culturemesh.catalog.freshness import PortFreshness, State, port_freshness
from culturemesh.catalog.jsonviews import (
    edge_json,
    json_value,
    port_json,
    product_json,
    subscription_json,
    summary_json,
    version_json,
)
from culturemesh.catalog.registry import (
    InvalidDescriptor,
    InvalidQuery,
    PortRecord,
    ProductRecord,
    Registry,
    RegistryError,
    build_product,
)
from culturemesh.descriptor import PortType
from culturemesh.errors import CultureMeshError
from culturemesh.settings import Settings
from culturemesh.versions import Lineage, Manifest

MAX_BODY = 1024 * 1024
MAX_LIMIT, MAX_SAMPLE = 200, 100
_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class ApiError(CultureMeshError):
    """A request the API refuses: ``status`` (4xx), a stable ``code`` and what was expected."""

    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        self.status, self.code, self.detail, self.headers = status, code, detail, dict(headers or {})
        super().__init__(f"{status} {code}: {detail}")


@functools.cache
def openapi_text() -> str:
    return resources.files("culturemesh.catalog").joinpath("openapi.yaml").read_text(encoding="utf-8")


@functools.cache
def _validator(component: str) -> Any:
    import jsonschema

    document = yaml.safe_load(openapi_text())
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


# --- the catalog a request talks to ------------------------------------------------------------


@dataclass
class Catalog:
    """The registry, object store, KMS and tokens of one mesh, opened on first use."""

    settings: Settings
    opener: Callable[[Settings], Registry] | None = None
    _registry: Registry | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def registry(self) -> Registry:
        with self._lock:
            if self._registry is None:
                if self.opener is None:
                    from culturemesh.backends import open_registry

                    self._registry = open_registry(self.settings)
                else:
                    self._registry = self.opener(self.settings)
            return self._registry

    def principal(self, authorization: str | None) -> str:
        """The principal of an ``Authorization`` header; :class:`ApiError` 401 when it is not valid."""
        principal = TokenStore(self.settings.home).authenticate(authorization)
        if principal is None:
            raise ApiError(
                401,
                "invalid_token",
                "the bearer token is not valid; issue one with `culturemesh tokens issue PRINCIPAL`",
                {"WWW-Authenticate": 'Bearer realm="culturemesh"'},
            )
        return principal

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()


CATALOG = web.AppKey("catalog", Catalog)


# --- what the handlers do (blocking; run in a worker thread) -----------------------------------


def port_of(registry: Registry, product_id: str, port: str) -> tuple[ProductRecord, PortRecord, PortFreshness]:
    product = registry.product(product_id)
    record = product.port(port)
    found = port_freshness(product, record, registry.latest_version(product_id, port), datetime.now(UTC))
    return product, record, found


def read_sample(catalog: Catalog, product_id: str, port: str, principal: str, limit: int) -> dict[str, Any]:
    """The first ``limit`` rows of the port's latest version, only the columns ``principal`` may
    read; :class:`AccessDenied` (403) before any data is read when its grant has no access."""
    from culturemesh.backends import open_kms, open_store
    from culturemesh.reading import read_parquet

    registry = catalog.registry
    product, record, _ = port_of(registry, product_id, port)
    latest = registry.latest_version(product_id, port)
    descriptor = product.descriptor()
    columns = [str(f["name"]) for f in latest.manifest.schema] if latest else [c.name for c in record.columns]
    allowed = grant(descriptor, port, principal, columns)
    if latest is None:
        raise ApiError(404, "no_version", f"{product_id} port {port!r} has not published a version yet")
    if latest.format != "parquet":
        raise ApiError(404, "no_sample", f"{product_id} port {port!r} is {latest.format}, not a table to sample")
    store, kms = open_store(catalog.settings), open_kms(catalog.settings)
    rows: list[dict[str, Any]] = []
    for item in latest.manifest.files:
        if len(rows) >= limit or not allowed.readable:
            break
        table = read_parquet(store, kms, principal, item["key"], list(allowed.readable), f"{product_id} port {port!r}")
        rows.extend(table.slice(0, limit - len(rows)).to_pylist())
    return {
        "product": product_id,
        "port": port,
        "version": latest.version,
        "principal": principal,
        "columns": list(allowed.readable),
        "withheld": list(allowed.withheld),
        "rows": [{k: json_value(v) for k, v in row.items()} for row in rows],
        "totalRows": latest.rows,
    }


def list_products(registry: Registry, query: Mapping[str, str]) -> dict[str, Any]:
    limit = _int(query, "limit", 50, 1, MAX_LIMIT)
    offset = _int(query, "offset", 0, 0, 100_000)
    port_type, freshness = query.get("portType"), query.get("freshness")
    for name, value, allowed in (
        ("portType", port_type, [t.value for t in PortType]),
        ("freshness", freshness, [s.value for s in State]),
    ):
        if value is not None and value not in allowed:
            raise ApiError(400, "invalid_query", f"{name} {value[:50]!r}: expected one of {', '.join(allowed)}")
    for name in ("domain", "owner"):
        if len(query.get(name, "")) > 200:
            raise ApiError(400, "invalid_query", f"{name}: at most 200 characters")
    filters = catalog_search.Filters(
        domain=query.get("domain") or None,
        port_type=port_type,
        owner=query.get("owner") or None,
        freshness=freshness,
    )
    text = query.get("q", "")
    hits = catalog_search.search(registry, text, filters, limit=100_000)
    scored = bool(catalog_search.parse_query(text).terms)
    page = [summary_json(h.product, h.freshness.value, h.score if scored else None) for h in hits]
    return {"products": page[offset : offset + limit], "total": len(hits), "limit": limit, "offset": offset}


OPERATOR = "operator"


def may_register(principal: str, product_id: str) -> None:
    """Registering a product or a version is for the platform's operators and for the product
    itself (its functions' principal ``product:<domain>/<name>``); :class:`ApiError` 403 otherwise."""
    if principal not in (OPERATOR, f"product:{product_id}"):
        raise ApiError(
            403,
            "access_denied",
            f"principal {principal!r} may not register {product_id}: only {OPERATOR!r} and 'product:{product_id}' may",
        )


def register_product(registry: Registry, text: str, principal: str) -> tuple[int, dict[str, Any]]:
    candidate = build_product(text, "request body", datetime.now(UTC).isoformat())
    may_register(principal, candidate.id)
    existed = candidate.id in {p.id for p in registry.products()}
    record = registry.register_product(text, source="request body")
    return (200 if existed else 201), product_json(registry, record)


def register_version(
    registry: Registry, product_id: str, port: str, body: Any, principal: str
) -> tuple[int, dict[str, Any]]:
    may_register(principal, product_id)
    errors = sorted(_validator("VersionRegistration").iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "<body>"
        raise ApiError(400, "invalid_version", f"{where}: {errors[0].message[:300]}")
    raw = body["manifest"]
    if (raw["dataproduct"], raw["outputport"]) != (product_id, port):
        raise ApiError(
            400,
            "invalid_version",
            f"manifest names {raw['dataproduct']!r} port {raw['outputport']!r}, but the URL names "
            f"{product_id!r} port {port!r}",
        )
    lineage = raw["lineage"]
    manifest = Manifest(
        **{key: raw[key] for key in ("dataproduct", "outputport", "version", "format", "created", "rows", "bytes")},
        files=tuple(raw["files"]),
        schema=tuple(raw["schema"]),
        lineage=Lineage(tuple(lineage["inputs"]), lineage["function"], lineage["function_version"]),
        extra=raw.get("extra", {}),
    )
    registry.product(product_id).port(port)  # 404 before anything is written
    existed = any(v.version == manifest.version for v in registry.versions(product_id, port))
    record = registry.register_version(manifest, body["manifestUri"])
    return (200 if existed else 201), version_json(record)


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_query", f"{name} {raw[:50]!r}: expected a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_query", f"{name} {value}: expected {low} to {high}")
    return value


# --- HTTP ---------------------------------------------------------------------------------------


def error_response(exc: Exception) -> web.Response:
    if isinstance(exc, ApiError):
        return _error(exc.status, exc.code, exc.detail, exc.headers)
    if isinstance(exc, AccessDenied):
        return _error(403, "access_denied", str(exc))
    if isinstance(exc, InvalidDescriptor):
        issues = [{"path": i.path or "<root>", "message": i.message, "line": i.line} for i in exc.issues]
        return _error(400, "invalid_descriptor", str(exc), issues=issues)
    if isinstance(exc, InvalidQuery):
        return _error(400, "invalid_query", str(exc))
    if isinstance(exc, RegistryError):
        code = {400: "invalid_request", 404: "not_found", 409: "conflict", 503: "unavailable"}.get(exc.status, "error")
        return _error(exc.status, code, str(exc))
    raise exc


def _error(status: int, code: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "detail": detail, **extra}, status=status, headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    """Every refusal as a JSON error, aiohttp's own (404, 405, 413) included."""
    try:
        return await handler(request)
    except (ApiError, AccessDenied, RegistryError) as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate")}
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason, headers)


async def blocking(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


async def read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "body_too_large", f"{request.content_length} bytes; at most {MAX_BODY}")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "body_too_large", f"more than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not JSON: {str(exc)[:200]}") from None


def media_type(request: web.Request, accepted: tuple[str, ...]) -> str:
    kind = request.content_type.lower()
    if kind not in accepted:
        raise ApiError(415, "unsupported_media_type", f"content type {kind[:100]!r}; expected {', '.join(accepted)}")
    return kind


def _product_id(request: web.Request) -> str:
    return f"{request.match_info['domain']}/{request.match_info['name']}"


def _catalog(request: web.Request) -> Catalog:
    return request.app[CATALOG]


async def _list(request: web.Request) -> web.Response:
    catalog = _catalog(request)
    return web.json_response(await blocking(lambda: list_products(catalog.registry, request.query)))


async def _register(request: web.Request) -> web.Response:
    catalog = _catalog(request)
    principal = catalog.principal(request.headers.get("Authorization"))
    if principal == ANONYMOUS:
        raise ApiError(401, "token_required", "registering needs a bearer token", {"WWW-Authenticate": "Bearer"})
    kind = media_type(request, ("application/json", *_YAML_TYPES))
    body = await read_body(request)
    if kind == "application/json":
        if not isinstance(parse_json(body), dict):
            raise ApiError(400, "invalid_descriptor", "expected the descriptor as a JSON object")
        text = body.decode("utf-8")
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_descriptor", "the descriptor is not UTF-8 text") from None
    status, product = await blocking(register_product, catalog.registry, text, principal)
    return web.json_response(product, status=status)


async def _product(request: web.Request) -> web.Response:
    registry, product_id = _catalog(request).registry, _product_id(request)
    return web.json_response(await blocking(lambda: product_json(registry, registry.product(product_id))))


async def _ports(request: web.Request) -> web.Response:
    registry, product_id = _catalog(request).registry, _product_id(request)
    product = await blocking(product_json, registry, await blocking(registry.product, product_id))
    return web.json_response({"product": product_id, "ports": product["ports"]})


async def _port(request: web.Request) -> web.Response:
    registry, product_id, port = _catalog(request).registry, _product_id(request), request.match_info["port"]
    _, record, found = await blocking(port_of, registry, product_id, port)
    return web.json_response(port_json(record, found))


async def _versions(request: web.Request) -> web.Response:
    registry, product_id, port = _catalog(request).registry, _product_id(request), request.match_info["port"]
    await blocking(port_of, registry, product_id, port)
    records = await blocking(registry.versions, product_id, port)
    return web.json_response({"product": product_id, "port": port, "versions": [version_json(r) for r in records]})


async def _add_version(request: web.Request) -> web.Response:
    catalog = _catalog(request)
    principal = catalog.principal(request.headers.get("Authorization"))
    if principal == ANONYMOUS:
        raise ApiError(401, "token_required", "registering needs a bearer token", {"WWW-Authenticate": "Bearer"})
    media_type(request, ("application/json",))
    body = parse_json(await read_body(request))
    product_id, port = _product_id(request), request.match_info["port"]
    status, version = await blocking(register_version, catalog.registry, product_id, port, body, principal)
    return web.json_response(version, status=status)


async def _version(request: web.Request) -> web.Response:
    registry, info = _catalog(request).registry, request.match_info
    record = await blocking(registry.version, _product_id(request), info["port"], info["version"])
    return web.json_response(version_json(record))


async def _sample(request: web.Request) -> web.Response:
    catalog = _catalog(request)
    principal = catalog.principal(request.headers.get("Authorization"))
    limit = _int(request.query, "limit", 10, 1, MAX_SAMPLE)
    sample = await blocking(read_sample, catalog, _product_id(request), request.match_info["port"], principal, limit)
    return web.json_response(sample, headers={"Cache-Control": "private, no-store"})


async def _lineage(request: web.Request) -> web.Response:
    registry, product_id = _catalog(request).registry, _product_id(request)
    await blocking(registry.product, product_id)
    found = await blocking(registry.lineage, product_id)
    return web.json_response(
        {
            "product": product_id,
            "upstream": [edge_json(e) for e in found.upstream],
            "downstream": [edge_json(e) for e in found.downstream],
        }
    )


async def _subscriptions(request: web.Request) -> web.Response:
    registry, product_id = _catalog(request).registry, _product_id(request)
    await blocking(registry.product, product_id)
    records = await blocking(registry.subscriptions, product_id)
    return web.json_response({"product": product_id, "subscriptions": [subscription_json(r) for r in records]})


async def _openapi(request: web.Request) -> web.Response:
    return web.Response(text=openapi_text(), content_type="application/yaml")


async def _not_found(request: web.Request) -> web.Response:
    raise ApiError(404, "not_found", f"no API resource at {request.path[:200]!r}; see /api/openapi.yaml")


def api_app(catalog: Catalog) -> web.Application:
    """The ``/api/`` sub-application (mount with ``app.add_subapp("/api", api_app(...))``)."""
    app = web.Application(middlewares=[json_errors])
    app[CATALOG] = catalog
    product = "/products/{domain}/{name}"
    port = product + "/ports/{port}"
    app.add_routes(
        [
            web.get("/openapi.yaml", _openapi),
            web.get("/products", _list),
            web.post("/products", _register),
            web.get(product, _product),
            web.get(product + "/ports", _ports),
            web.get(port, _port),
            web.get(port + "/versions", _versions),
            web.post(port + "/versions", _add_version),
            web.get(port + "/versions/{version}", _version),
            web.get(port + "/sample", _sample),
            web.get(product + "/lineage", _lineage),
            web.get(product + "/subscriptions", _subscriptions),
            web.get("/{tail:.*}", _not_found),
        ]
    )
    return app


def mount(app: web.Application, settings: Settings) -> Catalog:
    """Serve the JSON API at ``/api/`` and the web catalog at ``/catalog/`` on the mesh's app."""
    from culturemesh.catalog import web as catalog_web

    catalog = Catalog(settings)
    app.add_subapp("/api", api_app(catalog))
    app.add_subapp("/catalog", catalog_web.web_app(catalog))

    async def to_catalog(_: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect("/catalog/")

    app.router.add_get("/catalog", to_catalog)

    async def close(_: web.Application) -> None:
        catalog.close()

    app.on_cleanup.append(close)
    return catalog

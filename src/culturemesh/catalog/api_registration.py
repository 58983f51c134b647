"""The catalog API's write endpoints: registering a product (its descriptor as YAML or JSON) and a
version of one of its output ports (a manifest). Writes need the bearer token of an ``operator``
or of the product itself (``product:<domain>/<name>``), and change nothing when refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from culturemesh.auth import ANONYMOUS
from culturemesh.catalog.api_catalog import blocking, catalog_of, product_id_of
from culturemesh.catalog.api_requests import ApiError, body_validator, media_type, parse_json, read_body
from culturemesh.catalog.jsonviews import product_json, version_json
from culturemesh.catalog.registry import Registry, build_product
from culturemesh.versions import Lineage, Manifest

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")

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
    errors = sorted(body_validator("VersionRegistration").iter_errors(body), key=lambda e: list(e.absolute_path))
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


async def post_product(request: web.Request) -> web.Response:
    catalog = catalog_of(request)
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


async def post_version(request: web.Request) -> web.Response:
    catalog = catalog_of(request)
    principal = catalog.principal(request.headers.get("Authorization"))
    if principal == ANONYMOUS:
        raise ApiError(401, "token_required", "registering needs a bearer token", {"WWW-Authenticate": "Bearer"})
    media_type(request, ("application/json",))
    body = parse_json(await read_body(request))
    product_id, port = product_id_of(request), request.match_info["port"]
    status, version = await blocking(register_version, catalog.registry, product_id, port, body, principal)
    return web.json_response(version, status=status)

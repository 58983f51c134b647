"""The catalog API's read endpoints: the product list (search, filters, paging), a product, its
ports, a port with its freshness, versions, lineage and subscriptions. Reads are open."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from culturemesh.catalog import search as catalog_search
from culturemesh.catalog.api_catalog import blocking, catalog_of, port_of, product_id_of
from culturemesh.catalog.api_requests import ApiError, query_int
from culturemesh.catalog.freshness import State
from culturemesh.catalog.jsonviews import (
    edge_json,
    port_json,
    product_json,
    subscription_json,
    summary_json,
    version_json,
)
from culturemesh.catalog.registry import Registry
from culturemesh.descriptor import PortType

MAX_LIMIT = 200


def list_products(registry: Registry, query: Mapping[str, str]) -> dict[str, Any]:
    limit = query_int(query, "limit", 50, 1, MAX_LIMIT)
    offset = query_int(query, "offset", 0, 0, 100_000)
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


async def get_products(request: web.Request) -> web.Response:
    catalog = catalog_of(request)
    return web.json_response(await blocking(lambda: list_products(catalog.registry, request.query)))


async def get_product(request: web.Request) -> web.Response:
    registry, product_id = catalog_of(request).registry, product_id_of(request)
    return web.json_response(await blocking(lambda: product_json(registry, registry.product(product_id))))


async def get_ports(request: web.Request) -> web.Response:
    registry, product_id = catalog_of(request).registry, product_id_of(request)
    product = await blocking(product_json, registry, await blocking(registry.product, product_id))
    return web.json_response({"product": product_id, "ports": product["ports"]})


async def get_port(request: web.Request) -> web.Response:
    registry, product_id, port = catalog_of(request).registry, product_id_of(request), request.match_info["port"]
    _, record, found = await blocking(port_of, registry, product_id, port)
    return web.json_response(port_json(record, found))


async def get_versions(request: web.Request) -> web.Response:
    registry, product_id, port = catalog_of(request).registry, product_id_of(request), request.match_info["port"]
    await blocking(port_of, registry, product_id, port)
    records = await blocking(registry.versions, product_id, port)
    return web.json_response({"product": product_id, "port": port, "versions": [version_json(r) for r in records]})


async def get_version(request: web.Request) -> web.Response:
    registry, info = catalog_of(request).registry, request.match_info
    record = await blocking(registry.version, product_id_of(request), info["port"], info["version"])
    return web.json_response(version_json(record))


async def get_lineage(request: web.Request) -> web.Response:
    registry, product_id = catalog_of(request).registry, product_id_of(request)
    await blocking(registry.product, product_id)
    found = await blocking(registry.lineage, product_id)
    return web.json_response(
        {
            "product": product_id,
            "upstream": [edge_json(e) for e in found.upstream],
            "downstream": [edge_json(e) for e in found.downstream],
        }
    )


async def get_subscriptions(request: web.Request) -> web.Response:
    registry, product_id = catalog_of(request).registry, product_id_of(request)
    await blocking(registry.product, product_id)
    records = await blocking(registry.subscriptions, product_id)
    return web.json_response({"product": product_id, "subscriptions": [subscription_json(r) for r in records]})

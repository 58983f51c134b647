"""The catalog API's sample rows: the first rows of a port's latest version, read as the caller's
principal (a bearer token, else ``anonymous``) and only the columns within the port's grant."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from culturemesh.access import grant
from culturemesh.catalog.api_catalog import Catalog, blocking, catalog_of, port_of, product_id_of
from culturemesh.catalog.api_requests import ApiError, query_int
from culturemesh.catalog.jsonviews import json_value

MAX_SAMPLE = 100


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


async def get_sample(request: web.Request) -> web.Response:
    catalog = catalog_of(request)
    principal = catalog.principal(request.headers.get("Authorization"))
    limit = query_int(request.query, "limit", 10, 1, MAX_SAMPLE)
    sample = await blocking(read_sample, catalog, product_id_of(request), request.match_info["port"], principal, limit)
    return web.json_response(sample, headers={"Cache-Control": "private, no-store"})

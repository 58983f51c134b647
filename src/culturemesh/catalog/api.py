"""The catalog's JSON HTTP API, served by the embedded mesh under ``/api/`` (documented in
``openapi.yaml``, which is served at ``/api/openapi.yaml``).

Reads are open; sample rows are read as the caller's principal (a bearer token, else
``anonymous``) and only within the port's grant. Writes need the token of an ``operator`` or of
the product itself (``product:<domain>/<name>``). Every error is
``{"error": CODE, "detail": MESSAGE}`` with a 4xx status and changes nothing. The registry's
blocking calls run in a worker thread, so the broker on the same event loop never waits on them.

This module routes and mounts; the endpoints live in ``api_reads``, ``api_registration`` and
``api_sample``, the catalog a request talks to in ``api_catalog``, and request parsing and JSON
errors in ``api_requests``.
"""

from __future__ import annotations

from aiohttp import web

from culturemesh.catalog.api_catalog import CATALOG, Catalog
from culturemesh.catalog.api_reads import (
    get_lineage,
    get_port,
    get_ports,
    get_product,
    get_products,
    get_subscriptions,
    get_version,
    get_versions,
)
from culturemesh.catalog.api_registration import post_product, post_version
from culturemesh.catalog.api_requests import ApiError, json_errors, openapi_text
from culturemesh.catalog.api_sample import get_sample, read_sample
from culturemesh.settings import Settings

__all__ = ["CATALOG", "ApiError", "Catalog", "api_app", "mount", "openapi_text", "read_sample"]


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
            web.get("/products", get_products),
            web.post("/products", post_product),
            web.get(product, get_product),
            web.get(product + "/ports", get_ports),
            web.get(port, get_port),
            web.get(port + "/versions", get_versions),
            web.post(port + "/versions", post_version),
            web.get(port + "/versions/{version}", get_version),
            web.get(port + "/sample", get_sample),
            web.get(product + "/lineage", get_lineage),
            web.get(product + "/subscriptions", get_subscriptions),
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

"""The freshness check as a Service: ``culturemesh catalog serve-check`` (a cluster's
``culturemesh-catalog``, driven by the PingSource in ``knative/cluster/catalog-check.yaml``).

Each CloudEvent POSTed to ``/`` (a PingSource tick) runs :func:`culturemesh.catalog.freshness.check`
once over the registry; the stale events go to ``K_SINK`` (the Broker, bound by a SinkBinding), one
POST each, claimed in the registry first. The answer carries no body, so the Broker takes it as
plain success and never as a reply:

- ``204``: the check ran (whether or not anything was late);
- ``400``: the request is not a CloudEvent (not retried);
- ``503``: the registry or the sink failed; the claims of unsent events were released, and the
  Trigger retries the tick (and the next tick checks again anyway).

Checks run one at a time per process; several processes are safe too, as claims are conditional.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from culturemesh.catalog import freshness
from culturemesh.catalog.registry import Registry
from culturemesh.envelope import Envelope
from culturemesh.errors import CultureMeshError
from culturemesh.logs import get_logger

if TYPE_CHECKING:
    from aiohttp import web

log = get_logger("culturemesh.catalog.checker")

Publish = Callable[[Sequence[Envelope]], object]


def serve(port: int, registry: Registry, publish: Publish) -> None:
    """Answer ticks on ``port`` until stopped (one small aiohttp server)."""
    from aiohttp import web

    web.run_app(application(registry, publish), host="0.0.0.0", port=port, print=None, access_log=None)  # noqa: S104 - a container's port


def application(registry: Registry, publish: Publish) -> web.Application:
    """The aiohttp application: ``POST /`` runs one check."""
    from aiohttp import web

    from culturemesh.envelope import from_http
    from culturemesh.errors import EventError

    one_at_a_time = asyncio.Lock()

    async def tick(request: web.Request) -> web.Response:
        try:
            event = from_http(dict(request.headers), await request.read())
        except EventError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        async with one_at_a_time:
            try:
                emitted = await asyncio.to_thread(freshness.check, registry, publish)
            except (CultureMeshError, OSError) as exc:
                log.warning("freshness check failed", ce_id=event.id, error=str(exc), error_type=type(exc).__name__)
                return web.Response(status=503)
        log.info("freshness checked", ce_id=event.id, ce_type=event.type, stale_events=len(emitted))
        return web.Response(status=204)

    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes([web.post("/", tick)])
    return app

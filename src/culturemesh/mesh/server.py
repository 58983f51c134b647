"""The embedded mesh as one asyncio process: the broker's HTTP ingress, its admin API and its
dispatcher, with the function host beside them.

Routes::

    POST   /<namespace>/<broker>                 broker ingress (CloudEvents, binary or structured)
    GET    /-/health                             200 once the mesh is ready
    GET    /-/status                             brokers, triggers with filters, queues, dead letters, functions
    POST   /-/apply                              Knative objects (a JSON list, or YAML documents)
    DELETE /-/objects/<kind>/<namespace>/<name>  remove a Trigger, Broker, Service or PingSource
    POST   /-/pingsources/<namespace>/<name>     send a PingSource's event now (``mesh ping``)
    GET|POST /sparql/<domain>/<name>/<port>      SPARQL 1.1 query endpoint of a linked-data port
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from aiohttp import web

from culturemesh.envelope import from_http
from culturemesh.errors import CultureMeshError, EventError, MeshError
from culturemesh.logs import bind_event, clear_event, get_logger
from culturemesh.mesh.broker import Broker
from culturemesh.mesh.host import FunctionHost
from culturemesh.mesh.ping import PingScheduler, broker_publisher, is_ping_source
from culturemesh.mesh.queue import Queue
from culturemesh.settings import Settings

log = get_logger("culturemesh.mesh")


def parse_manifests(text: str) -> list[dict[str, Any]]:
    """Knative objects from YAML (one or more documents, or ``kind: List``) or a JSON list."""
    documents: list[Any] = []
    for document in yaml.safe_load_all(text):
        if isinstance(document, list):
            documents.extend(document)
        elif isinstance(document, dict) and document.get("kind") == "List":
            documents.extend(document.get("items") or [])
        elif document is not None:
            documents.append(document)
    bad = [i for i, doc in enumerate(documents) if not isinstance(doc, dict)]
    if bad:
        raise MeshError(f"document(s) {bad}: expected Kubernetes objects (maps with apiVersion and kind)")
    return documents


class MeshApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        env = {
            "CULTUREMESH_HOME": str(settings.home),
            "CULTUREMESH_PROJECT": str(settings.project),
            "CULTUREMESH_LOG_FORMAT": "json",
        }
        self.queue = Queue(settings.mesh_dir / "broker.db")
        self.host = FunctionHost(
            settings.project, settings.mesh_dir / "logs", settings.idle_seconds, {**os.environ, **env}
        )
        self.broker = Broker(self.queue, self.host, settings.mesh_url)
        self.pings = PingScheduler(settings.mesh_dir / "ping-sources.json", broker_publisher(self.broker))

    def apply_all(self, objects: Iterable[Mapping[str, Any]]) -> list[str]:
        return [self.pings.apply(obj) if is_ping_source(obj) else self.broker.apply(obj) for obj in objects]

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        from culturemesh.catalog.api import mount as mount_catalog

        mount_catalog(app, self.settings)  # the catalog: JSON API at /api/, web pages at /catalog/
        from culturemesh.linkeddata.sparql import mount as mount_sparql

        mount_sparql(app, self.settings)  # SPARQL query endpoints of linked-data ports at /sparql/
        app.add_routes(
            [
                web.get("/-/health", self._health),
                web.get("/-/status", self._status),
                web.post("/-/apply", self._apply),
                web.delete("/-/objects/{kind}/{namespace}/{name}", self._delete),
                *self.pings.routes(),
                web.post("/{namespace}/{broker}", self._ingress),
            ]
        )
        return app

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({**self.broker.status(), "ping_sources": self.pings.status()})

    async def _apply(self, request: web.Request) -> web.Response:
        try:
            applied = self.apply_all(parse_manifests(await request.text()))
        except (CultureMeshError, yaml.YAMLError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"applied": applied})

    async def _delete(self, request: web.Request) -> web.Response:
        info = request.match_info
        if info["kind"] == "PingSource":
            found = self.pings.delete(info["namespace"], info["name"])
        else:
            found = self.broker.delete(info["kind"], info["namespace"], info["name"])
        return web.json_response({"deleted": found}, status=200 if found else 404)

    async def _ingress(self, request: web.Request) -> web.Response:
        namespace, broker = request.match_info["namespace"], request.match_info["broker"]
        try:
            event = from_http(dict(request.headers), await request.read())
        except EventError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        bind_event(event.id, event.type, event.get("dataproduct") or "")
        try:
            matched = await self.broker.accept(namespace, broker, event)
        except EventError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except MeshError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        finally:
            clear_event()
        log.debug("event stored", ce_id=event.id, ce_type=event.type, triggers=matched)
        return web.Response(status=202)


async def serve(settings: Settings, objects: Iterable[Mapping[str, Any]], ready_file: bool = True) -> None:
    """Run the mesh until SIGINT/SIGTERM; applies ``objects`` first (idempotently)."""
    mesh = MeshApp(settings)
    applied = mesh.apply_all(objects)
    # Request lines up to 64 KB (aiohttp's default is 8 KB), so an overlong catalog query reaches the
    # API and gets its JSON 400 naming the limit, not the HTTP parser's bare refusal.
    runner = web.AppRunner(mesh.web_app(), access_log=None, max_line_size=65536)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    state = settings.mesh_dir / "mesh.json"
    if ready_file:
        state.write_text(json.dumps({"url": settings.mesh_url, "ingress": settings.ingress_url, "pid": os.getpid()}))
    log.info("mesh ready", url=settings.mesh_url, ingress=settings.ingress_url, objects=len(applied))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    dispatcher = asyncio.create_task(mesh.broker.run())
    pings = asyncio.create_task(mesh.pings.run())
    from culturemesh.catalog.sync import watch_mesh

    catalog = asyncio.create_task(watch_mesh(settings, mesh.broker.triggers))  # freshness, subscriptions
    try:
        await stop.wait()
    finally:
        pings.cancel()
        catalog.cancel()
        dispatcher.cancel()
        await asyncio.wait([dispatcher, pings, catalog], timeout=10)
        await mesh.host.stop_all()
        await runner.cleanup()
        mesh.queue.close()
        state.unlink(missing_ok=True)
        log.info("mesh stopped")

"""The consumer side's local sink: a small HTTP server that a consumer (``culturemesh tail``, the
demo) runs to receive events, answering 200 to each. Subscriptions themselves are in
:mod:`culturemesh.subscriptions`."""

from __future__ import annotations

import asyncio

from aiohttp import web

from culturemesh.envelope import Envelope, from_http
from culturemesh.errors import EventError


class LocalSink:
    """An HTTP sink on 127.0.0.1 that queues every CloudEvent it receives."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.received: asyncio.Queue[Envelope] = asyncio.Queue()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def __aenter__(self) -> LocalSink:
        app = web.Application()
        app.add_routes([web.post("/", self._receive)])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        try:
            event = from_http(dict(request.headers), await request.read())
        except EventError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        await self.received.put(event)
        return web.Response(status=200)

    async def next(self, timeout: float | None = None) -> Envelope:
        async with asyncio.timeout(timeout):
            return await self.received.get()

"""The consumer side: subscriptions (Triggers to a sink URL) and a local sink that receives events.

A subscription is a Knative Trigger on the platform broker whose subscriber is the consumer's
URL; :class:`LocalSink` is a small HTTP server that a consumer (``culturemesh tail``, the demo)
runs to receive events, answering 200 to each.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from culturemesh.envelope import Envelope, from_http
from culturemesh.errors import ConfigError, EventError
from culturemesh.settings import DEFAULT_BROKER, DEFAULT_NAMESPACE


def parse_pairs(pairs: Sequence[str], flag: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(
                f"{flag} {pair!r}: expected ATTRIBUTE=VALUE, for example type=be.culturemesh.dataproduct.published"
            )
        result[name.strip()] = value.strip()
    return result


def subscription(
    name: str,
    sink: str,
    exact: dict[str, str],
    prefix: dict[str, str] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> dict[str, Any]:
    """The Trigger for a consumer subscription: one ``exact``/``prefix`` filter per attribute (Knative
    allows one attribute per filter), ANDed."""
    filters: list[dict[str, Any]] = [{"exact": {name: value}} for name, value in sorted(exact.items())]
    filters += [{"prefix": {name: value}} for name, value in sorted((prefix or {}).items())]
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": namespace, "labels": {"culturemesh.be/subscription": "true"}},
        "spec": {"broker": DEFAULT_BROKER, "filters": filters, "subscriber": {"uri": sink}},
    }


def subscription_name(sink: str, exact: dict[str, str], prefix: dict[str, str] | None) -> str:
    digest = hashlib.sha256(repr((sink, sorted(exact.items()), sorted((prefix or {}).items()))).encode())
    return f"sub-{digest.hexdigest()[:10]}"


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

"""Shared pieces of the mesh benchmarks: a mesh process, a sink, and a load generator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MeshProcess:
    def __init__(self, **settings: str) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="culturemesh-bench-"))
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CULTUREMESH_", "K_"))}
        env.update(
            CULTUREMESH_HOME=str(self.home),
            CULTUREMESH_PROJECT=str(REPO),
            CULTUREMESH_PORT=str(self.port),
            CULTUREMESH_LOG_FORMAT="json",
            CULTUREMESH_LOG_LEVEL="warning",
        )
        env.update({f"CULTUREMESH_{k.upper()}": v for k, v in settings.items()})
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "culturemesh", "up"],
            env=env,
            cwd=REPO,
            stdout=(self.home / "mesh.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mesh did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def apply(self, session: aiohttp.ClientSession, *objects: dict[str, Any]) -> None:
        async with session.post(f"{self.url}/-/apply", data=json.dumps(list(objects))) as response:
            assert response.status == 200, await response.text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise RuntimeError(f"the mesh did not stop on SIGTERM; log: {self.home / 'mesh.log'}") from None


def uri_trigger(name: str, uri: str) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": "culturemesh"},
        "spec": {"broker": "default", "filter": {"attributes": {"type": "be.bench.ping"}}, "subscriber": {"uri": uri}},
    }


class Sink:
    """Counts events and remembers when each id arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.changed = asyncio.Event()
        self.port = free_port()

    async def start(self) -> web.AppRunner:
        async def receive(request: web.Request) -> web.Response:
            await request.read()
            self.arrived.setdefault(request.headers["ce-id"], time.perf_counter())
            self.changed.set()
            return web.Response(status=200)

        app = web.Application()
        app.add_routes([web.post("/", receive)])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def wait_for(self, count: int, timeout: float = 120.0) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.arrived) < count:
            self.changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{len(self.arrived)} of {count} events arrived")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)


def headers_for(event_id: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/bench",
        "ce-type": "be.bench.ping",
        "content-type": "application/json",
    }


async def blast(session: aiohttp.ClientSession, url: str, ids: list[str], concurrency: int, expect: int) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for event_id in ids:
        queue.put_nowait(event_id)

    async def worker() -> None:
        while not queue.empty():
            event_id = queue.get_nowait()
            async with session.post(url, data=b'{"n":1}', headers=headers_for(event_id)) as response:
                await response.read()
                assert response.status == expect, response.status

    await asyncio.gather(*(worker() for _ in range(concurrency)))

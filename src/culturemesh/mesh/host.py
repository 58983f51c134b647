"""The function host: runs each Knative Service as a real process, started on its first event and
stopped after an idle window, as Knative Serving scales a Service from and to zero.

The process is what the Service's container would run (its command and args, usually
``functions-framework --target … --source … --signature-type http``), in the project folder, with
the container's env, ``PORT`` set to a free local port, and ``K_SERVICE`` naming the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from culturemesh.errors import MeshError
from culturemesh.logs import get_logger
from culturemesh.mesh.objects import Service

log = get_logger("culturemesh.host")
READY_TIMEOUT = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    service: Service
    process: asyncio.subprocess.Process
    url: str
    started: float
    ready_after: float = 0.0
    inflight: int = 0
    last_used: float = field(default_factory=time.monotonic)


class FunctionHost:
    def __init__(self, project: Path, log_dir: Path, idle_seconds: float, base_env: dict[str, str]) -> None:
        self.project = project
        self.log_dir = log_dir
        self.idle_seconds = idle_seconds
        self.base_env = base_env
        self.services: dict[str, Service] = {}
        self.bound_env: dict[str, dict[str, str]] = {}  # from SinkBindings: service -> {"K_SINK": url}
        self.instances: dict[str, Instance] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.cold_starts: list[float] = []

    def register(self, service: Service) -> None:
        self.services[service.name] = service

    def unregister(self, name: str) -> None:
        self.services.pop(name, None)

    async def acquire(self, name: str) -> Instance:
        """A running, ready instance of the service (started if needed), counted as in use."""
        if name not in self.services:
            raise MeshError(f"no Service {name!r} is applied to the mesh; apply its Knative Service first")
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            instance = self.instances.get(name)
            if instance is None or instance.process.returncode is not None:
                instance = await self._start(self.services[name])
                self.instances[name] = instance
            instance.inflight += 1
            return instance

    def release(self, instance: Instance) -> None:
        instance.inflight -= 1
        instance.last_used = time.monotonic()

    async def _start(self, service: Service) -> Instance:
        port = free_port()
        bound = self.bound_env.get(service.name, {})
        env = {**self.base_env, **service.env, **bound, "PORT": str(port), "K_SERVICE": service.name}
        args = list(service.args)
        if args[0] == "functions-framework":  # the venv's entry point, not whatever is first on PATH
            args[0] = str(Path(sys.executable).with_name("functions-framework"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = (self.log_dir / f"{service.name}.log").open("ab")
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *args, cwd=self.project, env=env, stdout=log_file, stderr=asyncio.subprocess.STDOUT
        )
        log_file.close()
        instance = Instance(service, process, f"http://127.0.0.1:{port}/", started)
        await self._wait_ready(instance, port)
        instance.ready_after = time.monotonic() - started
        self.cold_starts.append(instance.ready_after)
        log.info(
            "function started",
            service=service.name,
            pid=process.pid,
            cold_start_s=round(instance.ready_after, 3),
        )
        return instance

    async def _wait_ready(self, instance: Instance, port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if instance.process.returncode is not None:
                raise MeshError(
                    f"function {instance.service.name!r} exited with code {instance.process.returncode} "
                    f"before it was ready; see {self.log_dir / (instance.service.name + '.log')}"
                )
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            await asyncio.sleep(0.02)
        await self._stop(instance)
        raise MeshError(f"function {instance.service.name!r} did not listen on port {port} within {READY_TIMEOUT}s")

    async def reap_idle(self) -> None:
        now = time.monotonic()
        for name, instance in list(self.instances.items()):
            exited = instance.process.returncode is not None
            if exited or (instance.inflight == 0 and now - instance.last_used >= self.idle_seconds):
                del self.instances[name]
                await self._stop(instance)
                log.info("function stopped", service=name, reason="exited" if exited else "idle")

    async def _stop(self, instance: Instance) -> None:
        if instance.process.returncode is None:
            instance.process.terminate()
            try:
                await asyncio.wait_for(instance.process.wait(), 5)
            except TimeoutError:
                instance.process.kill()
                await instance.process.wait()

    async def stop_all(self) -> None:
        for name in list(self.instances):
            await self._stop(self.instances.pop(name))

    def status(self) -> list[dict[str, object]]:
        return [
            {
                "service": name,
                "pid": instance.process.pid,
                "url": instance.url,
                "inflight": instance.inflight,
                "idle_s": round(time.monotonic() - instance.last_used, 1),
                "cold_start_s": round(instance.ready_after, 3),
            }
            for name, instance in self.instances.items()
        ]

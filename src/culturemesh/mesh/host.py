"""The function host: runs each Knative Service as real processes, scaled as Knative Serving
scales a Service from and to zero.

- A Service's first event starts a process (the event waits until it listens); when every
  process has ``containerConcurrency`` requests in flight, another starts, up to
  ``autoscaling.knative.dev/max-scale``; beyond that, events wait for a free slot.
- ``min-scale`` processes start when the Service is applied and are never stopped for idleness;
  the others stop after the idle window (``scale-to-zero-pod-retention-period`` or ``window``,
  else the host's default).
- A process that died is replaced on the next event; the event it was serving fails and is
  retried by the broker.

The process is what the Service's container would run (its command and args, usually
``functions-framework --target … --source … --signature-type http``), in the project folder, with
the container's env, ``PORT`` set to a free local port, and ``K_SERVICE`` naming the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
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


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM this function if the mesh dies (even by SIGKILL),
    so no function outlives its host."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


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
        self.instances: dict[str, list[Instance]] = {}
        self._starting: dict[str, int] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._changed: dict[str, asyncio.Condition] = {}
        self.cold_starts: list[float] = []

    def register(self, service: Service) -> None:
        self.services[service.name] = service

    def unregister(self, name: str) -> None:
        self.services.pop(name, None)

    def _condition(self, name: str) -> asyncio.Condition:
        return self._changed.setdefault(name, asyncio.Condition())

    def _free(self, service: Service) -> Instance | None:
        """The least busy live instance with room for one more request."""
        live = [i for i in self.instances.get(service.name, []) if i.process.returncode is None]
        limit = service.container_concurrency or None
        candidates = [i for i in live if limit is None or i.inflight < limit]
        return min(candidates, key=lambda i: i.inflight, default=None)

    def _may_start(self, service: Service) -> bool:
        count = len(self.instances.get(service.name, [])) + self._starting.get(service.name, 0)
        if count == 0:
            return True
        return service.container_concurrency > 0 and (
            service.scaling.max_scale == 0 or count < service.scaling.max_scale
        )

    async def acquire(self, name: str) -> Instance:
        """A running, ready instance with a free slot (started if needed), counted as in use."""
        service = self.services.get(name)
        if service is None:
            raise MeshError(f"no Service {name!r} is applied to the mesh; apply its Knative Service first")
        condition = self._condition(name)
        async with condition:
            while True:
                self._forget_dead(name)
                instance = self._free(service)
                if instance is not None:
                    instance.inflight += 1
                    return instance
                if self._may_start(service):
                    break
                await condition.wait()
            self._starting[name] = self._starting.get(name, 0) + 1
        try:
            instance = await self._start(service)
        finally:
            self._starting[name] -= 1
        async with condition:
            instance.inflight += 1
            self.instances.setdefault(name, []).append(instance)
            condition.notify_all()
        return instance

    def _forget_dead(self, name: str) -> None:
        instances = self.instances.get(name, [])
        for instance in [i for i in instances if i.process.returncode is not None]:
            instances.remove(instance)
            log.warning("function exited", service=name, pid=instance.process.pid, code=instance.process.returncode)

    async def release(self, instance: Instance) -> None:
        condition = self._condition(instance.service.name)
        async with condition:
            instance.inflight -= 1
            instance.last_used = time.monotonic()
            condition.notify_all()

    def below_minimum(self) -> bool:
        return any(
            len(self.instances.get(name, [])) + self._starting.get(name, 0) < service.scaling.min_scale
            for name, service in self.services.items()
        )

    async def ensure_minimum(self) -> None:
        """Start the processes each Service's ``min-scale`` asks for (after apply, and after a crash)."""
        for service in list(self.services.values()):
            name = service.name
            while len(self.instances.get(name, [])) + self._starting.get(name, 0) < service.scaling.min_scale:
                self._starting[name] = self._starting.get(name, 0) + 1
                try:
                    instance = await self._start(service)
                except MeshError as exc:
                    log.error("min-scale start failed", service=name, error=str(exc))
                    return
                finally:
                    self._starting[name] -= 1
                async with self._condition(name):
                    self.instances.setdefault(name, []).append(instance)
                    self._condition(name).notify_all()

    async def _start(self, service: Service) -> Instance:
        port = free_port()
        bound = self.bound_env.get(service.name, {})
        env = {**self.base_env, **service.env, **bound, "PORT": str(port), "K_SERVICE": service.name}
        args = list(service.args)
        beside = Path(sys.executable).with_name(args[0])
        if "/" not in args[0] and beside.exists():  # this venv's entry point, not whatever is first on PATH
            args[0] = str(beside)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{service.name}.log").open("ab") as log_file:
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *args,
                cwd=self.project,
                env=env,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        instance = Instance(service, process, f"http://127.0.0.1:{port}/", started)
        await self._wait_ready(instance, port)
        instance.ready_after = time.monotonic() - started
        self.cold_starts.append(instance.ready_after)
        log.info("function started", service=service.name, pid=process.pid, cold_start_s=round(instance.ready_after, 3))
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
        """Stop idle processes beyond each Service's ``min-scale``; forget dead ones."""
        now = time.monotonic()
        for name, instances in list(self.instances.items()):
            self._forget_dead(name)
            service = self.services.get(name)
            keep = service.scaling.min_scale if service else 0
            idle_after = (service.scaling.idle_seconds if service else None) or self.idle_seconds
            idle = [i for i in instances if i.inflight == 0 and now - i.last_used >= idle_after]
            for instance in idle[: max(0, len(instances) - keep)]:
                instances.remove(instance)
                # stopped in the background: a graceful exit takes a while and must not hold up delivery
                stopping = asyncio.create_task(self._stop(instance))
                self._stopping.add(stopping)
                stopping.add_done_callback(self._stopping.discard)
                log.info("function stopping", service=name, pid=instance.process.pid, reason="idle")

    async def _stop(self, instance: Instance) -> None:
        if instance.process.returncode is None:
            instance.process.terminate()
            try:
                async with asyncio.timeout(5):
                    await instance.process.wait()
            except TimeoutError:
                instance.process.kill()
                await instance.process.wait()

    async def stop_all(self) -> None:
        for name in list(self.instances):
            for instance in self.instances.pop(name):
                await self._stop(instance)
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)

    def status(self) -> list[dict[str, object]]:
        now = time.monotonic()
        return [
            {
                "service": name,
                "pid": instance.process.pid,
                "url": instance.url,
                "inflight": instance.inflight,
                "idle_s": round(now - instance.last_used, 1),
                "cold_start_s": round(instance.ready_after, 3),
            }
            for name, instances in self.instances.items()
            for instance in instances
        ]

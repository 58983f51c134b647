"""Cold start: the first event to a scaled-to-zero product function (ticket-sales, with the
platform's full imports), from ingress until its published event reaches a subscriber, against
the same kind of event when the function is warm, in one run.

Goal (issue 3): the cold first event answered in under 1 s on this machine.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import aiohttp

from culturemesh import events
from culturemesh.descriptor import load_descriptor
from culturemesh.envelope import to_binary
from culturemesh.keyring import LocalKms
from culturemesh.provider import put_sealed
from culturemesh.store import FilesystemStore

from _mesh import REPO, MeshProcess, Sink

ROUNDS = 3
GOAL = 1.0
DESCRIPTOR = load_descriptor(REPO / "functions" / "ticket-sales" / "data-product.yaml")
SAMPLE = (REPO / "functions" / "ticket-sales" / "samples" / "sales.csv").read_bytes()


def subscription(uri: str) -> dict[str, object]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "bench-published", "namespace": "culturemesh"},
        "spec": {"broker": "default", "filters": [{"exact": {"type": events.PUBLISHED}}], "subscriber": {"uri": uri}},
    }


async def one_upload(
    session: aiohttp.ClientSession, mesh: MeshProcess, store: FilesystemStore, kms: LocalKms, sink: Sink, n: int
) -> float:
    body = SAMPLE + f"T-9{n:05d},e-0001,STUK,2026-11-01 20:00:00,2026-12-01,12.50,1,online,3000\n".encode()
    source = Path(mesh.home) / f"upload-{n}.csv"
    source.write_bytes(body)
    info = put_sealed(
        store, kms, DESCRIPTOR, f"ticketing/ticket-sales/sales-upload/bench/{n}.csv", source, notify=False
    )
    headers, data = to_binary(events.object_created(info.as_stored()))
    seen = len(sink.arrived)
    start = time.perf_counter()
    async with session.post(f"{mesh.url}/culturemesh/default", data=data, headers=headers) as response:
        assert response.status == 202
    await sink.wait_for(seen + 1, timeout=60)
    return time.perf_counter() - start


async def running(session: aiohttp.ClientSession, mesh: MeshProcess) -> int:
    async with session.get(f"{mesh.url}/-/status") as response:
        return len((await response.json())["running"])


async def run() -> None:
    mesh = MeshProcess(idle_seconds="1")
    store = FilesystemStore(Path(mesh.home) / "store")
    kms = LocalKms(Path(mesh.home) / "keys" / "keyring.json")  # provisioned by the mesh at start
    sink = Sink()
    runner = await sink.start()
    cold, warm = [], []
    try:
        async with aiohttp.ClientSession() as session:
            await mesh.apply(session, subscription(sink.url))
            for n in range(ROUNDS):
                while await running(session, mesh):  # scaled to zero
                    await asyncio.sleep(0.2)
                cold.append(await one_upload(session, mesh, store, kms, sink, 2 * n))
                warm.append(await one_upload(session, mesh, store, kms, sink, 2 * n + 1))
    finally:
        await runner.cleanup()
        mesh.stop()
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"rounds {ROUNDS}: cold {[round(x, 3) for x in cold]} s, warm {[round(x, 3) for x in warm]} s")
    print(f"cold first event answered (median)  {c:.3f} s")
    print(f"warm event answered (median)        {w:.3f} s")
    print(f"start-up overhead (cold - warm)     {c - w:.3f} s, cold/warm {c / w:.1f}x")
    print(f"ratio cold_start_seconds = {c:.3f} (goal < {GOAL})")


if __name__ == "__main__":
    asyncio.run(run())

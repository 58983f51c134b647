"""Throughput ingress -> subscriber through the durable broker, against direct HTTP POSTs to the
same subscriber, in one run. Also latency p50/p99 from ingress to subscriber on a quiet mesh.

Goal (issue 3): mesh throughput / direct throughput >= 0.5.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

from _mesh import MeshProcess, Sink, blast, headers_for, uri_trigger

EVENTS = 3000
CONCURRENCY = 16
GOAL = 0.5


async def run() -> None:
    mesh = MeshProcess()
    sink = Sink()
    runner = await sink.start()
    try:
        async with aiohttp.ClientSession() as session:
            await mesh.apply(session, uri_trigger("bench", sink.url))
            ingress = f"{mesh.url}/culturemesh/default"

            start = time.perf_counter()
            await blast(session, sink.url, [f"d-{n}" for n in range(EVENTS)], CONCURRENCY, 200)
            direct = EVENTS / (time.perf_counter() - start)

            start = time.perf_counter()
            await blast(session, ingress, [f"m-{n}" for n in range(EVENTS)], CONCURRENCY, 202)
            await sink.wait_for(2 * EVENTS)
            through_mesh = EVENTS / (time.perf_counter() - start)

            latencies = []
            for n in range(200):
                sent = time.perf_counter()
                async with session.post(ingress, data=b"{}", headers=headers_for(f"l-{n}")) as response:
                    assert response.status == 202
                await sink.wait_for(2 * EVENTS + n + 1)
                latencies.append((sink.arrived[f"l-{n}"] - sent) * 1000)
    finally:
        await runner.cleanup()
        try:
            mesh.stop()
        except RuntimeError as exc:
            print(exc)
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"events {EVENTS}, concurrency {CONCURRENCY}")
    print(f"direct POST to subscriber   {direct:8.0f} events/s")
    print(f"through the durable broker  {through_mesh:8.0f} events/s (202 at ingress -> received)")
    print(f"latency ingress -> subscriber on a quiet mesh: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"ratio mesh_throughput = {through_mesh / direct:.2f} (goal >= {GOAL})")


if __name__ == "__main__":
    asyncio.run(run())

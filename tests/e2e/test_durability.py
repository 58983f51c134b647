"""An event answered 202 at ingress is never lost: thousands of events, the mesh killed with
SIGKILL at random moments and restarted, every accepted event delivered at least once."""

from __future__ import annotations

import http.client
import random
import signal
import threading
import time

import pytest

from tests.conftest import Mesh

pytestmark = pytest.mark.e2e
EVENTS = 2000
KILLS = 4


def post_event(port: int, event_id: str) -> int | None:
    """The ingress's answer, or None when the mesh is down."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        headers = {
            "ce-specversion": "1.0",
            "ce-id": event_id,
            "ce-source": "/chaos",
            "ce-type": "be.example.chaos",
            "content-type": "application/json",
        }
        connection.request("POST", "/culturemesh/default", body=b'{"chaos": true}', headers=headers)
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


def test_events_accepted_with_202_survive_sigkill_at_random_moments(start_mesh, make_sink) -> None:
    seed = random.randrange(1 << 30)
    chance = random.Random(seed)
    sink = make_sink()
    mesh: Mesh = start_mesh()
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "chaos", "namespace": "culturemesh"},
        "spec": {
            "broker": "default",
            "filter": {"attributes": {"type": "be.example.chaos"}},
            "subscriber": {"uri": sink.url},
            "delivery": {"retry": 100, "backoffPolicy": "linear", "backoffDelay": "PT0.05S"},
        },
    }
    mesh.apply(trigger)
    accepted: list[str] = []
    done = threading.Event()

    def sender() -> None:
        for n in range(EVENTS):
            event_id = f"chaos-{n:05d}"
            while post_event(mesh.port, event_id) != 202:  # not accepted: the sender must try again
                time.sleep(0.02)
            accepted.append(event_id)
        done.set()

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    kill_points = sorted(chance.sample(range(100, EVENTS - 100), KILLS))
    for point in kill_points:
        while len(accepted) < point:
            time.sleep(0.001)
        time.sleep(chance.random() * 0.01)  # land at a random moment of ingress or delivery
        mesh.stop(signal.SIGKILL)
        mesh.start()
    assert done.wait(120), f"sender stuck at {len(accepted)} (seed {seed})"

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        received = {raw["headers"]["ce-id"] for raw in list(sink.raw)}
        if received >= set(accepted):
            break
        time.sleep(0.2)
    missing = sorted(set(accepted) - {raw["headers"]["ce-id"] for raw in list(sink.raw)})
    assert missing == [], f"{len(missing)} accepted events never delivered (seed {seed}): {missing[:10]}"
    assert len(accepted) == EVENTS

"""The embedded mesh's PingSources: ticks on the cron schedule (with an injected clock, no
waiting), the event Knative's ping adapter sends, persistence, failures, and delivery into the
mesh's own broker. The path through real processes is tests/e2e/test_ping_source.py."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from culturemesh.envelope import Envelope
from culturemesh.errors import MeshError
from culturemesh.mesh.admission import AdmissionError
from culturemesh.mesh.broker import Broker
from culturemesh.mesh.host import FunctionHost
from culturemesh.mesh.ping import PingScheduler, PingSource, broker_publisher
from culturemesh.mesh.queue import Queue

NIGHTLY: dict[str, Any] = {
    "apiVersion": "sources.knative.dev/v1",
    "kind": "PingSource",
    "metadata": {"name": "nightly", "namespace": "culturemesh"},
    "spec": {
        "schedule": "0 3 * * *",
        "timezone": "UTC",
        "contentType": "application/json",
        "data": '{"dataproduct": "museums/visit-counts"}',
        "ceOverrides": {"extensions": {"dataproduct": "museums/visit-counts"}},
        "sink": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}},
    },
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Sent:
    """A publisher that records what it is given (or refuses, when told to)."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []
        self.refuse = False

    async def __call__(self, source: PingSource, event: Envelope) -> None:
        if self.refuse:
            raise MeshError("no Broker culturemesh/default is applied to the mesh")
        self.events.append(event)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def scheduler(tmp_path: Path, now: str, obj: dict[str, Any] = NIGHTLY) -> tuple[PingScheduler, Clock, Sent]:
    clock, sent = Clock(at(now)), Sent()
    pings = PingScheduler(tmp_path / "ping-sources.json", sent, clock)
    pings.apply(obj)
    return pings, clock, sent


def test_a_tick_sends_one_event_on_the_schedule_and_none_between_ticks(tmp_path: Path) -> None:
    pings, clock, sent = scheduler(tmp_path, "2026-11-27T02:59:00")
    assert asyncio.run(pings.tick()) == 0
    clock.now = at("2026-11-27T03:00:00")
    assert asyncio.run(pings.tick()) == 1
    clock.now = at("2026-11-27T03:00:40")
    assert asyncio.run(pings.tick()) == 0
    clock.now = at("2026-11-28T03:00:00")
    assert asyncio.run(pings.tick()) == 1
    assert [e.attributes["time"] for e in sent.events] == ["2026-11-27T03:00:00.000Z", "2026-11-28T03:00:00.000Z"]
    assert pings.status()[0]["next"] == "2026-11-29T03:00:00+00:00"


def test_the_event_is_the_one_knatives_ping_adapter_sends(tmp_path: Path) -> None:
    pings, clock, sent = scheduler(tmp_path, "2026-11-27T03:00:00")
    clock.now = at("2026-11-28T03:00:00")
    asyncio.run(pings.tick())
    (event,) = sent.events
    assert event.type == "dev.knative.sources.ping"
    assert event.source == "/apis/v1/namespaces/culturemesh/pingsources/nightly"
    assert event.attributes["datacontenttype"] == "application/json"
    assert event.attributes["dataproduct"] == "museums/visit-counts"  # from ceOverrides.extensions
    assert event.json() == {"dataproduct": "museums/visit-counts"}


def test_a_re_sent_tick_is_the_same_event_and_another_tick_is_another(tmp_path: Path) -> None:
    ids = []
    for run in ("a", "b"):
        pings, clock, sent = scheduler(tmp_path / run, "2026-11-27T02:00:00")
        clock.now = at("2026-11-27T03:00:00")
        asyncio.run(pings.tick())
        clock.now = at("2026-11-28T03:00:00")
        asyncio.run(pings.tick())
        ids.append([e.id for e in sent.events])
    assert ids[0] == ids[1] and ids[0][0] != ids[0][1]


def test_the_schedule_is_read_in_the_ping_sources_timezone(tmp_path: Path) -> None:
    brussels = copy.deepcopy(NIGHTLY)
    brussels["spec"]["timezone"] = "Europe/Brussels"
    winter, _, _ = scheduler(tmp_path / "winter", "2026-01-15T00:00:00", brussels)
    summer, _, _ = scheduler(tmp_path / "summer", "2026-07-15T00:00:00", brussels)
    assert winter.status()[0]["next"] == "2026-01-15T02:00:00+00:00"  # 03:00 CET
    assert summer.status()[0]["next"] == "2026-07-15T01:00:00+00:00"  # 03:00 CEST


def test_after_a_pause_over_several_ticks_one_event_is_sent_and_the_schedule_resumes(tmp_path: Path) -> None:
    pings, clock, sent = scheduler(tmp_path, "2026-11-27T02:00:00")
    clock.now = at("2026-11-30T12:00:00")
    assert asyncio.run(pings.tick()) == 1
    assert sent.events[0].attributes["time"] == "2026-11-27T03:00:00.000Z"
    assert pings.status()[0]["next"] == "2026-12-01T03:00:00+00:00"


def test_fire_now_sends_a_fresh_event_outside_the_schedule(tmp_path: Path) -> None:
    pings, _, sent = scheduler(tmp_path, "2026-11-27T12:34:56")
    first = asyncio.run(pings.fire_now("culturemesh", "nightly"))
    second = asyncio.run(pings.fire_now("culturemesh", "nightly"))
    assert first.id != second.id and [e.id for e in sent.events] == [first.id, second.id]
    assert first.attributes["time"] == "2026-11-27T12:34:56.000Z"
    assert pings.status()[0]["sent"] == 2
    with pytest.raises(MeshError, match="no PingSource culturemesh/hourly"):
        asyncio.run(pings.fire_now("culturemesh", "hourly"))


def test_a_refused_tick_is_reported_in_the_status_and_by_fire_now(tmp_path: Path) -> None:
    pings, clock, sent = scheduler(tmp_path, "2026-11-27T02:00:00")
    sent.refuse = True
    clock.now = at("2026-11-27T03:00:00")
    assert asyncio.run(pings.tick()) == 0
    assert "no Broker culturemesh/default" in pings.status()[0]["error"]
    with pytest.raises(MeshError, match="its sink refused the event"):
        asyncio.run(pings.fire_now("culturemesh", "nightly"))


def test_applied_ping_sources_survive_a_restart_and_deleted_ones_do_not(tmp_path: Path) -> None:
    pings, _, _ = scheduler(tmp_path, "2026-11-27T02:00:00")
    hourly = copy.deepcopy(NIGHTLY)
    hourly["metadata"]["name"], hourly["spec"]["schedule"] = "hourly", "@hourly"
    pings.apply(hourly)
    assert pings.delete("culturemesh", "nightly")
    restarted = PingScheduler(tmp_path / "ping-sources.json", Sent(), Clock(at("2026-11-27T02:10:00")))
    assert [(s["name"], s["next"]) for s in restarted.status()] == [("culturemesh/hourly", "2026-11-27T03:00:00+00:00")]
    assert json.loads((tmp_path / "ping-sources.json").read_text()) == [hourly]


def test_apply_refuses_what_knatives_webhook_refuses_and_a_sink_the_mesh_cannot_reach(tmp_path: Path) -> None:
    pings = PingScheduler(tmp_path / "ping-sources.json", Sent(), Clock(at("2026-11-27T00:00:00")))
    bad = copy.deepcopy(NIGHTLY)
    bad["spec"]["schedule"] = "0 25 * * *"
    with pytest.raises(AdmissionError, match="hour '25'"):
        pings.apply(bad)
    to_service = copy.deepcopy(NIGHTLY)
    to_service["spec"]["sink"] = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "x"}}
    with pytest.raises(MeshError, match=r"spec\.sink\.ref"):
        pings.apply(to_service)
    assert pings.status() == [] and not (tmp_path / "ping-sources.json").exists()


def test_a_tick_is_stored_in_the_mesh_broker_for_every_trigger_it_matches(tmp_path: Path) -> None:
    queue = Queue(tmp_path / "broker.db")
    broker = Broker(queue, FunctionHost(tmp_path, tmp_path / "logs", 60, {}), "http://127.0.0.1:9")
    broker.apply(
        {
            "apiVersion": "eventing.knative.dev/v1",
            "kind": "Broker",
            "metadata": NIGHTLY["metadata"] | {"name": "default"},
        }
    )
    for name, source in (("mine", "/apis/v1/namespaces/culturemesh/pingsources/nightly"), ("other", "/elsewhere")):
        broker.apply(
            {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Trigger",
                "metadata": {"name": name, "namespace": "culturemesh"},
                "spec": {
                    "broker": "default",
                    "filters": [{"exact": {"type": "dev.knative.sources.ping"}}, {"exact": {"source": source}}],
                    "subscriber": {"uri": "http://127.0.0.1:9/"},
                },
            }
        )
    pings = PingScheduler(tmp_path / "ping-sources.json", broker_publisher(broker), Clock(at("2026-11-27T03:00:00")))
    pings.apply(NIGHTLY)
    asyncio.run(pings.fire_now("culturemesh", "nightly"))
    depth = queue.depth()
    assert depth["culturemesh/mine"]["pending"] == 1 and "culturemesh/other" not in depth
    queue.close()

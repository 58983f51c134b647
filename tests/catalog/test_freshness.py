"""Freshness: when a port is late, and its stale event, once per lateness, on both backends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from culturemesh import events
from culturemesh.catalog import freshness
from culturemesh.catalog.freshness import State, iso, parse_duration, parse_time, product_freshness
from culturemesh.catalog.registry import Registry
from culturemesh.envelope import Envelope
from culturemesh.errors import ConfigError, MeshUnavailable
from culturemesh.eventschemas import problems
from tests.catalog.conftest import descriptor_text, manifest, manifest_uri
from tests.conftest import EVENTS_DIR

PRODUCT = "events/uit-events"  # its port "events" declares updateEvery PT6H; "events-ld" declares nothing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT6H", timedelta(hours=6)),
        ("P1D", timedelta(days=1)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT0.5S", timedelta(seconds=0.5)),
        ("P1M", timedelta(days=30)),
        ("P1Y", timedelta(days=365)),
    ],
)
def test_update_every_is_an_iso_8601_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "6H", "P1H", "daily", ""])
def test_a_malformed_duration_names_the_expected_form(text: str) -> None:
    with pytest.raises(ConfigError, match="expected an ISO-8601 duration"):
        parse_duration(text)


class Published:
    def __init__(self, fail: bool = False) -> None:
        self.events: list[Envelope] = []
        self.fail = fail

    def __call__(self, found: Sequence[Envelope]) -> None:
        if self.fail:
            raise MeshUnavailable("http://127.0.0.1:1/culturemesh/default", "connection refused")
        self.events.extend(found)


def _publish_at(registry: Registry, version: str, created: datetime) -> None:
    m = manifest(PRODUCT, "events", version, iso(created))
    registry.register_version(m, manifest_uri(m))


def test_a_port_is_stale_once_its_latest_version_is_older_than_update_every(registry: Registry) -> None:
    record = registry.register_product(descriptor_text("uit-events"))
    start = parse_time(record.registered)
    _publish_at(registry, "v1", start)
    ports = {p.port: p for p in product_freshness(registry, record, start + timedelta(hours=5)).ports}
    assert ports["events"].state is State.FRESH and ports["events"].due == iso(start + timedelta(hours=6))
    assert ports["events-ld"].state is State.UNKNOWN and ports["events-ld"].due is None
    later = product_freshness(registry, record, start + timedelta(hours=6, seconds=1))
    assert later.state is State.STALE


def test_a_stale_event_is_emitted_once_per_lateness_and_conforms_to_its_schema(registry: Registry) -> None:
    record = registry.register_product(descriptor_text("uit-events"))
    start = parse_time(record.registered)
    _publish_at(registry, "v1", start)
    published = Published()
    late = start + timedelta(hours=7)
    (event,) = freshness.check(registry, published, late)
    assert freshness.check(registry, published, late + timedelta(hours=3)) == []  # the same lateness
    assert published.events == [event]
    assert event.type == events.STALE and event.get("outputport") == "events" and event.get("dpversion") == "v1"
    assert event.json()["due"] == iso(start + timedelta(hours=6))
    assert problems(EVENTS_DIR, event.to_dict()) == []
    assert [(m.port, m.since_version) for m in registry.stale_marks(PRODUCT)] == [("events", "v1")]

    _publish_at(registry, "v2", start + timedelta(hours=8))  # a new version ends the lateness
    assert freshness.check(registry, published, start + timedelta(hours=9)) == []
    (again,) = freshness.check(registry, published, start + timedelta(hours=15))  # and this is a new one
    assert again.get("dpversion") == "v2" and again.id != event.id


def test_a_port_that_never_published_is_late_counting_from_registration(registry: Registry) -> None:
    record = registry.register_product(descriptor_text("uit-events"))
    (event,) = freshness.check(registry, Published(), parse_time(record.registered) + timedelta(hours=6, minutes=1))
    assert event.json()["latestVersion"] is None and event.get("dpversion") is None
    assert problems(EVENTS_DIR, event.to_dict()) == []


def test_when_publishing_fails_the_claim_is_released_and_the_next_check_emits(registry: Registry) -> None:
    record = registry.register_product(descriptor_text("uit-events"))
    late = parse_time(record.registered) + timedelta(days=1)
    with pytest.raises(MeshUnavailable):
        freshness.check(registry, Published(fail=True), late)
    assert registry.stale_marks(PRODUCT) == []
    published = Published()
    assert len(freshness.check(registry, published, late)) == 1


def test_the_event_id_names_the_lateness_so_a_redelivered_one_deduplicates() -> None:
    first = events.stale(PRODUCT, "events", "v1", {"x": 1})
    assert events.stale(PRODUCT, "events", "v1", {"x": 2}).id == first.id
    assert events.stale(PRODUCT, "events", "v2", {"x": 1}).id != first.id

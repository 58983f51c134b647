"""Freshness: a port may declare how often it should update (``culturemesh.outputs.<port>.updateEvery``,
an ISO-8601 duration); it is stale when its latest version is older than that.

A port that never published counts from the product's registration. A stale port emits
``be.culturemesh.dataproduct.stale`` once per lateness: the lateness is named by the port and its
too-old latest version, claimed in the registry (:meth:`Registry.mark_stale`) before the event
goes out, so a second check, or a second process, does not emit it again. A new version ends the
lateness; if that one grows old too, that is a new lateness and a new event.

Months and years in a duration count as 30 and 365 days.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from culturemesh import events
from culturemesh.catalog.registry import PortRecord, ProductRecord, Registry, StaleMark, VersionRecord
from culturemesh.envelope import Envelope
from culturemesh.errors import ConfigError
from culturemesh.logs import get_logger

log = get_logger("culturemesh.catalog.freshness")

_DURATION = re.compile(
    r"^P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


class State(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    UNKNOWN = "unknown"  # no port declares updateEvery: freshness is not promised


def parse_duration(text: str) -> timedelta:
    """An ISO-8601 duration such as ``P1D``, ``PT6H`` or ``P1W``."""
    match = _DURATION.match(text)
    if match is None:
        raise ConfigError(f"updateEvery {text!r}: expected an ISO-8601 duration such as P1D, PT6H or P1W")
    seconds = sum(float(part) * unit for part, unit in zip(match.groups(), _UNITS, strict=True) if part)
    return timedelta(seconds=seconds)


def parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class PortFreshness:
    product: str
    port: str
    state: State
    update_every: str | None
    latest: VersionRecord | None
    since: str  # when the latest version was created (or the product registered)
    due: str | None  # when the next version is (was) due; None without updateEvery


@dataclass(frozen=True)
class ProductFreshness:
    product: str
    ports: tuple[PortFreshness, ...]

    @property
    def state(self) -> State:
        states = {port.state for port in self.ports}
        if State.STALE in states:
            return State.STALE
        return State.FRESH if State.FRESH in states else State.UNKNOWN


def port_freshness(
    product: ProductRecord, port: PortRecord, latest: VersionRecord | None, now: datetime
) -> PortFreshness:
    since = latest.created if latest else product.registered
    if port.update_every is None:
        return PortFreshness(product.id, port.name, State.UNKNOWN, None, latest, since, None)
    due = parse_time(since) + parse_duration(port.update_every)
    state = State.STALE if now > due else State.FRESH
    return PortFreshness(product.id, port.name, state, port.update_every, latest, since, iso(due))


def product_freshness(registry: Registry, product: ProductRecord, now: datetime) -> ProductFreshness:
    return ProductFreshness(
        product.id,
        tuple(port_freshness(product, p, registry.latest_version(product.id, p.name), now) for p in product.ports),
    )


def stale_event(found: PortFreshness) -> Envelope:
    version = found.latest.version if found.latest else ""
    data: dict[str, object] = {
        "dataproduct": found.product,
        "outputport": found.port,
        "updateEvery": found.update_every,
        "latestVersion": version or None,
        "latestCreated": found.since,
        "due": found.due,
    }
    if found.latest is not None:
        data["manifest"] = found.latest.manifest_uri
    return events.stale(found.product, found.port, version, data)


def check(
    registry: Registry,
    publish: Callable[[Sequence[Envelope]], object],
    now: datetime | None = None,
) -> list[Envelope]:
    """Emit a stale event for every lateness not yet announced; returns the events published.

    A lateness is claimed before its event is published; if publishing fails, the claim is
    released, so the next check tries again.
    """
    moment = now or datetime.now(UTC)
    emitted: list[Envelope] = []
    for product in registry.products():
        for found in product_freshness(registry, product, moment).ports:
            if found.state is not State.STALE or found.due is None:
                continue
            mark = StaleMark(found.product, found.port, found.latest.version if found.latest else "", found.due)
            if not registry.mark_stale(mark):
                continue
            event = stale_event(found)
            try:
                publish([event])
            except Exception:
                registry.clear_stale(mark)
                raise
            log.info("stale event emitted", dataproduct=found.product, outputport=found.port, due=found.due)
            emitted.append(event)
    return emitted

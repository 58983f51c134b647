"""PingSources in the embedded mesh: on each tick of its cron schedule a PingSource sends one
CloudEvent to its sink, as Knative Eventing's ping adapter does in a cluster.

The event is ``type dev.knative.sources.ping``, ``source /apis/v1/namespaces/<ns>/pingsources/<name>``,
with the PingSource's ``data`` (or decoded ``dataBase64``) as its data, ``contentType`` as its
``datacontenttype``, ``ceOverrides.extensions`` as extension attributes and ``time`` the tick. A
tick's event id is derived from the PingSource and the tick, so a re-sent tick is the same event.
Ticks missed while the mesh was stopped are not replayed (neither are they by Knative); after a
pause, one event is sent for the latest missed tick.

The sink is a Broker (the event is stored in it, durably, like any ingress) or an absolute URI.
``fire_now`` sends an event at once (``culturemesh mesh ping NAME``), for operators and tests.

This module also holds the PingSource rules of Knative's validating webhook that need cron
knowledge (``spec_problems``): the schedule as robfig/cron's standard parser reads it (5 fields
or a descriptor such as ``@daily``; ``@every`` refused; an optional ``CRON_TZ=``/``TZ=`` prefix),
the timezone as Go's ``time.LoadLocation`` does, and ``data``/``dataBase64``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from culturemesh.envelope import Envelope
from culturemesh.errors import MeshError
from culturemesh.events import stable_id
from culturemesh.logs import get_logger
from culturemesh.mesh.objects import SOURCES, ObjectError

if TYPE_CHECKING:
    from aiohttp import web

    from culturemesh.mesh.broker import Broker

log = get_logger("culturemesh.ping")

PING_TYPE = "dev.knative.sources.ping"
DEFAULT_SCHEDULE = "* * * * *"  # Knative's defaulting webhook sets it when spec.schedule is empty
DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_DAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_FIELDS: tuple[tuple[str, int, int, Mapping[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)
Problems = list[str]


def source_uri(namespace: str, name: str) -> str:
    return f"/apis/v1/namespaces/{namespace}/pingsources/{name}"


# -- the webhook's rules ---------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo | None:
    """The zone Go's time.LoadLocation gives ``name`` ("" and "UTC": UTC; "Local": this host's)."""
    if name in ("", "UTC"):
        return ZoneInfo("UTC")
    if name == "Local":
        return ZoneInfo(os.environ.get("TZ") or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def split_schedule(schedule: str, timezone: str) -> tuple[str, str]:
    """``(cron expression, zone name)``: a ``CRON_TZ=``/``TZ=`` prefix counts only without ``timezone``."""
    text = schedule.strip() or DEFAULT_SCHEDULE
    first, _, rest = text.partition(" ")
    if not timezone and first.startswith(("CRON_TZ=", "TZ=")):
        return rest.strip(), first.split("=", 1)[1]
    return text, timezone


def _value(text: str, names: Mapping[str, int]) -> int | None:
    if text.isdigit():
        return int(text)
    return names.get(text.lower())


def _field_problem(label: str, text: str, low: int, high: int, names: Mapping[str, int]) -> str | None:
    for part in text.split(","):
        span, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            return f"{label} {text!r}: the step in {part!r} must be a positive integer"
        if span in ("*", "?"):
            continue
        first, dash, last = span.partition("-")
        start, end = _value(first, names), _value(last, names) if dash else None
        if start is None or (dash and end is None):
            return f"{label} {text!r}: {span!r} is not a number{' or a name' if names else ''}"
        end = end if end is not None else (high if slash else start)
        if not low <= start <= end <= high:
            return f"{label} {text!r}: {span!r} is outside {low}-{high} or a range that runs backwards"
    return None


def schedule_problems(schedule: str, timezone: str) -> Problems:
    """``spec.schedule`` and ``spec.timezone`` as Knative's webhook checks them."""
    if "@every" in schedule:
        return [f"spec.schedule: {schedule!r}: the @every descriptor is not supported; use a cron expression"]
    cron, zone = split_schedule(schedule, timezone)
    problems: Problems = []
    if _zone(zone) is None:
        where = "spec.timezone" if timezone else "spec.schedule"
        problems.append(f"{where}: {zone!r} is not a time zone of the IANA database (for example Europe/Brussels)")
    if cron.startswith("@"):
        if cron not in DESCRIPTORS:
            problems.append(
                f"spec.schedule: {cron!r} is not a descriptor; expected one of {', '.join(sorted(DESCRIPTORS))}"
            )
        return problems
    fields = cron.split()
    if len(fields) != len(_FIELDS):
        return [
            *problems,
            f"spec.schedule: {cron!r} has {len(fields)} field(s); "
            "expected 5: minute hour day-of-month month day-of-week",
        ]
    for text, (label, low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(label, text, low, high, names)
        if problem:
            problems.append(f"spec.schedule: {problem}")
    return problems


def data_problems(spec: Mapping[str, Any]) -> Problems:
    """``data`` and ``dataBase64`` are exclusive; base64 must decode; JSON content must be an object."""
    data, encoded = spec.get("data") or "", spec.get("dataBase64") or ""
    if data and encoded:
        return ["spec.data, spec.dataBase64: expected exactly one of them, got both"]
    path, body = "spec.data", data
    if encoded:
        path = "spec.dataBase64"
        try:
            body = base64.b64decode(encoded, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as exc:
            return [f"spec.dataBase64: not standard base64 ({exc})"]
    if body and spec.get("contentType") == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            return [f"{path}: contentType is application/json but the data is not JSON ({exc})"]
        if not isinstance(parsed, dict):
            return [f"{path}: contentType is application/json, so the data must be a JSON object, got {body[:40]!r}"]
    return []


def spec_problems(spec: Mapping[str, Any]) -> Problems:
    """The PingSource spec rules beyond its sink (which admission checks as any destination)."""
    problems: Problems = []
    for key in ("schedule", "timezone", "data", "dataBase64", "contentType"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            problems.append(f"spec.{key}: expected a string, got {type(spec[key]).__name__} {spec[key]!r}")
    if problems:
        return problems
    return schedule_problems(spec.get("schedule") or "", spec.get("timezone") or "") + data_problems(spec)


# -- the embedded PingSource -----------------------------------------------------------------


@dataclass(frozen=True)
class PingSource:
    namespace: str
    name: str
    cron: str  # without a CRON_TZ= prefix
    zone: str
    content_type: str | None
    data: bytes | None
    extensions: Mapping[str, str]
    sink: Mapping[str, Any]
    schedule: str = DEFAULT_SCHEDULE  # as written

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def next_tick(self, after: datetime) -> datetime:
        """The first tick strictly after ``after`` (UTC)."""
        from croniter import croniter

        zone = _zone(self.zone) or ZoneInfo("UTC")
        return croniter(self.cron, after.astimezone(zone)).get_next(datetime).astimezone(UTC)  # type: ignore[no-any-return]

    def event(self, tick: datetime, event_id: str | None = None) -> Envelope:
        attributes = {
            "specversion": "1.0",
            "id": event_id or stable_id(PING_TYPE, self.key, tick.isoformat()),
            "source": source_uri(self.namespace, self.name),
            "type": PING_TYPE,
            "time": tick.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **self.extensions,
        }
        if self.content_type and self.data is not None:
            attributes["datacontenttype"] = self.content_type
        return Envelope(attributes, self.data)


def parse_ping_source(obj: Mapping[str, Any]) -> PingSource:
    """A PingSource the embedded mesh can run; call after admission, which checks the schedule."""
    metadata = obj.get("metadata") or {}
    namespace, name = str(metadata.get("namespace") or "default"), str(metadata.get("name") or "")
    spec = obj.get("spec") or {}
    sink = spec.get("sink") or {}
    ref = sink.get("ref") or {}
    if ref and ref.get("kind") != "Broker":
        raise ObjectError("PingSource", name, "spec.sink.ref", "the embedded mesh sends ticks to a Broker or a URI")
    extensions = dict((spec.get("ceOverrides") or {}).get("extensions") or {})
    for key, value in extensions.items():
        if not (key.isascii() and key.isalnum() and key.islower() and len(key) <= 20) or not isinstance(value, str):
            raise ObjectError(
                "PingSource",
                name,
                f"spec.ceOverrides.extensions[{key}]",
                "expected a string under a CloudEvents attribute name (1-20 lower-case letters and digits)",
            )
    encoded = spec.get("dataBase64")
    data = base64.b64decode(encoded) if encoded else (spec["data"].encode() if spec.get("data") else None)
    cron, zone = split_schedule(spec.get("schedule") or "", spec.get("timezone") or "")
    return PingSource(
        namespace, name, cron, zone, spec.get("contentType"), data, extensions, sink, spec.get("schedule") or cron
    )


def is_ping_source(obj: Mapping[str, Any]) -> bool:
    return obj.get("apiVersion") == SOURCES and obj.get("kind") == "PingSource"


Publish = Callable[[PingSource, Envelope], Awaitable[None]]


def broker_publisher(broker: Broker) -> Publish:
    """Ticks into the mesh's own Broker (stored like any ingress) or POSTed to an absolute URI."""
    from culturemesh.mesh.client import publish

    async def send(source: PingSource, event: Envelope) -> None:
        url = broker.resolve(source.sink, source.namespace)
        ref = source.sink.get("ref") or {}
        if ref.get("kind") == "Broker":
            broker.ingest(str(ref.get("namespace") or source.namespace), str(ref["name"]), event)
        else:
            await asyncio.to_thread(publish, [event], url)

    return send


@dataclass
class _Entry:
    source: PingSource
    body: dict[str, Any]
    next_tick: datetime
    sent: int = 0
    last_tick: datetime | None = None
    last_error: str = ""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PingScheduler:
    """Runs the applied PingSources; ``clock`` is injectable so ticks can be tested without waiting."""

    def __init__(self, state: Path, publish: Publish, clock: Callable[[], datetime] = _utc_now) -> None:
        self.state, self.publish, self.clock = state, publish, clock
        self.entries: dict[str, _Entry] = {}
        if state.is_file():
            for body in json.loads(state.read_text()):
                self.apply(body, persist=False)

    def apply(self, obj: Mapping[str, Any], persist: bool = True) -> str:
        from culturemesh.mesh.admission import admit

        admit(obj)
        source = parse_ping_source(obj)
        self.entries[source.key] = _Entry(source, dict(obj), source.next_tick(self.clock()))
        if persist:
            self._save()
        return f"PingSource/{source.key}"

    def delete(self, namespace: str, name: str) -> bool:
        found = self.entries.pop(f"{namespace}/{name}", None) is not None
        self._save()
        return found

    def _save(self) -> None:
        self.state.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.state.with_suffix(".tmp")
        scratch.write_text(json.dumps([entry.body for entry in self.entries.values()]))
        scratch.replace(self.state)

    async def tick(self) -> int:
        """Send one event for every PingSource whose tick is due; returns how many were sent."""
        now, sent = self.clock(), 0
        for entry in list(self.entries.values()):
            if entry.next_tick <= now:
                due, entry.next_tick = entry.next_tick, entry.source.next_tick(now)
                sent += await self._send(entry, entry.source.event(due), due)
        return sent

    async def fire_now(self, namespace: str, name: str) -> Envelope:
        """Send a PingSource's event at once, outside its schedule (a fresh event id)."""
        entry = self.entries.get(f"{namespace}/{name}")
        if entry is None:
            raise MeshError(f"no PingSource {namespace}/{name} is applied to the mesh; see `culturemesh mesh status`")
        now = self.clock()
        event = entry.source.event(now, event_id=str(uuid.uuid4()))
        if not await self._send(entry, event, now):
            raise MeshError(f"PingSource {namespace}/{name}: its sink refused the event: {entry.last_error}")
        return event

    async def _send(self, entry: _Entry, event: Envelope, tick: datetime) -> int:
        try:
            await self.publish(entry.source, event)
        except MeshError as exc:  # a missing broker or a refusing URI: this tick is lost, say so
            entry.last_error = str(exc)
            log.error("ping not delivered", pingsource=entry.source.key, ce_id=event.id, error=str(exc))
            return 0
        entry.sent, entry.last_tick, entry.last_error = entry.sent + 1, tick, ""
        log.info("ping sent", pingsource=entry.source.key, ce_id=event.id, ce_type=PING_TYPE)
        return 1

    async def run(self) -> None:
        """Tick until cancelled; wakes at least every second so newly applied sources are seen."""
        while True:
            await self.tick()
            upcoming = min((entry.next_tick for entry in self.entries.values()), default=None)
            wait = 1.0 if upcoming is None else (upcoming - self.clock()).total_seconds()
            await asyncio.sleep(min(1.0, max(0.01, wait)))

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "name": key,
                "schedule": entry.source.schedule,
                "timezone": entry.source.zone or "UTC",
                "sink": _describe(entry.source.sink),
                "next": entry.next_tick.isoformat(),
                "last": entry.last_tick.isoformat() if entry.last_tick else None,
                "sent": entry.sent,
                "error": entry.last_error,
            }
            for key, entry in sorted(self.entries.items())
        ]

    def routes(self) -> list[web.RouteDef]:
        from aiohttp import web

        async def fire(request: web.Request) -> web.Response:
            namespace, name = request.match_info["namespace"], request.match_info["name"]
            if f"{namespace}/{name}" not in self.entries:
                return web.json_response({"error": f"no PingSource {namespace}/{name}"}, status=404)
            try:
                event = await self.fire_now(namespace, name)
            except MeshError as exc:
                return web.json_response({"error": str(exc)}, status=502)
            return web.json_response({"id": event.id, "source": event.source}, status=202)

        return [web.post("/-/pingsources/{namespace}/{name}", fire)]


def _describe(sink: Mapping[str, Any]) -> str:
    ref = sink.get("ref") or {}
    return f"{ref.get('kind')}/{ref.get('name')}" if ref else str(sink.get("uri") or "")

"""The broker: ingress over HTTP, durable queue, trigger matching, delivery with Knative's rules.

- Ingress: ``POST /<namespace>/<broker>`` takes a CloudEvent in binary or structured mode and
  answers 202 once the event and its deliveries are stored. ``knativebrokerttl`` is set to 255
  on ingress when absent; an event whose TTL is spent is refused.
- Delivery: each matching trigger's subscriber gets the event in binary mode. Network errors,
  5xx, 404, 408, 409 and 429 are retried with the trigger's (else the broker's, else the
  cluster's) backoff; other statuses fail at once. An event that runs out of retries goes to the
  dead-letter sink with ``knativeerrordest``, ``knativeerrorcode`` and ``knativeerrordata``.
- Replies: a 2xx response that carries a CloudEvent re-enters the broker (TTL decremented); an
  empty body is plain success; a non-empty body that is not a CloudEvent counts as a failure;
  a 202 is never a reply.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from culturemesh.envelope import Envelope, from_http, is_cloudevent, to_binary
from culturemesh.errors import EventError, MeshError
from culturemesh.logs import get_logger
from culturemesh.mesh import objects as k
from culturemesh.mesh.admission import admit
from culturemesh.mesh.host import FunctionHost
from culturemesh.mesh.queue import DEAD, DONE, Queue

log = get_logger("culturemesh.broker")

ADMITTED = {f"{k.EVENTING}/Broker", f"{k.EVENTING}/Trigger", f"{k.SERVING}/Service"}
TTL_ATTRIBUTE = "knativebrokerttl"
DEFAULT_TTL = 255
RETRIED = frozenset({404, 408, 409, 429})
_NO_CONTENT_TYPE = ("Content-Type",)  # an event without datacontenttype must not gain one on the way
MAX_ERROR_DATA = 1024
MAX_PARALLEL = 32


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str
    body: bytes = b""
    reply: Envelope | None = None

    @property
    def retryable(self) -> bool:
        # a 2xx that still failed carried a reply that is not a CloudEvent: retried, then dead-lettered
        return self.status is None or self.status >= 500 or self.status in RETRIED or 200 <= self.status < 300


class Broker:
    def __init__(self, queue: Queue, host: FunctionHost, ingress_base: str) -> None:
        self.ingress_base = ingress_base.rstrip("/")
        self.queue = queue
        self.host = host
        self.brokers: dict[tuple[str, str], k.Broker] = {}
        self.triggers: dict[tuple[str, str], k.Trigger] = {}
        self.bindings: dict[tuple[str, str], k.SinkBinding] = {}
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(MAX_PARALLEL)
        self._tasks: set[asyncio.Task[None]] = set()
        self._arrivals: list[tuple[str, Envelope, list[tuple[str, str | None]], asyncio.Future[None]]] = []
        for body in list(queue.objects()):
            self.apply(body, persist=False)

    # configuration -------------------------------------------------------------------------
    def apply(self, obj: Mapping[str, Any], persist: bool = True) -> str:
        """Load one Knative object; returns ``kind/namespace/name``. Refuses what it cannot run."""
        kind = k.kind_of(obj)
        if kind in ADMITTED:
            admit(obj)  # refuse what Knative's admission webhooks would refuse, with their reasons
        if kind == f"{k.EVENTING}/Broker":
            broker = k.parse_broker(obj)
            self.brokers[(broker.namespace, broker.name)] = broker
            ident = ("Broker", broker.namespace, broker.name)
        elif kind == f"{k.EVENTING}/Trigger":
            trigger = k.parse_trigger(obj)
            self.triggers[(trigger.namespace, trigger.name)] = trigger
            ident = ("Trigger", trigger.namespace, trigger.name)
        elif kind == f"{k.SERVING}/Service":
            service = k.parse_service(obj)
            self.host.register(service)
            ident = ("Service", service.namespace, service.name)
        elif kind == f"{k.SOURCES}/SinkBinding":
            binding = k.parse_sink_binding(obj)
            self.bindings[(binding.namespace, binding.name)] = binding
            self.host.bound_env[binding.service] = {"K_SINK": self.resolve(binding.sink, binding.namespace)}
            ident = ("SinkBinding", binding.namespace, binding.name)
        else:
            raise MeshError(
                f"cannot apply {kind}: the embedded mesh runs Broker, Trigger, Service and SinkBinding objects"
            )
        if persist:
            self.queue.put_object(*ident, dict(obj))
        return "/".join(ident)

    def resolve(self, destination: Mapping[str, Any], namespace: str) -> str:
        """The URL of a destination that is a URI or a Broker (a Service resolves when it is started)."""
        ref = destination.get("ref")
        if ref and ref.get("kind") == "Broker":
            return f"{self.ingress_base}/{ref.get('namespace', namespace)}/{ref['name']}"
        if destination.get("uri"):
            return str(destination["uri"])
        raise MeshError(f"cannot resolve destination {dict(destination)}: expected a uri or a Broker ref")

    def delete(self, kind: str, namespace: str, name: str) -> bool:
        if kind == "Trigger":
            self.triggers.pop((namespace, name), None)
        elif kind == "Broker":
            self.brokers.pop((namespace, name), None)
        elif kind == "Service":
            self.host.unregister(name)
        elif kind == "SinkBinding" and (binding := self.bindings.pop((namespace, name), None)):
            self.host.bound_env.pop(binding.service, None)
        return self.queue.delete_object(kind, namespace, name)

    # ingress -------------------------------------------------------------------------------
    def _route(self, namespace: str, broker: str, event: Envelope) -> tuple[Envelope, list[tuple[str, str | None]]]:
        """The event as stored (TTL set) and the triggers it matches; refuses an unknown broker or spent TTL."""
        if (namespace, broker) not in self.brokers:
            raise MeshError(f"no Broker {namespace}/{broker} is applied to the mesh")
        ttl_text = event.get(TTL_ATTRIBUTE)
        if ttl_text is None:
            event = event.with_attributes(**{TTL_ATTRIBUTE: str(DEFAULT_TTL)})
        elif not ttl_text.isdigit() or int(ttl_text) <= 0:
            raise EventError(f"event {event.id} refused: {TTL_ATTRIBUTE} is {ttl_text!r} (the reply loop guard)")
        attributes = event.attributes
        key = attributes.get("partitionkey")
        matched = [
            (f"{ns}/{name}", key if trigger.ordered else None)
            for (ns, name), trigger in self.triggers.items()
            if ns == namespace and trigger.broker == broker and trigger.matches(attributes)
        ]
        return event, matched

    def ingest(self, namespace: str, broker: str, event: Envelope) -> int:
        """Store an event for every trigger of the broker it matches; returns how many matched."""
        stored, matched = self._route(namespace, broker, event)
        self.queue.enqueue(f"{namespace}/{broker}", stored, matched)
        self._wake.set()
        return len(matched)

    async def accept(self, namespace: str, broker: str, event: Envelope) -> int:
        """:meth:`ingest` for the HTTP ingress: events arriving together share one commit, and each
        request returns only once its event is stored."""
        stored, matched = self._route(namespace, broker, event)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._arrivals.append((f"{namespace}/{broker}", stored, matched, done))
        if len(self._arrivals) == 1:
            asyncio.get_running_loop().call_soon(self._store_arrivals)
        await done
        return len(matched)

    def _store_arrivals(self) -> None:
        arrivals, self._arrivals = self._arrivals, []
        try:
            self.queue.enqueue_many([(broker, event, matched) for broker, event, matched, _ in arrivals])
        except Exception as exc:  # noqa: BLE001 - every waiting request must hear about the failure
            for *_, done in arrivals:
                done.set_exception(exc)
            return
        for *_, done in arrivals:
            done.set_result(None)
        self._wake.set()

    # dispatch ------------------------------------------------------------------------------
    async def run(self) -> None:
        """Deliver due events until cancelled."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        try:
            housekeeping = 0.0
            while True:
                self.queue.flush()
                claimed = self.queue.claim_due(MAX_PARALLEL)
                for delivery in claimed:
                    await self._slots.acquire()
                    self._spawn(self._deliver(delivery.id, delivery.trigger, delivery.attempts, delivery.event))
                self._wake.clear()
                if claimed:
                    await asyncio.sleep(0)  # let the ingress and the deliveries run, then claim again
                else:
                    next_due = self.queue.next_due()
                    wait = 1.0 if next_due is None else max(0.0, min(1.0, next_due - time.time()))
                    await _wait_for_event(self._wake, wait) if wait > 0 else await asyncio.sleep(0)
                if time.monotonic() - housekeeping >= 0.5:
                    housekeeping = time.monotonic()
                    await self.host.reap_idle()
                    if self.host.below_minimum():
                        self._spawn(self.host.ensure_minimum())
        finally:
            for task in list(self._tasks):
                task.cancel()
            await self._session.close()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery_id: int, trigger_key: str, attempts: int, event: Envelope) -> None:
        try:
            namespace, name = trigger_key.split("/", 1)
            trigger = self.triggers.get((namespace, name))
            if trigger is None:
                self.queue.finish(delivery_id, DEAD, None, f"trigger {trigger_key} was deleted")
                return
            delivery = trigger.delivery(self.brokers.get((namespace, trigger.broker)))
            outcome = await self._send(trigger.subscriber, namespace, event, delivery.timeout)
            self._settle(delivery_id, trigger, delivery, attempts, event, outcome)
        except Exception as exc:  # noqa: BLE001 - one failed delivery must never stop the dispatcher
            log.error("delivery crashed", trigger=trigger_key, ce_id=event.id, error=repr(exc))
            self.queue.retry_at(delivery_id, time.time() + 1.0, None, repr(exc))
        finally:
            self._slots.release()
            self._wake.set()

    def _settle(
        self,
        delivery_id: int,
        trigger: k.Trigger,
        delivery: k.Delivery,
        attempts: int,
        event: Envelope,
        outcome: Outcome,
    ) -> None:
        if outcome.ok:
            self.queue.finish(delivery_id, DONE, outcome.status)
            if outcome.reply is not None:
                self._ingest_reply(trigger, outcome.reply)
            return
        log.warning(
            "delivery failed",
            trigger=trigger.name,
            ce_id=event.id,
            status=outcome.status,
            error=outcome.error,
        )
        if outcome.retryable and attempts < delivery.retry:
            wait = delivery.wait_before(attempts + 1)
            self.queue.retry_at(delivery_id, time.time() + wait, outcome.status, outcome.error)
            return
        self.queue.finish(delivery_id, DEAD, outcome.status, outcome.error)
        if delivery.dead_letter_sink:
            self._spawn(self._dead_letter(trigger, delivery, event, outcome))

    def _ingest_reply(self, trigger: k.Trigger, reply: Envelope) -> None:
        ttl = int(reply.get(TTL_ATTRIBUTE) or DEFAULT_TTL) - 1
        if ttl <= 0:
            log.warning("reply dropped: TTL spent", trigger=trigger.name, ce_id=reply.id)
            return
        self.ingest(trigger.namespace, trigger.broker, reply.with_attributes(**{TTL_ATTRIBUTE: str(ttl)}))

    async def _dead_letter(self, trigger: k.Trigger, delivery: k.Delivery, event: Envelope, outcome: Outcome) -> None:
        sink = delivery.dead_letter_sink or {}
        dest = self._describe(trigger.subscriber)
        data = base64.b64encode(outcome.body or outcome.error.encode()).decode()[:MAX_ERROR_DATA]
        dead = event.with_attributes(
            knativeerrordest=dest, knativeerrorcode=str(outcome.status or 0), knativeerrordata=data
        )
        result = await self._send(sink, trigger.namespace, dead, delivery.timeout)
        if not result.ok:
            log.error("dead-letter sink refused event", trigger=trigger.name, ce_id=event.id, status=result.status)

    def _describe(self, destination: Mapping[str, Any]) -> str:
        if destination.get("uri"):
            return str(destination["uri"])
        ref = destination.get("ref") or {}
        return f"{ref.get('kind', '')}/{ref.get('name', '')}"

    async def _send(
        self, destination: Mapping[str, Any], namespace: str, event: Envelope, timeout: float | None
    ) -> Outcome:
        assert self._session is not None
        instance = None
        try:
            ref = destination.get("ref")
            if ref and ref.get("kind") == "Service":
                instance = await self.host.acquire(str(ref["name"]))
                url = instance.url + str(destination.get("uri") or "").lstrip("/")
                limit = float(instance.service.timeout_seconds or 0) or None
                timeout = min(t for t in (timeout, limit) if t) if (timeout or limit) else None
            elif ref and ref.get("kind") == "Broker":
                url = f"local-broker:{ref.get('namespace', namespace)}/{ref['name']}"
                self.ingest(str(ref.get("namespace", namespace)), str(ref["name"]), event)
                return Outcome(True, 202, "")
            else:
                url = str(destination["uri"])
            headers, body = to_binary(event)
            client_timeout = aiohttp.ClientTimeout(total=timeout) if timeout else None
            async with self._session.post(
                url, data=body, headers=headers, timeout=client_timeout, skip_auto_headers=_NO_CONTENT_TYPE
            ) as response:
                payload = await response.read()
                return _outcome(response.status, dict(response.headers), payload)
        except (aiohttp.ClientError, TimeoutError, OSError, MeshError) as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}")
        finally:
            if instance is not None:
                await self.host.release(instance)

    def status(self) -> dict[str, Any]:
        depth = self.queue.depth()
        return {
            "brokers": [f"{ns}/{name}" for ns, name in self.brokers],
            "triggers": [
                {
                    "name": f"{ns}/{name}",
                    "broker": trigger.broker,
                    "filter": trigger.spec.get("filters") or (trigger.spec.get("filter") or {}).get("attributes", {}),
                    "subscriber": self._describe(trigger.subscriber),
                    "queue": depth.get(f"{ns}/{name}", {}),
                }
                for (ns, name), trigger in sorted(self.triggers.items())
            ],
            "services": sorted(self.host.services),
            "running": self.host.status(),
            "dead_letters": self.queue.dead_letters(),
        }


def _outcome(status: int, headers: dict[str, str], body: bytes) -> Outcome:
    if not 200 <= status < 300:
        return Outcome(False, status, f"HTTP {status}", body)
    if status == 202 or not body:
        return Outcome(True, status, "")
    if not is_cloudevent(headers):
        return Outcome(False, status, "2xx response body is not a CloudEvent", body)
    try:
        return Outcome(True, status, "", body, from_http(headers, body))
    except EventError as exc:
        return Outcome(False, status, str(exc), body)


async def _wait_for_event(event: asyncio.Event, seconds: float) -> None:
    # asyncio.timeout, not asyncio.wait_for: on Python 3.11 wait_for can swallow a cancellation that
    # races with the event being set, and the dispatcher would then never stop.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()

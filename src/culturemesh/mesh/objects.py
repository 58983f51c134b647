"""The Knative objects the embedded mesh understands: Broker, Trigger and Service.

They are read from the same dicts ``kubectl apply`` would take, checked for what the local mesh
needs, and turned into frozen values. Delivery defaults follow Knative: a Trigger's own
``delivery`` wins over its Broker's, and the cluster default is 10 retries, exponential, PT0.2S.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from culturemesh.errors import MeshError
from culturemesh.mesh.filters import Predicate, compile_trigger_filter

EVENTING = "eventing.knative.dev/v1"
SERVING = "serving.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class ObjectError(MeshError):
    def __init__(self, kind: str, name: str, path: str, message: str) -> None:
        self.kind, self.name, self.path = kind, name, path
        super().__init__(f"{kind} {name!r}: {path}: {message}")


def parse_duration(text: str) -> float:
    """Seconds in an ISO-8601 duration such as ``PT0.2S`` or ``PT1M30S``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an ISO-8601 duration (for example PT0.2S, PT10S, PT1M)")
    factors = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
    seconds = 0.0
    for key, value in match.groupdict().items():
        if value:
            seconds += float(value) * factors[key]
    return seconds


@dataclass(frozen=True)
class Delivery:
    retry: int = 10
    backoff_policy: str = "exponential"
    backoff_delay: float = 0.2
    timeout: float | None = None
    dead_letter_sink: Mapping[str, Any] | None = None

    def wait_before(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): delay·2^n or delay·n."""
        if self.backoff_policy == "linear":
            return self.backoff_delay * attempt
        return self.backoff_delay * float(2**attempt)


CLUSTER_DEFAULT = Delivery()


def parse_delivery(kind: str, name: str, spec: Any, base: Delivery) -> Delivery:
    if spec is None:
        return base
    if not isinstance(spec, dict):
        raise ObjectError(kind, name, "spec.delivery", "expected a map")
    retry = spec.get("retry", base.retry)
    if not isinstance(retry, int) or retry < 0:
        raise ObjectError(kind, name, "spec.delivery.retry", f"expected an integer >= 0, got {retry!r}")
    policy = spec.get("backoffPolicy", base.backoff_policy)
    if policy not in ("linear", "exponential"):
        raise ObjectError(kind, name, "spec.delivery.backoffPolicy", f"expected linear or exponential, got {policy!r}")
    delay, timeout = base.backoff_delay, base.timeout
    for field_name in ("backoffDelay", "timeout"):
        if field_name in spec:
            try:
                seconds = parse_duration(str(spec[field_name]))
            except ValueError as exc:
                raise ObjectError(kind, name, f"spec.delivery.{field_name}", str(exc)) from None
            if field_name == "backoffDelay":
                delay = seconds
            else:
                timeout = seconds
    sink = spec.get("deadLetterSink", base.dead_letter_sink)
    if sink is not None and not (isinstance(sink, dict) and (sink.get("uri") or sink.get("ref"))):
        raise ObjectError(kind, name, "spec.delivery.deadLetterSink", "expected a destination with uri or ref")
    return Delivery(retry, policy, delay, timeout, sink)


@dataclass(frozen=True)
class Broker:
    namespace: str
    name: str
    delivery: Delivery


ORDER_ANNOTATION = "kafka.eventing.knative.dev/delivery.order"


@dataclass(frozen=True)
class Trigger:
    namespace: str
    name: str
    broker: str
    subscriber: Mapping[str, Any]
    spec: Mapping[str, Any]
    delivery_spec: Mapping[str, Any] | None
    matches: Predicate
    ordered: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # metadata.labels (the catalog reads them)

    def delivery(self, broker: Broker | None) -> Delivery:
        base = broker.delivery if broker else CLUSTER_DEFAULT
        return parse_delivery("Trigger", self.name, self.delivery_spec, base)


@dataclass(frozen=True)
class Scaling:
    """Knative autoscaling as the function host applies it (from ``spec.template.metadata.annotations``)."""

    min_scale: int = 0
    max_scale: int = 0  # 0: no upper bound
    idle_seconds: float | None = None  # window / scale-to-zero-pod-retention-period; None: the host's default


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    args: tuple[str, ...]
    env: Mapping[str, str]
    timeout_seconds: int
    container_concurrency: int  # 0: no limit per process
    scaling: Scaling = Scaling()


AUTOSCALING = "autoscaling.knative.dev/"


def parse_scaling(name: str, annotations: Mapping[str, Any]) -> Scaling:
    def integer(key: str) -> int:
        raw = annotations.get(AUTOSCALING + key, "0")
        if not str(raw).isdigit():
            raise ObjectError(
                "Service",
                name,
                f"spec.template.metadata.annotations[{AUTOSCALING}{key}]",
                f"expected an integer >= 0, got {raw!r}",
            )
        return int(raw)

    idle = None
    for key in ("scale-to-zero-pod-retention-period", "window"):
        raw = annotations.get(AUTOSCALING + key)
        if raw is not None:
            try:
                seconds = _go_duration(str(raw))
            except ValueError as exc:
                raise ObjectError(
                    "Service", name, f"spec.template.metadata.annotations[{AUTOSCALING}{key}]", str(exc)
                ) from None
            idle = max(idle or 0.0, seconds)
    return Scaling(integer("min-scale"), integer("max-scale"), idle)


_GO_DURATION = re.compile(r"^(\d+(?:\.\d+)?(?:h|m|s|ms))+$")
_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


def _go_duration(text: str) -> float:
    """Seconds in a Go duration such as ``60s``, ``1m30s`` or ``500ms`` (Knative annotations use them)."""
    if not _GO_DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration such as 60s, 1m30s or 500ms")
    factors = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum((float(number) * factors[unit] for number, unit in _GO_PART.findall(text)), 0.0)


@dataclass(frozen=True)
class SinkBinding:
    """Injects ``K_SINK`` (the resolved sink) into the subject Service's processes."""

    namespace: str
    name: str
    service: str
    sink: Mapping[str, Any]


def parse_sink_binding(obj: Mapping[str, Any]) -> SinkBinding:
    namespace, name = _meta(obj)
    spec = obj.get("spec") or {}
    subject = spec.get("subject") or {}
    if subject.get("kind") != "Service" or not subject.get("name"):
        raise ObjectError("SinkBinding", name, "spec.subject", "the embedded mesh binds a Knative Service by name")
    sink = spec.get("sink")
    if not isinstance(sink, dict) or not (sink.get("uri") or sink.get("ref")):
        raise ObjectError("SinkBinding", name, "spec.sink", "expected a destination with uri or ref")
    return SinkBinding(namespace, name, str(subject["name"]), sink)


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ObjectError(str(obj.get("kind", "object")), "?", "metadata.name", "required")
    return str(metadata.get("namespace") or "default"), name


def parse_broker(obj: Mapping[str, Any]) -> Broker:
    namespace, name = _meta(obj)
    spec = obj.get("spec") or {}
    return Broker(namespace, name, parse_delivery("Broker", name, spec.get("delivery"), CLUSTER_DEFAULT))


def parse_trigger(obj: Mapping[str, Any]) -> Trigger:
    namespace, name = _meta(obj)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise ObjectError("Trigger", name, "spec", "required")
    broker = spec.get("broker")
    if not isinstance(broker, str) or not broker:
        raise ObjectError("Trigger", name, "spec.broker", "required: the name of a Broker")
    subscriber = spec.get("subscriber")
    if not isinstance(subscriber, dict) or not (subscriber.get("uri") or subscriber.get("ref")):
        raise ObjectError("Trigger", name, "spec.subscriber", "expected a destination with uri or ref")
    try:
        matches = compile_trigger_filter(spec)
    except MeshError as exc:
        raise ObjectError("Trigger", name, "spec", str(exc)) from None
    delivery = spec.get("delivery")
    parse_delivery("Trigger", name, delivery, CLUSTER_DEFAULT)  # refuse a bad block at apply time
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    order = annotations.get(ORDER_ANNOTATION, "unordered")
    if order not in ("ordered", "unordered"):
        raise ObjectError(
            "Trigger",
            name,
            f"metadata.annotations[{ORDER_ANNOTATION}]",
            f"expected ordered or unordered, got {order!r}",
        )
    labels = {str(k): str(v) for k, v in ((obj.get("metadata") or {}).get("labels") or {}).items()}
    return Trigger(namespace, name, broker, subscriber, spec, delivery, matches, order == "ordered", labels)


def parse_service(obj: Mapping[str, Any]) -> Service:
    namespace, name = _meta(obj)
    template_obj = (obj.get("spec") or {}).get("template") or {}
    template = template_obj.get("spec") or {}
    annotations = (template_obj.get("metadata") or {}).get("annotations") or {}
    containers = template.get("containers") or []
    if len(containers) != 1:
        raise ObjectError("Service", name, "spec.template.spec.containers", "expected exactly one container")
    container = containers[0]
    # Secret references (valueFrom) are resolved by the cluster; the local host leaves them unset.
    env = {item["name"]: str(item.get("value", "")) for item in container.get("env") or [] if "value" in item}
    args = tuple(str(arg) for arg in [*(container.get("command") or []), *(container.get("args") or [])])
    if not args:
        raise ObjectError("Service", name, "spec.template.spec.containers[0]", "command or args required")
    return Service(
        namespace,
        name,
        args,
        env,
        int(template.get("timeoutSeconds", 300)),
        int(template.get("containerConcurrency", 0)),
        parse_scaling(name, annotations),
    )


def kind_of(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('apiVersion')}/{obj.get('kind')}"

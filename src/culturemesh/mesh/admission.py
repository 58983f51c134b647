"""Knative's admission-webhook rules, applied locally before the embedded mesh takes an object.

A cluster runs Knative's defaulting webhook and then its validating webhook on every Broker,
Trigger, Service and PingSource; ``admit`` refuses what that pair would refuse, for the same reason, and
names every problem at once as ``field.path: message``. The rules follow the default
configuration of a cluster (config-features, config-defaults, config-autoscaler untouched):

- eventing ``pkg/apis/eventing/v1/{broker,trigger}_validation.go`` and
  ``pkg/apis/duck/v1/delivery_types.go``; knative/pkg ``apis/duck/v1/destination.go`` and
  ``knative_reference.go``;
- serving ``pkg/apis/serving/v1/{service,configuration,revision}_validation.go``,
  ``pkg/apis/serving/{metadata,k8s}_validation.go`` and
  ``pkg/apis/autoscaling/annotation_validation.go``; knative/pkg ``apis/metadata_validation.go``;
- the Kubernetes API server's name rules (DNS-1123 subdomain names for custom resources);
- eventing ``pkg/apis/sources/v1/ping_{defaults,validation}.go`` for PingSources (the cron and
  data rules live in ``culturemesh.mesh.ping``).

Not checked: rules that need the previous version of the object (Trigger ``spec.broker`` and the
Broker class are immutable), unknown-field refusal, volumes, probes, security contexts and the
pod-spec field masks, and ``spec.traffic``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from culturemesh.errors import MeshError
from culturemesh.mesh.objects import parse_duration

EVENTING = "eventing.knative.dev/v1"
SERVING = "serving.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$", re.IGNORECASE)
_GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

BROKER_CLASS = "eventing.knative.dev/broker.class"
DEPENDENCY = "knative.dev/dependency"
INJECTION = "eventing.knative.dev/injection"
AUTOSCALING = "autoscaling.knative.dev"
KPA, HPA = "kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev"
VISIBILITY = "networking.knative.dev/visibility"
ROLLOUT_DURATION = ("serving.knative.dev/rollout-duration", "serving.knative.dev/rolloutDuration")
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")
MAX_REVISION_TIMEOUT_SECONDS = 600  # config-defaults max-revision-timeout-seconds
CONTAINER_CONCURRENCY_MAX = 1000  # config-defaults container-concurrency-max-limit
WINDOW_MIN, WINDOW_MAX = 6.0, 3600.0
RESERVED_PORTS = frozenset({8012, 8013, 8022, 9090, 9091, 8008})  # queue-proxy and profiling
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})


class AdmissionError(MeshError):
    """Knative's webhook would refuse the object; ``problems`` lists every reason as ``path: message``."""

    def __init__(self, kind: str, name: str, problems: Sequence[str]) -> None:
        self.kind, self.name, self.problems = kind, name, list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"{kind} {name!r} would be refused by Knative's admission webhook "
            f"({len(self.problems)} problem(s)); fix these fields:\n{lines}"
        )


Problems = list[str]


def admit(obj: Mapping[str, Any]) -> None:
    """Raise ``AdmissionError`` naming every problem Knative's webhook would refuse ``obj`` for."""
    if not isinstance(obj, Mapping):
        raise AdmissionError("object", "?", [f"<root>: expected a Knative object (a map), got {_type(obj)}"])
    kind, api_version = str(obj.get("kind") or "object"), obj.get("apiVersion")
    metadata = obj.get("metadata")
    name = str(metadata.get("name") or "?") if isinstance(metadata, Mapping) else "?"
    validate = _VALIDATORS.get((str(api_version), kind))
    if validate is None:
        supported = ", ".join(f"{api}/{k}" for api, k in _VALIDATORS)
        raise AdmissionError(
            kind, name, [f"apiVersion/kind: {api_version}/{kind} is not supported; expected {supported}"]
        )
    problems = validate(obj)
    if problems:
        raise AdmissionError(kind, name, problems)


# -- shared pieces ---------------------------------------------------------------------------


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _undecodable(path: str, expected: str, value: Any) -> str:
    return f"{path}: expected {expected}, got {_type(value)} {value!r} (the webhook cannot decode it)"


def _string_map(path: str, value: Any) -> tuple[dict[str, str], Problems]:
    """A map of string to string, as Kubernetes decodes annotations, labels and attribute filters."""
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [_undecodable(path, "a map of string to string", value)]
    problems = [
        _undecodable(f"{path}[{key}]", "a string", item) for key, item in value.items() if not isinstance(item, str)
    ]
    return {str(key): item for key, item in value.items() if isinstance(item, str)}, problems


def _int(path: str, value: Any, bits: int = 64) -> tuple[int | None, Problems]:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        return None, [_undecodable(path, f"an int{bits}", value)]
    return value, []


def _name_problems(path: str, name: str, rule: re.Pattern[str], what: str, limit: int) -> Problems:
    problems = [] if rule.fullmatch(name) else [f"{path}: {name!r} is not a {what}"]
    if len(name) > limit:
        problems.append(f"{path}: {name!r} is {len(name)} characters; a {what} has at most {limit}")
    return problems


_DNS1035_WHAT = "DNS-1035 label (lower-case letters, digits and '-', starting with a letter, ending alphanumeric)"
_DNS1123_WHAT = "DNS-1123 subdomain (lower-case alphanumeric, '-' and '.', alphanumeric at both ends)"


def _metadata(obj: Mapping[str, Any], *, dns1035: bool) -> tuple[Mapping[str, Any], dict[str, str], Problems]:
    """Name rules (DNS-1035 label for Services, DNS-1123 subdomain otherwise), namespace, annotations."""
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        return {}, {}, [_undecodable("metadata", "a map", metadata)]
    metadata = metadata or {}
    rule, what, limit = (DNS1035_LABEL, _DNS1035_WHAT, 63) if dns1035 else (DNS1123_SUBDOMAIN, _DNS1123_WHAT, 253)
    problems: Problems = []
    name, generate = metadata.get("name"), metadata.get("generateName")
    if not name and not generate:
        problems.append("metadata.name: required (set name or generateName)")
    if name:
        problems += _name_problems("metadata.name", str(name), rule, what, limit)
    if generate and not rule.fullmatch(str(generate).rstrip("-") or "-"):
        problems.append(f"metadata.generateName: {generate!r} is not a prefix of a {what}")
    namespace = metadata.get("namespace")
    if namespace:
        problems += _name_problems("metadata.namespace", str(namespace), DNS1123_LABEL, "DNS-1123 label", 63)
    annotations, bad = _string_map("metadata.annotations", metadata.get("annotations"))
    _, bad_labels = _string_map("metadata.labels", metadata.get("labels"))
    return metadata, annotations, problems + bad + bad_labels


# -- eventing: destinations and delivery ----------------------------------------------------


def _reference(path: str, ref: Any) -> Problems:
    """KReference: kind, name and apiVersion required; ``group`` is off by default (kreference-group)."""
    if not isinstance(ref, Mapping):
        return [_undecodable(path, "a reference {apiVersion, kind, name}", ref)]
    problems = [
        _undecodable(f"{path}.{key}", "a string", item)
        for key, item in ref.items()
        if item is not None and not isinstance(item, str)
    ]
    problems += [f"{path}.{key}: required" for key in ("apiVersion", "kind", "name") if not ref.get(key)]
    if ref.get("group"):
        problems.append(f"{path}.group: must not be set (the kreference-group feature is disabled); use apiVersion")
    return problems


def _destination(path: str, dest: Any) -> Problems:
    """Exactly a ref, an absolute URI, or a ref with a relative URI resolved against it."""
    if dest is None:
        dest = {}
    if not isinstance(dest, Mapping):
        return [_undecodable(path, "a destination {ref, uri}", dest)]
    ref, uri = dest.get("ref"), dest.get("uri") or None
    if ref is None and uri is None:
        return [f"{path}.ref, {path}.uri: expected at least one, got none"]
    if uri is not None:
        if not isinstance(uri, str):
            return [_undecodable(f"{path}.uri", "a URI string", uri)]
        try:
            parts = urlsplit(uri)
        except ValueError as exc:
            return [f"{path}.uri: {uri!r} is not a URI ({exc})"]
        absolute = bool(parts.scheme)
        if ref is not None and absolute:
            return [
                f"{path}.ref, {path}.uri: an absolute URI is not allowed together with a ref; "
                "use one of them, or a relative URI"
            ]
        if ref is None and not (absolute and parts.netloc.rpartition("@")[2]):
            return [f"{path}.uri: {uri!r} is relative; without a ref it must be an absolute URL with scheme and host"]
        return []  # Knative does not look further at a ref that comes with a relative URI
    return _reference(f"{path}.ref", ref)


def _delivery(path: str, spec: Any) -> Problems:
    """DeliverySpec: retry >= 0, linear/exponential backoff, ISO-8601 durations, a valid dead-letter sink."""
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        return [_undecodable(path, "a map", spec)]
    problems: Problems = []
    if spec.get("deadLetterSink") is not None:
        problems += _destination(f"{path}.deadLetterSink", spec["deadLetterSink"])
    if spec.get("retry") is not None:
        retry, bad = _int(f"{path}.retry", spec["retry"], bits=32)
        problems += bad + (
            [f"{path}.retry: expected an integer >= 0, got {retry}"] if retry is not None and retry < 0 else []
        )
    problems += _choice(f"{path}.backoffPolicy", spec.get("backoffPolicy"), ("linear", "exponential"))
    problems += _choice(f"{path}.format", spec.get("format"), ("json", "binary"))
    problems += _iso_duration(f"{path}.backoffDelay", spec.get("backoffDelay"), allow_zero=True)
    problems += _iso_duration(f"{path}.timeout", spec.get("timeout"), allow_zero=False)
    if spec.get("retryAfterMax") is not None:
        problems.append(f"{path}.retryAfterMax: must not be set (the delivery-retryafter feature is disabled)")
    return problems


def _choice(path: str, value: Any, allowed: Sequence[str]) -> Problems:
    if value is None or value in allowed:
        return []
    return [f"{path}: expected one of {', '.join(allowed)}, got {value!r}"]


def _iso_duration(path: str, value: Any, *, allow_zero: bool) -> Problems:
    if value is None:
        return []
    if not isinstance(value, str):
        return [_undecodable(path, "an ISO-8601 duration string such as PT0.5S", value)]
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        return [f"{path}: {exc}"]
    if not allow_zero and seconds == 0:
        return [f"{path}: expected a duration greater than zero, got {value!r}"]
    return []


# -- eventing: Broker and Trigger -----------------------------------------------------------


def _broker(obj: Mapping[str, Any]) -> Problems:
    _, annotations, problems = _metadata(obj, dns1035=False)
    if annotations.get(BROKER_CLASS) == "":
        problems.append(f"metadata.annotations[{BROKER_CLASS}]: must not be empty; remove it to get the default class")
    spec = obj.get("spec")
    if spec is None:
        return problems
    if not isinstance(spec, Mapping):
        return [*problems, _undecodable("spec", "a map", spec)]
    if spec.get("config") is not None:
        problems += _reference("spec.config", spec["config"])
    return problems + _delivery("spec.delivery", spec.get("delivery"))


def _trigger(obj: Mapping[str, Any]) -> Problems:
    metadata, annotations, problems = _metadata(obj, dns1035=False)
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, _undecodable("spec", "a map", spec)]
    broker = spec.get("broker")
    if broker is not None and not isinstance(broker, str):
        problems.append(_undecodable("spec.broker", "a string", broker))
    elif not broker:
        problems.append("spec.broker: required: the name of the Broker to subscribe to")
    problems += _attribute_filter(spec.get("filter"))
    problems += _filters_list("spec.filters", spec.get("filters"))
    problems += _destination("spec.subscriber", spec.get("subscriber"))
    problems += _delivery("spec.delivery", spec.get("delivery"))
    if DEPENDENCY in annotations:
        problems += _dependency(annotations[DEPENDENCY], str(metadata.get("namespace") or ""))
    if INJECTION in annotations:
        problems += _injection(annotations[INJECTION], broker)
    return problems


def _attribute_filter(spec: Any) -> Problems:
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        return [_undecodable("spec.filter", "a map with attributes", spec)]
    attributes, problems = _string_map("spec.filter.attributes", spec.get("attributes"))
    return problems + _attribute_names("spec.filter.attributes", attributes)


def _attribute_names(path: str, attributes: Mapping[str, Any]) -> Problems:
    return [
        f"{path}[{name}]: invalid attribute name {name!r}: it must start with a letter and hold only "
        "lower-case letters and digits (^[a-z][a-z0-9]*$)"
        for name in attributes
        if not ATTRIBUTE_NAME.fullmatch(name)
    ]


def _filters_list(path: str, filters: Any) -> Problems:
    if filters is None:
        return []
    if not isinstance(filters, list):
        return [_undecodable(path, "a list of filter objects", filters)]
    return [problem for i, item in enumerate(filters) for problem in _filter(f"{path}[{i}]", item)]


def _filter(path: str, spec: Any) -> Problems:
    """One Subscriptions API filter: at most one dialect set; single-key exact/prefix/suffix; valid CESQL."""
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        return [_undecodable(path, "a filter object", spec)]
    problems: Problems = []
    used = [dialect for dialect in DIALECTS if spec.get(dialect)]
    if len(used) > 1:
        problems.append(f"{path}: multiple dialects found ({', '.join(used)}); a filter can have only one dialect set")
    for dialect in ("exact", "prefix", "suffix"):
        values, bad = _string_map(f"{path}.{dialect}", spec.get(dialect))
        problems += bad
        if len(values) > 1:
            problems.append(f"{path}.{dialect}: {len(values)} attributes found; it can have only one key-value")
        elif values:
            problems += _attribute_names(f"{path}.{dialect}", values)
    for dialect in ("all", "any"):
        problems += _filters_list(f"{path}.{dialect}", spec.get(dialect))
    problems += _filter(f"{path}.not", spec.get("not"))
    return problems + _cesql(f"{path}.cesql", spec.get("cesql"))


def _cesql(path: str, expression: Any) -> Problems:
    if expression is None or expression == "":
        return []
    if not isinstance(expression, str):
        return [_undecodable(path, "a CESQL expression string", expression)]
    # Imported on use: the CESQL compiler is only needed for Triggers that use the cesql dialect.
    from culturemesh.mesh.cesql import compile_expression

    try:
        compile_expression(expression)
    except (MeshError, ValueError, SyntaxError) as exc:
        return [f"{path}: {expression!r} is not a valid CESQL expression: {exc}"]
    return []


def _dependency(value: str, namespace: str) -> Problems:
    path = f"metadata.annotations[{DEPENDENCY}]"
    try:
        ref = json.loads(value)
    except ValueError:
        ref = None
    fields = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    if not isinstance(ref, dict) or any(not isinstance(ref.get(key, ""), str) for key in fields):
        return [f"{path}: {value!r} is not a JSON object reference {{kind, name, apiVersion, namespace}}"]
    problems = [f"{path}.{key}: required" for key in ("kind", "name", "apiVersion") if not ref.get(key)]
    if ref.get("namespace") and ref["namespace"] != namespace:
        problems.append(f"{path}.namespace: must be empty or equal to the Trigger's namespace {namespace!r}")
    return problems


def _injection(value: str, broker: Any) -> Problems:
    path = f"metadata.annotations[{INJECTION}]"
    if value not in ("enabled", "disabled"):
        return [f'{path}: expected "enabled" or "disabled", got {value!r}']
    if broker != "default":
        return [f"{path}: only used with the broker named default, but spec.broker is {broker!r}"]
    return []


# -- serving: Service -----------------------------------------------------------------------


def _service(obj: Mapping[str, Any]) -> Problems:
    metadata, annotations, problems = _metadata(obj, dns1035=True)
    problems += [
        f"metadata.annotations[{key}]: autoscaling annotations are refused here; "
        "put them under spec.template.metadata.annotations"
        for key in annotations
        if key.startswith(AUTOSCALING)
    ]
    problems += _rollout_duration(annotations)
    labels, _ = _string_map("metadata.labels", metadata.get("labels"))
    visibility = labels.get(VISIBILITY)
    if visibility is not None and visibility != "cluster-local":
        problems.append(f'metadata.labels[{VISIBILITY}]: expected "cluster-local", got {visibility!r}')
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, _undecodable("spec", "a map", spec)]
    template = spec.get("template") if spec.get("template") is not None else {}
    if not isinstance(template, Mapping):
        return [*problems, _undecodable("spec.template", "a map", template)]
    return problems + _template(template, metadata)


def _rollout_duration(annotations: Mapping[str, str]) -> Problems:
    key = next((key for key in ROLLOUT_DURATION if key in annotations), None)
    if key is None or annotations[key] == "":
        return []
    seconds = _go_duration(annotations[key])
    if seconds is None:
        return [f"metadata.annotations[{key}]: {annotations[key]!r} is not a duration such as 90s or 2m"]
    if round(seconds) != seconds or seconds < 0:
        return [f"metadata.annotations[{key}]: expected whole, non-negative seconds, got {annotations[key]!r}"]
    return []


def _template(template: Mapping[str, Any], parent: Mapping[str, Any]) -> Problems:
    meta = template.get("metadata") if template.get("metadata") is not None else {}
    if not isinstance(meta, Mapping):
        return [_undecodable("spec.template.metadata", "a map", meta)]
    annotations, problems = _string_map("spec.template.metadata.annotations", meta.get("annotations"))
    problems += [f"spec.template.metadata.annotations{problem}" for problem in _autoscaling(annotations)]
    problems += _revision_name(meta, parent)
    spec = template.get("spec") if template.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, _undecodable("spec.template.spec", "a map", spec)]
    return problems + _revision_spec("spec.template.spec", spec)


def _revision_name(meta: Mapping[str, Any], parent: Mapping[str, Any]) -> Problems:
    name, path = meta.get("name"), "spec.template.metadata.name"
    if not name:
        return []
    problems = _name_problems(path, str(name), DNS1035_LABEL, _DNS1035_WHAT, 63)
    if problems:
        return problems
    if not parent.get("name") and parent.get("generateName"):
        return [f"{path}: must not be set when the Service uses generateName"]
    prefix = f"{parent.get('name') or ''}-"
    return [] if str(name).startswith(prefix) else [f"{path}: {name!r} must start with {prefix!r}"]


def _revision_spec(path: str, spec: Mapping[str, Any]) -> Problems:
    """RevisionSpec: timeoutSeconds 0..600, containerConcurrency 0..1000, serviceAccountName, containers."""
    problems: Problems = []
    for key, high in (
        ("timeoutSeconds", MAX_REVISION_TIMEOUT_SECONDS),
        ("containerConcurrency", CONTAINER_CONCURRENCY_MAX),
    ):
        if spec.get(key) is None:
            continue
        value, bad = _int(f"{path}.{key}", spec[key])
        problems += bad
        if value is not None and not 0 <= value <= high:
            problems.append(f"{path}.{key}: expected 0 <= value <= {high}, got {value}")
    account = spec.get("serviceAccountName")
    if account:
        problems += _name_problems(f"{path}.serviceAccountName", str(account), DNS1123_SUBDOMAIN, _DNS1123_WHAT, 253)
    return problems + _containers(f"{path}.containers", spec.get("containers"))


def _containers(path: str, containers: Any) -> Problems:
    """One container, or several of which exactly one declares the (single) serving port."""
    if not containers:
        return [f"{path}: required: at least one container"]
    if not isinstance(containers, list) or not all(isinstance(item, Mapping) for item in containers):
        return [_undecodable(path, "a list of containers", containers)]
    if len(containers) == 1:
        return _container(f"{path}[0]", containers[0], serving=True)
    problems: Problems = []
    ports = sum(len(item.get("ports") or []) for item in containers)
    if ports != 1:
        problems.append(f"{path}.ports: with several containers exactly one port must be declared, found {ports}")
    for i, item in enumerate(containers):
        problems += _container(f"{path}[{i}]", item, serving=bool(item.get("ports")))
    return problems


def _container(path: str, container: Mapping[str, Any], *, serving: bool) -> Problems:
    if not container:
        return [f"{path}: required: a container"]
    problems: Problems = []
    if container.get("name") == "queue-proxy":
        problems.append(f"{path}.name: 'queue-proxy' is a reserved container name")
    image = container.get("image")
    if not image:
        problems.append(f"{path}.image: required: the container image to run")
    elif not isinstance(image, str) or not _image_reference(image):
        problems.append(f"{path}.image: {image!r} is not an image reference (registry/repository[:tag][@digest])")
    problems += _env(f"{path}.env", container.get("env"), reserved=RESERVED_ENV if serving else RESERVED_ENV - {"PORT"})
    ports = container.get("ports") or []
    if not isinstance(ports, list) or not all(isinstance(port, Mapping) for port in ports):
        return [*problems, _undecodable(f"{path}.ports", "a list of ports", ports)]
    if serving and len(ports) > 1:
        problems.append(f"{path}.ports: more than one container port is set; only a single port is allowed")
    return problems + (_port(f"{path}.ports[0]", ports[0]) if ports else [])


def _env(path: str, env: Any, *, reserved: frozenset[str]) -> Problems:
    if env is None:
        return []
    if not isinstance(env, list) or not all(isinstance(item, Mapping) for item in env):
        return [_undecodable(path, "a list of {name, value}", env)]
    problems: Problems = []
    for i, item in enumerate(env):
        name = item.get("name")
        if not name:
            problems.append(f"{path}[{i}].name: required")
        elif name in reserved:
            problems.append(f"{path}[{i}].name: {name!r} is a reserved environment variable")
        source = item.get("valueFrom") if isinstance(item.get("valueFrom"), Mapping) else {}
        problems += [
            f"{path}[{i}].valueFrom.{key}: must not be set (the kubernetes.podspec-fieldref feature is disabled)"
            for key in ("fieldRef", "resourceFieldRef")
            if key in source
        ]
    return problems


def _port(path: str, port: Mapping[str, Any]) -> Problems:
    problems: Problems = []
    if port.get("protocol") not in (None, "", "TCP"):
        problems.append(f"{path}.protocol: expected TCP, got {port['protocol']!r}")
    number, bad = _int(f"{path}.containerPort", port.get("containerPort", 0), bits=32)
    problems += bad
    if number is not None and number in RESERVED_PORTS:
        problems.append(f"{path}.containerPort: {number} is reserved by Knative ({sorted(RESERVED_PORTS)})")
    elif number is not None and not 0 <= number <= 65535:
        problems.append(f"{path}.containerPort: expected 0 <= port <= 65535, got {number}")
    if port.get("name") not in (None, "", "h2c", "http1"):
        problems.append(f"{path}.name: port name {port['name']!r} is not allowed; leave it empty or use h2c or http1")
    return problems


def _image_reference(image: str) -> bool:
    """Loosely what go-containerregistry's weak validation accepts: [registry/]repo[:tag][@algo:hex]."""
    rest, _, digest = image.partition("@")
    if digest and not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}", digest):
        return False
    head, slash, last = rest.rpartition("/")
    repository, _, tag = last.partition(":")
    if tag and not re.fullmatch(r"\w[\w.-]{0,127}", tag):
        return False
    first, _, path = f"{head}{slash}{repository}".partition("/")
    if path and ("." in first or ":" in first or first == "localhost"):
        if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", first):
            return False
        first = ""
    repo = f"{first}/{path}".strip("/") if path else first
    return bool(repo) and re.fullmatch(r"[a-z0-9_./-]+", repo) is not None


# -- serving: autoscaling annotations on the revision template ------------------------------

_ALIASES = {
    name: (f"{AUTOSCALING}/{name}", f"{AUTOSCALING}/{camel}")
    for name, camel in (
        ("class", "class"),
        ("metric", "metric"),
        ("target", "target"),
        ("window", "window"),
        ("min-scale", "minScale"),
        ("max-scale", "maxScale"),
        ("initial-scale", "initialScale"),
        ("scale-down-delay", "scaleDownDelay"),
        ("target-utilization-percentage", "targetUtilizationPercentage"),
        ("target-burst-capacity", "targetBurstCapacity"),
        ("panic-window-percentage", "panicWindowPercentage"),
        ("panic-threshold-percentage", "panicThresholdPercentage"),
        ("scale-to-zero-pod-retention-period", "scaleToZeroPodRetentionPeriod"),
        ("metric-aggregation-algorithm", "metricAggregationAlgorithm"),
    )
}


def _get(annotations: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """The first of an annotation's spellings that is present (kebab-case wins over camelCase)."""
    return next(((key, annotations[key]) for key in _ALIASES[name] if key in annotations), None)


def _autoscaling(annotations: Mapping[str, str]) -> Problems:
    """Per-revision autoscaling annotations; each problem starts with ``[key]: ``."""
    problems: Problems = []
    for check in _AUTOSCALING_CHECKS:
        problems += check(annotations)
    return problems


def _check_class(annotations: Mapping[str, str]) -> Problems:
    found = _get(annotations, "class")
    if found and found[1].endswith(".knative.dev") and found[1] not in (KPA, HPA):
        return [f"[{found[0]}]: unknown Knative autoscaler class {found[1]!r}; expected {KPA} or {HPA}"]
    return []


def _check_scale(annotations: Mapping[str, str]) -> Problems:
    problems: Problems = []
    bounds: dict[str, tuple[str, int]] = {}
    for name in ("min-scale", "max-scale"):
        found = _get(annotations, name)
        if found is None:
            continue
        key, text = found
        if not _INT.fullmatch(text) or not 0 <= int(text) <= 2**31 - 1:
            problems.append(f"[{key}]: expected an integer 0 <= n <= 2147483647, got {text!r}")
        else:
            bounds[name] = (key, int(text))
    low, high = bounds.get("min-scale", ("", 0))[1], bounds.get("max-scale", ("", 0))
    if high[1] != 0 and high[1] < low:
        problems.append(f"[{high[0]}]: max-scale={high[1]} is less than min-scale={low}; raise it, or 0 for no limit")
    found = _get(annotations, "initial-scale")
    if found and (not _INT.fullmatch(found[1]) or int(found[1]) < 1):
        problems.append(f"[{found[0]}]: expected an integer >= 1 (0 needs allow-zero-initial-scale), got {found[1]!r}")
    return problems


def _float(text: str) -> float | None:
    return float(text) if _FLOAT.fullmatch(text) else None


def _check_floats(annotations: Mapping[str, str]) -> Problems:
    problems: Problems = []
    for name, low, high in (
        ("target", 0.01, None),
        ("target-utilization-percentage", 1.0, 100.0),
        ("panic-window-percentage", 1.0, 100.0),
        ("panic-threshold-percentage", 110.0, 1000.0),
    ):
        found = _get(annotations, name)
        value = _float(found[1]) if found else None
        if found and (value is None or value < low or (high is not None and value > high)):
            expected = f"a number >= {low:g}" if high is None else f"a number {low:g} <= n <= {high:g}"
            problems.append(f"[{found[0]}]: expected {expected}, got {found[1]!r}")
    found = _get(annotations, "target-burst-capacity")
    value = _float(found[1]) if found else None
    if found and (value is None or (value < 0 and value != -1)):
        problems.append(f"[{found[0]}]: expected a number >= 0, or -1 for unlimited, got {found[1]!r}")
    return problems


def _go_duration(text: str) -> float | None:
    """Seconds in a Go duration such as ``60s``, ``1m30s`` or ``1.5h``; None when it does not parse."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    if not body or _GO_DURATION_PART.sub("", body):
        return None
    seconds = sum(float(number) * _GO_UNITS[unit] for number, unit in _GO_DURATION_PART.findall(body))
    return -seconds if text.startswith("-") else seconds


def _check_durations(annotations: Mapping[str, str]) -> Problems:
    problems: Problems = []
    for name, low, whole in (
        ("window", WINDOW_MIN, True),
        ("scale-down-delay", 0.0, True),
        ("scale-to-zero-pod-retention-period", 0.0, False),
    ):
        found = _get(annotations, name)
        if found is None:
            continue
        seconds = _go_duration(found[1])
        if seconds is None:
            problems.append(f"[{found[0]}]: {found[1]!r} is not a duration such as 60s, 1m30s or 1h")
        elif not low <= seconds <= WINDOW_MAX:
            problems.append(f"[{found[0]}]: expected a duration {low:g}s <= d <= 1h, got {found[1]!r}")
        elif whole and round(seconds, 9) != round(seconds):
            problems.append(f"[{found[0]}]: must be specified with at most second precision, got {found[1]!r}")
    return problems


def _check_metric(annotations: Mapping[str, str]) -> Problems:
    problems: Problems = []
    autoscaler = _get(annotations, "class")
    klass = autoscaler[1] if autoscaler else KPA
    metric = _get(annotations, "metric")
    if metric and klass == KPA and metric[1] not in ("concurrency", "rps"):
        problems.append(f"[{metric[0]}]: the {KPA} class scales on concurrency or rps, got {metric[1]!r}")
    elif metric and klass == HPA and metric[1] == "":
        problems.append(f"[{metric[0]}]: the {HPA} class needs a metric such as cpu or memory")
    algorithm = _get(annotations, "metric-aggregation-algorithm")
    allowed = ("linear", "weighted-exponential", "weightedExponential")
    if autoscaler and klass == KPA and algorithm and algorithm[1] and algorithm[1] not in allowed:
        problems.append(f"[{algorithm[0]}]: expected one of {', '.join(allowed)}, got {algorithm[1]!r}")
    return problems


_AUTOSCALING_CHECKS: tuple[Callable[[Mapping[str, str]], Problems], ...] = (
    _check_class,
    _check_scale,
    _check_floats,
    _check_durations,
    _check_metric,
)


def _ping_source(obj: Mapping[str, Any]) -> Problems:
    """PingSource: a valid cron schedule and timezone, a sink (required), exclusive valid data."""
    from culturemesh.mesh.ping import spec_problems

    _, _, problems = _metadata(obj, dns1035=False)
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, _undecodable("spec", "a map", spec)]
    return problems + spec_problems(spec) + _destination("spec.sink", spec.get("sink"))


_VALIDATORS: dict[tuple[str, str], Callable[[Mapping[str, Any]], Problems]] = {
    (EVENTING, "Broker"): _broker,
    (EVENTING, "Trigger"): _trigger,
    (SERVING, "Service"): _service,
    (SOURCES, "PingSource"): _ping_source,
}

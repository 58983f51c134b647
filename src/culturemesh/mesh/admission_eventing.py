"""Knative eventing admission rules: Broker, Trigger, their destinations, delivery and filters.

Follows eventing ``pkg/apis/eventing/v1/{broker,trigger}_validation.go`` and
``pkg/apis/duck/v1/delivery_types.go``; knative/pkg ``apis/duck/v1/destination.go`` and
``knative_reference.go``. The Subscriptions API filters (``spec.filters``) are checked dialect by
dialect; a CESQL expression is compiled with :mod:`culturemesh.mesh.cesql` to find syntax errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from culturemesh.errors import MeshError
from culturemesh.mesh.admission_metadata import Problems, decode_int, read_metadata, string_map, undecodable
from culturemesh.mesh.objects import parse_duration

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
BROKER_CLASS = "eventing.knative.dev/broker.class"
DEPENDENCY = "knative.dev/dependency"
INJECTION = "eventing.knative.dev/injection"
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")


# -- eventing: destinations and delivery ----------------------------------------------------


def _reference(path: str, ref: Any) -> Problems:
    """KReference: kind, name and apiVersion required; ``group`` is off by default (kreference-group)."""
    if not isinstance(ref, Mapping):
        return [undecodable(path, "a reference {apiVersion, kind, name}", ref)]
    problems = [
        undecodable(f"{path}.{key}", "a string", item)
        for key, item in ref.items()
        if item is not None and not isinstance(item, str)
    ]
    problems += [f"{path}.{key}: required" for key in ("apiVersion", "kind", "name") if not ref.get(key)]
    if ref.get("group"):
        problems.append(f"{path}.group: must not be set (the kreference-group feature is disabled); use apiVersion")
    return problems


def check_destination(path: str, dest: Any) -> Problems:
    """Exactly a ref, an absolute URI, or a ref with a relative URI resolved against it."""
    if dest is None:
        dest = {}
    if not isinstance(dest, Mapping):
        return [undecodable(path, "a destination {ref, uri}", dest)]
    ref, uri = dest.get("ref"), dest.get("uri") or None
    if ref is None and uri is None:
        return [f"{path}.ref, {path}.uri: expected at least one, got none"]
    if uri is not None:
        if not isinstance(uri, str):
            return [undecodable(f"{path}.uri", "a URI string", uri)]
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
        return [undecodable(path, "a map", spec)]
    problems: Problems = []
    if spec.get("deadLetterSink") is not None:
        problems += check_destination(f"{path}.deadLetterSink", spec["deadLetterSink"])
    if spec.get("retry") is not None:
        retry, bad = decode_int(f"{path}.retry", spec["retry"], bits=32)
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
        return [undecodable(path, "an ISO-8601 duration string such as PT0.5S", value)]
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        return [f"{path}: {exc}"]
    if not allow_zero and seconds == 0:
        return [f"{path}: expected a duration greater than zero, got {value!r}"]
    return []


# -- eventing: Broker and Trigger -----------------------------------------------------------


def check_broker(obj: Mapping[str, Any]) -> Problems:
    _, annotations, problems = read_metadata(obj, dns1035=False)
    if annotations.get(BROKER_CLASS) == "":
        problems.append(f"metadata.annotations[{BROKER_CLASS}]: must not be empty; remove it to get the default class")
    spec = obj.get("spec")
    if spec is None:
        return problems
    if not isinstance(spec, Mapping):
        return [*problems, undecodable("spec", "a map", spec)]
    if spec.get("config") is not None:
        problems += _reference("spec.config", spec["config"])
    return problems + _delivery("spec.delivery", spec.get("delivery"))


def check_trigger(obj: Mapping[str, Any]) -> Problems:
    metadata, annotations, problems = read_metadata(obj, dns1035=False)
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, undecodable("spec", "a map", spec)]
    broker = spec.get("broker")
    if broker is not None and not isinstance(broker, str):
        problems.append(undecodable("spec.broker", "a string", broker))
    elif not broker:
        problems.append("spec.broker: required: the name of the Broker to subscribe to")
    problems += _attribute_filter(spec.get("filter"))
    problems += _filters_list("spec.filters", spec.get("filters"))
    problems += check_destination("spec.subscriber", spec.get("subscriber"))
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
        return [undecodable("spec.filter", "a map with attributes", spec)]
    attributes, problems = string_map("spec.filter.attributes", spec.get("attributes"))
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
        return [undecodable(path, "a list of filter objects", filters)]
    return [problem for i, item in enumerate(filters) for problem in _filter(f"{path}[{i}]", item)]


def _filter(path: str, spec: Any) -> Problems:
    """One Subscriptions API filter: at most one dialect set; single-key exact/prefix/suffix; valid CESQL."""
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        return [undecodable(path, "a filter object", spec)]
    problems: Problems = []
    used = [dialect for dialect in DIALECTS if spec.get(dialect)]
    if len(used) > 1:
        problems.append(f"{path}: multiple dialects found ({', '.join(used)}); a filter can have only one dialect set")
    for dialect in ("exact", "prefix", "suffix"):
        values, bad = string_map(f"{path}.{dialect}", spec.get(dialect))
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
        return [undecodable(path, "a CESQL expression string", expression)]
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

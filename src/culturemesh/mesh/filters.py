"""Trigger filters with Knative's semantics, compiled once into predicates over event attributes.

``spec.filter.attributes``: every key must match exactly; a missing attribute fails; the value
``""`` means "present, with any value". ``spec.filters`` (the CloudEvents Subscriptions API
dialects ``exact``, ``prefix``, ``suffix``, ``all``, ``any``, ``not``, ``cesql``): the list is
ANDed, and when it is non-empty ``spec.filter`` is ignored. Each filter object uses exactly one
dialect; ``exact``/``prefix``/``suffix`` name one attribute; a CESQL expression must parse, and an
evaluation error means no match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from culturemesh.errors import MeshError

Predicate = Callable[[Mapping[str, str]], bool]

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")


class FilterError(MeshError):
    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def attributes_filter(attributes: Mapping[str, str]) -> Predicate:
    wanted = dict(attributes)

    def match(event: Mapping[str, str]) -> bool:
        return all(name in event and (value == "" or event[name] == value) for name, value in wanted.items())

    return match


def _string_map(path: str, dialect: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) != 1:
        raise FilterError(path, f"{dialect} expects exactly one attribute (name: string); use one filter per attribute")
    for name, expected in value.items():
        if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
            raise FilterError(f"{path}.{dialect}", f"attribute name {name!r} must match ^[a-z][a-z0-9]*$")
        if not isinstance(expected, str) or (dialect != "exact" and expected == ""):
            raise FilterError(f"{path}.{dialect}.{name}", f"expected a non-empty string, got {expected!r}")
    return dict(value)


def _compare(values: dict[str, str], test: Callable[[str, str], bool]) -> Predicate:
    return lambda event: all(name in event and test(event[name], want) for name, want in values.items())


def subscriptions_filter(spec: Any, path: str = "spec.filters[0]") -> Predicate:
    """Compile one Subscriptions API filter object into a predicate; refuses what Knative refuses."""
    if not isinstance(spec, dict) or len(spec) != 1:
        keys = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise FilterError(path, f"a filter must use exactly one dialect of {', '.join(DIALECTS)}; got {keys}")
    ((dialect, value),) = spec.items()
    if dialect == "exact":
        return _compare(_string_map(path, dialect, value), lambda got, want: got == want)
    if dialect == "prefix":
        return _compare(_string_map(path, dialect, value), lambda got, want: got.startswith(want))
    if dialect == "suffix":
        return _compare(_string_map(path, dialect, value), lambda got, want: got.endswith(want))
    if dialect in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise FilterError(f"{path}.{dialect}", "expected a non-empty list of filters")
        parts = [subscriptions_filter(item, f"{path}.{dialect}[{i}]") for i, item in enumerate(value)]
        combine = all if dialect == "all" else any
        return lambda event: combine(part(event) for part in parts)
    if dialect == "not":
        inner = subscriptions_filter(value, f"{path}.not")
        return lambda event: not inner(event)
    if dialect == "cesql":
        from culturemesh.mesh.cesql import CesqlError, compile_expression

        if not isinstance(value, str):
            raise FilterError(f"{path}.cesql", f"expected a CESQL expression string, got {value!r}")
        try:
            return compile_expression(value).matches
        except CesqlError as exc:
            raise FilterError(f"{path}.cesql", str(exc)) from None
    raise FilterError(path, f"unknown dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")


def compile_trigger_filter(spec: Mapping[str, Any]) -> Predicate:
    """The predicate of a Trigger's ``spec`` (``filters`` wins over ``filter`` when non-empty)."""
    filters = spec.get("filters") or []
    if filters:
        if not isinstance(filters, list):
            raise FilterError("spec.filters", "expected a list of filter objects")
        parts = [subscriptions_filter(item, f"spec.filters[{i}]") for i, item in enumerate(filters)]
        return lambda event: all(part(event) for part in parts)
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    for name, value in attributes.items():
        if not ATTRIBUTE_NAME.match(str(name)):
            raise FilterError("spec.filter.attributes", f"attribute name {name!r} must match ^[a-z][a-z0-9]*$")
        if not isinstance(value, str):
            raise FilterError(f"spec.filter.attributes.{name}", f"expected a string, got {value!r}")
    return attributes_filter(attributes)

"""Knative's per-revision autoscaling annotations (``autoscaling.knative.dev/*``) and Go durations.

Follows serving ``pkg/apis/autoscaling/annotation_validation.go`` with config-autoscaler untouched:
each annotation may be spelled in kebab-case or camelCase, and each problem names the annotation key
as ``[key]: message`` for the caller to prefix with where the annotations sit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from culturemesh.mesh.admission_metadata import Problems

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$", re.IGNORECASE)
_GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

AUTOSCALING = "autoscaling.knative.dev"
KPA, HPA = "kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev"
WINDOW_MIN, WINDOW_MAX = 6.0, 3600.0

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


def check_autoscaling(annotations: Mapping[str, str]) -> Problems:
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


def go_duration(text: str) -> float | None:
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
        seconds = go_duration(found[1])
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

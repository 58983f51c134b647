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

The rules live next to this module by concept: ``admission_metadata`` (names, namespace, annotations
and how fields decode), ``admission_eventing`` (Broker, Trigger, destinations, delivery, filters),
``admission_serving`` (Service, revision template, containers) and ``admission_autoscaling`` (the
autoscaling annotations). This module is the entry point: :func:`admit` and :class:`AdmissionError`.

Not checked: rules that need the previous version of the object (Trigger ``spec.broker`` and the
Broker class are immutable), unknown-field refusal, volumes, probes, security contexts and the
pod-spec field masks, and ``spec.traffic``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from culturemesh.errors import MeshError
from culturemesh.mesh.admission_eventing import check_broker, check_destination, check_trigger
from culturemesh.mesh.admission_metadata import Problems, read_metadata, type_name, undecodable
from culturemesh.mesh.admission_serving import check_service

__all__ = ["AdmissionError", "admit"]

EVENTING = "eventing.knative.dev/v1"
SERVING = "serving.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"


class AdmissionError(MeshError):
    """Knative's webhook would refuse the object; ``problems`` lists every reason as ``path: message``."""

    def __init__(self, kind: str, name: str, problems: Sequence[str]) -> None:
        self.kind, self.name, self.problems = kind, name, list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"{kind} {name!r} would be refused by Knative's admission webhook "
            f"({len(self.problems)} problem(s)); fix these fields:\n{lines}"
        )


def admit(obj: Mapping[str, Any]) -> None:
    """Raise ``AdmissionError`` naming every problem Knative's webhook would refuse ``obj`` for."""
    if not isinstance(obj, Mapping):
        raise AdmissionError("object", "?", [f"<root>: expected a Knative object (a map), got {type_name(obj)}"])
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


def _ping_source(obj: Mapping[str, Any]) -> Problems:
    """PingSource: a valid cron schedule and timezone, a sink (required), exclusive valid data."""
    from culturemesh.mesh.ping import spec_problems

    _, _, problems = read_metadata(obj, dns1035=False)
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, undecodable("spec", "a map", spec)]
    return problems + spec_problems(spec) + check_destination("spec.sink", spec.get("sink"))


_VALIDATORS: dict[tuple[str, str], Callable[[Mapping[str, Any]], Problems]] = {
    (EVENTING, "Broker"): check_broker,
    (EVENTING, "Trigger"): check_trigger,
    (SERVING, "Service"): check_service,
    (SOURCES, "PingSource"): _ping_source,
}

"""Knative serving admission rules for a Service: its metadata, revision template and containers.

Follows serving ``pkg/apis/serving/v1/{service,configuration,revision}_validation.go`` and
``pkg/apis/serving/{metadata,k8s}_validation.go``, with config-defaults untouched. The autoscaling
annotations on the revision template are checked in :mod:`culturemesh.mesh.admission_autoscaling`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from culturemesh.mesh.admission_autoscaling import AUTOSCALING, check_autoscaling, go_duration
from culturemesh.mesh.admission_metadata import (
    DNS1035_LABEL,
    DNS1035_WHAT,
    DNS1123_SUBDOMAIN,
    DNS1123_WHAT,
    Problems,
    decode_int,
    name_problems,
    read_metadata,
    string_map,
    undecodable,
)

VISIBILITY = "networking.knative.dev/visibility"
ROLLOUT_DURATION = ("serving.knative.dev/rollout-duration", "serving.knative.dev/rolloutDuration")
MAX_REVISION_TIMEOUT_SECONDS = 600  # config-defaults max-revision-timeout-seconds
CONTAINER_CONCURRENCY_MAX = 1000  # config-defaults container-concurrency-max-limit
RESERVED_PORTS = frozenset({8012, 8013, 8022, 9090, 9091, 8008})  # queue-proxy and profiling
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})


# -- serving: Service -----------------------------------------------------------------------


def check_service(obj: Mapping[str, Any]) -> Problems:
    metadata, annotations, problems = read_metadata(obj, dns1035=True)
    problems += [
        f"metadata.annotations[{key}]: autoscaling annotations are refused here; "
        "put them under spec.template.metadata.annotations"
        for key in annotations
        if key.startswith(AUTOSCALING)
    ]
    problems += _rollout_duration(annotations)
    labels, _ = string_map("metadata.labels", metadata.get("labels"))
    visibility = labels.get(VISIBILITY)
    if visibility is not None and visibility != "cluster-local":
        problems.append(f'metadata.labels[{VISIBILITY}]: expected "cluster-local", got {visibility!r}')
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, undecodable("spec", "a map", spec)]
    template = spec.get("template") if spec.get("template") is not None else {}
    if not isinstance(template, Mapping):
        return [*problems, undecodable("spec.template", "a map", template)]
    return problems + _template(template, metadata)


def _rollout_duration(annotations: Mapping[str, str]) -> Problems:
    key = next((key for key in ROLLOUT_DURATION if key in annotations), None)
    if key is None or annotations[key] == "":
        return []
    seconds = go_duration(annotations[key])
    if seconds is None:
        return [f"metadata.annotations[{key}]: {annotations[key]!r} is not a duration such as 90s or 2m"]
    if round(seconds) != seconds or seconds < 0:
        return [f"metadata.annotations[{key}]: expected whole, non-negative seconds, got {annotations[key]!r}"]
    return []


def _template(template: Mapping[str, Any], parent: Mapping[str, Any]) -> Problems:
    meta = template.get("metadata") if template.get("metadata") is not None else {}
    if not isinstance(meta, Mapping):
        return [undecodable("spec.template.metadata", "a map", meta)]
    annotations, problems = string_map("spec.template.metadata.annotations", meta.get("annotations"))
    problems += [f"spec.template.metadata.annotations{problem}" for problem in check_autoscaling(annotations)]
    problems += _revision_name(meta, parent)
    spec = template.get("spec") if template.get("spec") is not None else {}
    if not isinstance(spec, Mapping):
        return [*problems, undecodable("spec.template.spec", "a map", spec)]
    return problems + _revision_spec("spec.template.spec", spec)


def _revision_name(meta: Mapping[str, Any], parent: Mapping[str, Any]) -> Problems:
    name, path = meta.get("name"), "spec.template.metadata.name"
    if not name:
        return []
    problems = name_problems(path, str(name), DNS1035_LABEL, DNS1035_WHAT, 63)
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
        value, bad = decode_int(f"{path}.{key}", spec[key])
        problems += bad
        if value is not None and not 0 <= value <= high:
            problems.append(f"{path}.{key}: expected 0 <= value <= {high}, got {value}")
    account = spec.get("serviceAccountName")
    if account:
        problems += name_problems(f"{path}.serviceAccountName", str(account), DNS1123_SUBDOMAIN, DNS1123_WHAT, 253)
    return problems + _containers(f"{path}.containers", spec.get("containers"))


def _containers(path: str, containers: Any) -> Problems:
    """One container, or several of which exactly one declares the (single) serving port."""
    if not containers:
        return [f"{path}: required: at least one container"]
    if not isinstance(containers, list) or not all(isinstance(item, Mapping) for item in containers):
        return [undecodable(path, "a list of containers", containers)]
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
        return [*problems, undecodable(f"{path}.ports", "a list of ports", ports)]
    if serving and len(ports) > 1:
        problems.append(f"{path}.ports: more than one container port is set; only a single port is allowed")
    return problems + (_port(f"{path}.ports[0]", ports[0]) if ports else [])


def _env(path: str, env: Any, *, reserved: frozenset[str]) -> Problems:
    if env is None:
        return []
    if not isinstance(env, list) or not all(isinstance(item, Mapping) for item in env):
        return [undecodable(path, "a list of {name, value}", env)]
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
    number, bad = decode_int(f"{path}.containerPort", port.get("containerPort", 0), bits=32)
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

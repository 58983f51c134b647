"""Knative objects checked against the real CRD schemas (their openAPIV3Schema, vendored in
``knative-schemas.json``), as the Kubernetes API server would before any webhook runs; and the
core ``v1`` ServiceAccounts and ConfigMap culturemesh generates, against the API server's own
rules for them (known fields and their types, required name, DNS-1123 names, ConfigMap keys)
plus the IRSA role annotation."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).with_name("knative-schemas.json")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_MAP_FIELDS = {"apiVersion", "kind", "metadata", "data", "binaryData", "immutable"}
_SERVICE_ACCOUNT_FIELDS = {
    "apiVersion",
    "kind",
    "metadata",
    "secrets",
    "imagePullSecrets",
    "automountServiceAccountToken",
}


@cache
def _schemas() -> dict[str, Any]:
    return dict(json.loads(SCHEMAS.read_text()))


def crd_problems(obj: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``obj`` by its kind's CRD schema ("field.path: message"); ``[]`` if valid."""
    from jsonschema import Draft202012Validator

    key = f"{obj.get('apiVersion')}/{obj.get('kind')}"
    if key == "v1/ServiceAccount":
        return service_account_problems(obj)
    if key == "v1/ConfigMap":
        return config_map_problems(obj)
    schema = _schemas().get(key)
    if schema is None:
        known = ", ".join(name for name in sorted(_schemas()) if not name.startswith("_"))
        core = "v1/ServiceAccount and v1/ConfigMap"
        return [f"apiVersion/kind: no CRD schema for {key}; culturemesh generates {known}, {core}"]
    errors = sorted(Draft202012Validator(schema).iter_errors(dict(obj)), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '<object>'}: {e.message}" for e in errors]


def _name(path: str, value: Any, rule: re.Pattern[str], what: str, limit: int) -> list[str]:
    if not isinstance(value, str) or not value:
        return [f"{path}: required: a {what}"]
    if not rule.fullmatch(value) or len(value) > limit:
        return [f"{path}: {value!r} is not a {what} (lower-case alphanumerics and '-', at most {limit} characters)"]
    return []


def _core_object(obj: Mapping[str, Any], kind: str, fields: set[str]) -> tuple[list[str], Mapping[str, Any] | None]:
    """What every core v1 object must get right (known fields, a DNS-1123 name and namespace), and
    its metadata (None when there is none to check further)."""
    problems = [f"{field}: unknown field of a v1 {kind}" for field in obj if field not in fields]
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return [*problems, "metadata: required: a map with name and namespace"], None
    problems += _name("metadata.name", metadata.get("name"), _DNS1123_SUBDOMAIN, "DNS-1123 subdomain", 253)
    if "namespace" in metadata:
        problems += _name("metadata.namespace", metadata["namespace"], _DNS1123_LABEL, "DNS-1123 label", 63)
    return problems, metadata


def service_account_problems(obj: Mapping[str, Any]) -> list[str]:
    """A core v1 ServiceAccount: the fields the API server knows, a DNS-1123 subdomain name, a
    DNS-1123 label namespace, string annotations, and an IAM role ARN for IRSA when annotated."""
    from culturemesh.deploy.irsa import ROLE_ANNOTATION, ROLE_ARN

    problems, metadata = _core_object(obj, "ServiceAccount", _SERVICE_ACCOUNT_FIELDS)
    if metadata is None:
        return problems
    token = obj.get("automountServiceAccountToken")
    if token is not None and not isinstance(token, bool):
        problems.append(f"automountServiceAccountToken: expected true or false, got {token!r}")
    for field in ("annotations", "labels"):
        values = metadata.get(field) or {}
        if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
            problems.append(f"metadata.{field}: expected a map of string to string")
    role = (
        (metadata.get("annotations") or {}).get(ROLE_ANNOTATION)
        if isinstance(metadata.get("annotations"), Mapping)
        else None
    )
    if role is not None and not (isinstance(role, str) and ROLE_ARN.fullmatch(role)):
        problems.append(
            f"metadata.annotations[{ROLE_ANNOTATION}]: {role!r} is not an IAM role ARN "
            "(arn:aws:iam::<12-digit account>:role/<name>)"
        )
    return problems


def config_map_problems(obj: Mapping[str, Any]) -> list[str]:
    """A core v1 ConfigMap: known fields, a DNS-1123 subdomain name, keys of alphanumerics, '-',
    '_' or '.' (at most 253 characters), and string values."""
    problems, metadata = _core_object(obj, "ConfigMap", _CONFIG_MAP_FIELDS)
    if metadata is None:
        return problems
    data = obj.get("data") or {}
    if not isinstance(data, Mapping):
        return [*problems, "data: expected a map of string to string"]
    for key, value in data.items():
        if not isinstance(key, str) or not _CONFIG_MAP_KEY.fullmatch(key) or len(key) > 253:
            problems.append(f"data[{key!r}]: a key is alphanumerics, '-', '_' or '.' (at most 253 characters)")
        if not isinstance(value, str):
            problems.append(f"data[{key!r}]: expected a string value, got {type(value).__name__}")
    return problems

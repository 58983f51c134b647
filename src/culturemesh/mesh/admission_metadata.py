"""What every Knative object shares at admission: its metadata, and how the webhook decodes fields.

The Kubernetes API server's name rules (DNS-1123 subdomain names for custom resources, DNS-1035
labels for Services; knative/pkg ``apis/metadata_validation.go``), the namespace, annotations and
labels, and the messages for a field the webhook's JSON decoder cannot read. Each rule returns
:data:`Problems`, a list of ``field.path: message``; :mod:`culturemesh.mesh.admission` gathers them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

Problems = list[str]


def type_name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def undecodable(path: str, expected: str, value: Any) -> str:
    return f"{path}: expected {expected}, got {type_name(value)} {value!r} (the webhook cannot decode it)"


def string_map(path: str, value: Any) -> tuple[dict[str, str], Problems]:
    """A map of string to string, as Kubernetes decodes annotations, labels and attribute filters."""
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [undecodable(path, "a map of string to string", value)]
    problems = [
        undecodable(f"{path}[{key}]", "a string", item) for key, item in value.items() if not isinstance(item, str)
    ]
    return {str(key): item for key, item in value.items() if isinstance(item, str)}, problems


def decode_int(path: str, value: Any, bits: int = 64) -> tuple[int | None, Problems]:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        return None, [undecodable(path, f"an int{bits}", value)]
    return value, []


def name_problems(path: str, name: str, rule: re.Pattern[str], what: str, limit: int) -> Problems:
    problems = [] if rule.fullmatch(name) else [f"{path}: {name!r} is not a {what}"]
    if len(name) > limit:
        problems.append(f"{path}: {name!r} is {len(name)} characters; a {what} has at most {limit}")
    return problems


DNS1035_WHAT = "DNS-1035 label (lower-case letters, digits and '-', starting with a letter, ending alphanumeric)"
DNS1123_WHAT = "DNS-1123 subdomain (lower-case alphanumeric, '-' and '.', alphanumeric at both ends)"


def read_metadata(obj: Mapping[str, Any], *, dns1035: bool) -> tuple[Mapping[str, Any], dict[str, str], Problems]:
    """Name rules (DNS-1035 label for Services, DNS-1123 subdomain otherwise), namespace, annotations."""
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        return {}, {}, [undecodable("metadata", "a map", metadata)]
    metadata = metadata or {}
    rule, what, limit = (DNS1035_LABEL, DNS1035_WHAT, 63) if dns1035 else (DNS1123_SUBDOMAIN, DNS1123_WHAT, 253)
    problems: Problems = []
    name, generate = metadata.get("name"), metadata.get("generateName")
    if not name and not generate:
        problems.append("metadata.name: required (set name or generateName)")
    if name:
        problems += name_problems("metadata.name", str(name), rule, what, limit)
    if generate and not rule.fullmatch(str(generate).rstrip("-") or "-"):
        problems.append(f"metadata.generateName: {generate!r} is not a prefix of a {what}")
    namespace = metadata.get("namespace")
    if namespace:
        problems += name_problems("metadata.namespace", str(namespace), DNS1123_LABEL, "DNS-1123 label", 63)
    annotations, bad = string_map("metadata.annotations", metadata.get("annotations"))
    _, bad_labels = string_map("metadata.labels", metadata.get("labels"))
    return metadata, annotations, problems + bad + bad_labels

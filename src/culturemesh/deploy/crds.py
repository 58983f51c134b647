"""Knative objects checked against the real CRD schemas (their openAPIV3Schema, vendored in
``knative-schemas.json``), as the Kubernetes API server would before any webhook runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).with_name("knative-schemas.json")


@cache
def _schemas() -> dict[str, Any]:
    return dict(json.loads(SCHEMAS.read_text()))


def crd_problems(obj: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``obj`` by its kind's CRD schema ("field.path: message"); ``[]`` if valid."""
    from jsonschema import Draft202012Validator

    key = f"{obj.get('apiVersion')}/{obj.get('kind')}"
    schema = _schemas().get(key)
    if schema is None:
        known = ", ".join(name for name in sorted(_schemas()) if not name.startswith("_"))
        return [f"apiVersion/kind: no CRD schema for {key}; culturemesh generates {known}"]
    errors = sorted(Draft202012Validator(schema).iter_errors(dict(obj)), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '<object>'}: {e.message}" for e in errors]

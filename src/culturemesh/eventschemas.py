"""The JSON Schemas of the CloudEvent types, kept in the project's ``events/`` folder.

Each type ``T`` has ``events/T.schema.json`` (the structured JSON form of the event: attributes
and ``data``) and ``events/T.example.json``; a ``:`` in a type name is written ``_`` in file names. The
attributes every event shares are in ``events/cloudevent.schema.json``, which the others ``$ref``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource

from culturemesh.envelope import Envelope
from culturemesh.errors import EventError, Issue

BASE = "cloudevent.schema.json"


def _stem(event_type: str) -> str:
    return event_type.replace(":", "_")


def schema_file(events_dir: Path, event_type: str) -> Path:
    return events_dir / f"{_stem(event_type)}.schema.json"


@cache
def _registry(events_dir: Path) -> Registry:
    resources = []
    for path in sorted(events_dir.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema.get("$id", path.name), Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def _validator(path: Path) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(path.read_text()),
        registry=_registry(path.parent),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def problems(events_dir: Path, document: dict[str, Any]) -> list[str]:
    """What is wrong with a structured event, by its type's schema (``[]`` when it conforms)."""
    path = schema_file(events_dir, str(document.get("type")))
    if not path.is_file():
        return [f"no schema for event type {document.get('type')!r} (expected {path})"]
    errors = sorted(_validator(path).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<event>'}: {e.message}" for e in errors]


def validate_event(events_dir: Path, event: Envelope) -> None:
    found = problems(events_dir, event.to_dict())
    if found:
        raise EventError(f"event {event.id} ({event.type}) breaks its schema: " + "; ".join(found))


def check_schemas(events_dir: Path) -> list[Issue]:
    """Every schema is valid JSON Schema 2020-12 and its example conforms."""
    issues: list[Issue] = []
    for path in sorted(events_dir.glob("*.schema.json")):
        if path.name == BASE:
            continue
        try:
            Draft202012Validator.check_schema(json.loads(path.read_text()))
        except (ValueError, SchemaError) as exc:
            issues.append(Issue(path, "", f"not a valid JSON Schema 2020-12: {str(exc).splitlines()[0]}"))
            continue
        example = path.with_name(path.name.replace(".schema.json", ".example.json"))
        if not example.is_file():
            issues.append(Issue(path, "", f"no example; expected {example.name} beside it"))
            continue
        issues.extend(Issue(example, "", message) for message in problems(events_dir, json.loads(example.read_text())))
    return issues

"""The descriptor's JSON Schema (2020-12), and its errors as messages a person can act on:
the YAML path, what was expected, what was found, and a near miss for a misspelt field."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from culturemesh.descriptor._issues import Loc, Report

SCHEMA_PATH = Path(__file__).parent / "data-product.schema.json"
_TYPE_NAMES = {
    "string": "text",
    "object": "a mapping",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}
_KINDS = {bool: "the boolean", int: "the number", float: "the number", str: "the text", list: "the list"}


@functools.cache
def descriptor_schema() -> Mapping[str, Any]:
    """The JSON Schema (2020-12) of a descriptor, as shipped with culturemesh."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def check_schema(data: Any, report: Report) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(descriptor_schema())
    for error in validator.iter_errors(data):
        for loc, message in _explain(error):
            report.add(loc, message)


def _explain(error: Any) -> list[tuple[Loc, str]]:
    """Turn one jsonschema error into ``(YAML location, message)`` pairs a person can act on."""
    loc: Loc = tuple(error.absolute_path)
    kind, value, schema, instance = error.validator, error.validator_value, error.schema, error.instance
    if "propertyNames" in error.absolute_schema_path:
        return [((*loc, instance), f"invalid name {instance!r}; expected {schema.get('description')}")]
    if kind == "required":
        return [((*loc, key), f"required field {key!r} is missing") for key in value if key not in instance]
    if kind == "additionalProperties":
        known = list(schema.get("properties", {}))
        return [((*loc, key), _unknown_field(key, known)) for key in instance if key not in known]
    return [(loc, _message(error))]


def _unknown_field(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {key!r}{hint}; expected one of {', '.join(known)}"


def _describe(instance: Any) -> str:
    if instance is None:
        return "nothing (null)"
    shown = repr(instance) if len(repr(instance)) <= 40 else repr(instance)[:37] + "..."
    return f"{_KINDS.get(type(instance), 'the mapping')} {shown}"


_TEMPLATES = {
    "enum": "unknown {title} {instance!r}; expected one of {choices}",
    "const": "unsupported {title} {instance!r}; expected {value}",
    "pattern": "invalid value {instance!r}; expected {description}",
    "minLength": "{instance!r} is too short; expected at least {value} character(s)",
    "maxLength": "{instance!r} is too long ({size} characters); expected at most {value}",
    "minItems": "expected at least {value} item(s), found {size}",
    "uniqueItems": "the list {instance!r} repeats an entry; list each entry once",
    "minimum": "{instance!r} is too small; expected at least {value}",
    "maximum": "{instance!r} is too large; expected at most {value}",
}


def _message(error: Any) -> str:
    value, schema, instance = error.validator_value, error.schema, error.instance
    if error.validator == "type":
        return _type_message(value, instance)
    template = _TEMPLATES.get(error.validator)
    if template is None:
        return str(error.message)
    return template.format(
        instance=instance,
        value=value,
        title=schema.get("title", "value"),
        description=schema.get("description", f"text matching {value}"),
        choices=", ".join(map(str, value)) if isinstance(value, list) else value,
        size=len(instance) if isinstance(instance, str | list) and instance else "none",
    )


def _type_message(value: Any, instance: Any) -> str:
    names = [value] if isinstance(value, str) else list(value)
    message = f"expected {' or '.join(_TYPE_NAMES.get(n, n) for n in names)}, found {_describe(instance)}"
    if "string" in names and isinstance(instance, int | float | bool):
        message += " (put the value in quotes if it is meant as text)"
    return message

"""An output port as an Open Data Contract Standard (ODCS) v3.2.0 document.

:func:`contract` is a pure function of a descriptor, a port name and the port's manifests. The
document says what a consumer of the port may count on: its columns (ClickHouse type as the
physical type, the ODCS logical type, nullability, primary key, classification label), the
quality rules every version passed (``culturemesh.outputs.<port>.quality``), how often it updates
(``updateEvery``, the product's cron schedule), who owns it, the terms of use and who may read
what. :func:`problems` checks a document against the ODCS JSON Schema vendored next to this
module (see ``odcs-json-schema-v3.2.0.SOURCE.txt``).

Rules ODCS has a library metric for (``not_null``, ``unique``, ``accepted_values``) use it;
``range`` and ``references`` are ``custom`` checks whose engine is culturemesh. Every check keeps
the rule exactly as the descriptor wrote it in the custom property ``culturemeshRule``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from culturemesh.coltypes import ClickHouseType
from culturemesh.descriptor import ColumnDefinition, Contact, Descriptor
from culturemesh.errors import CultureMeshError
from culturemesh.versions import Manifest

__all__ = ["API_VERSION", "SCHEMA_PATH", "ContractExportError", "contract", "problems"]

API_VERSION = "v3.2.0"
SCHEMA_PATH = Path(__file__).with_name("odcs-json-schema-v3.2.0.json")

_INTEGER_FORMATS = {
    f"{sign}Int{bits}": f"{'u' if sign else 'i'}{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64, 128)
}
_LOGICAL = {
    "String": "string",
    "FixedString": "string",
    "UUID": "string",
    "Enum8": "string",
    "Enum16": "string",
    "Float32": "number",
    "Float64": "number",
    "Decimal": "number",
    "Decimal32": "number",
    "Decimal64": "number",
    "Decimal128": "number",
    "Decimal256": "number",
    "Bool": "boolean",
    "Date": "date",
    "Date32": "date",
    "DateTime": "timestamp",
    "DateTime64": "timestamp",
    "Array": "array",
    "Map": "map",
    "Tuple": "object",
    "Nested": "array",
    "JSON": "object",
    "Object": "object",
}
_DIMENSION = {
    "not_null": "completeness",
    "unique": "uniqueness",
    "accepted_values": "conformity",
    "range": "conformity",
    "references": "consistency",
}


class ContractExportError(CultureMeshError):
    exit_code = 3


def contract(descriptor: Descriptor, port: str, manifests: Sequence[Manifest]) -> dict[str, Any]:
    """The ODCS v3 contract of output port ``port``; ``manifests`` are its versions, newest last."""
    try:
        output = descriptor.output_port(port)
    except KeyError as exc:
        raise ContractExportError(str(exc.args[0])) from None
    settings = descriptor.output_settings(port)
    rules = [dict(rule) for rule in settings.quality]
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": f"{descriptor.qualified_name}/{port}",
        "name": f"{descriptor.name} {port}",
        "status": "active" if manifests else "proposed",
        "domain": descriptor.domain,
        "dataProduct": descriptor.qualified_name,
        "tenant": descriptor.namespace,
        "description": _description(descriptor, output.description),
        "schema": [_schema_object(descriptor, port, rules)],
        "team": _team(descriptor),
        "slaProperties": _sla(descriptor, settings.update_every),
    }
    document |= _optional(descriptor, port, settings.access, manifests)
    document["version"] = _version(document)
    return document


def problems(document: Mapping[str, Any]) -> list[str]:
    """Where ``document`` breaks the ODCS JSON Schema: one line per error, with its JSON path."""
    from jsonschema import Draft201909Validator, FormatChecker

    validator = Draft201909Validator(_schema(), format_checker=FormatChecker())
    return [f"{error.json_path}: {error.message}" for error in sorted(validator.iter_errors(document), key=str)]


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def _version(document: Mapping[str, Any]) -> str:
    """The contract's version: a digest of its content, so it changes exactly when the contract does."""
    content = {key: value for key, value in document.items() if key not in ("status", "customProperties")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _description(descriptor: Descriptor, port_description: str | None) -> dict[str, Any]:
    description: dict[str, Any] = {"purpose": descriptor.summary}
    if port_description:
        description["usage"] = port_description
    terms = descriptor.terms_of_use
    if terms is not None and (terms.name or terms.uri):
        description["limitations"] = f"Terms of use: {' — '.join(t for t in (terms.name, terms.uri) if t)}"
        if terms.uri:
            description["authoritativeDefinitions"] = [{"type": "license", "url": terms.uri}]
    return description


def _schema_object(descriptor: Descriptor, port: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    output = descriptor.output_port(port)
    schema = output.analytical_schema
    classification = descriptor.output_settings(port).classification
    keys = schema.primary_key if schema else ()
    properties = [_column(column, classification.get(column.name), keys, rules) for column in output.columns]
    element: dict[str, Any] = {
        "name": port,
        "physicalName": port,
        "physicalType": "graph" if output.type.value == "linkeddata" else "table",
        "logicalType": "object",
    }
    data_format = output.data_format
    if data_format and data_format.content_description:
        element["dataGranularityDescription"] = data_format.content_description
    if data_format and data_format.description:
        element["description"] = data_format.description
    if properties:
        element["properties"] = properties
    table_rules = [_check(rule) for rule in rules if "column" not in rule and rule.get("columns", [None])[1:]]
    if table_rules:
        element["quality"] = table_rules
    return element


def _column(
    column: ColumnDefinition, label: str | None, keys: Sequence[str], rules: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    prop = _typed(column)
    prop["name"] = column.name
    prop["physicalName"] = column.name
    prop["required"] = not column.nullable
    if column.description:
        prop["description"] = column.description
    if column.name in keys:
        prop["primaryKey"], prop["primaryKeyPosition"] = True, keys.index(column.name) + 1
    if label:
        prop["classification"] = label
    checks = [
        _check(rule) for rule in rules if rule.get("column") == column.name or rule.get("columns") == [column.name]
    ]
    if checks:
        prop["quality"] = checks
    return prop


def _typed(column: ColumnDefinition) -> dict[str, Any]:
    """``physicalType`` and the logical type (with options, items, map key/value) of one column."""
    parsed = column.parsed_type()
    result = _logical(parsed, column.columns)
    result["physicalType"] = column.type
    return result


def _logical(parsed: ClickHouseType, nested: Sequence[ColumnDefinition] = ()) -> dict[str, Any]:
    name = parsed.name
    if name in _INTEGER_FORMATS:
        return {"logicalType": "integer", "logicalTypeOptions": {"format": _INTEGER_FORMATS[name]}}
    if name in ("Int256", "UInt256"):
        return {"logicalType": "integer"}
    if name in ("Float32", "Float64"):
        return {"logicalType": "number", "logicalTypeOptions": {"format": "f32" if name == "Float32" else "f64"}}
    result: dict[str, Any] = {"logicalType": _LOGICAL.get(name, "string")}
    if name.startswith("Enum"):
        result["enum"] = [{"value": label, "label": label} for label in parsed.enum_labels]
    elif name in ("DateTime", "DateTime64"):
        zone = next((arg for arg in parsed.args if isinstance(arg, str)), None)
        result["logicalTypeOptions"] = {"timezone": True, **({"defaultTimezone": zone} if zone else {})}
    elif name == "Array":
        result["items"] = _logical(parsed.type_args[0])
    elif name == "Map":
        key, value = parsed.type_args
        result["map"] = {"key": _logical(key), "value": _logical(value)}
    elif name == "Nested":
        fields = [{**_typed(sub), "name": sub.name} for sub in nested]
        result["items"] = {"logicalType": "object", "properties": fields}
    elif name == "Tuple" and parsed.field_names:
        fields = [
            {**_logical(arg), "name": field} for field, arg in zip(parsed.field_names, parsed.type_args, strict=True)
        ]
        result["properties"] = fields
    return result


def _check(rule: Mapping[str, Any]) -> dict[str, Any]:
    kind = rule["rule"]
    check: dict[str, Any] = {"name": kind, "dimension": _DIMENSION[kind], "severity": "error"}
    if kind == "not_null":
        check |= {"type": "library", "metric": "nullValues", "mustBe": 0}
    elif kind == "unique":
        check |= {"type": "library", "metric": "duplicateValues", "mustBe": 0}
        check["arguments"] = {"properties": list(rule["columns"])}
    elif kind == "accepted_values":
        check |= {"type": "library", "metric": "invalidValues", "mustBe": 0}
        check["arguments"] = {"validValues": list(rule["values"])}
    else:
        check |= {"type": "custom", "engine": "culturemesh", "implementation": dict(rule)}
        check["description"] = _describe(rule)
    check["customProperties"] = [{"property": "culturemeshRule", "value": dict(rule)}]
    return check


def _describe(rule: Mapping[str, Any]) -> str:
    if rule["rule"] == "range":
        bounds = [f"at least {rule['min']}" if "min" in rule else "", f"at most {rule['max']}" if "max" in rule else ""]
        return f"{rule['column']} is {' and '.join(b for b in bounds if b)}"
    return f"every {rule['column']} is a {rule['key']} of {rule['product']} port {rule['port']}"


def _member(contact: Contact, role: str) -> dict[str, Any]:
    member = {"username": contact.contact or contact.name, "name": contact.name, "role": role}
    return member


def _team(descriptor: Descriptor) -> dict[str, Any]:
    members = [_member(descriptor.owner, "owner")]
    if descriptor.team is not None:
        members.append(_member(descriptor.team, "responsible technical team"))
    name = descriptor.team.name if descriptor.team else descriptor.owner.name
    return {"name": name, "members": members}


def _sla(descriptor: Descriptor, update_every: str | None) -> list[dict[str, Any]]:
    sla = []
    if update_every:
        sla.append(
            {
                "property": "frequency",
                "value": update_every,
                "unit": "ISO 8601 duration",
                "description": f"a new version at least every {update_every}; "
                "later than that, the catalog marks the port stale",
            }
        )
    if descriptor.schedule:
        sla.append(
            {
                "property": "frequency",
                "value": descriptor.schedule,
                "scheduler": "cron",
                "schedule": descriptor.schedule,
                "description": "the product's transformation runs on this schedule",
            }
        )
    return sla


def _optional(
    descriptor: Descriptor, port: str, access: Mapping[str, tuple[str, ...] | str], manifests: Sequence[Manifest]
) -> dict[str, Any]:
    """``support``, ``roles`` and the latest version, when there is something to say."""
    extra: dict[str, Any] = {}
    contact = descriptor.owner.contact
    if contact:
        is_mail = "@" in contact and "://" not in contact
        extra["support"] = [
            {"channel": "email" if is_mail else "web", "url": f"mailto:{contact}" if is_mail else contact}
        ]
    if access:
        extra["roles"] = [
            {"role": principal, "access": "read", "description": _grant_text(labels)}
            for principal, labels in sorted(access.items())
        ]
    if manifests:
        latest = manifests[-1]
        extra["customProperties"] = [
            {"property": "latestVersion", "value": latest.version},
            {"property": "latestVersionCreated", "value": latest.created},
            {"property": "latestVersionRows", "value": latest.rows},
            {"property": "latestVersionBytes", "value": latest.bytes},
            {"property": "format", "value": latest.format},
            {"property": "versions", "value": len(manifests)},
        ]
    return extra


def _grant_text(labels: tuple[str, ...] | str) -> str:
    if labels == "all":
        return "every column, whatever its classification"
    named = ", ".join(labels)
    return f"unclassified columns and those classified {named}" if named else "unclassified columns only"

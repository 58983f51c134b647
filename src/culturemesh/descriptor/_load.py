"""Loading a descriptor: YAML with line numbers, then the JSON Schema, then the cross-references.

Each stage collects every problem as an :class:`~culturemesh.errors.Issue` naming the file, the
YAML path (``spec.outputPorts[0].type``) and the line. Structural problems (YAML, schema) are
reported together; the cross-reference checks run once the structure is sound, because they
rely on it. Any problem raises one :class:`~culturemesh.errors.DescriptorError` carrying all.
"""

from __future__ import annotations

import codecs
import difflib
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from culturemesh.coltypes import parse_type
from culturemesh.descriptor._model import (
    DEFAULT_FUNCTION,
    RDF_FORMATS,
    TABULAR_FORMATS,
    Descriptor,
    build_descriptor,
)
from culturemesh.errors import DescriptorError, Issue

DESCRIPTOR_FILENAME = "data-product.yaml"
SCHEMA_PATH = Path(__file__).parent / "data-product.schema.json"

Loc = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_SCALAR_TAGS = {"tag:yaml.org,2002:" + name for name in ("null", "bool", "int", "float")}
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


def load_descriptor(path: Path) -> Descriptor:
    """Load ``path`` (a descriptor file, or a product folder holding ``data-product.yaml``)."""
    path = Path(path)
    if path.is_dir():
        path = path / DESCRIPTOR_FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DescriptorError([Issue(path, "", f"no such file; expected a descriptor at {path}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DescriptorError([Issue(path, "", f"cannot read the descriptor as UTF-8 text: {exc}")]) from None
    return load_descriptor_text(text, source=str(path), base_dir=path.parent, path=path)


def load_descriptor_text(
    text: str, source: str = "<string>", base_dir: Path | None = None, *, path: Path | None = None
) -> Descriptor:
    """Load a descriptor from ``text``; file references are checked only when ``base_dir`` is known."""
    report = _Report(source)
    data = _parse_yaml(text, report)
    if not report.issues:
        _check_schema(data, report)
    if not report.issues:
        _check_references(data, report, base_dir)
    report.raise_if_any()
    return build_descriptor(data, path=path, base_dir=base_dir)


@functools.cache
def descriptor_schema() -> Mapping[str, Any]:
    """The JSON Schema (2020-12) of a descriptor, as shipped with culturemesh."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def yaml_path(loc: Loc) -> str:
    """``('spec', 'outputPorts', 0, 'type')`` → ``spec.outputPorts[0].type``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


@dataclass
class _Report:
    """The issues found so far, and the line each YAML path starts on."""

    source: str
    lines: dict[Loc, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def line(self, loc: Loc) -> int | None:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def add(self, loc: Loc, message: str, line: int | None = None) -> None:
        issue = Issue(self.source, yaml_path(loc), message, line or self.line(loc))
        if issue not in self.issues:
            self.issues.append(issue)

    def raise_if_any(self) -> None:
        if self.issues:
            ordered = sorted(self.issues, key=lambda i: (i.line or 0, i.path, i.message))
            raise DescriptorError(ordered)


# --- YAML with positions ---------------------------------------------------------------------


def _parse_yaml(text: str, report: _Report) -> Any:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = f" ({exc.context})" if exc.context else ""
        report.add((), f"YAML syntax error: {exc.problem}{context}; fix the YAML", mark.line + 1 if mark else None)
        return None
    except yaml.YAMLError as exc:
        report.add((), f"YAML syntax error: {exc}; fix the YAML")
        return None
    finally:
        loader.dispose()
    if node is None:
        report.add((), "the descriptor is empty; expected apiVersion, kind, metadata and spec")
        return None
    report.lines[()] = node.start_mark.line + 1
    return _convert(node, (), report, loader, set())


def _convert(node: yaml.Node, loc: Loc, report: _Report, loader: yaml.SafeLoader, active: set[int]) -> Any:
    if id(node) in active:
        report.add(loc, "a YAML alias refers to itself; a descriptor must be a tree")
        return None
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, loc, report, loader, active | {id(node)})
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            report.lines[(*loc, index)] = item.start_mark.line + 1
            items.append(_convert(item, (*loc, index), report, loader, active | {id(node)}))
        return items
    if node.tag in _SCALAR_TAGS:
        return loader.construct_object(node)
    return node.value  # strings, and dates or other tags kept as the text that was written


def _convert_mapping(
    node: yaml.MappingNode, loc: Loc, report: _Report, loader: yaml.SafeLoader, active: set[int]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            report.add(loc, "a mapping key must be plain text", line)
            continue
        key = str(key_node.value)  # the text as written: `on`, `no` or `1` stay keys, not booleans
        if key in result:
            first = report.lines[(*loc, key)]
            message = f"duplicate key {key!r} (first at line {first}); YAML would keep only one value"
            report.add((*loc, key), message + ", so remove or rename one of them", line)
            continue
        report.lines[(*loc, key)] = line
        result[key] = _convert(value_node, (*loc, key), report, loader, active)
    return result


# --- JSON Schema -----------------------------------------------------------------------------


def _check_schema(data: Any, report: _Report) -> None:
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


# --- cross-references ------------------------------------------------------------------------


def _check_references(data: dict[str, Any], report: _Report, base_dir: Path | None) -> None:
    spec = data["spec"]
    schedule = spec.get("transformer", {}).get("schedule")
    if schedule is not None:
        _check_schedule(schedule, report)
    _check_unique(spec.get("inputPorts", []), ("spec", "inputPorts"), "input port", report)
    _check_unique(spec["outputPorts"], ("spec", "outputPorts"), "output port", report)
    for index, port in enumerate(spec["outputPorts"]):
        _check_analytical_schema(port, ("spec", "outputPorts", index), report)
    if "culturemesh" in data:
        _check_extension(data, report, base_dir)


def _check_schedule(schedule: str, report: _Report) -> None:
    from croniter import croniter

    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        report.add(
            ("spec", "transformer", "schedule"),
            f"invalid cron schedule {schedule!r}; expected 5 fields 'minute hour day-of-month month "
            "day-of-week' in UTC, e.g. '0 3 * * *' for every day at 03:00",
        )


def _check_unique(items: list[dict[str, Any]], loc: Loc, what: str, report: _Report) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        name = item["name"]
        if name in seen:
            first = (*loc, seen[name])
            report.add(
                (*loc, index, "name"),
                f"duplicate {what} name {name!r} (also at {yaml_path(first)}, line {report.line(first)}); "
                f"each {what} needs its own name",
            )
        seen.setdefault(name, index)


def _check_analytical_schema(port: dict[str, Any], loc: Loc, report: _Report) -> None:
    schema = port.get("dataFormat", {}).get("analyticalDataSchemaDefinition")
    if schema is None:
        return
    loc = (*loc, "dataFormat", "analyticalDataSchemaDefinition")
    columns = schema.get("columnDefinitions", [])
    _check_columns(columns, (*loc, "columnDefinitions"), report)
    keys = schema.get("primaryKey", [])
    for index, key in enumerate([keys] if isinstance(keys, str) else keys):
        if key not in {column["name"] for column in columns}:
            key_loc = (*loc, "primaryKey") if isinstance(keys, str) else (*loc, "primaryKey", index)
            report.add(key_loc, f"primary key column {key!r} is not defined; {_known_columns(columns)}")


def _known_columns(columns: list[dict[str, Any]]) -> str:
    names = [column["name"] for column in columns]
    return f"expected one of the port's columns: {', '.join(names)}" if names else "the port defines no columns"


def _check_columns(columns: list[dict[str, Any]], loc: Loc, report: _Report) -> None:
    _check_unique(columns, loc, "column", report)
    for index, column in enumerate(columns):
        column_loc = (*loc, index)
        try:
            parsed = parse_type(column["type"])
        except ValueError as exc:
            report.add((*column_loc, "type"), str(exc))
            continue
        children = column.get("columnDefinitions")
        if parsed.name == "Nested" and not parsed.type_args and not children:
            report.add((*column_loc, "type"), "a Nested column needs its own columnDefinitions list")
        elif children is not None and parsed.name != "Nested":
            report.add(
                (*column_loc, "columnDefinitions"),
                f"only a Nested column has columnDefinitions, but this column's type is {column['type']!r}",
            )
        elif children:
            _check_columns(children, (*column_loc, "columnDefinitions"), report)


def _check_extension(data: dict[str, Any], report: _Report, base_dir: Path | None) -> None:
    extension, spec = data["culturemesh"], data["spec"]
    functions = extension.get("functions")
    for name, function in (functions or {}).items():
        _check_file(function["source"], ("culturemesh", "functions", name, "source"), "source file", report, base_dir)
    ports, inputs = _by_name(spec["outputPorts"]), _by_name(spec.get("inputPorts", []))
    for name, settings in extension.get("inputs", {}).items():
        loc: Loc = ("culturemesh", "inputs", name)
        if name not in inputs:
            report.add(loc, f"no input port {name!r} in spec.inputPorts; expected one of: {_names(inputs)}")
            continue
        _check_input(settings, inputs[name], loc, ports, list(functions or [DEFAULT_FUNCTION]), report)
        _check_contract(settings.get("contract"), (*loc, "contract"), ports, report, base_dir)
    for name, settings in extension.get("outputs", {}).items():
        loc = ("culturemesh", "outputs", name)
        if name not in ports:
            report.add(loc, f"no output port {name!r} in spec.outputPorts; expected one of: {_names(ports)}")
            continue
        _check_output(settings, ports[name], loc, report)
        _check_linked_data(settings, ports[name], loc, inputs, report, base_dir)


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Items by name; with duplicate names (reported elsewhere) the first one counts."""
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        result.setdefault(item["name"], item)
    return result


def _names(items: Mapping[str, Any]) -> str:
    return ", ".join(items) or "(none)"


def _check_input(
    settings: dict[str, Any],
    port: dict[str, Any],
    loc: Loc,
    outputs: dict[str, Any],
    functions: list[str],
    report: _Report,
) -> None:
    function = settings.get("function", DEFAULT_FUNCTION)
    if function not in functions:
        report.add(
            (*loc, "function"),
            f"no function {function!r} in culturemesh.functions; expected one of: {', '.join(functions)}",
        )
    for index, name in enumerate(settings.get("produces", [])):
        if name not in outputs:
            report.add((*loc, "produces", index), f"no output port {name!r}; expected one of: {_names(outputs)}")
    upload = settings.get("upload")
    if upload is None:
        return
    if "outputPortRef" in port:
        reason = "this input reads another product's output port (outputPortRef), so providers cannot"
        report.add((*loc, "upload"), f"{reason} upload to it; remove upload or the outputPortRef")
    if "contract" not in settings:
        report.add(
            (*loc, "contract"),
            "an upload input needs a contract: columnsFrom, columnDefinitions or jsonSchema",
        )
    encoding = upload.get("csv", {}).get("encoding")
    if encoding is not None and not _known_encoding(encoding):
        report.add((*loc, "upload", "csv", "encoding"), f"unknown text encoding {encoding!r}; expected e.g. utf-8")


def _known_encoding(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _check_contract(
    contract: dict[str, Any] | None, loc: Loc, ports: dict[str, Any], report: _Report, base_dir: Path | None
) -> None:
    if contract is None:
        return
    given = [key for key in ("columnsFrom", "columnDefinitions", "jsonSchema") if key in contract]
    if len(given) != 1:
        found = " and ".join(given) or "none of them"
        report.add(loc, f"a contract needs exactly one of columnsFrom, columnDefinitions, jsonSchema; found {found}")
    source = contract.get("columnsFrom")
    if source is not None and source not in ports:
        report.add((*loc, "columnsFrom"), f"no output port {source!r}; expected one of: {_names(ports)}")
    elif source is not None and not _port_columns(ports[source]):
        report.add((*loc, "columnsFrom"), f"output port {source!r} defines no columnDefinitions to use as contract")
    if "columnDefinitions" in contract:
        _check_columns(contract["columnDefinitions"], (*loc, "columnDefinitions"), report)
    if "jsonSchema" in contract:
        _check_file(contract["jsonSchema"], (*loc, "jsonSchema"), "JSON Schema file", report, base_dir)


def _check_file(relative: str, loc: Loc, what: str, report: _Report, base_dir: Path | None) -> None:
    """A file the product refers to must lie inside the product folder (and exist, when it is known)."""
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        report.add(loc, f"{what} {relative!r} is outside the product folder; give a path relative to it")
    elif base_dir is not None and not (base_dir / relative).is_file():
        report.add(loc, f"{what} {relative!r} not found in {base_dir}; create it or fix the path")


def _port_columns(port: dict[str, Any]) -> list[dict[str, Any]]:
    schema = port.get("dataFormat", {}).get("analyticalDataSchemaDefinition", {})
    columns: list[dict[str, Any]] = schema.get("columnDefinitions", [])
    return columns


def _column_paths(columns: list[dict[str, Any]], prefix: str = "") -> Iterator[str]:
    for column in columns:
        yield prefix + column["name"]
        yield from _column_paths(column.get("columnDefinitions", []), f"{prefix}{column['name']}.")


def _check_output(settings: dict[str, Any], port: dict[str, Any], loc: Loc, report: _Report) -> None:
    allowed = RDF_FORMATS if port["type"] == "linkeddata" else TABULAR_FORMATS
    if settings.get("format", allowed[0]) not in allowed:
        report.add(
            (*loc, "format"),
            f"format {settings['format']!r} does not suit a {port['type']} port; expected one of {', '.join(allowed)}",
        )
    known = list(_column_paths(_port_columns(port)))
    for column in settings.get("classification", {}):
        if column not in known:
            expected = f"expected one of: {', '.join(known)}" if known else "the port defines no columns"
            report.add((*loc, "classification", column), f"unknown column {column!r} in {port['name']!r}; {expected}")
    _check_merge(settings.get("merge", {}), port, known, (*loc, "merge"), report)
    for index, rule in enumerate(settings.get("quality", [])):
        for column in [rule.get("column"), *rule.get("columns", [])]:
            if column is not None and column not in known:
                report.add(
                    (*loc, "quality", index),
                    f"rule {rule.get('rule')}: unknown column {column!r}; expected one of: {', '.join(known)}",
                )


def _check_merge(merge: dict[str, Any], port: dict[str, Any], known: list[str], loc: Loc, report: _Report) -> None:
    if merge.get("mode") != "incremental":
        return
    schema = port.get("dataFormat", {}).get("analyticalDataSchemaDefinition", {})
    if not schema.get("primaryKey"):
        report.add((*loc, "mode"), f"incremental versions need a primaryKey on output port {port['name']!r}")
    modified = merge.get("modifiedColumn")
    if modified is not None and modified not in known:
        report.add((*loc, "modifiedColumn"), f"unknown column {modified!r}; expected one of: {', '.join(known)}")
    deleted = merge.get("deletedColumn")
    if deleted is not None and deleted in known:
        report.add(
            (*loc, "deletedColumn"), f"{deleted!r} is a column of the port; a tombstone flag is an upload column"
        )


_LINKED_DATA_KEYS = ("mapping", "shapes", "sources", "context", "graphStore")


def _check_linked_data(
    settings: dict[str, Any],
    port: dict[str, Any],
    loc: Loc,
    inputs: dict[str, dict[str, Any]],
    report: _Report,
    base_dir: Path | None,
) -> None:
    """A linkeddata port's mapping, shapes, context and sources; other ports take none of them."""
    given = [key for key in _LINKED_DATA_KEYS if key in settings]
    if port["type"] != "linkeddata":
        for key in given:
            report.add((*loc, key), f"only a linkeddata port has {key!r}; {port['name']!r} is {port['type']}")
        return
    if not given:
        return
    for key in ("mapping", "sources"):
        if key not in settings:
            report.add((*loc, key), f"a linkeddata port needs {key!r} (see docs/linked-data.md)")
    if "mapping" in settings:
        _check_file(settings["mapping"], (*loc, "mapping"), "mapping file", report, base_dir)
    for index, shapes in enumerate(settings.get("shapes", [])):
        _check_file(shapes, (*loc, "shapes", index), "shapes file", report, base_dir)
    if "context" in settings:
        _check_file(settings["context"], (*loc, "context"), "JSON-LD context file", report, base_dir)
    refs = {name: port for name, port in inputs.items() if "outputPortRef" in port}
    for source, input_port in settings.get("sources", {}).items():
        if input_port not in refs:
            report.add(
                (*loc, "sources", source),
                f"no input port {input_port!r} with an outputPortRef in spec.inputPorts; "
                f"expected one of: {_names(refs)}",
            )

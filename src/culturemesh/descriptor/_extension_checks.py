"""Cross-field checks of the ``culturemesh`` section against the ``spec`` it extends: inputs and
outputs name existing ports, functions and columns; contracts, CSV encodings, merge settings and
linked-data settings fit their port; files the product refers to lie inside its folder."""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from culturemesh.descriptor._extension import DEFAULT_FUNCTION, RDF_FORMATS, TABULAR_FORMATS
from culturemesh.descriptor._issues import Loc, Report
from culturemesh.descriptor._spec_checks import check_columns


def check_extension(data: dict[str, Any], report: Report, base_dir: Path | None) -> None:
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
    report: Report,
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
    contract: dict[str, Any] | None, loc: Loc, ports: dict[str, Any], report: Report, base_dir: Path | None
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
        check_columns(contract["columnDefinitions"], (*loc, "columnDefinitions"), report)
    if "jsonSchema" in contract:
        _check_file(contract["jsonSchema"], (*loc, "jsonSchema"), "JSON Schema file", report, base_dir)


def _check_file(relative: str, loc: Loc, what: str, report: Report, base_dir: Path | None) -> None:
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


def _check_output(settings: dict[str, Any], port: dict[str, Any], loc: Loc, report: Report) -> None:
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


def _check_merge(merge: dict[str, Any], port: dict[str, Any], known: list[str], loc: Loc, report: Report) -> None:
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
    report: Report,
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

"""YAML with positions: a descriptor's text parsed into plain values, noting the line each YAML
path starts on, and reporting syntax errors, duplicate keys and self-referring aliases."""

from __future__ import annotations

from typing import Any

import yaml

from culturemesh.descriptor._issues import Loc, Report

_SCALAR_TAGS = {"tag:yaml.org,2002:" + name for name in ("null", "bool", "int", "float")}


def parse_yaml(text: str, report: Report) -> Any:
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


def _convert(node: yaml.Node, loc: Loc, report: Report, loader: yaml.SafeLoader, active: set[int]) -> Any:
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
    node: yaml.MappingNode, loc: Loc, report: Report, loader: yaml.SafeLoader, active: set[int]
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

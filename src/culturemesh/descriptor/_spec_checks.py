"""Cross-field checks of the legacy ``spec`` that the JSON Schema cannot express: the cron
schedule, unique port and column names, column types, Nested columns and primary keys."""

from __future__ import annotations

from typing import Any

from culturemesh.coltypes import parse_type
from culturemesh.descriptor._issues import Loc, Report, yaml_path


def check_schedule(schedule: str, report: Report) -> None:
    from croniter import croniter

    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        report.add(
            ("spec", "transformer", "schedule"),
            f"invalid cron schedule {schedule!r}; expected 5 fields 'minute hour day-of-month month "
            "day-of-week' in UTC, e.g. '0 3 * * *' for every day at 03:00",
        )


def check_unique(items: list[dict[str, Any]], loc: Loc, what: str, report: Report) -> None:
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


def check_analytical_schema(port: dict[str, Any], loc: Loc, report: Report) -> None:
    schema = port.get("dataFormat", {}).get("analyticalDataSchemaDefinition")
    if schema is None:
        return
    loc = (*loc, "dataFormat", "analyticalDataSchemaDefinition")
    columns = schema.get("columnDefinitions", [])
    check_columns(columns, (*loc, "columnDefinitions"), report)
    keys = schema.get("primaryKey", [])
    for index, key in enumerate([keys] if isinstance(keys, str) else keys):
        if key not in {column["name"] for column in columns}:
            key_loc = (*loc, "primaryKey") if isinstance(keys, str) else (*loc, "primaryKey", index)
            report.add(key_loc, f"primary key column {key!r} is not defined; {_known_columns(columns)}")


def _known_columns(columns: list[dict[str, Any]]) -> str:
    names = [column["name"] for column in columns]
    return f"expected one of the port's columns: {', '.join(names)}" if names else "the port defines no columns"


def check_columns(columns: list[dict[str, Any]], loc: Loc, report: Report) -> None:
    check_unique(columns, loc, "column", report)
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
            check_columns(children, (*column_loc, "columnDefinitions"), report)

"""Quality rules an output version must pass before it is published.

Declared per port in ``culturemesh.outputs.<port>.quality``::

    - {rule: not_null, column: event_id}
    - {rule: unique, columns: [ticket_id]}
    - {rule: range, column: price, min: 0, max: 500}
    - {rule: accepted_values, column: channel, values: [online, box-office, uitpas]}
    - {rule: references, column: event_id, product: events/uitdatabank, port: events, key: id}

Each rule is one vectorized pass over the version's columns. A failure publishes nothing: the
product emits ``be.culturemesh.dataproduct.failed`` with a report of every failed rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

Lookup = Callable[[str, str, str], pa.Array]  # (product, port, key column) -> the referenced keys


@dataclass(frozen=True)
class QualityFailure:
    rule: str
    columns: tuple[str, ...]
    failing_rows: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "columns": list(self.columns),
            "failingRows": self.failing_rows,
            "message": self.message,
        }


def columns_needed(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    needed: list[str] = []
    for rule in rules:
        for column in [rule.get("column"), *rule.get("columns", [])]:
            if column and column not in needed:
                needed.append(column)
    return needed


def _count(mask: pa.Array) -> int:
    return int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)


def _literal(value: Any, like: pa.DataType) -> pa.Scalar:
    """A rule's bound as a scalar of the column's type (decimals exactly, times from their text)."""
    if pa.types.is_decimal(like):
        return pa.scalar(Decimal(str(value)), type=like)
    if pa.types.is_timestamp(like) or pa.types.is_date(like):
        return pa.scalar(str(value)).cast(like)
    return pa.scalar(value).cast(like)


def _check(rule: Mapping[str, Any], table: pa.Table, lookup: Lookup | None) -> QualityFailure | None:
    kind = rule["rule"]
    if kind == "unique":
        names = list(rule["columns"])
        counts = table.select(names).group_by(names).aggregate([([], "count_all")])
        duplicated = counts.filter(pc.greater(counts.column("count_all"), 1))
        failing = int(pc.sum(duplicated.column("count_all")).as_py() or 0)
        return (
            QualityFailure(kind, tuple(names), failing, f"{duplicated.num_rows} key(s) occur more than once")
            if failing
            else None
        )
    column = table.column(rule["column"])
    name = (rule["column"],)
    if kind == "not_null":
        failing = column.null_count
        return QualityFailure(kind, name, failing, f"{failing} missing value(s)") if failing else None
    if kind == "range":
        bad = pa.array([False] * len(column), pa.bool_())
        if "min" in rule:
            bad = pc.or_(bad, pc.fill_null(pc.less(column, _literal(rule["min"], column.type)), False))
        if "max" in rule:
            bad = pc.or_(bad, pc.fill_null(pc.greater(column, _literal(rule["max"], column.type)), False))
        failing = _count(bad)
        bounds = f"[{rule.get('min', '-inf')}, {rule.get('max', 'inf')}]"
        return QualityFailure(kind, name, failing, f"{failing} value(s) outside {bounds}") if failing else None
    if kind == "accepted_values":
        allowed = pa.array(rule["values"]).cast(column.type)
        failing = _count(pc.invert(pc.is_in(column, value_set=allowed, skip_nulls=True)))
        failing -= column.null_count
        return (
            QualityFailure(kind, name, failing, f"{failing} value(s) not in {rule['values']}") if failing > 0 else None
        )
    if kind == "references":
        if lookup is None:
            return QualityFailure(kind, name, len(column), "no way to read the referenced product here")
        keys = lookup(rule["product"], rule["port"], rule["key"])
        failing = (
            _count(pc.invert(pc.is_in(column, value_set=keys.cast(column.type), skip_nulls=True))) - column.null_count
        )
        where = f"{rule['product']} port {rule['port']!r} column {rule['key']!r}"
        return QualityFailure(kind, name, failing, f"{failing} value(s) not found in {where}") if failing > 0 else None
    return QualityFailure(kind, name, 0, f"unknown rule {kind!r}")


def check(table: pa.Table, rules: Sequence[Mapping[str, Any]], lookup: Lookup | None = None) -> list[QualityFailure]:
    """Every failed rule (an empty list means the version may be published)."""
    return [failure for rule in rules if (failure := _check(rule, table, lookup)) is not None]

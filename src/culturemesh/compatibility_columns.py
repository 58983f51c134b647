"""Which column changes break: columns removed, added, retyped, made nullable or required, reordered.

The same columns are compared for two audiences: the declared columns of an output port for its
**readers**, and the columns of an upload contract for its **providers**, where a file without a
header is read by position and so also breaks when columns move.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from culturemesh.coltypes import parse_type
from culturemesh.compatibility_change import DOC, Change, Field, as_text, field_changes
from culturemesh.compatibility_coltypes import Audience, Fit, type_fit
from culturemesh.descriptor import ColumnDefinition

_TYPE_KINDS = {Fit.SAME: "type respelled", Fit.WIDER: "type widened", Fit.NARROWER: "type narrowed"}
_COLUMN = (
    Field("columnDescription", "description", "description changed", False, DOC),
    Field("default", "default", "default changed", False, "a default does not change which values are valid"),
)


def column_changes(
    old: Sequence[ColumnDefinition], new: Sequence[ColumnDefinition], path: str, audience: Audience, positional: bool
) -> Iterator[Change]:
    before, after = {c.name: c for c in old}, {c.name: c for c in new}
    for column in old:
        if column.name not in after:
            yield _column_removed(column, f"{path}.columns[{column.name}]", audience, positional)
    for column in new:
        here = f"{path}.columns[{column.name}]"
        if column.name not in before:
            yield _column_added(column, here, audience, positional)
        else:
            yield from _column(before[column.name], column, here, audience)
    kept_old, kept_new = [n for n in before if n in after], [n for n in after if n in before]
    if kept_old != kept_new:
        why = "files without a header are read by position" if positional else "columns are found by name"
        yield Change(f"{path}.columns", "columns reordered", ", ".join(kept_old), ", ".join(kept_new), positional, why)


def _column_removed(column: ColumnDefinition, path: str, audience: Audience, positional: bool) -> Change:
    if audience is Audience.READERS:
        why = "readers of it break (a rename shows as a removed and an added column)"
    else:
        why = "files without a header are read by position" if positional else "uploads that still carry it pass"
    return Change(path, "column removed", column.type, None, audience is Audience.READERS or positional, why)


def _column_added(column: ColumnDefinition, path: str, audience: Audience, positional: bool) -> Change:
    shown = column.type if not column.nullable or "Nullable" in column.type else f"Nullable({column.type})"
    if audience is Audience.READERS:
        return Change(path, "column added", None, shown, False, "readers that do not know it are unaffected")
    why = "uploads whose header lacks it are rejected (every contract column must be in the header)"
    if positional:
        why = "files without a header are read by position: the columns after it shift"
    if not column.nullable:
        why += "; it is required, so every row needs a value"
    return Change(path, "column added", None, shown, True, why)


def _column(old: ColumnDefinition, new: ColumnDefinition, path: str, audience: Audience) -> Iterator[Change]:
    before, after = parse_type(old.type), parse_type(new.type)
    if dataclasses.replace(before, nullable=False) != dataclasses.replace(after, nullable=False):
        verdict = type_fit(before, after, audience)
        kind = _TYPE_KINDS.get(verdict.fit, "type changed")
        yield Change(f"{path}.type", kind, old.type, new.type, verdict.breaking, verdict.reason)
    if old.nullable != new.nullable:
        yield _nullability(new.nullable, f"{path}.nullable", audience)
    yield from field_changes(old, new, path, _COLUMN)
    yield from column_changes(old.columns, new.columns, path, audience, positional=False)


def _nullability(nullable: bool, path: str, audience: Audience) -> Change:
    values = as_text(not nullable), as_text(nullable)
    if audience is Audience.READERS:
        if nullable:
            return Change(path, "column became nullable", *values, True, "readers may not expect nulls in it")
        return Change(path, "column became required", *values, False, "readers never see a null in it")
    if nullable:
        return Change(path, "column became nullable", *values, False, "uploads may now leave it empty")
    return Change(path, "column became required", *values, True, "uploads with an empty value in it are rejected")

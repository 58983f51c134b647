"""Which changes between two versions of a descriptor break the people who depend on it.

:func:`compare` walks an old and a new :class:`~culturemesh.descriptor.Descriptor` and returns one
:class:`Change` per difference, marked breaking or not, with the reason. There are two audiences:

* **readers** of an output port break when a port or a column disappears (a rename is a removed
  plus an added column), when a column's type narrows or changes kind, when a column may now be
  null, when the primary key, the engine, the file format or the product's name changes, or when a
  principal loses a column it could read (a new classification label, a grant taken away);
* **providers** uploading to an input port break when a file the old contract accepted would be
  rejected: a new contract column (even a nullable one: every contract column must be in the CSV
  header), a narrowed type, a column that becomes required, other CSV options, a stricter
  invalid-row policy.

Widened types, new ports, new output columns, new grants, descriptions and ownership are not
breaking. What cannot be proven compatible is reported as breaking.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from culturemesh.coltypes import ClickHouseType, parse_type
from culturemesh.descriptor import (
    ColumnDefinition,
    Contract,
    Descriptor,
    OutputPort,
    OutputSettings,
    UploadInput,
)
from culturemesh.errors import CultureMeshError

__all__ = ["Audience", "BreakingChange", "Change", "Fit", "Verdict", "compare", "summarize", "type_fit"]

CANNOT_PROVE = "cannot prove compatible"


@dataclass(frozen=True)
class Change:
    """One difference: where (``spec.outputPorts[sales].columns[price].type``), what, and its verdict."""

    path: str
    kind: str
    before: str | None
    after: str | None
    breaking: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        marker = "BREAKING" if self.breaking else "ok"
        values = "" if self.before is None and self.after is None else f" ({_show(self.before)} -> {_show(self.after)})"
        return f"{marker:<10}{self.path}: {self.kind}{values}: {self.reason}"


def _show(value: str | None, limit: int = 60) -> str:
    if value is None:
        return "none"
    return value if len(value) <= limit else value[: limit - 3] + "..."


class BreakingChange(CultureMeshError):
    """The new descriptor breaks readers or providers of the old one; ``changes`` lists the breaks."""

    exit_code = 10

    def __init__(self, changes: Sequence[Change]) -> None:
        self.changes = [change for change in changes if change.breaking]
        first = self.changes[0].path if self.changes else "?"
        super().__init__(
            f"{len(self.changes)} breaking change(s), the first at {first}; keep the old port or column "
            "next to the new one until its readers and providers have moved, or publish a new product"
        )


def summarize(changes: Sequence[Change]) -> str:
    if not changes:
        return "no changes"
    return f"{len(changes)} change(s), {sum(change.breaking for change in changes)} breaking"


def compare(old: Descriptor, new: Descriptor) -> list[Change]:
    """Every difference from ``old`` to ``new`` that a reader or a provider could notice."""
    return [*_identity(old, new), *_outputs(old, new), *_inputs(old, new), *_internals(old, new)]


# --- types --------------------------------------------------------------------------------------


class Audience(StrEnum):
    READERS = "readers"  # consumers of an output port
    PROVIDERS = "providers"  # uploaders to an input port


class Fit(IntEnum):
    """How a new type relates to an old one, from harmless to unknown; NARROWER and up break."""

    SAME = 0
    WIDER = 1
    NARROWER = 2
    OTHER = 3
    UNKNOWN = 4


@dataclass(frozen=True)
class Verdict:
    fit: Fit
    reason: str = ""

    @property
    def breaking(self) -> bool:
        return self.fit >= Fit.NARROWER


_SAME = Verdict(Fit.SAME, "the same values")
_TYPE_KINDS = {Fit.SAME: "type respelled", Fit.WIDER: "type widened", Fit.NARROWER: "type narrowed"}
_INT_BITS = {f"{u}Int{bits}": (u == "", bits) for u in ("", "U") for bits in (8, 16, 32, 64, 128, 256)}
_MANTISSA = {"Float32": 24, "Float64": 53}
_DECIMAL_PRECISION = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}
_TEXTUAL = {"String", "FixedString", "UUID", "Enum8", "Enum16"}  # all read as Arrow strings


def _worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=lambda verdict: verdict.fit, default=_SAME)


def _bare(t: ClickHouseType, top: bool = True) -> ClickHouseType:
    """``t`` without LowCardinality anywhere, and without its own (top-level) nullability."""
    args = tuple(_bare(arg, top=False) if isinstance(arg, ClickHouseType) else arg for arg in t.args)
    return dataclasses.replace(t, args=args, low_cardinality=False, nullable=t.nullable and not top)


def type_fit(old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    """How ``new`` relates to ``old`` for ``audience``; the top-level nullability is the caller's."""
    if _bare(old) == _bare(new):
        return _SAME
    if old.name == new.name and old.name in ("Array", "Map", "Tuple", "Nested"):
        return _container_fit(old, new, audience)
    family = _family(old.name)
    if family == _family(new.name) and family in _FAMILY_FITS:
        return _FAMILY_FITS[family](old, new)
    return _cross_fit(old, new, audience)


def _family(name: str) -> str:
    if name in _INT_BITS:
        return "int"
    for prefix in ("Float", "Decimal", "DateTime", "Date", "Enum"):
        if name.startswith(prefix):
            return prefix
    return "String" if name == "FixedString" else name


def _ordered(wider: bool, old: ClickHouseType, new: ClickHouseType, narrower: str) -> Verdict:
    return Verdict(Fit.WIDER, f"every {old} value fits in {new}") if wider else Verdict(Fit.NARROWER, narrower)


def _int_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    (signed, bits), (new_signed, new_bits) = _INT_BITS[old.name], _INT_BITS[new.name]
    wider = new_bits >= bits if signed == new_signed else new_signed and new_bits > bits
    return _ordered(wider, old, new, f"not every {old} value fits in {new}")


def _float_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    return _ordered(old.name == "Float32", old, new, f"{new} loses precision of {old}")


def _decimal(t: ClickHouseType) -> tuple[int, int]:
    ints = [arg for arg in t.args if isinstance(arg, int)]
    if t.name == "Decimal":
        return ints[0], ints[1] if len(ints) > 1 else 0
    return _DECIMAL_PRECISION[t.name], ints[0]


def _decimal_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    (precision, scale), (new_precision, new_scale) = _decimal(old), _decimal(new)
    if scale != new_scale:
        fit = Fit.NARROWER if new_scale < scale else Fit.OTHER
        return Verdict(fit, f"the scale changes from {scale} to {new_scale}: values are rounded or read differently")
    if precision == new_precision:
        return _SAME
    return _ordered(
        new_precision > precision, old, new, f"precision {new_precision} holds fewer digits than {precision}"
    )


def _date_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    return _ordered(new.name == "Date32", old, new, f"{new} holds a smaller range of dates than {old}")


def _datetime_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    def parts(t: ClickHouseType) -> tuple[int, str]:
        precision = next((arg for arg in t.args if isinstance(arg, int)), 0)
        return precision, next((arg for arg in t.args if isinstance(arg, str)), "UTC")

    (precision, zone), (new_precision, new_zone) = parts(old), parts(new)
    if zone != new_zone:
        return Verdict(Fit.OTHER, f"the time zone changes from {zone} to {new_zone}: local times read differently")
    if old.name == "DateTime64" and new.name == "DateTime":
        return Verdict(Fit.NARROWER, f"DateTime holds a smaller range and no fractions of a second of {old}")
    if old.name == new.name and precision == new_precision:
        return _SAME
    return _ordered(new_precision >= precision, old, new, f"{new} drops digits of a second that {old} keeps")


def _string_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    if new.name == "String":
        return _ordered(True, old, new, "")
    if old.name == "String":
        return Verdict(Fit.NARROWER, f"not every String fits in {new}")
    lengths = [next(arg for arg in t.args if isinstance(arg, int)) for t in (old, new)]
    return _ordered(lengths[1] >= lengths[0], old, new, f"{new} is shorter than {old}")


def _enum_fit(old: ClickHouseType, new: ClickHouseType) -> Verdict:
    before, after = dict(old.enum_values), dict(new.enum_values)
    removed = [label for label in before if label not in after]
    if removed:
        return Verdict(Fit.NARROWER, f"labels removed: {', '.join(map(repr, removed))}")
    moved = [f"{label!r} {before[label]} -> {after[label]}" for label in before if before[label] != after[label]]
    if moved:
        return Verdict(Fit.OTHER, f"labels change their number: {', '.join(moved)}")
    added = [label for label in after if label not in before]
    return Verdict(Fit.WIDER, f"labels added: {', '.join(map(repr, added))}" if added else "the same labels")


_FAMILY_FITS = {
    "int": _int_fit,
    "Float": _float_fit,
    "Decimal": _decimal_fit,
    "Date": _date_fit,
    "DateTime": _datetime_fit,
    "String": _string_fit,
    "Enum": _enum_fit,
}


def _cross_fit(old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    if new.name == "String" and old.name in _TEXTUAL:
        return Verdict(Fit.WIDER, f"every {old} value is a String and reads as the same text")
    if new.name == "String" and audience is Audience.PROVIDERS:
        return Verdict(Fit.WIDER, f"every value uploaded as {old} is valid String text")
    if audience is Audience.PROVIDERS and old.name in _INT_BITS and new.name in _MANTISSA:
        signed, bits = _INT_BITS[old.name]
        exact = bits - signed <= _MANTISSA[new.name]
        return _ordered(exact, old, new, f"not every {old} value is exact in {new}")
    if old.name == "String":
        return Verdict(Fit.NARROWER, f"not every String is a valid {new}")
    if old.name == new.name:
        return Verdict(Fit.UNKNOWN, f"{CANNOT_PROVE}: {old} and {new}")
    return Verdict(Fit.OTHER, f"{old} and {new} are different kinds of value")


def _container_fit(old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    if old.field_names != new.field_names or len(old.type_args) != len(new.type_args):
        return Verdict(Fit.OTHER, f"the fields of {old.name} change: {old} -> {new}")
    labels = {"Array": ("elements",), "Map": ("keys", "values")}.get(old.name)
    names = labels or old.field_names or tuple(f"field {i}" for i in range(1, len(old.type_args) + 1))
    pairs = zip(names, old.type_args, new.type_args, strict=True)
    return _worst(_inner_fit(name, before, after, audience) for name, before, after in pairs)


def _inner_fit(what: str, old: ClickHouseType, new: ClickHouseType, audience: Audience) -> Verdict:
    nulls = _SAME
    if old.nullable != new.nullable:
        readers = audience is Audience.READERS
        if new.nullable:
            nulls = Verdict(Fit.OTHER if readers else Fit.WIDER, f"{what} may now be null")
        else:
            nulls = Verdict(Fit.WIDER if readers else Fit.NARROWER, f"{what} may no longer be null")
    inner = type_fit(old, new, audience)
    return _worst([nulls, dataclasses.replace(inner, reason=f"{what}: {inner.reason}")])


# --- values compared as a whole -----------------------------------------------------------------

_DOC = "documentation only"
_BY_NAME = "consumers find the product by domain and name"
_CSV = "files written for the old setting no longer read the same"
_WHEN = "when, not what, readers get"


@dataclass(frozen=True)
class _Field:
    """A value compared as a whole: its YAML key, its attribute in the model, and its verdict."""

    key: str
    attribute: str
    kind: str
    breaking: bool
    reason: str


def _fields(old: Any, new: Any, path: str, fields: Iterable[_Field]) -> Iterator[Change]:
    for field in fields:
        before, after = _get(old, field.attribute), _get(new, field.attribute)
        if before != after:
            where = f"{path}.{field.key}" if path else field.key
            yield Change(where, field.kind, _text(before), _text(after), field.breaking, field.reason)


def _get(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(str(part) for part in dataclasses.astuple(value) if part is not None)
    return json.dumps(value, default=str)


_IDENTITY = (
    _Field("metadata.name", "name", "name changed", True, _BY_NAME),
    _Field("spec.domain", "domain", "domain changed", True, _BY_NAME),
    _Field("metadata.namespace", "namespace", "namespace changed", False, "where it runs, not what it serves"),
    _Field("spec.summary", "summary", "summary changed", False, _DOC),
    _Field("spec.dataProductOwner", "owner", "owner changed", False, _DOC),
    _Field("spec.responsibleTechnicalTeam", "team", "team changed", False, _DOC),
    _Field("spec.termsOfUse", "terms_of_use", "terms of use changed", False, _DOC),
    _Field("spec.transformer.schedule", "schedule", "schedule changed", False, _WHEN),
)
_PORT = (
    _Field("type", "type", "port type changed", True, "readers expect the old kind of data"),
    _Field("description", "description", "description changed", False, _DOC),
    _Field("dataFormat.description", "data_format.description", "description changed", False, _DOC),
    _Field("dataFormat.contentDescription", "data_format.content_description", "description changed", False, _DOC),
    _Field("dataFormat.entityExample", "data_format.entity_example", "description changed", False, _DOC),
    _Field("dataFormat.linkedDataSchemaDefinition", "data_format.linked_data_schema_definition",
           "linked-data schema changed", True, f"{CANNOT_PROVE}: linked-data schemas are not analysed"),
)  # fmt: skip
_SCHEMA = (
    _Field("primaryKey", "analytical_schema.primary_key", "primary key changed", True,
           "readers that join or deduplicate on the key break"),
    _Field("engine", "analytical_schema.engine", "engine changed", True,
           f"{CANNOT_PROVE}: another engine may merge or deduplicate rows differently"),
)  # fmt: skip
_SETTINGS = (
    _Field("format", "format", "format changed", True, "readers expect the old file format"),
    _Field("updateEvery", "update_every", "update interval changed", False, _WHEN),
)
_UPLOAD = (
    _Field("upload.csv.delimiter", "csv.delimiter", "CSV delimiter changed", True, _CSV),
    _Field("upload.csv.quoteChar", "csv.quote_char", "CSV quote character changed", True, _CSV),
    _Field("upload.csv.encoding", "csv.encoding", "CSV encoding changed", True, _CSV),
    _Field("upload.csv.header", "csv.header", "CSV header setting changed", True, _CSV),
)
_COLUMN = (
    _Field("columnDescription", "description", "description changed", False, _DOC),
    _Field("default", "default", "default changed", False, "a default does not change which values are valid"),
)


def _identity(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    yield from _fields(old, new, "", _IDENTITY)


# --- columns ------------------------------------------------------------------------------------


def _columns(
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
    yield from _fields(old, new, path, _COLUMN)
    yield from _columns(old.columns, new.columns, path, audience, positional=False)


def _nullability(nullable: bool, path: str, audience: Audience) -> Change:
    values = _text(not nullable), _text(nullable)
    if audience is Audience.READERS:
        if nullable:
            return Change(path, "column became nullable", *values, True, "readers may not expect nulls in it")
        return Change(path, "column became required", *values, False, "readers never see a null in it")
    if nullable:
        return Change(path, "column became nullable", *values, False, "uploads may now leave it empty")
    return Change(path, "column became required", *values, True, "uploads with an empty value in it are rejected")


# --- output ports -------------------------------------------------------------------------------


def _outputs(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    before, after = {p.name: p for p in old.output_ports}, {p.name: p for p in new.output_ports}
    for name, port in before.items():
        if name not in after:
            yield Change(f"spec.outputPorts[{name}]", "output port removed", port.type, None, True, "readers break")
    for name, port in after.items():
        path = f"spec.outputPorts[{name}]"
        if name not in before:
            yield Change(path, "output port added", None, port.type, False, "a new port breaks no reader")
            continue
        yield from _output_port(before[name], port, path)
        yield from _output_settings(old.output_settings(name), new.output_settings(name), before[name], port)


def _output_port(old: OutputPort, new: OutputPort, path: str) -> Iterator[Change]:
    schema, new_schema = old.analytical_schema, new.analytical_schema
    if schema is not None and new_schema is None:
        why = "readers lose the declared columns"
        yield Change(f"{path}.columns", "columns removed", "declared", None, True, f"{CANNOT_PROVE}: {why}")
    yield from _fields(old, new, path, _PORT)
    yield from _columns(old.columns, new.columns, path, Audience.READERS, positional=False)
    if schema is not None and new_schema is not None:
        yield from _fields(old, new, path, _SCHEMA)


# --- classification and access ------------------------------------------------------------------

_EVERYONE = "every principal"


@dataclass(frozen=True)
class _Grant:
    """What one principal may read of a port: the classification labels, or every label."""

    labels: frozenset[str] = frozenset()
    every_label: bool = False

    def reads(self, label: str) -> bool:
        return not label or self.every_label or label in self.labels

    def covers(self, other: _Grant) -> bool:
        return self.every_label or (not other.every_label and other.labels <= self.labels)

    def __str__(self) -> str:
        return "all" if self.every_label else "[" + ", ".join(sorted(self.labels)) + "]"


def _grants(settings: OutputSettings) -> dict[str, _Grant]:
    """Each principal's grant; a port that declares no access lets everyone read unclassified columns."""
    if not settings.access:
        return {_EVERYONE: _Grant()}
    return {
        principal: _Grant(every_label=True) if labels == "all" else _Grant(frozenset(labels))
        for principal, labels in settings.access.items()
    }


def _output_settings(
    old: OutputSettings, new: OutputSettings, port: OutputPort, new_port: OutputPort
) -> Iterator[Change]:
    path = f"culturemesh.outputs[{port.name}]"
    yield from _fields(old, new, path, _SETTINGS)
    common = {c.name for c in port.columns} & {c.name for c in new_port.columns}
    yield from _classification(old, new, common, path)
    yield from _access(old, new, path)


def _classification(old: OutputSettings, new: OutputSettings, common: set[str], path: str) -> Iterator[Change]:
    grants = _grants(new)
    for column in sorted(common & (set(old.classification) | set(new.classification))):
        before, after = old.classification.get(column, ""), new.classification.get(column, "")
        if before == after:
            continue
        kind = "classification " + ("added" if not before else "removed" if not after else "changed")
        losers = [p for p, grant in grants.items() if grant.reads(before) and not grant.reads(after)]
        why = "every principal that could read it still can"
        if losers:
            why = f"{', '.join(losers)} can no longer read it (no grant for {after!r})"
        yield Change(f"{path}.classification[{column}]", kind, before or None, after or None, bool(losers), why)


def _access(old: OutputSettings, new: OutputSettings, path: str) -> Iterator[Change]:
    if bool(old.access) != bool(new.access):
        restricted = bool(new.access)
        kind = "access restricted" if restricted else "access opened"
        why = "principals without a grant lose the port" if restricted else "every principal reads unclassified columns"
        yield Change(f"{path}.access", kind, _access_text(old), _access_text(new), restricted, why)
    before, after = _grants(old), _grants(new)
    for principal in sorted(set(old.access) | set(new.access)):
        default = None if new.access else _Grant()
        yield from _grant_change(
            f"{path}.access[{principal}]", principal, before.get(principal), after.get(principal, default)
        )


def _grant_change(path: str, principal: str, before: _Grant | None, after: _Grant | None) -> Iterator[Change]:
    if before == after:
        return
    shown = str(before) if before else "no access", str(after) if after else "no access"
    if before is None:
        yield Change(path, "access granted", *shown, False, f"{principal} may now read the port")
    elif after is None:
        yield Change(path, "access removed", *shown, True, f"{principal} can no longer read the port")
    elif after.covers(before):
        yield Change(path, "access widened", *shown, False, f"{principal} reads at least what it could")
    else:
        lost = (
            "labels it is no longer granted" if before.every_label else ", ".join(sorted(before.labels - after.labels))
        )
        yield Change(path, "access narrowed", *shown, True, f"{principal} can no longer read columns labelled {lost}")


def _access_text(settings: OutputSettings) -> str:
    return ", ".join(f"{p}: {g}" for p, g in _grants(settings).items()) if settings.access else "open"


# --- upload inputs ------------------------------------------------------------------------------


def _inputs(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    before, after = {u.port: u for u in old.upload_inputs()}, {u.port: u for u in new.upload_inputs()}
    for name in before:
        if name not in after:
            why = "providers can no longer upload to it"
            yield Change(f"culturemesh.inputs[{name}]", "upload port removed", "upload", None, True, why)
    for name, upload in after.items():
        path = f"culturemesh.inputs[{name}]"
        if name not in before:
            yield Change(path, "upload port added", None, "upload", False, "a new port breaks no provider")
        else:
            yield from _upload(before[name], upload, path)


def _upload(old: UploadInput, new: UploadInput, path: str) -> Iterator[Change]:
    if old.formats != new.formats:
        removed = [f for f in old.formats if f not in new.formats]
        why = f"uploads as {', '.join(removed)} are rejected" if removed else "providers may upload more formats"
        formats = _text(old.formats), _text(new.formats)
        yield Change(f"{path}.upload.formats", "upload formats changed", *formats, bool(removed), why)
    yield from _fields(old, new, path, _UPLOAD)
    if old.invalid_rows != new.invalid_rows:
        stricter = new.invalid_rows == "reject"
        why = "an upload with one invalid row is rejected whole" if stricter else "invalid rows no longer reject all"
        rows = old.invalid_rows, new.invalid_rows
        yield Change(f"{path}.invalidRows", "invalid-row policy changed", *rows, stricter, why)
    yield from _contract(old.contract, new.contract, f"{path}.contract", positional=not new.csv.header)


def _contract(old: Contract | None, new: Contract | None, path: str, positional: bool) -> Iterator[Change]:
    if old is None or new is None:
        if old != new:
            added = old is None
            origins = _get(old, "origin"), _get(new, "origin")
            why = "uploads are now checked against it" if added else "uploads are no longer checked"
            yield Change(path, "contract added" if added else "contract removed", *origins, added, why)
    elif old.columns is not None and new.columns is not None:
        yield from _columns(old.columns, new.columns, path, Audience.PROVIDERS, positional)
    elif old.json_schema_path is not None and new.json_schema_path is not None:
        yield from _json_schema(old.json_schema_path, new.json_schema_path, f"{path}.jsonSchema")
    else:
        why = f"{CANNOT_PROVE}: columns and a JSON Schema cannot be compared"
        yield Change(path, "contract kind changed", old.origin, new.origin, True, why)


def _json_schema(old: Path, new: Path, path: str) -> Iterator[Change]:
    """JSON Schema contracts are compared as parsed JSON: identical, or not provably compatible."""
    before, after = _read_json(old), _read_json(new)
    if before is None or after is None:
        why = f"{CANNOT_PROVE}: cannot read {old if before is None else new} as JSON"
        yield Change(path, "JSON Schema unreadable", str(old), str(new), True, why)
    elif before != after:
        why = f"{CANNOT_PROVE}: changes inside a JSON Schema are not analysed"
        yield Change(path, "JSON Schema changed", str(old), str(new), True, why)
    elif old.name != new.name:
        yield Change(path, "JSON Schema moved", old.name, new.name, False, "the same schema in another file")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --- the product's own business -----------------------------------------------------------------


def _internals(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    """Its sources (spec.inputPorts) and functions change no port; the ports are compared above."""
    pairs: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = [
        ("spec.inputPorts", {p.name: p for p in old.input_ports}, {p.name: p for p in new.input_ports}),
        ("culturemesh.functions", old.functions, new.functions),
    ]
    for section, before, after in pairs:
        for name in [*before, *(n for n in after if n not in before)]:
            if before.get(name) != after.get(name):
                kind = "added" if name not in before else "removed" if name not in after else "changed"
                why = "the product's own sources and code; its ports are compared on their own"
                yield Change(f"{section}[{name}]", f"{section.split('.')[-1]} entry {kind}", None, None, False, why)

"""Record contracts checked column-wise over Arrow record batches.

A contract is a list of typed columns (the real platform's ClickHouse column definitions). An
upload arrives as batches of strings; :class:`ColumnChecker` casts each column to its type in one
vectorized step, and only when that step fails finds the offending rows with vectorized pattern
masks (per-row Python is the last resort, for values a mask lets through but a cast refuses, and
for nested types given as JSON text).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from culturemesh.localtime import to_utc_seconds

MAX_EXCERPT = 40
MAX_VALUE_BYTES = 1 << 20
REDACTED = "<redacted>"

_INT = r"^\s*[+-]?\d+\s*$"
_FLOAT = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(?i:nan|inf|infinity)\s*$"
_DECIMAL = r"^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$"
_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DATETIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$"
_ZONED = r"(Z|[+-]\d{2}:?\d{2})$"


@dataclass(frozen=True)
class Column:
    """One column of a contract: its name, Arrow type, nullability, allowed labels, classification."""

    name: str
    type: pa.DataType
    nullable: bool = True
    enum: tuple[str, ...] = ()
    classification: str = ""
    type_name: str = ""

    def rule(self) -> str:
        if self.enum:
            return f"expected one of {', '.join(self.enum)}"
        return f"expected a value of type {self.type_name or self.type}"


@dataclass(frozen=True)
class Violation:
    row: int
    column: str
    value: str
    rule: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "value": self.value, "rule": self.rule}


def excerpt(value: object, column: Column | None = None) -> str:
    """A short, safe rendering of a bad value: classified columns (pii, …) are redacted."""
    if column is not None and column.classification:
        return REDACTED
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"


@dataclass(frozen=True)
class CheckedBatch:
    batch: pa.RecordBatch  # the valid rows, typed, in contract order
    valid: pa.BooleanArray  # which input rows were kept
    violations: list[Violation]  # at most ``limit`` per column
    violation_count: int  # every violation, reported or not


def _in_or_null(values: pa.Array, allowed: list[str]) -> pa.Array:
    """True where the value is one of ``allowed`` or null (nullability is checked separately)."""
    return pc.or_(pc.is_null(values), pc.is_in(values, pa.array(allowed, pa.string())))


def _regex_mask(values: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(values, pattern), True)


_FAST_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _local_to(target: pa.TimestampType, naive: pa.Array) -> pa.Array:
    """Naive local times in the column's zone (UTC by default). A real-world record is not rejected
    over daylight saving time: an ambiguous time (the hour clocks go back) takes the earlier
    instant, a skipped one (the hour clocks go forward) the moment the clocks jumped to."""
    if naive.type.unit == "s" and target.tz not in (None, "UTC"):
        seconds = to_utc_seconds(pc.cast(naive, pa.int64()), target.tz)
        if seconds is not None:  # the zone's few transitions applied to the whole column at once
            return pc.cast(pc.cast(seconds, pa.timestamp("s", "UTC")), target)
    local = pc.assume_timezone(naive, target.tz or "UTC", ambiguous="earliest", nonexistent="latest")
    return pc.cast(pc.cast(local, pa.timestamp(target.unit, "UTC"), safe=False), target)


def _parse_datetime(values: pa.Array, target: pa.TimestampType) -> pa.Array:
    # Fast path: a column written in one plain layout parses in a single C-level strptime. strptime
    # rolls impossible dates over (Feb 30 -> Mar 2), so the parsed day must equal the written one.
    for layout in _FAST_DATETIME_FORMATS:
        naive = pc.strptime(values, format=layout, unit="s", error_is_null=True)
        if naive.null_count != values.null_count:
            continue
        written = pc.utf8_slice_codeunits(values, 8, 10)
        # Only a day after the 28th can roll over; most batches have none to compare.
        late = pc.fill_null(pc.greater(written, "28"), False)
        if not pc.any(late).as_py() or pc.all(pc.equal(pc.day(naive), pc.cast(written, pa.int64()))).as_py():
            return _local_to(target, naive)
    text = pc.replace_substring_regex(values, r"^(\d{4}-\d{2}-\d{2}) ", r"\1T")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2})$", r"\1T00:00:00")
    zoned = pc.fill_null(pc.match_substring_regex(text, _ZONED), False)
    with_zone = pc.cast(pc.if_else(zoned, text, None), pa.timestamp("ns", "UTC"))
    naive = pc.cast(pc.if_else(zoned, None, text), pa.timestamp("ns"))
    local = pc.cast(_local_to(pa.timestamp("ns", target.tz or "UTC"), naive), pa.timestamp("ns", "UTC"))
    merged = pc.if_else(zoned, with_zone, local)
    return pc.cast(pc.cast(merged, pa.timestamp(target.unit, "UTC"), safe=False), target)


def _convert(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast strings to ``target``; raises ``pa.ArrowInvalid`` (or similar) when any value does not fit."""
    if pa.types.is_string(target) or pa.types.is_large_string(target):
        return values
    if pa.types.is_boolean(target):
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(values))
        if not pc.all(_in_or_null(lowered, list(_BOOL))).as_py():
            raise pa.ArrowInvalid("not a boolean")
        truthy = pc.is_in(lowered, pa.array([text for text, value in _BOOL.items() if value]))
        return pc.if_else(pc.is_valid(values), truthy, None)
    if pa.types.is_timestamp(target):
        return _parse_datetime(values, target)
    if pa.types.is_integer(target) or pa.types.is_floating(target) or pa.types.is_decimal(target):
        try:
            return pc.cast(values, target)
        except pa.ArrowInvalid:  # surrounding blanks, or an explicit '+' (Arrow's integer cast refuses it)
            return pc.cast(pc.replace_substring_regex(pc.utf8_trim_whitespace(values), r"^\+", ""), target)
    if pa.types.is_date(target):
        return pc.cast(values, target)
    return _convert_nested(values, target)


def _convert_nested(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Nested types (Array, Map, Tuple, Nested) arrive in CSV as JSON text: parsed row by row."""
    parsed = [None if value is None else json.loads(value) for value in values.to_pylist()]
    return pa.array(parsed, type=target)


def _candidate_mask(values: pa.Array, column: Column) -> pa.Array | None:
    """A vectorized guess at which values can be cast; ``None`` when no pattern applies."""
    target = column.type
    if pa.types.is_integer(target):
        return _regex_mask(values, _INT)
    if pa.types.is_floating(target):
        return _regex_mask(values, _FLOAT)
    if pa.types.is_decimal(target):
        return _regex_mask(values, _DECIMAL)
    if pa.types.is_date(target):
        return _regex_mask(values, _DATE)
    if pa.types.is_timestamp(target):
        return _regex_mask(values, _DATETIME)
    if pa.types.is_boolean(target):
        return _in_or_null(pc.utf8_lower(pc.utf8_trim_whitespace(values)), list(_BOOL))
    return None


def _row_by_row(values: pa.Array, target: pa.DataType, mask: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The rare fallback: cast value by value to find exactly which ones fail."""
    cast: list[object] = []
    ok = mask.to_pylist()
    for index, value in enumerate(values.to_pylist()):
        if value is None or not ok[index]:
            cast.append(None)
            continue
        try:
            cast.append(_convert(pa.array([value], pa.string()), target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError, OverflowError):
            ok[index] = False
            cast.append(None)
    return pa.array(cast, type=target), pa.array(ok, pa.bool_())


def check_column(values: pa.Array, column: Column) -> tuple[pa.Array, pa.Array]:
    """The typed column and a mask of the values that fit its type (nulls count as fitting here)."""
    if not pa.types.is_string(values.type):
        # JSON uploads arrive typed: a value that already casts to the column's type is taken as
        # it is (lists and structs included); anything else is judged from its text, as for CSV.
        try:
            return pc.cast(values, column.type), _all_true(len(values))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            values = pc.cast(values, pa.string())
    everything = _all_true(len(values))
    try:
        typed, ok = _convert(values, column.type), everything
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError):
        guess = _candidate_mask(values, column)
        guess = everything if guess is None else guess
        try:
            typed, ok = _convert(pc.if_else(guess, values, None), column.type), guess
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError):
            typed, ok = _row_by_row(values, column.type, guess)
    if column.enum:
        ok = pc.and_(ok, _in_or_null(values, list(column.enum)))
    return typed, ok


def _violations(
    values: pa.Array, column: Column, bad: pa.Array, rule: str, first_row: int, limit: int
) -> Iterator[Violation]:
    rows = pc.indices_nonzero(bad).to_pylist()[:limit]
    for index in rows:
        yield Violation(first_row + index, column.name, excerpt(values[index].as_py(), column), rule)


def check_batch(batch: pa.RecordBatch, columns: Sequence[Column], first_row: int, limit: int = 1000) -> CheckedBatch:
    """Check one batch of string columns against the contract; ``first_row`` numbers its first row."""
    valid = _all_true(batch.num_rows)
    violations: list[Violation] = []
    count = 0
    arrays = []
    for column in columns:
        values = batch.column(column.name)
        if pa.types.is_string(values.type) and _may_exceed(values, MAX_VALUE_BYTES):
            oversized = pc.fill_null(pc.greater(pc.binary_length(values), MAX_VALUE_BYTES), False)
            if pc.any(oversized).as_py():
                rule = f"a value is at most {MAX_VALUE_BYTES >> 20} MiB (the platform's limit for one value)"
                violations.extend(_violations(values, column, oversized, rule, first_row, limit))
                count += pc.sum(oversized).as_py() or 0
                valid = pc.and_(valid, pc.invert(oversized))
                values = pc.if_else(oversized, None, values)
        typed, fits = check_column(values, column)
        if not column.nullable:
            missing = pc.is_null(values)
            violations.extend(
                _violations(values, column, missing, "required: the column is not nullable", first_row, limit)
            )
            valid = pc.and_(valid, pc.invert(missing))
            count += pc.sum(missing).as_py() or 0
        violations.extend(_violations(values, column, pc.invert(fits), column.rule(), first_row, limit))
        count += pc.sum(pc.invert(fits)).as_py() or 0
        valid = pc.and_(valid, fits)
        arrays.append(typed)
    schema = pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in columns])
    typed_batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
    kept = typed_batch if pc.all(valid).as_py() is not False else typed_batch.filter(valid)
    violations.sort(key=lambda v: (v.row, v.column))
    return CheckedBatch(kept, valid, violations, count)


def _may_exceed(values: pa.Array, limit: int) -> bool:
    """Whether a value is longer than ``limit`` bytes: never when all of them together are not (the
    data buffer), else by the longest value; only then is each value checked."""
    data = values.buffers()[2]
    if data is None or data.size <= limit:
        return False
    return int(pc.max(pc.binary_length(values)).as_py() or 0) > limit


def _all_true(length: int) -> pa.BooleanArray:
    return pc.is_null(pa.nulls(length, pa.bool_()))

"""Record contracts: string columns cast to their contract types, bad values reported as Violations."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from culturemesh.contract import (
    MAX_EXCERPT,
    REDACTED,
    CheckedBatch,
    Column,
    check_batch,
    check_column,
)


def _check(column: Column, values: list[str | None], first_row: int = 2, limit: int = 1000) -> CheckedBatch:
    batch = pa.record_batch({column.name: pa.array(values, pa.string())})
    return check_batch(batch, [column], first_row=first_row, limit=limit)


def _kept(result: CheckedBatch) -> list[object]:
    return result.batch.column(0).to_pylist()


def _bad_rows(result: CheckedBatch) -> list[tuple[int, str]]:
    return [(violation.row, violation.value) for violation in result.violations]


# --- integers -------------------------------------------------------------------------------

INTEGER_CASES = [
    (pa.int8(), "Int8", ["-128", "127", " 42 "], [-128, 127, 42], ["128", "-129", "300"]),
    (pa.int16(), "Int16", ["-32768", "32767"], [-32768, 32767], ["32768", "-32769"]),
    (pa.int32(), "Int32", ["-2147483648", "2147483647"], [-(2**31), 2**31 - 1], ["2147483648"]),
    (
        pa.int64(),
        "Int64",
        ["-9223372036854775808", "9223372036854775807"],
        [-(2**63), 2**63 - 1],
        ["9223372036854775808"],
    ),
    (pa.uint8(), "UInt8", ["0", "255"], [0, 255], ["256", "-1"]),
    (pa.uint16(), "UInt16", ["65535"], [65535], ["65536", "-1"]),
    (pa.uint32(), "UInt32", ["4294967295"], [4294967295], ["4294967296"]),
    (pa.uint64(), "UInt64", ["18446744073709551615"], [2**64 - 1], ["18446744073709551616", "-1"]),
]


@pytest.mark.parametrize(
    ("arrow", "name", "good", "expected", "bad"), INTEGER_CASES, ids=[case[1] for case in INTEGER_CASES]
)
def test_integer_columns_cast_in_range_values_and_report_overflow_and_junk(
    arrow: pa.DataType, name: str, good: list[str], expected: list[int], bad: list[str]
) -> None:
    column = Column("aantal", arrow, type_name=name)
    junk = ["1.5", "tien", "1e3"]
    result = _check(column, good + bad + junk, first_row=10)
    assert _kept(result) == expected
    bad_values = bad + junk
    assert _bad_rows(result) == [(10 + len(good) + offset, value) for offset, value in enumerate(bad_values)]
    assert all(violation.column == "aantal" for violation in result.violations)
    assert all(name in violation.rule for violation in result.violations)
    assert result.violation_count == len(bad_values)


def test_int8_value_300_is_a_violation_not_a_wrapped_number() -> None:
    result = _check(Column("n", pa.int8(), type_name="Int8"), ["1", "300"], first_row=1)
    (violation,) = result.violations
    assert (violation.row, violation.column, violation.value) == (2, "n", "300")
    assert "Int8" in violation.rule
    assert _kept(result) == [1]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (Column("n", pa.int8(), type_name="Int8"), 7),
        (Column("n", pa.uint16(), type_name="UInt16"), 7),
        (Column("n", pa.float64(), type_name="Float64"), 7.0),
        (Column("n", pa.decimal128(9, 2), type_name="Decimal(9, 2)"), Decimal("7.00")),
    ],
    ids=["Int8", "UInt16", "Float64", "Decimal"],
)
def test_explicit_plus_sign_is_accepted_by_every_numeric_type(column: Column, expected: object) -> None:
    result = _check(column, ["+7"])
    assert result.violations == []
    assert _kept(result) == [expected]


# --- floats and decimals --------------------------------------------------------------------


def test_float64_accepts_decimals_exponents_nan_and_infinity() -> None:
    result = _check(Column("prijs", pa.float64(), type_name="Float64"), ["1.5", "1e3", ".5", "-2E-2", "nan", "-inf"])
    values = _kept(result)
    assert values[:4] == [1.5, 1000.0, 0.5, -0.02]
    assert math.isnan(values[4])
    assert values[5] == -math.inf
    assert result.violations == []


def test_float64_reports_text_and_comma_decimals() -> None:
    result = _check(Column("prijs", pa.float64(), type_name="Float64"), ["1.5", "drie", "3,5"], first_row=1)
    assert _bad_rows(result) == [(2, "drie"), (3, "3,5")]
    assert all("Float64" in violation.rule for violation in result.violations)
    assert _kept(result) == [1.5]


def test_decimal_casts_values_that_fit_precision_and_scale() -> None:
    column = Column("bedrag", pa.decimal128(9, 2), type_name="Decimal(9, 2)")
    result = _check(column, ["1.23", "-0.5", "1234567.89", "7"])
    assert _kept(result) == [Decimal("1.23"), Decimal("-0.50"), Decimal("1234567.89"), Decimal("7.00")]
    assert result.violations == []


def test_decimal_reports_too_many_digits_too_much_scale_and_text() -> None:
    column = Column("bedrag", pa.decimal128(9, 2), type_name="Decimal(9, 2)")
    result = _check(column, ["1.00", "12345678.9", "1.234", "gratis"], first_row=1)
    assert _bad_rows(result) == [(2, "12345678.9"), (3, "1.234"), (4, "gratis")]
    assert all("Decimal(9, 2)" in violation.rule for violation in result.violations)
    assert _kept(result) == [Decimal("1.00")]


# --- booleans -------------------------------------------------------------------------------


def test_bool_accepts_every_documented_spelling_case_insensitively() -> None:
    spellings = ["true", "False", "YES", "no", "1", "0", " True "]
    result = _check(Column("actief", pa.bool_(), type_name="Bool"), spellings)
    assert _kept(result) == [True, False, True, False, True, False, True]
    assert result.violations == []


def test_bool_reports_unknown_spellings() -> None:
    result = _check(Column("actief", pa.bool_(), type_name="Bool"), ["yes", "misschien", "2"], first_row=1)
    assert _bad_rows(result) == [(2, "misschien"), (3, "2")]
    assert all("Bool" in violation.rule for violation in result.violations)
    assert _kept(result) == [True]


# --- dates and times ------------------------------------------------------------------------


def test_date_casts_real_dates_and_reports_impossible_ones() -> None:
    result = _check(
        Column("dag", pa.date32(), type_name="Date"),
        ["2026-02-28", "2024-02-29", "2026-02-30", "2026-13-01", "01/03/2026"],
        first_row=1,
    )
    assert _kept(result) == [date(2026, 2, 28), date(2024, 2, 29)]
    assert _bad_rows(result) == [(3, "2026-02-30"), (4, "2026-13-01"), (5, "01/03/2026")]
    assert all("Date" in violation.rule for violation in result.violations)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-07-01 12:00:00", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),
        ("2026-07-01T12:00:00", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),
        ("2026-07-01T12:00:00Z", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),
        ("2026-07-01T12:00:00+02:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),
        ("2026-07-01 12:00:00-05:00", datetime(2026, 7, 1, 17, 0, tzinfo=UTC)),
        ("2026-07-01", datetime(2026, 7, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_datetime_in_utc_reads_space_t_z_and_offset_forms_as_the_right_instant(text: str, utc: datetime) -> None:
    result = _check(Column("moment", pa.timestamp("s", "UTC"), type_name="DateTime"), [text])
    assert result.violations == []
    assert _kept(result) == [utc]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-07-01 12:00:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),  # CEST, UTC+2
        ("2026-01-15 12:00:00", datetime(2026, 1, 15, 11, 0, tzinfo=UTC)),  # CET, UTC+1
        ("2026-07-01T12:00:00Z", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),  # explicit zone wins
        ("2026-07-01T12:00:00+01:00", datetime(2026, 7, 1, 11, 0, tzinfo=UTC)),
    ],
)
def test_datetime_with_named_zone_reads_naive_values_as_local_time_in_that_zone(text: str, utc: datetime) -> None:
    column = Column("moment", pa.timestamp("s", "Europe/Brussels"), type_name="DateTime('Europe/Brussels')")
    result = _check(column, [text])
    assert result.violations == []
    assert result.batch.schema.field("moment").type == pa.timestamp("s", "Europe/Brussels")
    (value,) = _kept(result)
    assert value.astimezone(UTC) == utc


def test_datetime_reports_malformed_and_impossible_times() -> None:
    column = Column("moment", pa.timestamp("s", "UTC"), type_name="DateTime")
    result = _check(column, ["2026-07-01 12:00:00", "gisteren", "2026-07-01 25:00:00", "2026-02-30 10:00:00"], 1)
    assert _bad_rows(result) == [(2, "gisteren"), (3, "2026-07-01 25:00:00"), (4, "2026-02-30 10:00:00")]
    assert all("DateTime" in violation.rule for violation in result.violations)
    assert len(_kept(result)) == 1


# --- enums and nested -----------------------------------------------------------------------


def test_enum_keeps_known_labels_and_reports_others_naming_the_allowed_labels() -> None:
    column = Column("genre", pa.string(), enum=("theater", "dans"), type_name="Enum8('theater' = 1, 'dans' = 2)")
    result = _check(column, ["theater", "dans", "opera", "Theater"], first_row=1)
    assert _kept(result) == ["theater", "dans"]
    assert _bad_rows(result) == [(3, "opera"), (4, "Theater")]
    assert all("theater" in v.rule and "dans" in v.rule for v in result.violations)


def test_array_of_int32_given_as_json_text_is_parsed() -> None:
    column = Column("stoelen", pa.list_(pa.int32()), type_name="Array(Int32)")
    result = _check(column, ["[1, 2, 3]", "[]", '[1, "twee"]', "1,2", "[3000000000]"], first_row=1)
    assert _kept(result) == [[1, 2, 3], []]
    assert _bad_rows(result) == [(3, '[1, "twee"]'), (4, "1,2"), (5, "[3000000000]")]
    assert all("Array(Int32)" in violation.rule for violation in result.violations)


# --- nulls ----------------------------------------------------------------------------------

NULLABLE_COLUMNS = [
    Column("c", pa.int8(), type_name="Int8"),
    Column("c", pa.uint32(), type_name="UInt32"),
    Column("c", pa.float64(), type_name="Float64"),
    Column("c", pa.decimal128(9, 2), type_name="Decimal(9, 2)"),
    Column("c", pa.bool_(), type_name="Bool"),
    Column("c", pa.date32(), type_name="Date"),
    Column("c", pa.timestamp("s", "UTC"), type_name="DateTime"),
    Column("c", pa.string(), enum=("a", "b"), type_name="Enum8('a' = 1, 'b' = 2)"),
    Column("c", pa.list_(pa.int32()), type_name="Array(Int32)"),
]
GOOD_VALUE = {
    "Int8": "1",
    "UInt32": "1",
    "Float64": "1",
    "Decimal(9, 2)": "1",
    "Bool": "true",
    "Date": "2026-01-01",
    "DateTime": "2026-01-01 10:00:00",
    "Enum8('a' = 1, 'b' = 2)": "a",
    "Array(Int32)": "[1]",
}


@pytest.mark.parametrize("column", NULLABLE_COLUMNS, ids=[column.type_name for column in NULLABLE_COLUMNS])
def test_empty_values_in_a_nullable_column_are_kept_as_null(column: Column) -> None:
    result = _check(column, [GOOD_VALUE[column.type_name], None])
    assert result.violations == []
    assert result.violation_count == 0
    assert len(_kept(result)) == 2
    assert _kept(result)[1] is None


@pytest.mark.parametrize("column", NULLABLE_COLUMNS, ids=[column.type_name for column in NULLABLE_COLUMNS])
def test_empty_values_in_a_nullable_column_are_kept_even_beside_bad_values(column: Column) -> None:
    result = _check(column, [GOOD_VALUE[column.type_name], None, "###"], first_row=1)
    assert [violation.row for violation in result.violations] == [3]
    assert len(_kept(result)) == 2


def test_empty_value_in_non_nullable_column_breaks_the_required_rule() -> None:
    column = Column("id", pa.int64(), nullable=False, type_name="Int64")
    result = _check(column, ["1", None, "3"], first_row=5)
    (violation,) = result.violations
    assert (violation.row, violation.column, violation.value) == (6, "id", "")
    assert violation.rule.startswith("required")
    assert result.violation_count == 1
    assert _kept(result) == [1, 3]


# --- reporting ------------------------------------------------------------------------------


def test_violation_rows_are_one_based_from_first_row_across_batches() -> None:
    column = Column("n", pa.int8(), type_name="Int8")
    first = _check(column, ["x", "1"], first_row=1)
    second = _check(column, ["1", "y"], first_row=3)
    assert [violation.row for violation in first.violations + second.violations] == [1, 4]


def test_violation_count_counts_every_violation_past_the_limit() -> None:
    column = Column("n", pa.int8(), nullable=False, type_name="Int8")
    values: list[str | None] = ["bad"] * 7 + [None] * 4 + ["1"]
    result = _check(column, values, first_row=1, limit=3)
    assert result.violation_count == 11
    assert len([v for v in result.violations if "Int8" in v.rule]) == 3
    assert len([v for v in result.violations if v.rule.startswith("required")]) == 3
    assert _kept(result) == [1]


def test_violations_are_sorted_by_row_then_column() -> None:
    columns = [Column("b", pa.int8(), type_name="Int8"), Column("a", pa.int8(), type_name="Int8")]
    batch = pa.record_batch({"b": pa.array(["x", "1", "x"]), "a": pa.array(["x", "x", "1"])})
    result = check_batch(batch, columns, first_row=1)
    assert [(violation.row, violation.column) for violation in result.violations] == [
        (1, "a"),
        (1, "b"),
        (2, "a"),
        (3, "b"),
    ]
    assert result.violation_count == 4
    assert result.batch.num_rows == 0


def test_classified_column_values_are_redacted_in_violations() -> None:
    column = Column("email", pa.int64(), nullable=False, classification="pii", type_name="Int64")
    result = _check(column, ["jan@example.be", None], first_row=1)
    assert [violation.value for violation in result.violations] == [REDACTED, REDACTED]
    assert all("jan@example.be" not in str(violation.as_dict()) for violation in result.violations)


def test_long_values_are_cut_to_forty_characters_in_violations() -> None:
    long_value = "x" * 25 + "y" * 100
    result = _check(Column("n", pa.int8(), type_name="Int8"), [long_value], first_row=1)
    (violation,) = result.violations
    assert len(violation.value) == MAX_EXCERPT == 40
    assert violation.value.startswith("x" * 25 + "y" * 14)


def test_values_of_exactly_forty_characters_are_not_cut() -> None:
    value = "z" * 40
    result = _check(Column("n", pa.int8(), type_name="Int8"), [value], first_row=1)
    assert result.violations[0].value == value


def test_rule_falls_back_to_the_arrow_type_when_no_type_name_is_given() -> None:
    result = _check(Column("n", pa.int16()), ["x"], first_row=1)
    assert "int16" in result.violations[0].rule


# --- the kept batch -------------------------------------------------------------------------


def test_kept_batch_has_only_valid_rows_in_contract_order_with_contract_schema() -> None:
    columns = [
        Column("id", pa.int64(), nullable=False, type_name="Int64"),
        Column("prijs", pa.decimal128(9, 2), type_name="Decimal(9, 2)"),
        Column("dag", pa.date32(), type_name="Date"),
        Column("naam", pa.string(), type_name="String"),
    ]
    batch = pa.record_batch(
        {
            "naam": pa.array(["a", "b", "c", "d"]),
            "dag": pa.array(["2026-01-01", "2026-02-30", "2026-01-03", None]),
            "prijs": pa.array(["1.5", "2", "drie", "4"]),
            "id": pa.array(["1", "2", "3", "4"]),
            "extra": pa.array(["ignored"] * 4),
        }
    )
    result = check_batch(batch, columns, first_row=1)
    expected_schema = pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in columns])
    assert result.batch.schema == expected_schema
    assert result.batch.to_pylist() == [
        {"id": 1, "prijs": Decimal("1.50"), "dag": date(2026, 1, 1), "naam": "a"},
        {"id": 4, "prijs": Decimal("4.00"), "dag": None, "naam": "d"},
    ]
    assert result.valid.to_pylist() == [True, False, False, True]
    assert _bad_rows(result) == [(2, "2026-02-30"), (3, "drie")]


def test_all_valid_batch_keeps_every_row() -> None:
    result = _check(Column("n", pa.int32(), type_name="Int32"), ["1", "2", "3"])
    assert _kept(result) == [1, 2, 3]
    assert result.valid.to_pylist() == [True, True, True]


def test_check_column_returns_typed_values_and_a_fit_mask() -> None:
    typed, fits = check_column(pa.array(["1", "x", None]), Column("n", pa.int16(), type_name="Int16"))
    assert typed.type == pa.int16()
    assert typed.to_pylist()[0] == 1
    assert fits.to_pylist() == [True, False, True]

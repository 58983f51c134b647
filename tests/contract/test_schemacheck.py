"""Record contracts as JSON Schema: each keyword, where violations point, redaction, fallbacks."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from jsonschema import Draft202012Validator

from culturemesh.contract import REDACTED, CheckedBatch
from culturemesh.schemacheck import compile_record_schema

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def check(
    properties: dict[str, Any],
    rows: list[dict[str, Any]],
    arrow: dict[str, pa.DataType] | None = None,
    *,
    first_row: int = 1,
    limit: int = 1000,
    classification: dict[str, str] | None = None,
    **record: Any,
) -> CheckedBatch:
    """Check ``rows`` against a record schema with these properties (and record-level keywords)."""
    schema = {"type": "object", "properties": properties, **record}
    arrow_schema = pa.schema(list(arrow.items())) if arrow else None
    batch = pa.RecordBatch.from_pylist(rows, schema=arrow_schema)
    compiled = compile_record_schema(schema, classification=classification or {})
    return compiled.check(batch, first_row=first_row, limit=limit)


def found(result: CheckedBatch) -> list[tuple[int, str, str, str]]:
    return [(v.row, v.column, v.value, v.rule) for v in result.violations]


def rejected(result: CheckedBatch) -> list[int]:
    return [i for i, ok in enumerate(result.valid.to_pylist()) if not ok]


# --- type ------------------------------------------------------------------------------------


def test_type_integer_accepts_whole_doubles_and_rejects_fractions_like_jsonschema() -> None:
    result = check({"n": {"type": "integer"}}, [{"n": 2.0}, {"n": 2.5}, {"n": None}], {"n": pa.float64()})
    assert found(result) == [(2, "n", "2.5", "type integer")]
    assert result.batch.column("n").to_pylist() == [2.0, None]


def test_type_mismatch_of_a_whole_column_rejects_every_non_null_value() -> None:
    result = check({"name": {"type": "string"}}, [{"name": 7}, {"name": None}], {"name": pa.int64()})
    assert found(result) == [(1, "name", "7", "type string")]


def test_boolean_is_not_an_integer() -> None:
    result = check({"n": {"type": ["integer", "null"]}}, [{"n": True}], {"n": pa.bool_()})
    assert found(result) == [(1, "n", "True", 'type ["integer", "null"]')]


# --- required and nulls ----------------------------------------------------------------------


def test_required_property_missing_from_the_batch_breaks_every_row() -> None:
    result = check({"id": {"type": "string"}, "n": {}}, [{"n": 1}, {"n": 2}], required=["id"])
    assert found(result) == [(1, "id", "", "required"), (2, "id", "", "required")]
    assert result.batch.num_rows == 0


def test_null_in_a_required_property_that_does_not_allow_null_is_a_missing_value() -> None:
    result = check({"id": {"type": "string"}}, [{"id": "a"}, {"id": None}], required=["id"])
    assert found(result) == [(2, "id", "", "required")]


def test_null_in_a_required_nullable_property_is_a_json_null_and_passes() -> None:
    result = check({"id": {"type": ["string", "null"]}}, [{"id": None}], {"id": pa.string()}, required=["id"])
    assert result.violation_count == 0


def test_null_in_a_required_nullable_property_must_still_be_in_the_enum() -> None:
    properties = {"channel": {"type": ["string", "null"], "enum": ["online", "shop"]}}
    result = check(properties, [{"channel": None}], {"channel": pa.string()}, required=["channel"])
    assert found(result) == [(1, "channel", "", 'enum ["online", "shop"]')]


def test_null_in_an_optional_property_is_a_missing_key_and_passes_every_keyword() -> None:
    properties = {"channel": {"enum": ["online"]}, "n": {"type": "integer", "minimum": 3}}
    result = check(properties, [{"channel": None, "n": None}], {"channel": pa.string(), "n": pa.int64()})
    assert result.violation_count == 0


# --- enum and const ---------------------------------------------------------------------------


def test_enum_follows_json_equality_one_equals_one_point_zero_but_not_true() -> None:
    result = check({"n": {"enum": [1, "2", True]}}, [{"n": 1.0}, {"n": 2.0}, {"n": -0.0}], {"n": pa.float64()})
    assert rejected(result) == [1, 2]


def test_const_zero_accepts_negative_zero_as_python_does() -> None:
    result = check({"n": {"const": 0}}, [{"n": -0.0}, {"n": 0.0}, {"n": 1.0}], {"n": pa.float64()})
    assert found(result) == [(3, "n", "1.0", "const 0")]


def test_enum_on_booleans_does_not_take_one_for_true() -> None:
    result = check({"ok": {"enum": [1]}}, [{"ok": True}], {"ok": pa.bool_()})
    assert found(result) == [(1, "ok", "True", "enum [1]")]


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "bound", "bad"),
    [
        ("minimum", 0, [-1]),
        ("maximum", 10, [11]),
        ("exclusiveMinimum", 0, [-1, 0]),
        ("exclusiveMaximum", 10, [10, 11]),
        ("minimum", 0.5, [-1, 0]),
        ("maximum", 9.5, [10, 11]),
    ],
)
def test_numeric_bound_rejects_values_beyond_it_and_names_keyword_and_bound(
    keyword: str, bound: float, bad: list[int]
) -> None:
    rows = [{"n": n} for n in (-1, 0, 5, 10, 11)]
    result = check({"n": {keyword: bound}}, rows)
    assert [v.value for v in result.violations] == [str(n) for n in bad]
    assert {v.rule for v in result.violations} == {f"{keyword} {bound}"}


def test_bounds_compare_integers_beyond_double_precision_exactly() -> None:
    big = 2**53 + 1  # no double holds it: a float comparison would call 2**53 equal to it
    ints = check({"n": {"minimum": big}}, [{"n": 2**53}, {"n": big}])
    doubles = check({"n": {"maximum": 2**53}}, [{"n": float(2**53)}], {"n": pa.float64()})
    assert rejected(ints) == [0]
    assert doubles.violation_count == 0
    assert check({"n": {"exclusiveMinimum": big}}, [{"n": float(2**53)}], {"n": pa.float64()}).violation_count == 1


@pytest.mark.parametrize("divisor", [2, 3, 7, 0.5, 0.1, 1.5])
@pytest.mark.parametrize(
    ("arrow", "values"),
    [
        (pa.float64(), [0.0, 3.0, 4.0, 1.5, 0.3, 1e300, 2.0**60, -6.0]),
        (pa.int64(), [0, 3, 4, 2**53 + 1, 2**62 + 1, -(2**63), -6]),  # beyond double precision: exact
    ],
)
def test_multiple_of_matches_jsonschema_for_integer_and_float_divisors(
    divisor: float, arrow: pa.DataType, values: list[float]
) -> None:
    result = check({"n": {"multipleOf": divisor}}, [{"n": n} for n in values], {"n": arrow})
    jsonschema = Draft202012Validator({"multipleOf": divisor})
    assert rejected(result) == [i for i, n in enumerate(values) if not jsonschema.is_valid(n)]
    assert {v.rule for v in result.violations} <= {f"multipleOf {divisor}"}


def test_numeric_keywords_do_not_apply_to_strings() -> None:
    result = check({"code": {"minimum": 5, "multipleOf": 2}}, [{"code": "1"}])
    assert result.violation_count == 0


# --- strings ----------------------------------------------------------------------------------


def test_string_lengths_count_code_points_not_bytes() -> None:
    result = check({"s": {"minLength": 2, "maxLength": 3}}, [{"s": "éé"}, {"s": "é"}, {"s": "éééé"}])
    assert found(result) == [(2, "s", "é", "minLength 2"), (3, "s", "éééé", "maxLength 3")]


def test_pattern_is_searched_unanchored_like_python_re_search() -> None:
    result = check({"s": {"pattern": "[0-9]{2}"}}, [{"s": "ab12cd"}, {"s": "a1b2"}])
    assert found(result) == [(2, "s", "a1b2", "pattern [0-9]{2}")]


def test_pattern_dollar_matches_before_a_final_newline_as_python_does() -> None:
    result = check({"s": {"pattern": "^[a-z]+$"}}, [{"s": "abc\n"}, {"s": "abc\n\n"}, {"s": "ab1"}])
    assert rejected(result) == [1, 2]


def test_pattern_re2_cannot_compile_falls_back_to_python_re_row_by_row() -> None:
    result = check({"s": {"pattern": r"(a)\1"}}, [{"s": "xaax"}, {"s": "xa"}])
    assert found(result) == [(2, "s", "xa", r"pattern (a)\1")]


def test_pattern_digit_class_leaves_non_ascii_digits_to_python_re() -> None:
    result = check({"s": {"pattern": r"^\d+$"}}, [{"s": "٣٤"}, {"s": "12"}, {"s": "1a"}, {"s": "é"}])
    assert rejected(result) == [2, 3]  # Python's \d takes Arabic-Indic digits; RE2's does not


PATTERNS = [
    *("^[a-z]+$", "ab", "[0-9]{2}", r"^T-\d+$", r"\w+@", "(?i)^ab", "a|b$", "^(ab)*$", r"\bq", r"(a)\1"),
    *(r"^\s$", r"\S", r"[^\W_]", "(?i)k", r"(?a)^\w+$", r"\Aab\Z", "(?m)^b$", "(?s)a.b", "x{,2}y", "[^a-c]"),
]
PATTERN_TEXTS = [
    *("abc", "ab\n", "abc\n", "٣٣", "12", "T-12", "T-١٢", "T-12\n", "x@", "é@", "AB", "Ab", "q", "a q", "éq"),
    *("_q", "abab", "aba", "b\n", "a\nb", "\x1c", "\v", " ", "K", "k", "ſ", "_", "é", "a\nb\n", "xxxy", ""),
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_verdicts_equal_python_re_on_tricky_texts(pattern: str) -> None:
    result = check({"s": {"pattern": pattern}}, [{"s": text} for text in PATTERN_TEXTS])
    expected = [
        i for i, text in enumerate(PATTERN_TEXTS) if not Draft202012Validator({"pattern": pattern}).is_valid(text)
    ]
    assert rejected(result) == expected


FORMAT_TEXTS = {
    "date": [
        *("2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "2024-04-30", "2024-04-31", "2024-13-01"),
        *("2024-00-10", "0000-01-01", "0001-01-01", "2024-1-01", "2024-01-01\n", "٢٠٢٤-01-01", "2024-01-01T00:00"),
    ],
    "date-time": [
        *("2024-01-01T10:00:00Z", "2024-01-01t10:00:00z", "2024-01-01T24:00:00Z", "2023-02-29T00:00:00+01:00"),
        *("2024-02-29T23:59:59.123+05:30", "2024-01-01T10:00:00.5-23:59", "2024-01-01T10:00:00Z\n"),
        *("2024-01-01 10:00:00Z", "0000-01-01T00:00:00Z", "2024-01-01T10:00:60Z", "2024-01-01T10:00:00+0100"),
        *("2024-01-01T10:00:00", "2024-01-01T10:00:00.Z", "2024-01-01T10:00:00+24:00", "2024-01-01ẗ10:00:00Z"),
    ],
    "email": ["a@b", "ab", "@", "é@x", "a@\n"],
    "uri": [
        *("https://example.org/a?b=1#c", "urn:isbn:0451450523", "http://[::1]:80/", "http://[v1.x]/", "a:"),
        *("no scheme", "http://exa mple.org", "mailto:x@y\n", "é:x", "x:%zz", "x:%41", "1a:b", "ftp://1.2.3.4/"),
        *("http://u@h:8080/p/q", "http://[::1/", "x:/a//b", "x:a#b#c", "http://é.org/", "//no-scheme", "x:\n"),
    ],
}


@pytest.mark.parametrize("name", list(FORMAT_TEXTS))
def test_format_verdicts_equal_jsonschema_format_checker(name: str) -> None:
    texts = FORMAT_TEXTS[name]
    result = check({"s": {"format": name}}, [{"s": text} for text in texts])
    assert rejected(result) == [i for i, text in enumerate(texts) if not FORMAT_CHECKER.conforms(text, name)]
    assert {v.rule for v in result.violations} == {f"format {name}"}


def test_format_jsonschema_does_not_know_is_not_checked() -> None:
    assert check({"s": {"format": "shoe-size"}}, [{"s": "forty-two"}]).violation_count == 0


# --- where violations point, and what they show ---------------------------------------------


def test_violation_rows_count_from_first_row_and_name_the_column() -> None:
    rows = [{"price": 5, "qty": 1}, {"price": -3, "qty": 1}, {"price": 5, "qty": 0}]
    result = check({"price": {"minimum": 0}, "qty": {"minimum": 1}}, rows, first_row=101)
    assert found(result) == [(102, "price", "-3", "minimum 0"), (103, "qty", "0", "minimum 1")]
    assert result.valid.to_pylist() == [True, False, False]
    assert result.batch.to_pylist() == [{"price": 5, "qty": 1}]


def test_classified_property_values_are_redacted_even_in_nested_paths() -> None:
    properties = {
        "email": {"type": "string", "format": "email"},
        "contact": {"type": "object", "properties": {"phone": {"type": "string", "minLength": 9}}},
    }
    rows = [{"email": "jan.example.org", "contact": {"phone": "0470"}}]
    result = check(properties, rows, classification={"email": "pii", "contact": "pii"})
    assert found(result) == [(1, "contact.phone", REDACTED, "minLength 9"), (1, "email", REDACTED, "format email")]


def test_record_level_violation_is_redacted_when_the_record_holds_a_classified_value() -> None:
    rows: list[dict[str, Any]] = [{"email": "jan@example.org", "phone": None}, {"email": None, "phone": None}]
    properties = {"email": {"type": "string"}, "phone": {"type": "string"}}
    result = check(properties, rows, classification={"email": "pii"}, dependentRequired={"email": ["phone"]})
    assert [(v.row, v.column, v.value) for v in result.violations] == [(1, "$", REDACTED)]


def test_limit_caps_reported_violations_per_column_but_counts_all() -> None:
    result = check({"n": {"minimum": 0}}, [{"n": -i} for i in range(1, 11)], limit=3)
    assert [v.row for v in result.violations] == [1, 2, 3]
    assert result.violation_count == 10


def test_long_values_are_cut_short_in_violations() -> None:
    result = check({"s": {"maxLength": 3}}, [{"s": "x" * 100}])
    assert len(result.violations[0].value) == 40


# --- additionalProperties, nested objects, record-level keywords ----------------------------


def test_extra_column_with_additional_properties_false_rejects_non_null_values() -> None:
    rows: list[dict[str, Any]] = [{"id": "a", "note": None}, {"id": "b", "note": "hi"}]
    result = check({"id": {"type": "string"}}, rows, additionalProperties=False)
    assert found(result) == [(2, "note", "hi", "additionalProperties false")]


def test_extra_column_is_checked_against_an_additional_properties_schema() -> None:
    rows = [{"id": "a", "n": 3}, {"id": "b", "n": -1}]
    result = check({"id": {"type": "string"}}, rows, additionalProperties={"type": "integer", "minimum": 0})
    assert found(result) == [(2, "n", "-1", "minimum 0")]


def test_nested_object_falls_back_to_row_wise_and_reports_the_row_and_json_path() -> None:
    terms = {
        "type": "array",
        "items": {"type": "object", "properties": {"id": {"type": "string", "pattern": "^T"}}, "required": ["id"]},
    }
    rows: list[dict[str, Any]] = [
        {"terms": [{"id": "T1"}]},
        {"terms": [{"id": "T1"}, {"id": "X2"}]},
        {"terms": [{"id": "T3"}, {"id": None, "name": "no id"}]},
    ]
    result = check({"terms": terms}, rows, first_row=10)
    assert found(result) == [
        (11, "terms[1].id", "X2", "pattern ^T"),
        (12, "terms[1]", "{'name': 'no id'}", 'required ["id"]'),
    ]


def test_combinators_fall_back_to_row_wise_only_for_their_property() -> None:
    properties = {"n": {"type": "integer", "minimum": 0, "not": {"const": 3}}, "s": {"anyOf": [{"maxLength": 1}]}}
    rows = [{"n": 3, "s": "a"}, {"n": -1, "s": "ab"}, {"n": 1, "s": "b"}]
    result = check(properties, rows)
    assert found(result) == [
        (1, "n", "3", 'not {"const": 3}'),
        (2, "n", "-1", "minimum 0"),
        (2, "s", "ab", 'anyOf [{"maxLength": 1}]'),
    ]


def test_record_level_dependent_required_is_checked_row_by_row() -> None:
    rows: list[dict[str, Any]] = [{"price": 5, "currency": "EUR"}, {"price": 5, "currency": None}]
    rows.append({"price": None, "currency": None})
    result = check({"price": {}, "currency": {}}, rows, dependentRequired={"price": ["currency"]})
    assert found(result) == [(2, "$", "{'price': 5}", 'dependentRequired {"price": ["currency"]}')]


def test_ref_into_defs_resolves_in_row_wise_checks() -> None:
    schema = {
        "type": "object",
        "properties": {"when": {"$ref": "#/$defs/day"}},
        "$defs": {"day": {"type": "string", "format": "date"}},
    }
    batch = pa.RecordBatch.from_pylist([{"when": "2024-02-29"}, {"when": "2023-02-29"}])
    result = compile_record_schema(schema).check(batch, first_row=1)
    assert found(result) == [(2, "when", "2023-02-29", "format date")]


# --- CSV text columns -------------------------------------------------------------------------


def test_csv_text_is_read_as_the_declared_type_and_kept_typed() -> None:
    properties = {"n": {"type": "integer", "minimum": 1}, "x": {"type": "number"}, "ok": {"type": "boolean"}}
    rows = [{"n": "3", "x": "1.5", "ok": "true"}, {"n": "0", "x": "abc", "ok": "maybe"}]
    result = check(properties, rows, {"n": pa.string(), "x": pa.string(), "ok": pa.string()})
    assert found(result) == [
        (2, "n", "0", "minimum 1"),
        (2, "ok", "maybe", "type boolean"),
        (2, "x", "abc", "type number"),
    ]
    assert result.batch.to_pylist() == [{"n": 3, "x": 1.5, "ok": True}]


def test_csv_text_under_a_mixed_type_is_read_cell_by_cell_as_json() -> None:
    result = check({"v": {"type": ["integer", "boolean"]}}, [{"v": "7"}, {"v": "false"}, {"v": "seven"}])
    assert found(result) == [(3, "v", "seven", 'type ["integer", "boolean"]')]


# --- the schema itself ------------------------------------------------------------------------


def test_invalid_schema_is_refused_with_the_json_pointer_of_the_bad_part() -> None:
    with pytest.raises(ValueError, match=r"#/properties/price/minimum: 'zero' is not of type 'number'"):
        compile_record_schema({"type": "object", "properties": {"price": {"minimum": "zero"}}})


def test_schema_that_does_not_describe_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match=r"#/type: expected type object"):
        compile_record_schema({"type": "array"})

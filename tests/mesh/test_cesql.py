"""CESQL v1: every case of the CloudEvents CESQL TCK, plus the Trigger-filter semantics and our spec readings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from culturemesh import events
from culturemesh.mesh.cesql import CesqlError, compile_expression

TCK_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cloudevents" / "cesql_tck"
DEFAULT_EVENT = {
    "specversion": "1.0",
    "id": "tck-0001",
    "source": "https://culturemesh.example/tck",
    "type": "be.culturemesh.tck.v1",
}


class _TckLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: ``time: 2018-04-26T14:48:09+02:00`` stays the text it is."""


_TckLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _tck_cases() -> list[Any]:
    """Every case of every TCK file; ``name`` and ``expression`` as written (``TRUE`` is text, not a boolean)."""
    cases = []
    for path in sorted(TCK_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        written = yaml.load(text, Loader=yaml.BaseLoader)["tests"]  # noqa: S506 - BaseLoader builds only strings
        typed = yaml.load(text, Loader=_TckLoader)["tests"]  # noqa: S506 - a SafeLoader subclass
        for as_written, case in zip(written, typed, strict=True):
            case.update(name=as_written["name"], expression=as_written["expression"])
            cases.append(pytest.param(case, id=f"{path.stem}::{case['name']}"))
    return cases


TCK_CASES = _tck_cases()


def _canonical(value: Any) -> str:
    """An attribute value in the CloudEvents canonical string form, as the broker keeps it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"TCK event value {value!r} has no CloudEvents string form here")


def _tck_event(case: dict[str, Any]) -> dict[str, str]:
    event = case.get("event") or DEFAULT_EVENT
    return {name: _canonical(value) for name, value in {**event, **case.get("eventOverrides", {})}.items()}


def test_the_tck_is_present_and_complete() -> None:
    assert len(list(TCK_DIR.glob("*.yaml"))) == 18, f"expected the 18 TCK files in {TCK_DIR}"
    assert len(TCK_CASES) > 250


@pytest.mark.parametrize("case", TCK_CASES)
def test_tck_case(case: dict[str, Any]) -> None:
    if case.get("error") == "parse":
        with pytest.raises(CesqlError) as raised:
            compile_expression(case["expression"])
        assert raised.value.kind == "parse"
        return
    value, errors = compile_expression(case["expression"]).evaluate(_tck_event(case))
    expected = case["result"]
    assert (type(value), value) == (type(expected), expected)
    assert [error.kind for error in errors] == ([case["error"]] if "error" in case else [])


# --- Trigger filter semantics -------------------------------------------------------------------


def test_matches_is_false_when_an_evaluation_error_occurred_even_if_the_value_is_true() -> None:
    expression = compile_expression("NOT 10")
    assert expression.evaluate(DEFAULT_EVENT)[0] is True
    assert not expression.matches(DEFAULT_EVENT)


def test_matches_a_true_literal() -> None:
    assert compile_expression("TRUE").matches(DEFAULT_EVENT)


def test_matches_a_type_prefix_on_a_real_culturemesh_event() -> None:
    published = events.published("kunsten.tickets", "sales", "1.2.0", "s3://products/manifest.json", {"rows": 3})
    created = events.object_created(events.StoredObject("landing", "tickets/2026-03.csv", 10, "etag", "0001"))
    expression = compile_expression("type LIKE 'be.culturemesh.%' AND dpversion = '1.2.0'")
    assert expression.matches(published.attributes)
    assert not expression.matches(created.attributes)


def test_matches_refuses_a_missing_attribute_and_a_non_boolean_value() -> None:
    assert not compile_expression("missing = ''").matches(DEFAULT_EVENT)
    assert not compile_expression("NOT (missing = 'x')").matches(DEFAULT_EVENT)
    assert not compile_expression("1").matches(DEFAULT_EVENT)
    assert compile_expression("'TRUE'").matches(DEFAULT_EVENT)


# --- errors name what is wrong ------------------------------------------------------------------


def test_parse_error_names_the_offset_and_what_was_expected() -> None:
    with pytest.raises(CesqlError) as raised:
        compile_expression("type = 'a' AND")
    assert (raised.value.kind, raised.value.position) == ("parse", 14)
    assert "offset 14" in str(raised.value)
    assert "expected an expression" in str(raised.value)
    assert "found end of expression" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "position"),
    [("2147483648", 0), ("'open", 0), ("a NOT b", 6), ("x LIKE y", 7), ("f_1(x)", 0), ("a & b", 2), ("()", 1)],
)
def test_malformed_expressions_are_parse_errors_at_the_offending_offset(text: str, position: int) -> None:
    with pytest.raises(CesqlError) as raised:
        compile_expression(text)
    assert (raised.value.kind, raised.value.position) == ("parse", position)


def test_nesting_beyond_the_limit_is_a_parse_error_not_a_recursion_error() -> None:
    with pytest.raises(CesqlError, match="nested"):
        compile_expression("(" * 100 + "TRUE" + ")" * 100)
    with pytest.raises(CesqlError, match="deep"):
        compile_expression(" + ".join(["hop"] * 300))


def test_evaluation_errors_name_the_offset_of_the_operator() -> None:
    _, errors = compile_expression("1 + hop / 0").evaluate({**DEFAULT_EVENT, "hop": "4"})
    assert [(error.kind, error.position) for error in errors] == [("math", 8)]
    assert "division by zero" in str(errors[0])


# --- spec readings the TCK leaves open ------------------------------------------------------------


def test_logical_operators_of_equal_precedence_group_left_to_right() -> None:
    assert compile_expression("TRUE OR TRUE AND FALSE").evaluate(DEFAULT_EVENT) == (False, [])
    assert compile_expression("TRUE OR (TRUE AND FALSE)").evaluate(DEFAULT_EVENT) == (True, [])


def test_unary_not_binds_tighter_than_comparison() -> None:
    assert compile_expression("NOT FALSE = FALSE").evaluate(DEFAULT_EVENT) == (False, [])


@pytest.mark.parametrize(
    ("text", "value"),
    [("2147483647 + 1", 2147483647), ("-2147483648 - 1", -2147483648), ("65536 * 65536", 2147483647)],
)
def test_integer_overflow_clamps_and_reports_a_math_error(text: str, value: int) -> None:
    result, errors = compile_expression(text).evaluate(DEFAULT_EVENT)
    assert result == value
    assert [error.kind for error in errors] == ["math"]


def test_extension_attributes_in_canonical_boolean_or_integer_form_are_typed() -> None:
    event = {**DEFAULT_EVENT, "flag": "true", "count": "42", "code": "007", "subject": "42"}
    assert compile_expression("flag").evaluate(event) == (True, [])
    assert compile_expression("count + 1").evaluate(event) == (43, [])
    assert compile_expression("code").evaluate(event) == ("007", [])
    assert compile_expression("subject").evaluate(event) == ("42", [])


def test_integer_to_boolean_is_an_explicit_cast_only() -> None:
    assert compile_expression("BOOL(2) AND IS_BOOL(0)").evaluate(DEFAULT_EVENT) == (True, [])
    value, errors = compile_expression("2 AND TRUE").evaluate(DEFAULT_EVENT)
    assert value is False
    assert [error.kind for error in errors] == ["cast"]


def test_unknown_function_is_a_missing_function_error_at_evaluation() -> None:
    value, errors = compile_expression("hasprefix(type, 'be.')").evaluate(DEFAULT_EVENT)
    assert value is False
    assert [error.kind for error in errors] == ["missingFunction"]
    assert "HASPREFIX" in str(errors[0])


def test_trim_removes_unicode_whitespace_only() -> None:
    assert compile_expression("TRIM(tag)").evaluate({**DEFAULT_EVENT, "tag": "\u3000\x1fa b\xa0\n"}) == ("\x1fa b", [])

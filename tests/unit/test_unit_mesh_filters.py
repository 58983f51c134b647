"""Trigger filters follow Knative: attribute filters, Subscriptions API dialects, and refusals naming the path."""

from __future__ import annotations

from typing import Any

import pytest

from culturemesh.mesh.filters import FilterError, compile_trigger_filter, subscriptions_filter

EVENT = {
    "specversion": "1.0",
    "id": "e1",
    "type": "be.culturemesh.upload.accepted",
    "source": "/products/tickets",
    "subject": "tickets/2026-03.csv",
    "dataproduct": "tickets",
}


def _matches(spec: dict[str, Any], event: dict[str, str] = EVENT) -> bool:
    return compile_trigger_filter(spec)(event)


# --- spec.filter.attributes -------------------------------------------------------------------


def test_attribute_filter_matches_when_every_attribute_is_equal() -> None:
    spec = {"filter": {"attributes": {"type": EVENT["type"], "dataproduct": "tickets"}}}
    assert _matches(spec)


def test_attribute_filter_fails_when_one_attribute_differs() -> None:
    spec = {"filter": {"attributes": {"type": EVENT["type"], "dataproduct": "zalen"}}}
    assert not _matches(spec)


def test_attribute_filter_is_exact_not_prefix_or_case_insensitive() -> None:
    assert not _matches({"filter": {"attributes": {"type": "be.culturemesh.upload"}}})
    assert not _matches({"filter": {"attributes": {"dataproduct": "Tickets"}}})


def test_attribute_filter_fails_when_the_attribute_is_missing() -> None:
    assert not _matches({"filter": {"attributes": {"region": "vlaanderen"}}})


def test_attribute_filter_empty_value_means_present_with_any_value() -> None:
    assert _matches({"filter": {"attributes": {"dataproduct": ""}}})
    assert _matches({"filter": {"attributes": {"dataproduct": ""}}}, {**EVENT, "dataproduct": "zalen"})
    assert not _matches({"filter": {"attributes": {"region": ""}}})


@pytest.mark.parametrize("spec", [{}, {"filter": {}}, {"filter": {"attributes": {}}}, {"filters": []}])
def test_trigger_without_filter_matches_every_event(spec: dict[str, Any]) -> None:
    assert _matches(spec)
    assert _matches(spec, {"id": "x", "type": "anything", "source": "/", "specversion": "1.0"})


@pytest.mark.parametrize("name", ["Type", "1abc", "data-product", "data_product"])
def test_attribute_filter_with_bad_attribute_name_is_refused(name: str) -> None:
    with pytest.raises(FilterError, match=r"spec\.filter\.attributes") as caught:
        compile_trigger_filter({"filter": {"attributes": {name: "x"}}})
    assert repr(name) in str(caught.value)


def test_attribute_filter_with_non_string_value_is_refused_naming_the_attribute() -> None:
    with pytest.raises(FilterError) as caught:
        compile_trigger_filter({"filter": {"attributes": {"retry": 3}}})
    assert caught.value.path == "spec.filter.attributes.retry"


# --- spec.filters dialects --------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["exact", "prefix", "suffix"])
def test_a_string_dialect_naming_two_attributes_is_refused_as_knative_refuses_it(dialect: str) -> None:
    with pytest.raises(FilterError, match=r"spec\.filters\[0\].*exactly one attribute"):
        compile_trigger_filter({"filters": [{dialect: {"dataproduct": "tickets", "type": EVENT["type"]}}]})


def test_cesql_filters_match_and_an_evaluation_error_means_no_match() -> None:
    assert subscriptions_filter({"cesql": "type LIKE 'be.culturemesh.%' AND EXISTS subject"})(EVENT) is True
    assert subscriptions_filter({"cesql": "missingattr = 'x' OR TRUE"})(EVENT) is False
    with pytest.raises(FilterError, match=r"cesql"):
        subscriptions_filter({"cesql": "type LIKE"})


@pytest.mark.parametrize(
    ("filter_object", "expected"),
    [
        ({"exact": {"dataproduct": "tickets"}}, True),
        ({"exact": {"dataproduct": "ticket"}}, False),
        ({"exact": {"region": "x"}}, False),
        ({"prefix": {"type": "be.culturemesh."}}, True),
        ({"prefix": {"type": "culturemesh"}}, False),
        ({"prefix": {"region": "v"}}, False),
        ({"suffix": {"subject": ".csv"}}, True),
        ({"suffix": {"subject": ".json"}}, False),
        ({"suffix": {"region": "x"}}, False),
        ({"all": [{"prefix": {"type": "be."}}, {"suffix": {"subject": ".csv"}}]}, True),
        ({"all": [{"prefix": {"type": "be."}}, {"suffix": {"subject": ".json"}}]}, False),
        ({"any": [{"exact": {"dataproduct": "zalen"}}, {"suffix": {"subject": ".csv"}}]}, True),
        ({"any": [{"exact": {"dataproduct": "zalen"}}, {"suffix": {"subject": ".json"}}]}, False),
        ({"not": {"exact": {"dataproduct": "zalen"}}}, True),
        ({"not": {"exact": {"dataproduct": "tickets"}}}, False),
        ({"not": {"any": [{"exact": {"dataproduct": "zalen"}}, {"prefix": {"source": "/products/"}}]}}, False),
    ],
)
def test_subscriptions_api_dialects_match_like_knative(filter_object: dict[str, Any], expected: bool) -> None:
    assert subscriptions_filter(filter_object)(EVENT) is expected
    assert _matches({"filters": [filter_object]}) is expected


def test_exact_dialect_empty_value_matches_only_an_empty_attribute() -> None:
    assert not _matches({"filters": [{"exact": {"dataproduct": ""}}]})
    assert _matches({"filters": [{"exact": {"dataproduct": ""}}]}, {**EVENT, "dataproduct": ""})


def test_top_level_filters_list_is_anded() -> None:
    both = [{"prefix": {"type": "be."}}, {"exact": {"dataproduct": "tickets"}}]
    one_fails = [{"prefix": {"type": "be."}}, {"exact": {"dataproduct": "zalen"}}]
    assert _matches({"filters": both})
    assert not _matches({"filters": one_fails})


def test_non_empty_filters_make_filter_attributes_ignored() -> None:
    spec = {
        "filter": {"attributes": {"dataproduct": "zalen"}},
        "filters": [{"exact": {"dataproduct": "tickets"}}],
    }
    assert _matches(spec)
    spec_reversed = {
        "filter": {"attributes": {"dataproduct": "tickets"}},
        "filters": [{"exact": {"dataproduct": "zalen"}}],
    }
    assert not _matches(spec_reversed)


def test_empty_filters_list_falls_back_to_filter_attributes() -> None:
    assert not _matches({"filter": {"attributes": {"dataproduct": "zalen"}}, "filters": []})


# --- refusals ---------------------------------------------------------------------------------


def _refusal(filters: list[Any]) -> FilterError:
    with pytest.raises(FilterError) as caught:
        compile_trigger_filter({"filters": filters})
    assert str(caught.value).startswith(caught.value.path + ":")
    return caught.value


def test_filter_object_with_two_dialects_is_refused_naming_its_path() -> None:
    error = _refusal([{"exact": {"type": "a"}}, {"exact": {"type": "a"}, "prefix": {"source": "/"}}])
    assert error.path == "spec.filters[1]"
    assert "exactly one dialect" in str(error)


def test_empty_filter_object_is_refused_naming_its_path() -> None:
    assert _refusal([{}]).path == "spec.filters[0]"


def test_unknown_dialect_is_refused_naming_its_path_and_the_dialect() -> None:
    error = _refusal([{"exact": {"type": "a"}}, {"regex": {"type": ".*"}}])
    assert error.path == "spec.filters[1]"
    assert "'regex'" in str(error)


@pytest.mark.parametrize("name", ["Type", "1abc", "data-product"])
def test_bad_attribute_name_in_a_dialect_is_refused_naming_the_path(name: str) -> None:
    error = _refusal([{"exact": {"type": "a"}}, {"prefix": {name: "x"}}])
    assert error.path == "spec.filters[1].prefix"
    assert repr(name) in str(error)


def test_errors_deep_inside_all_any_not_name_the_nested_path() -> None:
    error = _refusal([{"all": [{"exact": {"type": "a"}}, {"not": {"any": [{"suffix": {"Bad": "x"}}]}}]}])
    assert error.path == "spec.filters[0].all[1].not.any[0].suffix"


@pytest.mark.parametrize("dialect", ["prefix", "suffix"])
def test_prefix_and_suffix_refuse_empty_values(dialect: str) -> None:
    assert _refusal([{dialect: {"type": ""}}]).path == f"spec.filters[0].{dialect}.type"


@pytest.mark.parametrize("dialect", ["all", "any"])
def test_all_and_any_need_a_non_empty_list(dialect: str) -> None:
    assert _refusal([{dialect: []}]).path == f"spec.filters[0].{dialect}"
    assert _refusal([{dialect: {"exact": {"type": "a"}}}]).path == f"spec.filters[0].{dialect}"


def test_exact_needs_a_non_empty_map() -> None:
    assert _refusal([{"exact": {}}]).path == "spec.filters[0]"


def test_filters_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(FilterError) as caught:
        compile_trigger_filter({"filters": {"exact": {"type": "a"}}})
    assert caught.value.path == "spec.filters"

"""Search: what it covers, how it ranks, its filters, and odd or huge queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from culturemesh.catalog.freshness import iso
from culturemesh.catalog.registry import InvalidQuery, Registry
from culturemesh.catalog.search import MAX_QUERY_CHARS, Filters, parse_query, search, tokens
from tests.catalog.conftest import descriptor_text, manifest, manifest_uri

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def ids(registry: Registry, text: str, filters: Filters | None = None) -> list[str]:
    return [hit.product.id for hit in search(registry, text, filters, now=NOW)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ticket", ["ticketing/ticket-sales"]),  # the name
        ("check-ins", ["museums/museum-visits"]),  # the summary
        ("vrije tijd", ["events/uit-events"]),  # a theme
        ("publiq", ["events/uit-events"]),  # the owner
        ("museumpas@example.be", ["museums/museum-visits"]),  # the owner's contact
        ("visitor_postcode", ["museums/museum-visits"]),  # a column name
        ("exhibition", ["events/uit-events"]),  # a column description
        ("linkeddata", ["events/uit-events"]),  # a port type
        ("BUYER", ["ticketing/ticket-sales"]),  # case does not matter
    ],
)
def test_search_covers_every_descriptive_field(
    populated: Callable[[], Registry], query: str, expected: list[str]
) -> None:
    assert ids(populated(), query) == expected


def test_a_name_match_ranks_above_a_mention_in_a_column_description(populated: Callable[[], Registry]) -> None:
    registry = populated()
    # "events" names uit-events (and its ports); ticket-sales mentions it only in column descriptions
    hits = search(registry, "event", now=NOW)
    assert [h.product.id for h in hits][:2] == ["events/uit-events", "ticketing/ticket-sales"]
    assert hits[0].score > hits[1].score > 0
    assert hits[0].matched[0] == "name"


def test_every_word_must_match_and_phrases_keep_their_order(populated: Callable[[], Registry]) -> None:
    registry = populated()
    assert ids(registry, "ticket venue") == ["ticketing/ticket-sales"]
    assert ids(registry, "ticket museum") == []
    assert sorted(ids(registry, '"postal code"')) == ["museums/museum-visits", "ticketing/ticket-sales"]
    assert ids(registry, '"code postal"') == []


def test_accents_and_prefixes_match(populated: Callable[[], Registry]) -> None:
    registry = populated()
    assert ids(registry, "Muséum") == ["museums/museum-visits"]
    assert ids(registry, "organis") == ["events/uit-events"]  # prefix of "organiser"
    assert ids(registry, "mu") == []  # two letters are too short to be a prefix (of "museum")


def test_filters_narrow_by_domain_port_type_owner_and_freshness(populated: Callable[[], Registry]) -> None:
    registry = populated()
    now = datetime.now(UTC)
    recent = manifest("events/uit-events", "events", "v1", iso(now - timedelta(hours=2)))
    registry.register_version(recent, manifest_uri(recent))
    assert ids(registry, "", Filters(domain="museums")) == ["museums/museum-visits"]
    assert ids(registry, "", Filters(port_type="linkeddata")) == ["events/uit-events"]
    assert ids(registry, "", Filters(owner="team museumpas")) == ["museums/museum-visits"]
    assert ids(registry, "", Filters(owner="culturemesh core")) == ["museums/museum-visits", "ticketing/ticket-sales"]
    # uit-events published 2 h ago and promises every 6 h; museum-visits was registered just now
    # and promises daily; ticket-sales promises nothing
    fresh, stale, unknown = (Filters(freshness=state) for state in ("fresh", "stale", "unknown"))
    assert [h.product.id for h in search(registry, "", fresh, now=now)] == [
        "events/uit-events",
        "museums/museum-visits",
    ]
    assert [h.product.id for h in search(registry, "", unknown, now=now)] == ["ticketing/ticket-sales"]
    assert [h.product.id for h in search(registry, "", stale, now=now)] == []
    later = now + timedelta(hours=7)
    assert [h.product.id for h in search(registry, "", stale, now=later)] == ["events/uit-events"]
    assert ids(registry, "domain:events type:analyticaldata event") == ["events/uit-events"]
    assert ids(registry, 'owner:"Ticketing Vlaanderen"') == ["ticketing/ticket-sales"]


def test_both_backends_rank_identically(sqlite_registry: Registry, dynamodb_registry: Registry) -> None:
    for registry in (sqlite_registry, dynamodb_registry):
        for name in ("museum-visits", "uit-events", "ticket-sales"):
            registry.register_product(descriptor_text(name))
    for query in ("event", "postal code", "data", "ticket sold"):
        sqlite_hits = [(h.product.id, h.score) for h in search(sqlite_registry, query, now=NOW)]
        assert sqlite_hits == [(h.product.id, h.score) for h in search(dynamodb_registry, query, now=NOW)]


@pytest.mark.parametrize(
    "query",
    ["'; DROP TABLE products; --", "%_*?[]{}()", '"unclosed', "\x00\x1b[31m", "🎭 théâtre", "\\", ":", "domain:"[:-1]],
)
def test_odd_characters_are_searched_never_a_crash(populated: Callable[[], Registry], query: str) -> None:
    registry = populated()
    assert isinstance(search(registry, query, now=NOW), list)
    assert len(registry.products()) == 3


def test_a_filter_without_a_value_or_a_bad_freshness_is_a_clear_error(populated: Callable[[], Registry]) -> None:
    registry = populated()
    with pytest.raises(InvalidQuery, match="filter owner: needs a value"):
        search(registry, "owner:", now=NOW)
    with pytest.raises(InvalidQuery, match="expected fresh, stale or unknown") as caught:
        search(registry, "fresh:rotten", now=NOW)
    assert caught.value.status == 400


def test_a_10_kb_query_is_refused_with_the_limit_in_the_message(populated: Callable[[], Registry]) -> None:
    with pytest.raises(InvalidQuery) as caught:
        search(populated(), "ticket " * 1463, now=NOW)
    assert f"at most {MAX_QUERY_CHARS}" in str(caught.value) and "10241 characters" in str(caught.value)


def test_tokens_fold_case_and_accents_and_split_snake_and_kebab_case() -> None:
    assert tokens("Buyer_Postal-Code Café") == ["buyer", "postal", "code", "cafe"]
    query = parse_query('ticket "postal code" domain:ticketing')
    assert query.terms == (("ticket",), ("postal", "code")) and query.filters.domain == "ticketing"

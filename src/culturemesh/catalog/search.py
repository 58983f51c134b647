"""Search over the catalog, ranked the same whichever backend holds it.

A query is words and ``"quoted phrases"``, plus optional filters written ``key:value``
(``domain:``, ``owner:``, ``type:`` for a port type, ``fresh:`` for fresh|stale|unknown), which
combine with the :class:`Filters` given separately. Every word and phrase must match somewhere in
a product (names, summary, themes, owner and team, port names and descriptions, column names and
descriptions); a word matches a token that equals it, or — at three letters or more — starts
with it. Matching ignores case and accents, and ``snake_case``/``kebab-case`` split into words.

Ranking is BM25 per field, weighted by field (a hit in the name counts more than one in a
column description), computed here in Python over the registered products, so SQLite and
DynamoDB rank identically. Queries longer than :data:`MAX_QUERY_CHARS` are refused with
:class:`InvalidQuery`; any other text, odd characters included, is searched, never an error.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from culturemesh.catalog.freshness import State, product_freshness
from culturemesh.catalog.registry import InvalidQuery, ProductRecord, Registry

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
FIELD_WEIGHTS = {
    "name": 6.0,
    "summary": 3.0,
    "themes": 3.0,
    "domain": 2.0,
    "owner": 2.0,
    "ports": 1.5,
    "columns": 2.0,
    "descriptions": 1.0,
}
_K1, _B = 1.2, 0.75
_FILTER = re.compile(r'^(domain|owner|type|fresh):(?:"([^"]*)"|(\S*))$', re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_]+")
_PIECES = re.compile(r'\w+:"[^"]*"?|"[^"]*"?|\S+')


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    port_type: str | None = None
    owner: str | None = None  # owner or team name, or contact; case-insensitive
    freshness: str | None = None  # fresh | stale | unknown

    def __post_init__(self) -> None:
        if self.freshness is not None and self.freshness not in {s.value for s in State}:
            raise InvalidQuery("freshness", f"{self.freshness!r}: expected fresh, stale or unknown")


@dataclass(frozen=True)
class Query:
    terms: tuple[tuple[str, ...], ...]  # each a word (one token) or a phrase (several)
    filters: Filters


@dataclass(frozen=True)
class SearchHit:
    product: ProductRecord
    score: float
    matched: tuple[str, ...]  # the fields that matched, best first
    freshness: State


def tokens(text: str) -> list[str]:
    """Lower-case, accent-free word tokens of ``text``."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _TOKEN.findall(plain)


def parse_query(text: str, filters: Filters | None = None) -> Query:
    """Words, phrases and ``key:value`` filters of a query text (see the module docstring)."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery("query", f"{len(text)} characters is too long; at most {MAX_QUERY_CHARS}")
    found = filters or Filters()
    terms: list[tuple[str, ...]] = []
    for piece in _PIECES.findall(text):
        match = _FILTER.match(piece)
        if match:
            key, value = match.group(1).lower(), (match.group(2) or match.group(3) or "").strip()
            found = _with_filter(found, key, value)
            continue
        words = tuple(tokens(piece))
        if words and words not in terms:
            terms.append(words if piece.startswith('"') else words[:1])
            terms.extend((word,) for word in words[1:] if not piece.startswith('"') and (word,) not in terms)
    if len(terms) > MAX_TERMS:
        raise InvalidQuery("query", f"{len(terms)} words is too many; at most {MAX_TERMS}")
    return Query(tuple(terms), found)


def _with_filter(filters: Filters, key: str, value: str) -> Filters:
    if not value:
        raise InvalidQuery("query", f"filter {key}: needs a value, for example {key}:{_EXAMPLES[key]}")
    field = {"domain": "domain", "owner": "owner", "type": "port_type", "fresh": "freshness"}[key]
    return replace(filters, **{field: value})


_EXAMPLES = {"domain": "ticketing", "owner": '"Ticketing Vlaanderen"', "type": "analyticaldata", "fresh": "stale"}


def fields_of(product: ProductRecord) -> dict[str, list[str]]:
    """The searchable text of a product, as tokens per field."""
    team = product.team.name if product.team else ""
    ports = [f"{p.name} {p.type}" for p in product.ports]
    descriptions = [f"{p.description or ''} {p.content_description or ''}" for p in product.ports]
    descriptions += [c.description or "" for p in product.ports for c in p.columns]
    return {
        "name": tokens(f"{product.name} {product.id}"),
        "summary": tokens(product.summary),
        "themes": tokens(" ".join(product.themes)),
        "domain": tokens(product.domain),
        "owner": tokens(f"{product.owner.name} {product.owner.contact or ''} {team}"),
        "ports": tokens(" ".join(ports)),
        "columns": tokens(" ".join(c.name for p in product.ports for c in p.columns)),
        "descriptions": tokens(" ".join(descriptions)),
    }


def _occurrences(field_tokens: Sequence[str], term: tuple[str, ...]) -> float:
    """How often ``term`` occurs in a field: exact matches count 1, prefix matches 0.5."""
    if len(term) > 1:
        n = len(term)
        return float(sum(tuple(field_tokens[i : i + n]) == term for i in range(len(field_tokens) - n + 1)))
    word = term[0]
    exact = sum(token == word for token in field_tokens)
    prefix = sum(token != word and token.startswith(word) for token in field_tokens) if len(word) >= 3 else 0
    return exact + 0.5 * prefix


def rank(
    products: Sequence[ProductRecord], terms: Sequence[tuple[str, ...]]
) -> list[tuple[ProductRecord, float, tuple[str, ...]]]:
    """BM25F-style scores of the products matching every term, best first (ties by id)."""
    docs = [fields_of(product) for product in products]
    if not docs:
        return []
    average = {name: (sum(len(doc[name]) for doc in docs) / len(docs)) or 1.0 for name in FIELD_WEIGHTS}
    counts = [[{name: _occurrences(doc[name], term) for name in FIELD_WEIGHTS} for term in terms] for doc in docs]
    matching = [sum(1 for per_doc in counts if any(per_doc[i].values())) for i in range(len(terms))]
    idf = [math.log(1 + (len(docs) - m + 0.5) / (m + 0.5)) for m in matching]
    ranked = []
    for product, doc, per_term in zip(products, docs, counts, strict=True):
        if not all(any(per_field.values()) for per_field in per_term):
            continue
        score, matched = 0.0, dict[str, float]()
        for weight_of_term, per_field in zip(idf, per_term, strict=True):
            weighted = sum(
                FIELD_WEIGHTS[name] * count / (1 - _B + _B * len(doc[name]) / average[name])
                for name, count in per_field.items()
            )
            score += weight_of_term * weighted * (_K1 + 1) / (weighted + _K1)
            for name, count in per_field.items():
                if count:
                    matched[name] = matched.get(name, 0.0) + FIELD_WEIGHTS[name] * count
        ranked.append((product, score, tuple(sorted(matched, key=lambda n: -matched[n]))))
    return sorted(ranked, key=lambda hit: (-hit[1], hit[0].id))


def _passes(product: ProductRecord, filters: Filters) -> bool:
    if filters.domain and product.domain.casefold() != filters.domain.casefold():
        return False
    if filters.port_type and all(p.type != filters.port_type.casefold() for p in product.ports):
        return False
    if filters.owner:
        wanted = filters.owner.casefold()
        names: Iterable[str | None] = (
            product.owner.name,
            product.owner.contact,
            product.team.name if product.team else None,
        )
        if all((name or "").casefold() != wanted for name in names):
            return False
    return True


def search(
    registry: Registry,
    text: str = "",
    filters: Filters | None = None,
    *,
    now: datetime | None = None,
    limit: int = 50,
) -> list[SearchHit]:
    """The products matching ``text`` and the filters, best first (by id when there are no words)."""
    query = parse_query(text, filters)
    candidates = [product for product in registry.products() if _passes(product, query.filters)]
    moment = now or datetime.now(UTC)
    hits = []
    for product, score, matched in rank(candidates, query.terms):
        state = product_freshness(registry, product, moment).state
        if query.filters.freshness is None or state.value == query.filters.freshness:
            hits.append(SearchHit(product, round(score, 6), matched, state))
        if len(hits) >= limit:
            break
    return hits

"""The YARRRML document model: the frozen dataclasses that :func:`culturemesh.linkeddata.yarrrml.load`
returns and :mod:`culturemesh.linkeddata.engine` runs (document, mapping, source, rule, term map, join),
and :class:`MappingError`, which names file, mapping, rule and row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from culturemesh.errors import CultureMeshError
from culturemesh.linkeddata.terms import Template

TermType = Literal["iri", "literal", "blanknode"]
SourceFormat = Literal["csv", "json"]


class MappingError(CultureMeshError):
    """A mapping is wrong, or a row cannot be mapped: names file, mapping, rule and (when known) row."""

    exit_code = 12  # 8 is access denied

    def __init__(
        self, message: str, *, file: str, mapping: str | None = None, rule: str | None = None, row: int | None = None
    ) -> None:
        self.file, self.mapping, self.rule, self.row, self.reason = file, mapping, rule, row, message
        where = [file]
        if mapping is not None:
            where.append(f"mapping {mapping!r}")
        if rule is not None:
            where.append(f"rule {rule}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{', '.join(where)}: {message}")


@dataclass(frozen=True)
class TermMap:
    """How one RDF term is made from a row: a template, its term type, datatype or language."""

    template: Template
    term_type: TermType
    datatype: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class JoinCondition:
    child: str
    parent: str


@dataclass(frozen=True)
class ParentRef:
    """An object that is the subject of another mapping, joined on equal column values."""

    mapping: str
    conditions: tuple[JoinCondition, ...]


@dataclass(frozen=True)
class Rule:
    """One ``po`` entry: predicates × objects, in the mapping's graphs plus its own."""

    path: str
    predicates: tuple[TermMap, ...]
    objects: tuple[TermMap | ParentRef, ...]
    graphs: tuple[TermMap, ...]


@dataclass(frozen=True)
class Source:
    """A logical source: ``name`` is the key of the table the engine reads (the file as written)."""

    name: str
    format: SourceFormat
    iterator: str | None = None


@dataclass(frozen=True)
class Mapping:
    name: str
    sources: tuple[Source, ...]
    subject: TermMap
    graphs: tuple[TermMap, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class MappingDocument:
    file: str
    prefixes: tuple[tuple[str, str], ...]
    mappings: tuple[Mapping, ...]
    base_dir: Path | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        """The names of the tables the engine needs, in order of first use."""
        return tuple(dict.fromkeys(source.name for m in self.mappings for source in m.sources))

    def source(self, name: str) -> Source:
        return next(s for m in self.mappings for s in m.sources if s.name == name)

    def mapping(self, name: str) -> Mapping:
        return next(m for m in self.mappings if m.name == name)

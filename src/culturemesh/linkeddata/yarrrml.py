"""YARRRML mappings, parsed into frozen dataclasses that :mod:`culturemesh.linkeddata.engine` runs.

Supported, as product developers write it: ``prefixes``; ``sources`` (top-level named sources or
inline ``[file.csv~csv]``, ``[file.json~jsonpath, '$.items[*]']``); per mapping a subject ``s``,
``graph``/``graphs``/``g`` templates, and ``po`` entries in the list forms ``[p, o]``,
``[p, o, xsd:type]``, ``[p, o, nl~lang]``, ``[[p1, p2], [o1, o2]]`` and the dict form (``p``,
``o`` with ``value``/``type``/``datatype``/``language``, ``graph``); ``a`` for ``rdf:type``;
``~iri``, ``~literal``, ``~blanknode``; referencing objects ``mapping: other`` with ``condition:``
``function: equal`` and ``parameters: [[str1, $(x), s], [str2, $(y), o]]`` (one or several).

Everything that can be checked without data is checked here (undeclared prefix, malformed
template, unknown datatype, bad language tag, unknown mapping, unsupported key); the engine checks
the rest per row. Every problem is a :class:`MappingError` naming file, mapping and rule.

The dataclasses are in :mod:`culturemesh.linkeddata.yarrrml_model` and the reading of subjects, graphs
and ``po`` rules in :mod:`culturemesh.linkeddata.yarrrml_rules`; this module loads a document and reads
its prefixes, sources and mappings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from culturemesh.linkeddata.yarrrml_model import (
    JoinCondition,
    Mapping,
    MappingDocument,
    MappingError,
    ParentRef,
    Rule,
    Source,
    SourceFormat,
    TermMap,
    TermType,
)
from culturemesh.linkeddata.yarrrml_prefixes import DEFAULT_PREFIXES
from culturemesh.linkeddata.yarrrml_rules import RuleReader, check_datatype, check_language, first, is_type_predicate

__all__ = [
    "JoinCondition",
    "Mapping",
    "MappingDocument",
    "MappingError",
    "ParentRef",
    "Rule",
    "Source",
    "SourceFormat",
    "TermMap",
    "TermType",
    "check_datatype",
    "check_language",
    "is_type_predicate",
    "load",
    "parse",
]


def load(source: str | Path) -> MappingDocument:
    """Parse a YARRRML file (a :class:`~pathlib.Path`, or a ``str`` path ending in .yaml/.yml) or YAML text."""
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yml", ".yaml"))
    ):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MappingError(f"cannot read the mapping file: {exc.strerror}", file=str(path)) from None
        return parse(text, file=str(path), base_dir=path.parent)
    return parse(source, file="<yarrrml>")


def parse(text: str, *, file: str, base_dir: Path | None = None) -> MappingDocument:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("mappings"), dict) or not raw["mappings"]:
        raise MappingError("expected a YAML mapping with a non-empty 'mappings:' section", file=file)
    reader = _Reader(file, _prefixes(raw.get("prefixes"), file), _named_sources(raw.get("sources"), file))
    mappings = tuple(reader.mapping(str(name), body) for name, body in raw["mappings"].items())
    doc = MappingDocument(file, tuple(reader.prefixes.items()), mappings, base_dir)
    _check_references(doc)
    _check_sources(doc)
    return doc


def _prefixes(raw: Any, file: str) -> dict[str, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise MappingError("'prefixes' must map prefix names to namespace IRIs", file=file)
    return {**DEFAULT_PREFIXES, **{str(k): str(v) for k, v in raw.items()}}


def _named_sources(raw: Any, file: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MappingError("top-level 'sources' must map source names to sources", file=file)
    return dict(raw)


def _check_references(doc: MappingDocument) -> None:
    names = {m.name for m in doc.mappings}
    for mapping in doc.mappings:
        for rule in mapping.rules:
            for obj in rule.objects:
                if isinstance(obj, ParentRef) and obj.mapping not in names:
                    raise MappingError(
                        f"refers to mapping {obj.mapping!r}, which is not defined; mappings: {sorted(names)}",
                        file=doc.file,
                        mapping=mapping.name,
                        rule=rule.path,
                    )


def _check_sources(doc: MappingDocument) -> None:
    seen: dict[str, Source] = {}
    for mapping in doc.mappings:
        for source in mapping.sources:
            earlier = seen.setdefault(source.name, source)
            if earlier != source:
                raise MappingError(
                    f"source {source.name!r} is read as {source.format} with iterator {source.iterator!r} here but "
                    f"as {earlier.format} with iterator {earlier.iterator!r} elsewhere; use one iterator per file",
                    file=doc.file,
                    mapping=mapping.name,
                )


class _Reader(RuleReader):
    """Turns the YAML of one document into dataclasses; knows the file and prefixes for messages."""

    def __init__(self, file: str, prefixes: dict[str, str], named_sources: dict[str, Any]) -> None:
        super().__init__(file, prefixes)
        self.named_sources = named_sources

    def mapping(self, name: str, body: Any) -> Mapping:
        self.where = (name, f"mappings.{name}")
        if not isinstance(body, dict):
            raise self.fail("a mapping must be a YAML mapping with sources, s and po")
        unknown = set(body) - {"sources", "source", "s", "subject", "subjects", "po", "predicateobjects",
                               "graph", "graphs", "g"}  # fmt: skip
        if unknown:
            raise self.fail(f"unsupported key(s) {sorted(unknown)}; expected sources, s, graph, po")
        sources = self.sources(first(body, "sources", "source"))
        subject = self.subject(first(body, "s", "subject", "subjects"))
        graphs = self.graphs(first(body, "graph", "graphs", "g"), f"mappings.{name}.graph")
        po = first(body, "po", "predicateobjects") or []
        if not isinstance(po, list):
            raise self.fail("'po' must be a list of [predicate, object] entries")
        rules = tuple(self.rule(entry, f"mappings.{name}.po[{i}]") for i, entry in enumerate(po))
        return Mapping(name, sources, subject, graphs, rules)

    # -- sources --------------------------------------------------------------------------------
    def sources(self, raw: Any) -> tuple[Source, ...]:
        if raw is None:
            raise self.fail("has no 'sources'; expected e.g. sources: [[deelnames.csv~csv]]")
        items = (
            raw if isinstance(raw, list) and raw and (isinstance(raw[0], list | dict) or _named(raw, self)) else [raw]
        )
        return tuple(self.source(item) for item in items)

    def source(self, raw: Any) -> Source:
        if isinstance(raw, str) and raw in self.named_sources:
            raw = self.named_sources[raw]
        if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw) and len(raw) <= 2:
            access, _, formulation = raw[0].partition("~")
            return self._source(access, formulation or "csv", raw[1] if len(raw) == 2 else None)
        if isinstance(raw, dict) and isinstance(raw.get("access"), str):
            return self._source(raw["access"], str(raw.get("referenceFormulation", "csv")), raw.get("iterator"))
        raise self.fail(f"source {raw!r} not understood; expected [file.csv~csv] or [file.json~jsonpath, '$.items[*]']")

    def _source(self, access: str, formulation: str, iterator: Any) -> Source:
        formulation = formulation.lower()
        if formulation == "csv":
            return Source(access, "csv")
        if formulation in ("json", "jsonpath"):
            return Source(access, "json", str(iterator) if iterator is not None else "$")
        raise self.fail(f"reference formulation {formulation!r} is not supported; expected csv or jsonpath")


def _named(raw: list[Any], reader: _Reader) -> bool:
    return all(isinstance(x, str) and x in reader.named_sources for x in raw)

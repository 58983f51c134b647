"""Runs a :class:`~culturemesh.linkeddata.yarrrml.MappingDocument` over Arrow tables, column-wise.

The result is a *quad table*: four ``pa.string()`` columns ``s``, ``p``, ``o``, ``g`` holding the
N-Quads form of each term (``<http://…>``, ``_:b1``, ``"tekst"@nl``, ``"12.50"^^<…#decimal>``;
``g`` null for the default graph). Each term map is one ``pyarrow.compute`` expression over whole
columns (string joins, regex checks, replacements); only values that need percent-encoding beyond
what a few replacements can do go through Python, once per distinct value.

RML semantics kept: a null or empty value gives no triple; values in IRI templates are
percent-encoded (RFC 3986 unreserved characters kept, every other UTF-8 byte ``%XX``, as morph-kgc
does), a lone ``$(column)`` IRI is taken as it is; ``xsd:boolean`` is lower-cased, ``xsd:dateTime``
gets ``T`` for a space, ``xsd:integer`` loses leading zeros. A value that does not fit its
datatype, or an IRI that is not absolute, is a :class:`MappingError` naming mapping, rule and row.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from culturemesh.linkeddata.termcolumns import Term, Where, Wrapped, make_term
from culturemesh.linkeddata.yarrrml import Mapping as TriplesMap
from culturemesh.linkeddata.yarrrml import MappingDocument, MappingError, ParentRef, Rule, Source, TermMap
from culturemesh.pipeline import prefetched

# N-Quads are joined this many quads at a time: a few MB per buffer, which the allocator reuses
# from one batch to the next, where one buffer per rule (tens of MB) costs fresh pages each time.
_LINES_BATCH = 16_384
QUAD_SCHEMA = pa.schema([("s", pa.string()), ("p", pa.string()), ("o", pa.string()), ("g", pa.string())])
_NEEDS_ENCODING = "[^A-Za-z0-9._~-]"


def run(doc: MappingDocument, tables: Mapping[str, pa.Table]) -> pa.Table:
    """Every quad the mappings of ``doc`` make from ``tables`` (keyed by source name)."""
    pieces = [piece.table() for piece in pieces_of(doc, tables)]
    if not pieces:
        return QUAD_SCHEMA.empty_table()
    return pa.concat_tables(pieces)


def nquads(doc: MappingDocument, tables: Mapping[str, pa.Table]) -> Iterator[pa.StringArray]:
    """The same quads as :func:`run`, as N-Quads lines, one array per rule: constant terms are
    joined in as scalars, never repeated into columns, and no quad table is built."""
    # The next rules' terms are made on another thread while this rule's lines are joined (both
    # release the GIL); the writer (serialize.write_lines) is a third.
    with contextlib.closing(prefetched(pieces_of(doc, tables), depth=2)) as pieces:
        for piece in pieces:
            for start in range(0, piece.rows, _LINES_BATCH):
                yield from piece.slice(start, _LINES_BATCH).lines().chunks


def pieces_of(doc: MappingDocument, tables: Mapping[str, pa.Table]) -> Iterator[Piece]:
    runner = _Runner(doc, tables)
    for mapping in doc.mappings:
        yield from runner.mapping_quads(mapping)


@dataclass(frozen=True)
class Piece:
    """The quads of one rule: each term a column (no nulls, one value per quad) or a constant."""

    rows: int
    s: Term
    p: Term
    o: Term
    g: Term

    def table(self) -> pa.Table:
        columns = [_as_column(term, self.rows) for term in self.terms()]
        return pa.Table.from_arrays(columns, schema=QUAD_SCHEMA)

    def slice(self, start: int, length: int) -> Piece:
        rows = min(length, self.rows - start)
        cut = [t.with_values(t.values.slice(start, rows)) if isinstance(t, Wrapped) else t for t in self.terms()]
        return Piece(rows, *cut)

    def terms(self) -> tuple[Term, Term, Term, Term]:
        return self.s, self.p, self.o, self.g

    def lines(self) -> pa.ChunkedArray:
        """One N-Quads line per quad: each term's constant text and values joined in one pass."""
        parts: list[pa.ChunkedArray | str] = []
        for separator, term in zip(("", " ", " ", " "), self.terms(), strict=True):
            if term is None:
                continue
            parts.append(separator)
            parts.extend([term.prefix, term.values, term.suffix] if isinstance(term, Wrapped) else [term])
        parts.append(" .\n")
        merged: list[pa.ChunkedArray | str] = []
        for part in parts:  # adjacent constant text as one scalar
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif not (isinstance(part, str) and not part):
                merged.append(part)
        if not any(isinstance(part, pa.ChunkedArray) for part in merged):  # every term constant
            merged = [_as_column(merged[0] if isinstance(merged[0], str) else "", self.rows)]
        joined = pc.binary_join_element_wise(*merged, "")
        return joined if isinstance(joined, pa.ChunkedArray) else pa.chunked_array([joined])


def load_csv(path: Path | str) -> pa.Table:
    """A CSV file with every column read as a string, as RML reads CSV (empty cells stay ``""``)."""
    import pyarrow.csv as pacsv

    with Path(path).open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    return pacsv.read_csv(path, convert_options=options)


def load_json(path: Path | str, iterator: str = "$") -> pa.Table:
    """The records a simple JSONPath iterator (``$``, ``$.a.b[*]``, ``$[*].c``) selects, flattened.

    Nested objects become columns named ``parent.child`` (reference them as ``$(parent.child)``);
    numbers and booleans become their JSON text; arrays inside a record are left out.
    """
    nodes: list[Any] = [json.loads(Path(path).read_text(encoding="utf-8"))]
    for step in _jsonpath_tokens(iterator):
        if step == "*":
            nodes = [item for node in nodes if isinstance(node, list) for item in node]
        else:
            nodes = [node[step] for node in nodes if isinstance(node, dict) and step in node]
    records = [_flat_record(node) for node in nodes if isinstance(node, dict)]
    names = list(dict.fromkeys(name for record in records for name in record))
    return pa.table({name: pa.array([r.get(name) for r in records], pa.string()) for name in names})


def load_sources(doc: MappingDocument, files: Mapping[str, Path] | None = None) -> dict[str, pa.Table]:
    """The tables ``doc`` needs: ``files[name]`` when given, else the file named by the source,
    relative to the mapping's folder."""
    tables: dict[str, pa.Table] = {}
    for name in doc.sources:
        source = doc.source(name)
        path = (files or {}).get(name) or (doc.base_dir or Path()) / name
        if not path.is_file():
            raise MappingError(f"source file {str(path)!r} not found; pass it with --source {name}=FILE", file=doc.file)
        tables[name] = load_json(path, source.iterator or "$") if source.format == "json" else load_csv(path)
    return tables


def _jsonpath_tokens(iterator: str) -> Iterator[str]:
    if not iterator.startswith("$"):
        raise ValueError(f"JSONPath iterator {iterator!r} must start with $")
    for match in re.finditer(r"\.([^.\[]+)|\[\*\]|\['([^']+)'\]|\.\*", iterator[1:]):
        yield match.group(1) or match.group(2) or "*"


def _flat_record(node: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    flat: dict[str, str | None] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            flat.update(_flat_record(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            flat[f"{prefix}{key}"] = value if value is None or isinstance(value, str) else json.dumps(value)
    return flat


@dataclass(frozen=True)
class _Where:
    mapping: str
    rule: str


class _Runner:
    """One run: the tables, and per (mapping, source) the columns and subjects already computed."""

    def __init__(self, doc: MappingDocument, tables: Mapping[str, pa.Table]) -> None:
        self.doc, self.tables = doc, tables
        self.frames: dict[tuple[str, str], _Frame] = {}
        self.columns: dict[str, _SourceColumns] = {}  # per source: what every mapping over it shares

    def frame(self, mapping: TriplesMap, source: Source) -> _Frame:
        key = (mapping.name, source.name)
        if key not in self.frames:
            if source.name not in self.tables:
                raise MappingError(
                    f"no table for source {source.name!r}; given: {sorted(self.tables)}", file=self.doc.file,
                    mapping=mapping.name,
                )  # fmt: skip
            shared = self.columns.setdefault(source.name, _SourceColumns())
            self.frames[key] = _Frame(self.doc.file, mapping, self.tables[source.name], shared)
        return self.frames[key]

    def mapping_quads(self, mapping: TriplesMap) -> Iterator[Piece]:
        for source in mapping.sources:
            frame = self.frame(mapping, source)
            subject = frame.subject()
            mapping_graphs = [
                frame.term(g, _Where(mapping.name, f"mappings.{mapping.name}.graph")) for g in mapping.graphs
            ]
            for rule in mapping.rules:
                yield from self.rule_quads(frame, rule, subject, mapping_graphs)

    def rule_quads(self, frame: _Frame, rule: Rule, subject: Term, mapping_graphs: list[Term]) -> Iterator[Piece]:
        where = _Where(frame.mapping.name, rule.path)
        graphs = [frame.term(g, where) for g in rule.graphs] + mapping_graphs or [None]
        for predicate in (frame.term(p, where) for p in rule.predicates):
            for obj in rule.objects:
                for graph in graphs:
                    if isinstance(obj, ParentRef):
                        yield self.joined_quads(frame, obj, where, subject, predicate, graph)
                    else:
                        yield frame.quads(subject, predicate, frame.term(obj, where), graph)

    def joined_quads(self, frame: _Frame, ref: ParentRef, where: _Where, s: Term, p: Term, g: Term) -> Piece:
        parent = self.doc.mapping(ref.mapping)
        if not ref.conditions:
            if {x.name for x in parent.sources} != {x.name for x in frame.mapping.sources}:
                raise MappingError(
                    f"mapping {ref.mapping!r} reads other sources; a reference to it needs a join condition",
                    file=self.doc.file, mapping=where.mapping, rule=where.rule,
                )  # fmt: skip
            return frame.quads(s, p, frame.term(parent.subject, where), g)
        child_keys = [frame.column(c.child, where) for c in ref.conditions]
        left = frame.quad_columns(s, p, None, g, extra=child_keys)
        rights = [self._parent_side(parent, src, ref, where) for src in parent.sources]
        right = pa.concat_tables(rights) if len(rights) > 1 else rights[0]
        keys = [f"k{i}" for i in range(len(ref.conditions))]
        joined = left.join(right, keys=keys, join_type="inner", use_threads=False)
        return frame.complete(joined, s, p, g)

    def _parent_side(self, parent: TriplesMap, source: Source, ref: ParentRef, where: _Where) -> pa.Table:
        frame = self.frame(parent, source)
        columns: dict[str, Any] = {f"k{i}": frame.column(c.parent, where) for i, c in enumerate(ref.conditions)}
        columns["o"] = _as_column(frame.subject(), frame.rows)
        table = pa.table(columns)
        valid = _all_valid(table.columns)
        return (
            (table if valid is None else table.filter(valid))
            .group_by(table.column_names, use_threads=False)
            .aggregate([])
        )


@dataclass
class _SourceColumns:
    """One source table's prepared columns (empty as null, percent-encoded), shared by every
    mapping that reads it, and which value columns hold no repeated value."""

    columns: dict[tuple[str, str], pa.ChunkedArray] = field(default_factory=dict)
    _unique: dict[int, tuple[pa.ChunkedArray, bool]] = field(default_factory=dict)

    def unique(self, values: pa.ChunkedArray) -> bool:
        if id(values) not in self._unique:  # the column is kept with its answer, so its id stays its own
            distinct = pc.count_distinct(values, mode="only_valid").as_py()
            self._unique[id(values)] = (values, distinct == pc.count(values, mode="only_valid").as_py())
        return self._unique[id(values)][1]


class _Frame:
    """One mapping over one source table: columns prepared once (empty → null, encoded, escaped)."""

    def __init__(self, file: str, mapping: TriplesMap, table: pa.Table, shared: _SourceColumns) -> None:
        self.file, self.mapping, self.table, self.rows = file, mapping, table, table.num_rows
        self.cache = shared.columns  # the same column of the same source is prepared once
        self.shared = shared
        self.terms: dict[TermMap, Term] = {}
        self._subject: Term | None = None
        self._subject_unique: bool | None = None

    def fail(self, where: Where, message: str, row: int | None = None) -> MappingError:
        return MappingError(message, file=self.file, mapping=where.mapping, rule=where.rule, row=row)

    def column(self, name: str, where: Where) -> pa.ChunkedArray:
        key = ("raw", name)
        if key not in self.cache:
            if name not in self.table.column_names:
                columns = ", ".join(self.table.column_names)
                raise self.fail(where, f"column {name!r} not found in the source; its columns are: {columns}")
            values = self.table[name]
            if not pa.types.is_string(values.type):
                values = pc.cast(values, pa.string())
            self.cache[key] = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
        return self.cache[key]

    def encoded(self, name: str, where: Where) -> pa.ChunkedArray:
        key = ("iri", name)
        if key not in self.cache:
            self.cache[key] = _percent_encode(self.column(name, where))
        return self.cache[key]

    def subject(self) -> Term:
        if self._subject is None:
            where = _Where(self.mapping.name, f"mappings.{self.mapping.name}.s")
            self._subject = self.term(self.mapping.subject, where)
        return self._subject

    def subject_unique(self) -> bool:
        """True when no two rows share a subject, so no rule of this mapping repeats a quad."""
        if self._subject_unique is None:
            subject = self.subject()  # a subject is a one-to-one function of its values column
            self._subject_unique = isinstance(subject, Wrapped) and self.shared.unique(subject.values)
        return self._subject_unique

    def term(self, term_map: TermMap, where: _Where) -> Term:
        """Computed once per term map: a graph with the subject's template *is* the subject column."""
        if term_map not in self.terms:
            self.terms[term_map] = make_term(self, term_map, where)
        return self.terms[term_map]

    def quad_columns(self, s: Term, p: Term, o: Term, g: Term, extra: list[pa.ChunkedArray] | None = None) -> pa.Table:
        """The rows where every term is present: only the terms that vary (constants come later)."""
        terms = {"s": s if s is not None else Wrapped("", _as_column(s, self.rows), ""), "p": p, "o": o, "g": g}
        columns: dict[str, Any] = {
            name: term.values
            for name, term in terms.items()
            if isinstance(term, Wrapped) and not (name == "g" and g is s)
        }
        columns.update({f"k{i}": key for i, key in enumerate(extra or [])})
        table = pa.table(columns)
        mask = _all_valid(table.columns)
        return table if mask is None else table.filter(mask)

    def complete(self, table: pa.Table, s: Term, p: Term, g: Term, o: Term = None) -> Piece:
        """The piece: the varying columns of ``table``, the constant terms as they are."""
        terms: dict[str, Term] = {"s": s, "p": p, "o": o, "g": g}
        for name, term in list(terms.items()):
            if name in table.column_names:  # the values kept by the filter, the dedup or the join
                values = table[name]
                terms[name] = term.with_values(values) if isinstance(term, Wrapped) else Wrapped("", values, "")
        if g is s:
            terms["g"] = terms["s"]
        return Piece(table.num_rows, terms["s"], terms["p"], terms["o"], terms["g"])

    def quads(self, s: Term, p: Term, o: Term, g: Term) -> Piece:
        table = self.quad_columns(s, p, o, g)
        if not self.subject_unique():
            table = _distinct(table)
        return self.complete(table, s, p, g, o)


def _distinct(table: pa.Table) -> pa.Table:
    """The distinct rows: a hash of the one column when only one varies (a type, say), else Acero's."""
    if table.num_columns == 1:
        return pa.table({table.column_names[0]: pc.unique(table.column(0))})
    return table.group_by(table.column_names, use_threads=False).aggregate([])


def _as_column(term: Term, rows: int) -> pa.ChunkedArray:
    if isinstance(term, Wrapped):
        return term.column()
    column = pa.nulls(rows, pa.string())
    return pa.chunked_array([column if term is None else column.fill_null(term)], pa.string())


def _all_valid(columns: list[pa.ChunkedArray]) -> pa.ChunkedArray | None:
    """True where no column is null; None when no column has a null (nothing to filter)."""
    mask = None
    for column in columns:
        if column.null_count:
            valid = pc.is_valid(column)
            mask = valid if mask is None else pc.and_(mask, valid)
    return mask


def _percent_encode(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """RFC 3986 percent-encoding of everything but unreserved characters (as morph-kgc does)."""
    needs = pc.match_substring_regex(values, _NEEDS_ENCODING)
    if not pc.any(needs).as_py():
        return values
    distinct = pc.unique(pc.filter(values, needs))
    encoded = pa.array([quote(v, safe="~") for v in distinct.to_pylist()], pa.string())  # once per distinct value
    replaced = pc.take(encoded, pc.index_in(values, value_set=distinct))
    return pc.if_else(needs, replaced, values)

"""One term map over a whole table: a column of N-Quads terms, checked, made with pyarrow.compute.

:func:`make_term` is what the engine calls per term map. A constant term map gives one string
(checked once); a template gives a column, null where a referenced value is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from culturemesh.linkeddata.terms import ABSOLUTE_IRI, DATATYPES, XSD, Datatype, Reference, Template
from culturemesh.linkeddata.yarrrml import MappingError, TermMap


@dataclass(frozen=True, eq=False)
class Wrapped:
    """A column of terms kept as ``prefix + values + suffix``: only ``values`` (a percent-encoded
    identifier, an escaped literal) is stored per row; the whole term is assembled only when it is
    written or a quad table is asked for. Compared by identity: the same term map is one object."""

    prefix: str
    values: pa.ChunkedArray
    suffix: str

    def column(self) -> pa.ChunkedArray:
        return _join([self.prefix, self.values, self.suffix]) if self.prefix or self.suffix else self.values

    def with_values(self, values: pa.ChunkedArray) -> Wrapped:
        return Wrapped(self.prefix, values, self.suffix)


# A column of terms, one constant term, or None (the default graph).
Term: TypeAlias = "Wrapped | str | None"

_BLANK_LABEL = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CLEAN_IRI_TEXT = re.compile(r"^[^\x00-\x20<>\"{}|^`\\]*$")
_EXCERPT = 60  # characters of an offending value shown in an error


class Where(Protocol):
    @property
    def mapping(self) -> str: ...

    @property
    def rule(self) -> str: ...


class Columns(Protocol):
    """What a term needs from the table it is made over (the engine's per-source frame)."""

    file: str

    def column(self, name: str, where: Where) -> pa.ChunkedArray: ...

    def encoded(self, name: str, where: Where) -> pa.ChunkedArray: ...


def make_term(frame: Columns, term_map: TermMap, where: Where) -> Term:
    template = term_map.template
    if template.is_constant:
        return constant_term(frame.file, term_map, where)
    if term_map.term_type == "iri":
        return _iri_column(frame, template, where)
    if term_map.term_type == "blanknode":
        labels = _join(_parts(frame, template, where, encoded=False))
        _refuse(frame.file, where, pc.invert(pc.match_substring_regex(labels, _BLANK_LABEL)), labels,
                "is not a blank node label (letters, digits, _ . -)")  # fmt: skip
        return Wrapped("_:", labels, "")
    return _literal_column(frame, term_map, where)


def constant_term(file: str, term_map: TermMap, where: Where) -> str:
    value = term_map.template.constant
    if term_map.term_type == "iri":
        if not re.match(ABSOLUTE_IRI, value):
            raise MappingError(f"{value!r} is not an absolute IRI", file=file, mapping=where.mapping, rule=where.rule)
        return f"<{value}>"
    if term_map.term_type == "blanknode":
        return f"_:{value}"
    datatype = DATATYPES.get(term_map.datatype or "")
    if datatype is not None and datatype.pattern and not re.match(datatype.pattern, value):
        raise MappingError(
            f"constant {value!r} is not a valid {_short(datatype.iri)}: expected {datatype.expected}",
            file=file, mapping=where.mapping, rule=where.rule,
        )  # fmt: skip
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"{_literal_suffix(term_map)}'


def _iri_column(frame: Columns, template: Template, where: Where) -> Wrapped:
    single = template.is_single_reference
    parts = _parts(frame, template, where, encoded=not single)
    if not single and _always_absolute(template) and sum(isinstance(p, pa.ChunkedArray) for p in parts) == 1:
        # The common case, cm:deelname/$(id): only the encoded identifiers are kept per row.
        at = next(i for i, part in enumerate(parts) if isinstance(part, pa.ChunkedArray))
        before, after = "".join(map(str, parts[:at])), "".join(map(str, parts[at + 1 :]))
        return Wrapped(f"<{before}", parts[at], f"{after}>")
    value = _join(parts)
    if single or not _always_absolute(template):
        message = f'made by {str(template)!r} is not an absolute IRI (expected scheme:… without spaces, <>"{{}}|^`\\)'
        _refuse(frame.file, where, pc.invert(pc.match_substring_regex(value, ABSOLUTE_IRI)), value, message)
    return Wrapped("<", value, ">")


def _literal_column(frame: Columns, term_map: TermMap, where: Where) -> Wrapped:
    value = _join(_parts(frame, term_map.template, where, encoded=False))
    datatype = DATATYPES.get(term_map.datatype or "")
    if datatype is not None and datatype.pattern is not None:
        value = _natural(value, datatype.iri)
        message = f"is not a valid {_short(datatype.iri)}: expected {datatype.expected}"
        _refuse(frame.file, where, pc.invert(pc.match_substring_regex(value, datatype.pattern)), value, message)
        if datatype.checks_calendar:
            _refuse(frame.file, where, _not_a_calendar_day(value), value, f"{message} (that day does not exist)")
        value = _canonical(value, datatype)
    return Wrapped('"', _escape(value), f'"{_literal_suffix(term_map)}')


def _parts(frame: Columns, template: Template, where: Where, *, encoded: bool) -> list[pa.ChunkedArray | str]:
    return [
        part if isinstance(part, str) else (frame.encoded if encoded else frame.column)(part.column, where)
        for part in template.parts
    ]


def _join(parts: list[pa.ChunkedArray | str]) -> pa.ChunkedArray:
    if len(parts) == 1 and isinstance(parts[0], pa.ChunkedArray):
        return parts[0]
    return pc.binary_join_element_wise(*parts, "")


def _always_absolute(template: Template) -> bool:
    """Every value is an absolute IRI whatever the data: a scheme first, clean constant text."""
    first = template.parts[0]
    texts = [part for part in template.parts if not isinstance(part, Reference)]
    return isinstance(first, str) and bool(_SCHEME.match(first)) and all(_CLEAN_IRI_TEXT.match(t) for t in texts)


def _natural(value: pa.ChunkedArray, datatype: str) -> pa.ChunkedArray:
    """RML's natural mapping as morph-kgc applies it before writing."""
    if datatype == f"{XSD}boolean":
        return pc.utf8_lower(value)
    if datatype == f"{XSD}dateTime":
        return pc.replace_substring(value, " ", "T")
    return value


def _canonical(value: pa.ChunkedArray, datatype: Datatype) -> pa.ChunkedArray:
    if datatype.iri == f"{XSD}integer":  # "+007" → "7", as morph-kgc writes integers
        return pc.replace_substring_regex(pc.replace_substring_regex(value, r"^\+", ""), r"^(-?)0+([0-9])", r"\1\2")
    return value


def _not_a_calendar_day(value: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where the YYYY-MM-DD at the start names no real day (2023-02-29, 2024-04-31).

    Called on values that match the datatype's pattern (month 01-12, day 01-31), so only a day
    after the 28th can be impossible; when there is none, nothing is parsed."""
    late = pc.fill_null(pc.greater(pc.utf8_slice_codeunits(value, 8, 10), "28"), False)
    if not pc.any(late).as_py():
        return late
    day = pc.utf8_slice_codeunits(value, 0, 10)
    parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    impossible = pc.and_(
        pc.match_substring_regex(day, r"^[0-9]{4}-"), pc.not_equal(pc.strftime(parsed, "%Y-%m-%d"), day)
    )
    return pc.and_(late, pc.fill_null(impossible, False))


def _escape(value: pa.ChunkedArray) -> pa.ChunkedArray:
    if not pc.any(pc.match_substring_regex(value, '[\\\\"\n\r]')).as_py():
        return value
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r")):
        value = pc.replace_substring(value, raw, escaped)
    return value


def _refuse(file: str, where: Where, bad: pa.ChunkedArray, values: pa.ChunkedArray, message: str) -> None:
    """Raise for the first row where ``bad`` is true (rows counted from 1, the header not counted)."""
    index = pc.index(bad, True).as_py()
    if index is None or index < 0:
        return
    value = str(values[index].as_py())
    excerpt = value if len(value) <= _EXCERPT else f"{value[:_EXCERPT]}…"
    raise MappingError(f"value {excerpt!r} {message}", file=file, mapping=where.mapping, rule=where.rule, row=index + 1)


def _literal_suffix(term_map: TermMap) -> str:
    if term_map.language:
        return f"@{term_map.language}"
    # "x"^^xsd:string is "x" in RDF 1.1; written plain, as morph-kgc writes it
    return f"^^<{term_map.datatype}>" if term_map.datatype and term_map.datatype != f"{XSD}string" else ""


def _short(iri: str) -> str:
    return "xsd:" + iri.removeprefix(XSD) if iri.startswith(XSD) else iri

"""RDF terms as a mapping produces them: templates, XSD datatypes and what their values must look like.

A template is YARRRML's ``prefix:text$(column)more``: constant text and column references. Values
of the XSD datatypes the sector uses are checked with a regular expression (run column-wise by
``pyarrow.compute.match_substring_regex``) and, where RML's natural mapping says so, normalised the
way the reference engine (morph-kgc) does: ``xsd:boolean`` lower-cased, a space in ``xsd:dateTime``
becomes ``T``, ``xsd:integer`` written without leading zeros or sign ``+``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = f"{RDF}type"

# IRI-safe characters of RML templates (RFC 3986 "unreserved"); every other UTF-8 byte is %XX.
IRI_UNRESERVED = r"A-Za-z0-9._~-"
# An absolute IRI as N-Quads accepts it: a scheme, a colon, and no space or <>"{}|^`\ characters.
ABSOLUTE_IRI = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|^`\\]*$"
# A BCP 47 language tag, as Turtle's LANGTAG production accepts it.
LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")

_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_DATE = r"-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
_INTEGER = r"[+-]?[0-9]+"
_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_DOUBLE = r"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)"


@dataclass(frozen=True)
class Datatype:
    """An XSD datatype: the pattern its (normalised) lexical form must match, and a human hint."""

    iri: str
    pattern: str | None
    expected: str
    checks_calendar: bool = False  # a date part whose day must exist in its month (no 2023-02-29)


def _xsd(name: str, pattern: str | None, expected: str, *, calendar: bool = False) -> Datatype:
    return Datatype(f"{XSD}{name}", None if pattern is None else f"^{pattern}$", expected, calendar)


DATATYPES: dict[str, Datatype] = {
    d.iri: d
    for d in (
        _xsd("string", None, "any text"),
        _xsd("normalizedString", None, "any text"),
        _xsd("anyURI", None, "a URI"),
        _xsd("boolean", "(true|false|1|0)", "true, false, 1 or 0"),
        _xsd("integer", _INTEGER, "a whole number such as 42"),
        _xsd("int", _INTEGER, "a whole number such as 42"),
        _xsd("long", _INTEGER, "a whole number such as 42"),
        _xsd("nonNegativeInteger", r"\+?[0-9]+|-0+", "a whole number >= 0"),
        _xsd("positiveInteger", r"\+?0*[1-9][0-9]*", "a whole number >= 1"),
        _xsd("decimal", _DECIMAL, "a decimal number such as 12.50 (a dot, no thousands separator)"),
        _xsd("double", _DOUBLE, "a floating-point number such as 1.5E3"),
        _xsd("float", _DOUBLE, "a floating-point number such as 1.5E3"),
        _xsd("date", _DATE + _TZ, "a date YYYY-MM-DD", calendar=True),
        _xsd("dateTime", f"{_DATE}T{_TIME}{_TZ}", "a date-time YYYY-MM-DDThh:mm:ss[Z|+hh:mm]", calendar=True),
        _xsd("time", _TIME + _TZ, "a time hh:mm:ss"),
        _xsd("gYear", r"-?([1-9][0-9]{3,}|0[0-9]{3})" + _TZ, "a year YYYY"),
        _xsd("gYearMonth", r"-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])" + _TZ, "a year and month YYYY-MM"),
        _xsd("duration", r"-?P([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?",
             "a duration such as PT1H30M"),
    )
}  # fmt: skip


class TemplateSyntaxError(ValueError):
    """A template is malformed; the message says where and what was expected."""


@dataclass(frozen=True)
class Reference:
    """``$(column)`` in a template: the column's value of the current row."""

    column: str


@dataclass(frozen=True)
class Template:
    """Constant text and column references, in order; no references means a constant."""

    parts: tuple[str | Reference, ...]

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(part.column for part in self.parts if isinstance(part, Reference))

    @property
    def is_constant(self) -> bool:
        return not self.references

    @property
    def is_single_reference(self) -> bool:
        """``$(x)`` alone: an RML reference (its IRI values are used as they are, not percent-encoded)."""
        return len(self.parts) == 1 and isinstance(self.parts[0], Reference)

    @property
    def constant(self) -> str:
        return "".join(part for part in self.parts if isinstance(part, str))

    def leading_text(self) -> str:
        """The constant text before the first reference."""
        return self.parts[0] if self.parts and isinstance(self.parts[0], str) else ""

    def __str__(self) -> str:
        return "".join(part if isinstance(part, str) else f"$({part.column})" for part in self.parts)


def parse_template(text: str) -> Template:
    """``ex:$(id)/periode`` → constant and reference parts; ``\\$`` escapes a dollar sign."""
    parts: list[str | Reference] = []
    buffer: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("\\$", index):
            buffer.append("$")
            index += 2
        elif text.startswith("$(", index):
            end = text.find(")", index + 2)
            if end == -1:
                raise TemplateSyntaxError(f"'$(' at position {index} of {text!r} is not closed by ')'")
            column = text[index + 2 : end].strip()
            if not column:
                raise TemplateSyntaxError(f"empty reference '$()' at position {index} of {text!r}; expected $(column)")
            if buffer:
                parts.append("".join(buffer))
                buffer = []
            parts.append(Reference(column))
            index = end + 1
        else:
            buffer.append(text[index])
            index += 1
    if buffer:
        parts.append("".join(buffer))
    return Template(tuple(parts))

"""The vectorized record check rejects exactly the rows jsonschema rejects.

Hypothesis draws record schemas over the vectorized keywords (and a few that fall back to
jsonschema), and rows that conform or not; the batch is built from the rows with an explicit Arrow
schema, and its invalid rows must be the rows ``Draft202012Validator`` finds invalid.

Arrow has one null for a missing key and a JSON null, and :mod:`culturemesh.schemacheck` reads a
null as a missing key except in a required property that allows null. The reference rows are
written in that reading (:func:`as_the_batch_reads_it`), so both sides judge the same records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from culturemesh.schemacheck import compile_record_schema

ARROW = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
# The Arrow column a property of each JSON type usually gets, and the wrong ones it sometimes gets
# (not text: a text column under a numeric or boolean type is CSV, tested at the end).
COLUMN_KINDS = {
    "integer": ["int"] * 5 + ["float"] * 2 + ["bool"],
    "number": ["float"] * 4 + ["int"] * 2,
    "string": ["str"] * 7 + ["int"],
    "boolean": ["bool"] * 7 + ["int"],
    None: ["str", "int", "float", "bool"],
}
GENERIC_TEXTS = ["", "abc", "Ab", "12", "q a", "aéb", "٣٣", "ab\n"]
FORMAT_TEXTS = {
    "date": [
        *("2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "2024-04-30", "2024-04-31", "2024-13-01"),
        *("2024-00-10", "0000-01-01", "0001-01-01", "2024-1-01", "2024-01-01\n", "٢٠٢٤-01-01", "2024-01-01T00:00"),
    ],
    "date-time": [
        *("2024-01-01T10:00:00Z", "2024-01-01t10:00:00z", "2024-01-01T24:00:00Z", "2023-02-29T00:00:00+01:00"),
        *("2024-02-29T23:59:59.123+05:30", "2024-01-01T10:00:00.5-23:59", "2024-01-01T10:00:00Z\n"),
        *("2024-01-01 10:00:00Z", "0000-01-01T00:00:00Z", "2024-01-01T10:00:60Z", "2024-01-01T10:00:00+0100"),
        *("2024-01-01T10:00:00", "2024-01-01T10:00:00.Z", "2024-01-01T10:00:00+24:00"),
    ],
    "email": ["a@b", "ab", "@", "é@x", "a@\n"],
    "uri": [
        *("https://example.org/a?b=1#c", "urn:isbn:0451450523", "http://[::1]:80/", "http://[v1.x]/", "a:"),
        *("no scheme", "http://exa mple.org", "mailto:x@y\n", "é:x", "x:%zz", "x:%41", "1a:b", "ftp://1.2.3.4/"),
        *("http://u@h:8080/p/q", "http://[::1/", "x:/a//b", "x:a#b#c", "http://é.org/"),
    ],
}
PATTERNS = ["^[a-z]+$", "ab", "[0-9]{2}", r"^T-\d+$", r"\w+@", "(?i)^ab", "a|b$", "^(ab)*$", r"\bq", r"(a)\1"]
PATTERN_TEXTS = [
    *("abc", "ab\n", "abc\n", "٣٣", "12", "1٣", "T-12", "T-١٢", "T-12\n", "x@", "é@", "ab", "AB", "Ab", "aB"),
    *("q", "a q", "éq", "_q", "aa", "abab", "aba", "abab\n", "b\n", "a\nb", "b", ""),
]
FORMATS = list(FORMAT_TEXTS)


def values_of(kind: str) -> st.SearchStrategy[Any]:
    if kind == "int":
        return st.integers(-40, 40) | st.sampled_from([0, 2**53 + 1, -(2**63), 2**63 - 1, 10**15])
    if kind == "float":
        return (
            st.integers(-40, 40).map(float)
            | st.integers(-80, 80).map(lambda n: n / 4)
            | st.floats(-1e3, 1e3, allow_nan=False)
            | st.sampled_from([-0.0, 1e300, -1e300, 2.0**53, 0.1 + 0.2, 5e-324])
        )
    if kind == "bool":
        return st.booleans()
    return st.sampled_from(GENERIC_TEXTS) | st.text(alphabet="ab19@:T-Zé٣\n ", max_size=6)


def of_kind(values: list[Any], kind: str) -> list[Any]:
    """The values an Arrow column of this kind can hold, converted to it."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if kind == "int":
        return [int(v) for v in numbers if float(v).is_integer() and -(2**63) <= v < 2**63]
    if kind == "float":
        return [float(v) for v in numbers]
    if kind == "bool":
        return [v for v in values if isinstance(v, bool)]
    return [v for v in values if isinstance(v, str)]


def bound(sign: int = 1) -> st.SearchStrategy[int | float]:
    """A bound on the ``sign`` side of zero (lower bounds below, upper bounds above: satisfiable)."""
    magnitude = st.integers(0, 30) | st.integers(0, 60).map(lambda n: n / 4) | st.sampled_from([2**53 + 1, 1e20])
    return magnitude.map(lambda n: sign * n)


@dataclass(frozen=True)
class Values:
    """What a row may hold for one property: values it accepts, values it rejects, anything."""

    good: list[Any]
    bad: list[Any]
    anything: st.SearchStrategy[Any]

    def draw(self, draw: st.DrawFn) -> Any:
        pick = draw(st.integers(0, 9))
        if pick < 6 and self.good:
            return draw(st.sampled_from(self.good))
        if pick < 8 and self.bad:
            return draw(st.sampled_from(self.bad))
        return draw(self.anything)


@st.composite
def properties(draw: st.DrawFn) -> tuple[dict[str, Any], str, Values]:
    """One property's schema, the Arrow column kind its values come in, and its values: mostly ones
    on the edges of the property's keywords."""
    json_type = draw(st.sampled_from(["integer", "number", "string", "boolean", None]))
    kind = draw(st.sampled_from(COLUMN_KINDS[json_type]))
    schema: dict[str, Any] = {}
    edges: list[Any] = []
    if json_type is not None:
        schema["type"] = [json_type, "null"] if draw(st.booleans()) else json_type
    if json_type in ("integer", "number", None):
        for keyword in draw(st.sets(st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]))):
            schema[keyword] = edge = draw(bound(-1 if keyword in ("minimum", "exclusiveMinimum") else 1))
            edges += [edge, edge + 1, edge - 1, edge + 0.25, edge - 0.25]
        if draw(st.booleans()):
            schema["multipleOf"] = divisor = draw(st.sampled_from([2, 3, 7, 0.5, 0.25, 0.1, 1.5, 2**60]))
            edges += [divisor * 3, divisor * 3 + 0.5, 0.3, 0.7, -divisor, 2**61, 2.0**62]
    if json_type in ("string", None):
        family = draw(st.sampled_from(["format", "pattern", "length", "format+length", "none"]))
        if "length" in family:
            schema[draw(st.sampled_from(["minLength", "maxLength"]))] = length = draw(st.integers(0, 4))
            edges += ["a" * length, "é" * length, "a" * (length + 1), "٣" * max(length - 1, 0)]
        if family == "pattern":
            schema["pattern"] = draw(st.sampled_from(PATTERNS))
            edges += PATTERN_TEXTS
        if family.startswith("format"):
            schema["format"] = draw(st.sampled_from(FORMATS))
            edges += FORMAT_TEXTS[schema["format"]]
    candidates = of_kind([*edges, *draw(st.lists(values_of(kind), max_size=6))], kind)
    own = candidates or [draw(values_of(kind))]
    members = st.sampled_from(own) | values_of(kind) | st.sampled_from([1, 1.0, True, "1", None, 0, -0.0])
    extra = draw(st.sampled_from(["enum", "const", "not", "none"]))
    if extra == "enum":
        schema["enum"] = draw(st.lists(members, min_size=1, max_size=4))
    elif extra == "const":
        schema["const"] = draw(members)
    elif extra == "not":  # a keyword jsonschema checks row by row
        schema["not"] = {"const": draw(st.sampled_from(own))}
    candidates = of_kind([*candidates, *schema.get("enum", []), schema.get("const"), -0.0, 0.0, 1.0], kind)
    good, bad = accepted_and_rejected(schema, candidates)
    if not good and extra != "none":  # keep the property satisfiable
        schema.pop(extra)
        good, bad = accepted_and_rejected(schema, candidates)
    return schema, kind, Values(good, bad, values_of(kind))


def accepted_and_rejected(schema: dict[str, Any], values: list[Any]) -> tuple[list[Any], list[Any]]:
    accepts = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).is_valid
    return [v for v in values if accepts(v)], [v for v in values if not accepts(v)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], pa.Schema]:
    drawn = draw(st.lists(properties(), min_size=1, max_size=6))
    names = [f"p{i}" for i in range(len(drawn))]
    schema: dict[str, Any] = {"type": "object", "properties": dict(zip(names, (p[0] for p in drawn), strict=True))}
    schema["required"] = draw(st.lists(st.sampled_from(names), unique=True))
    extra = draw(st.sampled_from([None, False, True, {"type": "integer", "minimum": 0}]))
    if extra is not None:
        schema["additionalProperties"] = extra
    if draw(st.integers(0, 4)) == 3:
        schema["dependentRequired"] = {names[0]: [names[-1]]}
    absent = {name for name in names if draw(st.integers(0, 9)) == 7}  # no column at all
    fields = [
        pa.field(name, ARROW[kind]) for name, (_, kind, _) in zip(names, drawn, strict=True) if name not in absent
    ]
    fields.append(pa.field("extra", pa.int64()))
    rows = []
    for _ in range(draw(st.integers(0, 20))):
        suspect = draw(st.sampled_from(names))  # the one property that may break this row
        row: dict[str, Any] = {}
        for name, (_, _, values) in zip(names, drawn, strict=True):
            pick = draw(st.integers(0, 11))
            if name in absent:
                continue
            if name != suspect and values.good:
                row[name] = draw(st.sampled_from(values.good))
            elif pick < 10:
                row[name] = values.draw(draw)
            elif pick == 10:
                row[name] = None
        if draw(st.integers(0, 3)) == 2:
            row["extra"] = draw(st.integers(-3, 3))
        rows.append(as_the_batch_reads_it(row, schema, absent))
    return schema, rows, pa.schema(fields)


def as_the_batch_reads_it(row: dict[str, Any], schema: dict[str, Any], absent: set[str]) -> dict[str, Any]:
    """The record a batch row stands for: a null is a missing key, except in a required property
    whose type allows null, where a missing key (in a column the batch has) is a JSON null."""
    record = {}
    for name, subschema in [*schema["properties"].items(), ("extra", {"type": "integer"})]:
        if name in absent:
            continue
        nullable = "type" not in subschema or "null" in subschema["type"]
        if name in schema["required"] and nullable:
            record[name] = row.get(name)
        elif row.get(name) is not None:
            record[name] = row[name]
    return record


def rejected_by_jsonschema(schema: dict[str, Any], rows: list[dict[str, Any]]) -> set[int]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return {i for i, row in enumerate(rows) if not validator.is_valid(row)}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_typed_batch_rejects_exactly_the_rows_jsonschema_rejects(case: Any) -> None:
    schema, rows, arrow_schema = case
    batch = pa.RecordBatch.from_pylist(rows, schema=arrow_schema)
    result = compile_record_schema(schema).check(batch, first_row=0)
    rejected = {i for i, ok in enumerate(result.valid.to_pylist()) if not ok}
    assert rejected == rejected_by_jsonschema(schema, rows)
    assert {v.row for v in result.violations} == rejected
    assert result.violation_count >= len(rejected)
    assert result.batch.num_rows == len(rows) - len(rejected)


# --- CSV: text columns read as the types the schema declares ------------------------------------

CSV_TYPES = ["integer", "number", "boolean", "string"]
NOT_A_NUMBER_OR_BOOLEAN = st.sampled_from(["abc", "12abc", "1.5.2", "maybe", "t", "", "-"])


@st.composite
def csv_cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A schema, the JSON records, and the same records as CSV text."""
    types = draw(st.lists(st.sampled_from(CSV_TYPES), min_size=1, max_size=3))
    names = [f"c{i}" for i in range(len(types))]
    properties: dict[str, Any] = {}
    for name, json_type in zip(names, types, strict=True):
        sub: dict[str, Any] = {"type": [json_type, "null"] if draw(st.booleans()) else json_type}
        if json_type in ("integer", "number"):
            sub[draw(st.sampled_from(["minimum", "exclusiveMaximum"]))] = draw(bound())
            if draw(st.booleans()):
                sub["multipleOf"] = draw(st.sampled_from([2, 0.5, 0.1]))
        if draw(st.booleans()):
            sub["enum"] = draw(st.lists(csv_values(json_type), min_size=1, max_size=3))
        properties[name] = sub
    schema = {
        "type": "object",
        "properties": properties,
        "required": draw(st.lists(st.sampled_from(names), unique=True)),
    }
    records, texts = [], []
    for _ in range(draw(st.integers(0, 10))):
        record = {name: draw(csv_values(t) | NOT_A_NUMBER_OR_BOOLEAN) for name, t in zip(names, types, strict=True)}
        records.append(record)
        texts.append({name: as_csv(value) for name, value in record.items()})
    return schema, records, texts


def csv_values(json_type: str) -> st.SearchStrategy[Any]:
    if json_type == "integer":
        return st.integers(-(10**12), 10**12)
    if json_type == "number":
        return st.integers(-40, 40) | st.integers(-80, 80).map(lambda n: n / 4) | st.floats(-1e6, 1e6)
    if json_type == "boolean":
        return st.booleans()
    return st.text(alphabet="ab1 ", max_size=4)


def as_csv(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


@settings(max_examples=200, deadline=None)
@given(csv_cases())
def test_csv_text_columns_reject_what_jsonschema_rejects_of_the_typed_records(case: Any) -> None:
    schema, records, texts = case
    arrow_schema = pa.schema([pa.field(name, pa.string()) for name in schema["properties"]])
    batch = pa.RecordBatch.from_pylist(texts, schema=arrow_schema)
    result = compile_record_schema(schema).check(batch, first_row=0)
    rejected = {i for i, ok in enumerate(result.valid.to_pylist()) if not ok}
    assert rejected == rejected_by_jsonschema(schema, records)

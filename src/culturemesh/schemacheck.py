"""JSON Schema record contracts checked over Arrow record batches, with jsonschema's verdicts.

A record schema (JSON Schema 2020-12, ``type: object``) describes one record; a batch holds one
column per property, typed as JSON gives them (int64, double, bool, string, list, struct, null), or
as text when the upload was CSV. :func:`compile_record_schema` checks the schema once;
:meth:`RecordCheck.check` rejects exactly the rows ``jsonschema`` rejects:

* vectorized with pyarrow.compute (the kernels are in :mod:`culturemesh.schemacheck_formats`), on
  top-level properties: ``type``, ``required``, ``enum``, ``const``, the four bounds,
  ``multipleOf``, ``minLength``/``maxLength``, ``pattern`` and the ``date``, ``date-time``,
  ``email`` and ``uri`` formats, and ``additionalProperties``/``patternProperties`` over the
  columns a batch has;
* row by row with jsonschema, on ``to_pylist`` values of just the rows and properties that need it:
  every other keyword (nested objects, ``items``, ``allOf``/``anyOf``/``oneOf``/``not``,
  ``if``/``then``, record-level ``dependentRequired``, …), and the values a kernel leaves undecided
  (a pattern on text RE2 reads differently, a ``multipleOf`` quotient that overflows a float).

Arrow has one null for a JSON null and a missing key. A null stands for a missing key, except in a
required property whose type allows null (or that has no ``type``), where it is a JSON null; in
nested objects alike, by the nested schema. A text column whose property is typed integer, number
or boolean is read as :mod:`culturemesh.contract` reads CSV; other non-string types are read cell by
cell as JSON text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from culturemesh import schemacheck_formats as kernels
from culturemesh.contract import CheckedBatch, Column, Violation, check_column, excerpt

__all__ = ["RecordCheck", "compile_record_schema"]

_NO_CLASSIFICATION: Mapping[str, str] = MappingProxyType({})
_RULE_WIDTH = 80
_ANNOTATIONS = frozenset(
    {
        *("title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment"),
        *("$schema", "$id", "$anchor", "$dynamicAnchor", "$vocabulary", "$defs", "definitions"),
        *("contentEncoding", "contentMediaType", "contentSchema"),
    }
)
_RECORD = frozenset({"type", "properties", "required", "additionalProperties", "patternProperties"})
# Keywords that look at one JSON type only: on a column of another kind they have nothing to say.
_ONLY_FOR = {
    "integer number": "minimum maximum exclusiveMinimum exclusiveMaximum multipleOf",
    "string": "minLength maxLength pattern format",
    "array": "items prefixItems contains minContains maxContains minItems maxItems uniqueItems unevaluatedItems",
    "object": "properties patternProperties additionalProperties required dependentRequired dependentSchemas"
    " propertyNames minProperties maxProperties unevaluatedProperties",
}
_APPLIES = {keyword: {*kinds.split(), "other"} for kinds, keywords in _ONLY_FOR.items() for keyword in keywords.split()}


@dataclass(frozen=True)
class _Rule:
    """One vectorized keyword: its kernel, and whether a present JSON null breaks it."""

    text: str  # what a Violation says, e.g. "minimum 0"
    alone: Mapping[str, Any]  # the keyword on its own, for the values the kernel leaves undecided
    kernel: kernels.Kernel
    null_bad: bool = False


_NOTHING = _Rule("", {}, lambda values: (values, None))  # a keyword that cannot fail on this column


@dataclass(frozen=True)
class _View:
    """A column as JSON would give its values, and what kind of JSON values they are."""

    values: pa.Array
    kind: str  # integer, number, boolean, string, array, object, null, or other (left to jsonschema)
    wrong: pa.Array | None = None  # CSV text that does not read as the declared type
    decode: Callable[[Any], Any] | None = None  # reads a value for jsonschema

    def python(self, values: pa.Array) -> list[Any]:
        found = values.to_pylist()
        return found if self.decode is None else [None if v is None else self.decode(v) for v in found]


@dataclass(frozen=True)
class _Plan:
    rules: tuple[_Rule, ...]
    rest: tuple[tuple[Any, Mapping[str, Any]], ...]  # (subschema, its keywords left to jsonschema)


def compile_record_schema(
    schema: Mapping[str, Any], *, classification: Mapping[str, str] = _NO_CLASSIFICATION
) -> RecordCheck:
    """Check a record schema and prepare it; ``classification`` names the properties to redact."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"invalid JSON Schema at {_pointer(exc.path)}: {exc.message}") from exc
    if not isinstance(schema, Mapping):
        raise ValueError(f"invalid record schema at #: expected an object with properties, found {schema!r}")
    if "object" not in _types(schema.get("type", "object")):
        raise ValueError(f"invalid record schema at #/type: expected type object, found {schema['type']!r}")
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    classified = {name: Column(name, pa.null(), classification=label) for name, label in classification.items()}
    return RecordCheck(schema, validator, classified, _record_rest(schema))


@dataclass(frozen=True)
class RecordCheck:
    """A compiled record schema; :meth:`check` it against batches."""

    schema: Mapping[str, Any]
    validator: Any  # Draft202012Validator of the whole schema: row-wise checks resolve $ref through it
    classified: Mapping[str, Column]
    record_rest: Mapping[str, Any] | None  # record-level keywords left to jsonschema
    _plans: dict[tuple[str, str], _Plan] = field(default_factory=dict, repr=False, compare=False)

    def check(self, batch: pa.RecordBatch, first_row: int, limit: int = 1000) -> CheckedBatch:
        """The valid rows and every violation; ``first_row`` numbers the batch's first row."""
        findings = _Findings(batch.num_rows, first_row, limit, self.classified)
        views = {name: self._check_column(batch.column(name), name, findings) for name in batch.schema.names}
        for name in self.schema.get("required", []):
            if name not in views:
                findings.add_mask(name, "required", pc.is_null(pa.nulls(batch.num_rows)), pa.nulls(batch.num_rows))
        if self.record_rest:
            self._check_records(views, findings)
        valid = findings.valid()
        arrays = [views[name].values if views[name].wrong is not None else batch.column(name) for name in views]
        checked = pa.RecordBatch.from_arrays(arrays, names=list(views))
        kept = checked if findings.count == 0 else checked.filter(valid)
        return CheckedBatch(kept, valid, sorted(findings.violations, key=lambda v: (v.row, v.column)), findings.count)

    def _parts(self, name: str) -> list[tuple[Any, str]]:
        """The subschemas a column answers to, each with what its ``false`` form is called."""
        properties = self.schema.get("properties", {})
        found = [(properties[name], "false schema")] if name in properties else []
        for pattern, subschema in self.schema.get("patternProperties", {}).items():
            if re.search(pattern, name):
                found.append((subschema, "false schema"))
        if not found and "additionalProperties" in self.schema:
            found.append((self.schema["additionalProperties"], "additionalProperties false"))
        return found

    def _keeps_null(self, name: str, parts: list[tuple[Any, str]]) -> bool:
        return name in self.schema.get("required", []) and all(_allows_null(part) for part, _ in parts)

    def _plan(self, name: str, parts: list[tuple[Any, str]], kind: str) -> _Plan:
        if (name, kind) not in self._plans:
            rules: list[_Rule] = []
            rest = []
            for part, false_text in parts:
                part_rules, part_rest = _compile_part(part, kind, false_text)
                rules.extend(part_rules)
                if part_rest:
                    rest.append((part, part_rest))
            self._plans[name, kind] = _Plan(tuple(rules), tuple(rest))
        return self._plans[name, kind]

    def _check_column(self, raw: pa.Array, name: str, findings: _Findings) -> _View:
        parts = self._parts(name)
        view = _view(raw, parts)
        keeps_null, raw_null = self._keeps_null(name, parts), pc.is_null(raw)
        if view.wrong is not None:
            findings.add_mask(name, _rule_text("type", _declared(parts)), view.wrong, raw)
        if name in self.schema.get("required", []) and not keeps_null:
            findings.add_mask(name, "required", raw_null, raw)
        plan = self._plan(name, parts, view.kind)
        checked = pc.is_valid(view.values)
        for rule in plan.rules:
            bad, undecided = rule.kernel(view.values) if view.kind != "null" else (checked, None)  # no values
            bad = pc.and_(pc.fill_null(bad, False), checked)
            if keeps_null and rule.null_bad:
                bad = pc.or_(bad, raw_null)
            if undecided is not None:
                undecided = pc.and_(pc.fill_null(undecided, False), checked)
                bad = pc.and_(bad, pc.invert(undecided))
                self._row_wise(findings, name, view, undecided, [(True, rule.alone)])
            findings.add_mask(name, rule.text, bad, raw)
        if plan.rest:
            self._row_wise(findings, name, view, pc.or_(checked, raw_null) if keeps_null else checked, plan.rest)
        return view

    def _row_wise(
        self, findings: _Findings, name: str, view: _View, mask: pa.Array, schemas: Iterable[tuple[Any, Any]]
    ) -> None:
        rows = pc.indices_nonzero(mask)
        if len(rows) == 0:
            return
        values = view.python(view.values.take(rows))
        for part, schema in schemas:
            validator = self.validator.evolve(schema=schema)
            for row, value in zip(rows.to_pylist(), values, strict=True):
                for error in validator.iter_errors(_as_json(value, part)):
                    findings.add(row, name, _path(name, error.path), error.instance, _error_rule(error))

    def _check_records(self, views: Mapping[str, _View], findings: _Findings) -> None:
        """Record-level keywords other than properties/required/additionalProperties: row by row."""
        columns = []
        for name, view in views.items():
            parts = self._parts(name)
            values = view.python(view.values)
            columns.append((name, values, self._keeps_null(name, parts), parts[0][0] if parts else True))
        validator = self.validator.evolve(schema=self.record_rest)
        for row in range(findings.rows):
            record = {
                name: _as_json(values[row], part)
                for name, values, keeps_null, part in columns
                if keeps_null or values[row] is not None
            }
            for error in validator.iter_errors(record):
                column = str(error.path[0]) if error.path else "$"
                path = _path(column, list(error.path)[1:])
                findings.add(row, column, path, error.instance, _error_rule(error))


class _Findings:
    """The violations of one batch: every one counted, at most ``limit`` reported per column."""

    def __init__(self, rows: int, first_row: int, limit: int, classified: Mapping[str, Column]) -> None:
        self.rows, self.first_row, self.limit, self.classified = rows, first_row, limit, classified
        self.violations: list[Violation] = []
        self.count = 0
        self._shown: dict[str, int] = {}
        self._bad_masks: list[pa.Array] = []
        self._bad_rows: set[int] = set()

    def add_mask(self, column: str, rule: str, bad: pa.Array, values: pa.Array) -> None:
        hits = pc.indices_nonzero(bad)
        if len(hits) == 0:
            return
        self._bad_masks.append(bad)
        self.count += len(hits)
        shown = hits.slice(0, max(self.limit - self._shown.get(column, 0), 0))
        for index, value in zip(shown.to_pylist(), values.take(shown).to_pylist(), strict=True):
            self._show(index, column, column, value, rule)

    def add(self, index: int, column: str, path: str, value: object, rule: str) -> None:
        self._bad_rows.add(index)
        self.count += 1
        if self._shown.get(column, 0) < self.limit:
            self._show(index, column, path, value, rule)

    def _show(self, index: int, column: str, path: str, value: object, rule: str) -> None:
        self._shown[column] = self._shown.get(column, 0) + 1
        classified = self.classified.get(column)
        if column == "$" and isinstance(value, dict):  # a whole record: redacted if it holds a classified value
            classified = next((self.classified[key] for key in value if key in self.classified), None)
        shown = excerpt(value, classified)
        self.violations.append(Violation(self.first_row + index, path, shown, rule))

    def valid(self) -> pa.Array:
        flags = bytearray(self.rows)
        for index in self._bad_rows:
            flags[index] = 1
        invalid = pc.cast(pa.Array.from_buffers(pa.uint8(), self.rows, [None, pa.py_buffer(flags)]), pa.bool_())
        for bad in self._bad_masks:
            invalid = pc.or_(invalid, bad)
        return pc.invert(invalid)


# --- compiling a property's subschema for one kind of column ----------------------------------


def _compile_part(part: Any, kind: str, false_text: str) -> tuple[list[_Rule], dict[str, Any]]:
    """The vectorized rules of one subschema, and the keywords left to jsonschema."""
    if part is True:
        return [], {}
    if part is False:
        return [_Rule(false_text, {}, kernels.everything, null_bad=True)], {}
    rules, rest = [], {}
    for keyword, value in part.items():
        if keyword in _ANNOTATIONS or kind not in _APPLIES.get(keyword, {kind}):
            continue
        rule = None if kind == "other" else _rule_for(keyword, value, kind)
        if rule is None:
            rest[keyword] = value
        elif rule is not _NOTHING:
            rules.append(rule)
    return rules, rest


def _rule_for(keyword: str, value: Any, kind: str) -> _Rule | None:
    """The vectorized rule for a keyword on a column of this kind; ``None``: leave it to jsonschema."""
    text, alone = _rule_text(keyword, value), {keyword: value}
    if keyword == "type":
        return _type_rule(_types(value), kind, text)
    if keyword in ("enum", "const"):
        members = list(value) if keyword == "enum" else [value]
        kernel = kernels.members_kernel(members, kind)
        return None if kernel is None else _Rule(text, alone, kernel, null_bad=all(m is not None for m in members))
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength"):
        return _Rule(text, alone, kernels.bound_kernel(keyword, value))
    if keyword == "multipleOf":
        return _Rule(text, alone, kernels.multiple_kernel(value))
    if keyword == "pattern":
        kernel = kernels.pattern_kernel(value)
        return None if kernel is None else _Rule(text, alone, kernel)
    if keyword == "format" and value in kernels.FORMAT_KERNELS:
        return _Rule(text, alone, kernels.FORMAT_KERNELS[value])
    if keyword == "format" and value not in Draft202012Validator.FORMAT_CHECKER.checkers:
        return _NOTHING  # jsonschema does not check formats it does not know
    return None


def _type_rule(allowed: set[str], kind: str, text: str) -> _Rule:
    if kind == "number" and "number" not in allowed and "integer" in allowed:
        return _Rule(text, {}, kernels.not_integral)
    fits = kind == "null" or kind in allowed or (kind == "integer" and "number" in allowed)
    return _NOTHING if fits else _Rule(text, {}, kernels.everything)


# --- columns as JSON values -------------------------------------------------------------------


def _view(raw: pa.Array, parts: list[tuple[Any, str]]) -> _View:
    if pa.types.is_dictionary(raw.type):
        raw = raw.dictionary_decode()
    kind = raw.type
    if pa.types.is_boolean(kind):
        return _View(raw, "boolean")
    if pa.types.is_integer(kind):
        try:
            return _View(pc.cast(raw, pa.int64()), "integer")
        except pa.ArrowInvalid:  # uint64 beyond int64
            return _View(raw, "other")
    if pa.types.is_floating(kind):
        return _View(pc.cast(raw, pa.float64()), "number")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _text_view(raw, _types(_declared(parts)) - {"null"})
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _View(raw, "array")
    if pa.types.is_struct(kind):
        return _View(raw, "object")
    return _View(raw, "null" if pa.types.is_null(kind) else "other")


def _text_view(raw: pa.Array, wanted: set[str]) -> _View:
    """Text under a non-string type is CSV: read as :mod:`culturemesh.contract` reads it."""
    if not wanted or "string" in wanted:
        return _View(raw, "string")
    if wanted <= {"integer", "number"}:
        typed, fits = check_column(raw, Column("", pa.int64()))
        if "number" in wanted and not pc.all(fits).as_py():
            typed, fits = check_column(raw, Column("", pa.float64()))
        return _View(typed, "integer" if pa.types.is_integer(typed.type) else "number", pc.invert(fits))
    if wanted == {"boolean"}:
        typed, fits = check_column(raw, Column("", pa.bool_()))
        return _View(typed, "boolean", pc.invert(fits))
    return _View(raw, "other", decode=_json_text)


def _json_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _as_json(value: Any, schema: Any) -> Any:
    """A nested value as the JSON it stands for: a null struct member is a missing key, unless the
    nested schema requires it and allows null."""
    if isinstance(value, dict):
        nested = schema if isinstance(schema, Mapping) else {}
        properties, required = nested.get("properties", {}), nested.get("required", [])
        return {
            key: _as_json(item, properties.get(key, True))
            for key, item in value.items()
            if item is not None or (key in required and _allows_null(properties.get(key, True)))
        }
    if isinstance(value, list):
        items = schema.get("items", True) if isinstance(schema, Mapping) else True
        return [_as_json(item, items) for item in value]
    return value


# --- small pieces -----------------------------------------------------------------------------


def _types(declared: Any) -> set[str]:
    return {declared} if isinstance(declared, str) else set(declared)


def _declared(parts: list[tuple[Any, str]]) -> Any:
    """The ``type`` of the first subschema that has one (``[]``: any)."""
    return next((p["type"] for p, _ in parts if isinstance(p, Mapping) and "type" in p), [])


def _allows_null(schema: Any) -> bool:
    if isinstance(schema, Mapping):
        return "type" not in schema or "null" in _types(schema["type"])
    return schema is True


def _record_rest(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    rest = {k: v for k, v in schema.items() if k not in _RECORD and k not in _ANNOTATIONS}
    if "unevaluatedProperties" in rest:  # the properties are evaluated, though not here
        if "additionalProperties" in schema:
            del rest["unevaluatedProperties"]
        else:
            rest["properties"] = dict.fromkeys(schema.get("properties", {}), True)
            rest["patternProperties"] = dict.fromkeys(schema.get("patternProperties", {}), True)
    return rest or None


def _rule_text(keyword: str, value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = f"{keyword} {shown}"
    return text if len(text) <= _RULE_WIDTH else text[: _RULE_WIDTH - 1] + "…"


def _error_rule(error: Any) -> str:
    return "false schema" if error.validator is None else _rule_text(error.validator, error.validator_value)


def _path(column: str, path: Iterable[Any]) -> str:
    return column + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


def _pointer(path: Iterable[Any]) -> str:
    return "#" + "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in path)

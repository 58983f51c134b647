"""ClickHouse column type names, as the legacy descriptors spell them, and their Arrow types.

:func:`parse_type` reads a type string such as ``LowCardinality(Nullable(String))`` or
``Map(String, Array(Tuple(id UInt64, at DateTime64(3, 'Europe/Brussels'))))`` into a tree of
:class:`ClickHouseType` values; :func:`to_arrow` maps that tree to a ``pyarrow.DataType``.
``Nullable`` and ``LowCardinality`` are not nodes of the tree but flags on the type they wrap.
A malformed string raises ``ValueError`` naming the position and what was expected there.

pyarrow is imported only inside :func:`to_arrow`, so checking a descriptor stays light.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["KNOWN_TYPES", "ClickHouseType", "parse_type", "to_arrow"]

_INTS = {f"{sign}Int{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64, 128, 256)}
_PLAIN = {"String", "UUID", "Bool", "Float32", "Float64", "Date", "Date32", "JSON"} | _INTS
_DECIMAL_PRECISION = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}
_WITH_ARGS = {
    "FixedString", "Decimal", "DateTime", "DateTime64", "Enum8", "Enum16", "LowCardinality",
    "Nullable", "Array", "Map", "Tuple", "Nested", "Object",
}  # fmt: skip
KNOWN_TYPES = frozenset(_PLAIN | _WITH_ARGS | set(_DECIMAL_PRECISION))
_ENUM_RANGE = {"Enum8": (-128, 127), "Enum16": (-32768, 32767)}
_NOT_NULLABLE = {"Array", "Map", "Tuple", "Nested", "LowCardinality"}
_SHAPES = {
    "FixedString": "FixedString(N) with a length N of at least 1",
    "Decimal": "Decimal(P, S) with integer precision P (1 to 76) and scale S (0 to P)",
    "DateTime": "DateTime or DateTime('Time/Zone')",
    "DateTime64": "DateTime64(precision) or DateTime64(precision, 'Time/Zone') with precision 0 to 9",
    "Enum8": "Enum8('label' = value, ...)",
    "Enum16": "Enum16('label' = value, ...)",
    "Object": "Object('json')",
    **{name: f"{name}(S) with a scale S from 0 to {limit}" for name, limit in _DECIMAL_PRECISION.items()},
}
_TOKEN = re.compile(
    r"\s*(?:(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<int>-?\d+)|(?P<str>'(?:[^'\\]|\\.)*')|(?P<punct>[(),=]))"
)


@dataclass(frozen=True)
class ClickHouseType:
    """One node of a parsed type: ``name`` and its arguments (types, integers or quoted strings).

    ``Nullable(T)`` and ``LowCardinality(T)`` become ``T`` with ``nullable`` / ``low_cardinality``
    set. ``field_names`` holds the names of a named ``Tuple(a T, b U)`` or ``Nested(...)``;
    ``enum_values`` the ``(label, value)`` pairs of an ``Enum8`` / ``Enum16``.
    """

    name: str
    args: tuple[ClickHouseType | int | str, ...] = ()
    nullable: bool = False
    low_cardinality: bool = False
    field_names: tuple[str, ...] = ()
    enum_values: tuple[tuple[str, int], ...] = ()

    @property
    def type_args(self) -> tuple[ClickHouseType, ...]:
        return tuple(arg for arg in self.args if isinstance(arg, ClickHouseType))

    @property
    def enum_labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.enum_values)

    def __str__(self) -> str:
        text = self.name + _args_text(self)
        if self.nullable:
            text = f"Nullable({text})"
        return f"LowCardinality({text})" if self.low_cardinality else text


def _args_text(t: ClickHouseType) -> str:
    if t.enum_values:
        return "(" + ", ".join(f"{_quote(label)} = {value}" for label, value in t.enum_values) + ")"
    if not t.args:
        return ""
    parts = [_quote(a) if isinstance(a, str) else str(a) for a in t.args]
    if t.field_names:
        parts = [f"{name} {part}" for name, part in zip(t.field_names, parts, strict=True)]
    return "(" + ", ".join(parts) + ")"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_type(name: str) -> ClickHouseType:
    """Parse a ClickHouse type name; raise ``ValueError`` saying where and what was expected."""
    parser = _Parser(name)
    result = parser.parse_type()
    parser.expect_end()
    return result


@dataclass
class _Token:
    kind: str  # ident | int | str | punct | end
    text: str
    pos: int


@dataclass(frozen=True)
class _Arg:
    """One parsed argument, with the token it starts at (for error positions)."""

    token: _Token
    value: ClickHouseType | int | str
    field: str | None = None  # the name in Tuple(name T)
    enum_value: int | None = None  # the value in Enum8('label' = value)

    @property
    def pos(self) -> int:
        return self.token.pos

    @property
    def kind(self) -> str:
        return self.token.kind


class _Parser:
    """Recursive descent over ``type := IDENT ['(' arg (',' arg)* ')']``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.index = 0

    def _tokenize(self, text: str) -> list[_Token]:
        tokens, pos = [], 0
        while text[pos:].strip():
            match = _TOKEN.match(text, pos)
            if match is None or match.lastgroup is None:
                start = len(text) - len(text[pos:].lstrip())
                raise self.error(start, "a type name, number, quoted string or one of ( ) , =")
            tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)))
            pos = match.end()
        tokens.append(_Token("end", "", len(text)))
        return tokens

    def error(self, pos: int, expected: str) -> ValueError:
        rest = self.text[pos:]
        found = f"{rest[:20]!r}" if rest else "the end of the text"
        return ValueError(f"bad ClickHouse type {self.text!r} at position {pos}: expected {expected}, found {found}")

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self, kind: str, expected: str, text: str | None = None) -> _Token:
        token = self.peek()
        if token.kind != kind or (text is not None and token.text != text):
            raise self.error(token.pos, expected)
        self.index += 1
        return token

    def expect_end(self) -> None:
        self.take("end", "the end of the type")

    def parse_type(self) -> ClickHouseType:
        token = self.take("ident", "a type name such as String, UInt64 or Array(T)")
        if token.text not in KNOWN_TYPES:
            raise ValueError(_unknown_message(self.text, token))
        args: list[_Arg] = []
        if self.peek().text == "(":
            self.index += 1
            args = self.parse_args(token.text)
        return _build(self, token, args)

    def parse_args(self, head: str) -> list[_Arg]:
        args = [self.parse_arg(head)]
        while self.peek().text == ",":
            self.index += 1
            args.append(self.parse_arg(head))
        self.take("punct", "',' or ')'", ")")
        return args

    def parse_arg(self, head: str) -> _Arg:
        token = self.peek()
        if head in _SHAPES and token.kind not in ("int", "str"):
            raise self.error(token.pos, f"a value for {_SHAPES[head]}")
        if token.kind == "int":
            self.index += 1
            return _Arg(token, int(token.text))
        if token.kind == "str":
            self.index += 1
            return _Arg(token, _unquote(token.text), enum_value=self.parse_enum_value())
        if token.kind == "ident" and self.peek(1).kind == "ident":
            self.index += 1
            return _Arg(token, self.parse_type(), field=token.text)
        if token.kind == "ident":
            return _Arg(token, self.parse_type())
        raise self.error(token.pos, "a type such as String or UInt64")

    def parse_enum_value(self) -> int | None:
        if self.peek().text != "=":
            return None
        self.index += 1
        return int(self.take("int", "an integer enum value after '='").text)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _unknown_message(text: str, token: _Token) -> str:
    close = difflib.get_close_matches(token.text, sorted(KNOWN_TYPES), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"bad ClickHouse type {text!r} at position {token.pos}: unknown type {token.text!r}{hint}; "
        "expected a ClickHouse type such as String, Int64, Float64, Decimal(P, S), Date, "
        "DateTime64(3), Nullable(T), Array(T), Map(K, V) or Tuple(T, ...)"
    )


@dataclass(frozen=True)
class _Call:
    """A type name with its parsed arguments, checked before it becomes a :class:`ClickHouseType`."""

    parser: _Parser
    head: _Token
    args: list[_Arg]

    @property
    def name(self) -> str:
        return self.head.text

    def fail(self, index: int | None, expected: str) -> ValueError:
        return self.parser.error(self.head.pos if index is None else self.args[index].pos, expected)

    def count(self, low: int, high: int | None, shape: str) -> None:
        if len(self.args) < low:
            raise self.fail(None, shape)
        if high is not None and len(self.args) > high:
            raise self.fail(high, shape)

    def ints(self, low: int, high: int, shape: str) -> list[int]:
        self.count(low, high, shape)
        for index, arg in enumerate(self.args):
            if arg.kind != "int":
                raise self.fail(index, f"an integer: {shape}")
        return [arg.value for arg in self.args if isinstance(arg.value, int)]

    def types(self, low: int, high: int | None, shape: str) -> list[ClickHouseType]:
        self.count(low, high, shape)
        for index, arg in enumerate(self.args):
            if not isinstance(arg.value, ClickHouseType):
                raise self.fail(index, f"a type: {shape}")
        return [arg.value for arg in self.args if isinstance(arg.value, ClickHouseType)]

    def zone(self, index: int) -> None:
        if len(self.args) > index and self.args[index].kind != "str":
            raise self.fail(index, "a quoted time zone such as 'Europe/Brussels'")


_TYPE_ARGS = {
    "Array": (1, 1, "Array(T) with exactly one element type"),
    "Map": (2, 2, "Map(K, V) with a key type and a value type"),
    "Tuple": (1, None, "Tuple(T, ...) with at least one type"),
    "Nested": (0, None, "Nested(name Type, ...)"),
}


def _build(parser: _Parser, head: _Token, args: list[_Arg]) -> ClickHouseType:
    call = _Call(parser, head, args)
    if call.name in ("Nullable", "LowCardinality"):
        return _build_wrapper(call)
    if call.name in ("Enum8", "Enum16"):
        return _build_enum(call)
    if call.name in _TYPE_ARGS:
        call.types(*_TYPE_ARGS[call.name])
    elif call.name in _PLAIN and args:
        raise call.fail(0, f"no arguments: {call.name} takes none")
    else:
        _check_values(call)
    names = tuple(arg.field for arg in args if arg.field is not None)
    if names and len(names) != len(args):
        raise call.fail(0, f"{call.name} fields either all named or none named")
    return ClickHouseType(call.name, tuple(arg.value for arg in args), field_names=names)


def _check_values(call: _Call) -> None:
    """Check the number and string arguments of FixedString, Decimal*, DateTime* and Object."""
    name, shape = call.name, _SHAPES.get(call.name, "")
    if name == "FixedString" and call.ints(1, 1, shape)[0] < 1:
        raise call.fail(0, "a length of at least 1 in FixedString(N)")
    if name in _DECIMAL_PRECISION and not 0 <= call.ints(1, 1, shape)[0] <= _DECIMAL_PRECISION[name]:
        raise call.fail(0, f"a scale from 0 to {_DECIMAL_PRECISION[name]} for {name}")
    if name == "Decimal":
        _check_decimal(call)
    if name == "DateTime":
        call.count(0, 1, shape)
        call.zone(0)
    if name == "DateTime64":
        call.count(1, 2, shape)
        if not isinstance(call.args[0].value, int) or not 0 <= call.args[0].value <= 9:
            raise call.fail(0, f"a precision from 0 to 9: {shape}")
        call.zone(1)
    if name == "Object" and [(a.kind, a.value) for a in call.args] != [("str", "json")]:
        raise call.fail(0 if call.args else None, shape)


def _check_decimal(call: _Call) -> None:
    precision, *rest = call.ints(1, 2, _SHAPES["Decimal"])
    if not 1 <= precision <= 76:
        raise call.fail(0, "a precision from 1 to 76 in Decimal(P, S)")
    if rest and not 0 <= rest[0] <= precision:
        raise call.fail(1, f"a scale from 0 to the precision {precision} in Decimal(P, S)")


def _build_wrapper(call: _Call) -> ClickHouseType:
    inner = call.types(1, 1, f"{call.name}(T) with exactly one type")[0]
    if call.name == "LowCardinality":
        return dataclasses.replace(inner, low_cardinality=True)
    if inner.nullable or inner.name in _NOT_NULLABLE:
        raise call.fail(0, f"a type that can be Nullable; {inner.name} cannot (make its elements Nullable)")
    return dataclasses.replace(inner, nullable=True)


def _build_enum(call: _Call) -> ClickHouseType:
    call.count(1, None, _SHAPES[call.name])
    low, high = _ENUM_RANGE[call.name]
    values: dict[str, int] = {}
    for index, arg in enumerate(call.args):
        if not isinstance(arg.value, str) or arg.kind != "str":
            raise call.fail(index, f"a quoted label such as 'a' = 1 in {call.name}")
        number = index + 1 if arg.enum_value is None else arg.enum_value
        if not low <= number <= high:
            raise call.fail(index, f"an enum value from {low} to {high} for {call.name}")
        if arg.value in values:
            raise call.fail(index, f"unique labels in {call.name}; {arg.value!r} appears twice")
        values[arg.value] = number
    return ClickHouseType(call.name, enum_values=tuple(values.items()))


def to_arrow(t: ClickHouseType, nested_columns: Sequence[pa.Field] | None = None) -> pa.DataType:
    """The Arrow type for ``t``; ``nested_columns`` gives the fields of a bare ``Nested`` column.

    Nullability is not part of an Arrow type: put ``t.nullable`` on the ``pa.field``.
    """
    import pyarrow as pa

    simple = _simple_arrow(pa, t)
    if simple is not None:
        return simple
    if t.name == "Array":
        return pa.list_(to_arrow(t.type_args[0]))
    if t.name == "Map":
        key, value = t.type_args
        return pa.map_(to_arrow(key), to_arrow(value))
    if t.name == "Tuple":
        return pa.struct(_struct_fields(pa, t))
    if t.name == "Nested":
        return _nested_arrow(pa, t, nested_columns)
    raise ValueError(f"no Arrow mapping for ClickHouse type {t}")  # unreachable for parsed types


def _simple_arrow(pa: Any, t: ClickHouseType) -> Any:
    if t.name in ("String", "FixedString", "UUID", "JSON", "Object", "Enum8", "Enum16"):
        return pa.string()
    if t.name in _INTS:
        return _int_arrow(pa, t.name)
    if t.name in ("Decimal", *_DECIMAL_PRECISION):
        return _decimal_arrow(pa, t)
    if t.name in ("Date", "Date32"):
        return pa.date32()
    if t.name in ("DateTime", "DateTime64"):
        return _timestamp_arrow(pa, t)
    return {"Bool": pa.bool_(), "Float32": pa.float32(), "Float64": pa.float64()}.get(t.name)


def _int_arrow(pa: Any, name: str) -> Any:
    bits = int(name.removeprefix("U").removeprefix("Int"))
    if bits == 128:
        return pa.decimal128(38, 0)
    if bits == 256:
        return pa.decimal256(76, 0)
    return getattr(pa, f"{name.lower()}")()


def _decimal_arrow(pa: Any, t: ClickHouseType) -> Any:
    ints = [arg for arg in t.args if isinstance(arg, int)]
    if t.name == "Decimal":
        precision, scale = ints[0], ints[1] if len(ints) > 1 else 0
    else:
        precision, scale = _DECIMAL_PRECISION[t.name], ints[0]
    return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)


def _timestamp_arrow(pa: Any, t: ClickHouseType) -> Any:
    zone = next((arg for arg in t.args if isinstance(arg, str)), "UTC")
    if t.name == "DateTime":
        return pa.timestamp("s", tz=zone)
    precision = next(arg for arg in t.args if isinstance(arg, int))
    unit = "s" if precision == 0 else "ms" if precision <= 3 else "us" if precision <= 6 else "ns"
    return pa.timestamp(unit, tz=zone)


def _struct_fields(pa: Any, t: ClickHouseType) -> list[Any]:
    names = t.field_names or tuple(f"f{index}" for index in range(len(t.type_args)))
    return [pa.field(name, to_arrow(arg), nullable=True) for name, arg in zip(names, t.type_args, strict=True)]


def _nested_arrow(pa: Any, t: ClickHouseType, nested_columns: Sequence[Any] | None) -> Any:
    if t.type_args:
        return pa.list_(pa.struct(_struct_fields(pa, t)))
    if not nested_columns:
        raise ValueError("a Nested column needs its own columnDefinitions (or Nested(name Type, ...))")
    return pa.list_(pa.struct(list(nested_columns)))

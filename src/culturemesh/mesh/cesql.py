"""CESQL v1 (the CloudEvents SQL Expression Language): compile an expression once, evaluate it per event.

``compile_expression(text)`` parses (see :mod:`culturemesh.mesh.cesql_parse`) and compiles the tree into
closures; constant subexpressions are folded, ``LIKE`` patterns become regular expressions and functions
are resolved, all at compile time. ``Expression.evaluate(event)`` returns the value and the evaluation
errors; ``Expression.matches(event)`` is the Knative Trigger filter: a Boolean ``true`` and no error.

Values are Boolean, Integer (32-bit) and String (Python ``bool``, ``int``, ``str``). Events map attribute
names to strings, as the broker keeps them. The context attributes (``id``, ``source``, ``time``, ...)
are Strings; an extension whose text is a canonical Boolean (``true``/``false``) or 32-bit Integer
(``-12``, no leading zeros) is typed as that, since the CloudEvents string encoding of those types is
exactly that text; any other extension is a String.

Errors follow the spec's zero-value rules:

- An operator or function whose operand (or argument) reported an error does not compute: it returns
  the zero value of its return type (``false``, ``0``, ``""``). So ``1 / missing`` is ``0`` with only a
  missingAttribute error, and an error anywhere below makes a filter's result ``false``.
- A missing attribute reports missingAttribute and evaluates to ``false``.
- A failed implicit cast of an operand reports a cast error, and the operator goes on with the zero
  value of the target type: ``NOT 10`` is ``true`` with a cast error. Integer to Boolean is an explicit
  cast only (``BOOL(10)``); implicitly it is a cast error, as the TCK requires for ``NOT 10``.
- Integer overflow (``+ - * /``, unary ``-``, ``ABS``) reports a math error and clamps to the 32-bit
  range, as the spec defines for ``ABS(-2147483648)``; division or modulo by zero is ``0`` and a math error.
- An unknown function, or a known one called with the wrong number of arguments, is ``false`` with a
  missingFunction error (its arguments are not evaluated).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from typing import cast as typed

from culturemesh.errors import MeshError
from culturemesh.mesh import cesql_parse as syntax
from culturemesh.mesh.cesql_parse import INT_MAX, INT_MIN, CesqlSyntaxError

__all__ = ["CONTEXT_ATTRIBUTES", "CesqlError", "ErrorKind", "Expression", "Value", "compile_expression", "convert"]

ErrorKind = Literal["parse", "math", "cast", "missingFunction", "functionEvaluation", "missingAttribute", "generic"]
Value = bool | int | str
ValueType = type[bool] | type[int] | type[str]
T = TypeVar("T", bool, int, str)
Eval = Callable[[Mapping[str, str], list["CesqlError"]], Value]

CONTEXT_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
)
_ZERO: dict[ValueType, Value] = {bool: False, int: 0, str: ""}
# Unicode White_Space, which TRIM removes (Python's str.strip() would also remove \x1c-\x1f).
_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,9}")
_COMPARISON: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class CesqlError(MeshError):
    """A CESQL parse or evaluation error; ``kind`` is the spec's error type, ``position`` a 0-based offset."""

    def __init__(self, kind: ErrorKind, detail: str, *, position: int, expression: str) -> None:
        self.kind, self.detail, self.position, self.expression = kind, detail, position, expression
        super().__init__(f"CESQL {kind} error at offset {position} of {expression!r}: {detail}")


def convert(value: Value, target: ValueType, *, implicit: bool) -> tuple[Value, str | None]:
    """``value`` cast to ``target`` (CESQL section 3.7); on failure the zero value and the reason."""
    if type(value) is target:
        return value, None
    if target is str:
        return (str(value).lower() if isinstance(value, bool) else str(value)), None
    if isinstance(value, bool):  # to Integer
        return int(value), None
    if isinstance(value, int):  # to Boolean
        if implicit:
            return False, f"Integer {value} is not implicitly a Boolean; write BOOL({value}) or compare it"
        return value != 0, None
    if target is int:
        digits = value.lstrip("+-").lstrip("0")
        if _INTEGER_TEXT.fullmatch(value) and len(digits) <= 10 and INT_MIN <= (number := int(value)) <= INT_MAX:
            return number, None
        return 0, f"String {value!r} is not a 32-bit Integer"
    if value.lower() in ("true", "false"):
        return value.lower() == "true", None
    return False, f"String {value!r} is not a Boolean (expected 'true' or 'false', in any case)"


def _extension_value(text: str) -> Value:
    if text in ("true", "false"):
        return text == "true"
    if _CANONICAL_INTEGER.fullmatch(text) and INT_MIN <= (number := int(text)) <= INT_MAX:
        return number
    return text


class _Failure(Exception):
    """Raised by a built-in function: the error it reports and the value it still returns."""

    def __init__(self, kind: ErrorKind, detail: str, value: Value) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.value = kind, detail, value


@dataclass(frozen=True, slots=True)
class _Function:
    params: tuple[ValueType | None, ...]  # None: any type, passed as it is
    returns: ValueType
    impl: Callable[[Sequence[Any]], Value]  # arguments already cast to ``params``
    variadic: ValueType | None = None

    def accepts(self, arity: int) -> bool:
        return arity == len(self.params) or (self.variadic is not None and arity > len(self.params))

    def parameters(self, arity: int) -> tuple[ValueType | None, ...]:
        return self.params + (self.variadic,) * (arity - len(self.params))


def _left(args: Sequence[Any]) -> str:
    text, count = args
    if count < 0:
        raise _Failure("functionEvaluation", f"length {count} is negative; returning the string whole", text)
    return typed(str, text[:count])


def _right(args: Sequence[Any]) -> str:
    text, count = args
    if count < 0:
        raise _Failure("functionEvaluation", f"length {count} is negative; returning the string whole", text)
    return typed(str, text[len(text) - count :] if count < len(text) else text)


def _substring(args: Sequence[Any]) -> str:
    text, position, length = (*args, None) if len(args) == 2 else args
    if length is not None and length < 0:
        raise _Failure("functionEvaluation", f"length {length} is negative", "")
    if not -len(text) <= position <= len(text):
        raise _Failure("functionEvaluation", f"position {position} is outside {text!r} (length {len(text)})", "")
    if position == 0:
        return ""
    start = position - 1 if position > 0 else len(text) + position
    return typed(str, text[start:] if length is None else text[start : start + length])


def _abs(args: Sequence[Any]) -> int:
    if args[0] == INT_MIN:
        raise _Failure("math", f"{INT_MIN} has no 32-bit absolute value; returning {INT_MAX}", INT_MAX)
    return abs(typed(int, args[0]))


def _explicit_cast(target: ValueType) -> Callable[[Sequence[Any]], Value]:
    def impl(args: Sequence[Any]) -> Value:
        result, problem = convert(args[0], target, implicit=False)
        if problem is not None:
            raise _Failure("cast", problem, result)
        return result

    return impl


def _castable(target: ValueType) -> Callable[[Sequence[Any]], Value]:
    return lambda args: convert(args[0], target, implicit=False)[1] is None


_FUNCTIONS: dict[str, tuple[_Function, ...]] = {
    "ABS": (_Function((int,), int, _abs),),
    "LENGTH": (_Function((str,), int, lambda a: len(a[0])),),
    "CONCAT": (_Function((), str, "".join, variadic=str),),
    "CONCAT_WS": (_Function((str,), str, lambda a: a[0].join(a[1:]), variadic=str),),
    "LOWER": (_Function((str,), str, lambda a: a[0].lower()),),
    "UPPER": (_Function((str,), str, lambda a: a[0].upper()),),
    "TRIM": (_Function((str,), str, lambda a: a[0].strip(_WHITESPACE)),),
    "LEFT": (_Function((str, int), str, _left),),
    "RIGHT": (_Function((str, int), str, _right),),
    "SUBSTRING": (_Function((str, int), str, _substring), _Function((str, int, int), str, _substring)),
    "INT": (_Function((None,), int, _explicit_cast(int)),),
    "BOOL": (_Function((None,), bool, _explicit_cast(bool)),),
    "STRING": (_Function((None,), str, _explicit_cast(str)),),
    "IS_INT": (_Function((None,), bool, _castable(int)),),
    "IS_BOOL": (_Function((None,), bool, _castable(bool)),),
}


@dataclass(frozen=True, slots=True)
class _Compiled:
    run: Eval
    constant: tuple[Value, tuple[CesqlError, ...]] | None = None  # set when ``run`` ignores the event


def _constant(value: Value, errors: tuple[CesqlError, ...]) -> _Compiled:
    def run(event: Mapping[str, str], found: list[CesqlError]) -> Value:
        found.extend(errors)
        return value

    return _Compiled(run, (value, errors))


def _strict(operands: Sequence[Eval], zero: Value, compute: Callable[[list[Value], list[CesqlError]], Value]) -> Eval:
    """Evaluate every operand; if any reported an error, return ``zero`` without computing."""

    def run(event: Mapping[str, str], errors: list[CesqlError]) -> Value:
        count = len(errors)
        values = [operand(event, errors) for operand in operands]
        return zero if len(errors) != count else compute(values, errors)

    return run


class _Compiler:
    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, kind: ErrorKind, position: int, detail: str) -> CesqlError:
        return CesqlError(kind, detail, position=position, expression=self.text)

    def caster(self, target: type[T], position: int) -> Callable[[Value, list[CesqlError]], T]:
        def cast(value: Value, errors: list[CesqlError]) -> T:
            if type(value) is not target:
                value, problem = convert(value, target, implicit=True)
                if problem is not None:
                    errors.append(self.error("cast", position, problem))
            return typed(T, value)

        return cast

    def cast_to(self, value: Value, target: ValueType, errors: list[CesqlError], position: int) -> Value:
        if type(value) is target:
            return value
        result, problem = convert(value, target, implicit=True)
        if problem is not None:
            errors.append(self.error("cast", position, problem))
        return result

    def clamp(self, value: int, errors: list[CesqlError], position: int) -> int:
        if INT_MIN <= value <= INT_MAX:
            return value
        bound = INT_MAX if value > INT_MAX else INT_MIN
        errors.append(self.error("math", position, f"{value} overflows the 32-bit Integer range; returning {bound}"))
        return bound

    def compile(self, node: syntax.Syntax) -> _Compiled:
        if isinstance(node, syntax.Literal):
            return _constant(node.value, ())
        if isinstance(node, syntax.Attribute):
            return _Compiled(self.attribute(node))
        if isinstance(node, syntax.Exists):
            name = node.name
            return _Compiled(lambda event, errors: name in event)
        parts = tuple(self.compile(child) for child in syntax.children(node))
        run = self.operation(node, parts)
        if all(part.constant is not None for part in parts):
            errors: list[CesqlError] = []
            value = run({}, errors)
            return _constant(value, tuple(errors))
        return _Compiled(run)

    def attribute(self, node: syntax.Attribute) -> Eval:
        name, missing = node.name, f"the event has no attribute {node.name!r}"
        typed_value: Callable[[str], Value] = str if name in CONTEXT_ATTRIBUTES else _extension_value

        def run(event: Mapping[str, str], errors: list[CesqlError]) -> Value:
            text = event.get(name)
            if text is None:
                errors.append(self.error("missingAttribute", node.pos, missing))
                return False
            return typed_value(text)

        return run

    def operation(self, node: syntax.Syntax, parts: tuple[_Compiled, ...]) -> Eval:
        runs = [part.run for part in parts]
        match node:
            case syntax.Unary(op="NOT", pos=pos):
                to_bool = self.caster(bool, pos)
                return _strict(runs, False, lambda v, errors: not to_bool(v[0], errors))
            case syntax.Unary(pos=pos):
                to_int = self.caster(int, pos)
                return _strict(runs, 0, lambda v, errors: self.clamp(-to_int(v[0], errors), errors, pos))
            case syntax.Binary(op="AND" | "OR" as op, pos=pos):
                return self.short_circuit(op == "OR", runs[0], runs[1], pos)
            case syntax.Binary(op="XOR", pos=pos):
                to_bool = self.caster(bool, pos)
                return _strict(runs, False, lambda v, errors: to_bool(v[0], errors) != to_bool(v[1], errors))
            case syntax.Binary(op="=" | "!=" as op, pos=pos):
                equal = op == "="
                return _strict(runs, False, lambda v, e: (self.cast_to(v[0], type(v[1]), e, pos) == v[1]) == equal)
            case syntax.Binary(op=op, pos=pos) if op in _COMPARISON:
                test, to_int = _COMPARISON[op], self.caster(int, pos)
                return _strict(runs, False, lambda v, errors: test(to_int(v[0], errors), to_int(v[1], errors)))
            case syntax.Binary(op=op, pos=pos):
                return _strict(runs, 0, self.arithmetic(op, pos))
            case syntax.Like(pattern=pattern, negated=negated, pos=pos):
                matcher, to_str = like_regex(pattern).fullmatch, self.caster(str, pos)
                return _strict(runs, False, lambda v, errors: (matcher(to_str(v[0], errors)) is None) == negated)
            case syntax.In():
                return self.membership(node, parts)
            case syntax.Call():
                return self.call(node, runs)
        raise AssertionError(f"no compilation for {node!r}")  # pragma: no cover - the parser makes no other nodes

    def short_circuit(self, decisive: bool, left: Eval, right: Eval, position: int) -> Eval:
        """AND (``decisive`` false) and OR (true): the right operand runs only if the left is not decisive."""
        to_bool = self.caster(bool, position)

        def run(event: Mapping[str, str], errors: list[CesqlError]) -> Value:
            count = len(errors)
            value = left(event, errors)
            if len(errors) != count:
                return False
            if to_bool(value, errors) == decisive:
                return decisive
            count = len(errors)
            value = right(event, errors)
            return False if len(errors) != count else to_bool(value, errors)

        return run

    def arithmetic(self, op: str, position: int) -> Callable[[list[Value], list[CesqlError]], Value]:
        to_int, divides = self.caster(int, position), op in ("/", "%")
        apply: Callable[[int, int], int] = {
            "+": operator.add,
            "-": operator.sub,
            "*": operator.mul,
            "/": _truncated_division,
            "%": lambda x, y: x - y * _truncated_division(x, y),
        }[op]

        def compute(values: list[Value], errors: list[CesqlError]) -> Value:
            x, y = to_int(values[0], errors), to_int(values[1], errors)
            if divides and y == 0:
                errors.append(self.error("math", position, f"division by zero in {x} {op} 0; returning 0"))
                return 0
            return self.clamp(apply(x, y), errors, position)

        return compute

    def membership(self, node: syntax.In, parts: tuple[_Compiled, ...]) -> Eval:
        operand, elements, negated, pos = parts[0].run, parts[1:], node.negated, node.pos
        constants = [part.constant for part in elements if part.constant is not None and not part.constant[1]]
        if len(constants) == len(elements):  # cast the set once per possible operand type
            sets: dict[type, tuple[frozenset[Value], tuple[CesqlError, ...]]] = {}
            for target in (bool, int, str):
                errors: list[CesqlError] = []
                sets[target] = (frozenset(self.cast_to(c[0], target, errors, pos) for c in constants), tuple(errors))

            def lookup(values: list[Value], errors: list[CesqlError]) -> Value:
                members, cast_errors = sets[type(values[0])]
                errors.extend(cast_errors)
                return (values[0] in members) != negated

            return _strict([operand], False, lookup)

        def scan(values: list[Value], errors: list[CesqlError]) -> Value:
            target = type(values[0])
            cast = [self.cast_to(value, target, errors, pos) for value in values[1:]]
            return (values[0] in cast) != negated

        return _strict([operand, *(part.run for part in elements)], False, scan)

    def call(self, node: syntax.Call, args: list[Eval]) -> Eval:
        function = next((f for f in _FUNCTIONS.get(node.name, ()) if f.accepts(len(args))), None)
        if function is None:
            known = ", ".join(sorted(_FUNCTIONS))
            problem = f"no function {node.name} taking {len(args)} argument(s); built-in functions: {known}"
            return _constant(False, (self.error("missingFunction", node.pos, problem),)).run
        params, impl, name, pos = function.parameters(len(args)), function.impl, node.name, node.pos

        def invoke(values: list[Value], errors: list[CesqlError]) -> Value:
            cast = [v if t is None else self.cast_to(v, t, errors, pos) for t, v in zip(params, values, strict=True)]
            try:
                return impl(cast)
            except _Failure as failure:
                errors.append(self.error(failure.kind, node.pos, f"{name}: {failure.detail}"))
                return failure.value

        return _strict(args, _ZERO[function.returns], invoke)


def _truncated_division(x: int, y: int) -> int:
    quotient = abs(x) // abs(y)
    return quotient if (x < 0) == (y < 0) else -quotient


def like_regex(pattern: str) -> re.Pattern[str]:
    """The LIKE ``pattern`` as a regular expression: ``%`` any run, ``_`` one character, ``\\%``/``\\_`` literal."""
    parts, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and pattern[index + 1 : index + 2] in ("%", "_"):
            char, index = pattern[index + 1], index + 1
            parts.append(re.escape(char))
        else:
            parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Expression:
    """A compiled CESQL expression: evaluating it neither parses nor compiles."""

    text: str
    _run: Eval = field(repr=False, compare=False)

    def evaluate(self, event: Mapping[str, str]) -> tuple[Value, list[CesqlError]]:
        """The expression's value for ``event`` and the evaluation errors, in the order they occurred."""
        errors: list[CesqlError] = []
        value = self._run(event, errors)
        return value, errors

    def matches(self, event: Mapping[str, str]) -> bool:
        """Knative Trigger semantics: the value, cast to Boolean, is true and no error occurred."""
        value, errors = self.evaluate(event)
        if errors:
            return False
        result, problem = convert(value, bool, implicit=True)
        return problem is None and result is True


def compile_expression(text: str) -> Expression:
    """Parse and compile ``text`` once; a syntax error raises :class:`CesqlError` of kind ``parse``."""
    try:
        tree = syntax.parse(text)
    except CesqlSyntaxError as exc:
        detail = f"expected {exc.expected}, found {exc.found}"
        raise CesqlError("parse", detail, position=exc.position, expression=text) from None
    return Expression(text, _Compiler(text).compile(tree).run)

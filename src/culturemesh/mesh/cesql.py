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

Values, casting and :class:`CesqlError` are in :mod:`culturemesh.mesh.cesql_values`, the built-in
functions in :mod:`culturemesh.mesh.cesql_functions`; this module compiles and evaluates.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from typing import cast as typed

from culturemesh.mesh import cesql_parse as syntax
from culturemesh.mesh.cesql_functions import FUNCTIONS, Failure
from culturemesh.mesh.cesql_parse import INT_MAX, INT_MIN, CesqlSyntaxError
from culturemesh.mesh.cesql_values import (
    CONTEXT_ATTRIBUTES,
    ZERO,
    CesqlError,
    ErrorKind,
    Value,
    ValueType,
    convert,
    extension_value,
)

__all__ = ["CONTEXT_ATTRIBUTES", "CesqlError", "ErrorKind", "Expression", "Value", "compile_expression", "convert"]

T = TypeVar("T", bool, int, str)
Eval = Callable[[Mapping[str, str], list["CesqlError"]], Value]

_COMPARISON: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
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
        typed_value: Callable[[str], Value] = str if name in CONTEXT_ATTRIBUTES else extension_value

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
        function = next((f for f in FUNCTIONS.get(node.name, ()) if f.accepts(len(args))), None)
        if function is None:
            known = ", ".join(sorted(FUNCTIONS))
            problem = f"no function {node.name} taking {len(args)} argument(s); built-in functions: {known}"
            return _constant(False, (self.error("missingFunction", node.pos, problem),)).run
        params, impl, name, pos = function.parameters(len(args)), function.impl, node.name, node.pos

        def invoke(values: list[Value], errors: list[CesqlError]) -> Value:
            cast = [v if t is None else self.cast_to(v, t, errors, pos) for t, v in zip(params, values, strict=True)]
            try:
                return impl(cast)
            except Failure as failure:
                errors.append(self.error(failure.kind, node.pos, f"{name}: {failure.detail}"))
                return failure.value

        return _strict(args, ZERO[function.returns], invoke)


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

"""The CESQL built-in functions (``ABS``, ``LENGTH``, ``CONCAT``, ... ``IS_BOOL``): their signatures and
their implementations over arguments already cast to the parameter types. A function that fails
raises :class:`Failure` with the error to report and the value it still returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from typing import cast as typed

from culturemesh.mesh.cesql_parse import INT_MAX, INT_MIN
from culturemesh.mesh.cesql_values import ErrorKind, Value, ValueType, convert

# Unicode White_Space, which TRIM removes (Python's str.strip() would also remove \x1c-\x1f).
_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"


class Failure(Exception):
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
        raise Failure("functionEvaluation", f"length {count} is negative; returning the string whole", text)
    return typed(str, text[:count])


def _right(args: Sequence[Any]) -> str:
    text, count = args
    if count < 0:
        raise Failure("functionEvaluation", f"length {count} is negative; returning the string whole", text)
    return typed(str, text[len(text) - count :] if count < len(text) else text)


def _substring(args: Sequence[Any]) -> str:
    text, position, length = (*args, None) if len(args) == 2 else args
    if length is not None and length < 0:
        raise Failure("functionEvaluation", f"length {length} is negative", "")
    if not -len(text) <= position <= len(text):
        raise Failure("functionEvaluation", f"position {position} is outside {text!r} (length {len(text)})", "")
    if position == 0:
        return ""
    start = position - 1 if position > 0 else len(text) + position
    return typed(str, text[start:] if length is None else text[start : start + length])


def _abs(args: Sequence[Any]) -> int:
    if args[0] == INT_MIN:
        raise Failure("math", f"{INT_MIN} has no 32-bit absolute value; returning {INT_MAX}", INT_MAX)
    return abs(typed(int, args[0]))


def _explicit_cast(target: ValueType) -> Callable[[Sequence[Any]], Value]:
    def impl(args: Sequence[Any]) -> Value:
        result, problem = convert(args[0], target, implicit=False)
        if problem is not None:
            raise Failure("cast", problem, result)
        return result

    return impl


def _castable(target: ValueType) -> Callable[[Sequence[Any]], Value]:
    return lambda args: convert(args[0], target, implicit=False)[1] is None


FUNCTIONS: dict[str, tuple[_Function, ...]] = {
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

"""CESQL values: the Boolean, Integer and String types and their zero values, casting between them
(CESQL section 3.7), how the text of an event attribute is typed, and :class:`CesqlError`, which
carries the kind of error the spec names.
"""

from __future__ import annotations

import re
from typing import Literal

from culturemesh.errors import MeshError
from culturemesh.mesh.cesql_parse import INT_MAX, INT_MIN

ErrorKind = Literal["parse", "math", "cast", "missingFunction", "functionEvaluation", "missingAttribute", "generic"]
Value = bool | int | str
ValueType = type[bool] | type[int] | type[str]

CONTEXT_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
)
ZERO: dict[ValueType, Value] = {bool: False, int: 0, str: ""}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,9}")


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


def extension_value(text: str) -> Value:
    if text in ("true", "false"):
        return text == "true"
    if _CANONICAL_INTEGER.fullmatch(text) and INT_MIN <= (number := int(text)) <= INT_MAX:
        return number
    return text

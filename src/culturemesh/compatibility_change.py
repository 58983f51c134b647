"""One difference between two descriptors (:class:`Change`), and values compared as a whole.

A :class:`Field` names a value that is either equal in both versions or changed as one piece (a
name, a description, a CSV delimiter), with the verdict its change always gets;
:func:`field_changes` compares a table of them and says each difference in the descriptor's own
YAML paths.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

CANNOT_PROVE = "cannot prove compatible"


@dataclass(frozen=True)
class Change:
    """One difference: where (``spec.outputPorts[sales].columns[price].type``), what, and its verdict."""

    path: str
    kind: str
    before: str | None
    after: str | None
    breaking: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        marker = "BREAKING" if self.breaking else "ok"
        values = "" if self.before is None and self.after is None else f" ({_show(self.before)} -> {_show(self.after)})"
        return f"{marker:<10}{self.path}: {self.kind}{values}: {self.reason}"


def _show(value: str | None, limit: int = 60) -> str:
    if value is None:
        return "none"
    return value if len(value) <= limit else value[: limit - 3] + "..."


DOC = "documentation only"
WHEN = "when, not what, readers get"


@dataclass(frozen=True)
class Field:
    """A value compared as a whole: its YAML key, its attribute in the model, and its verdict."""

    key: str
    attribute: str
    kind: str
    breaking: bool
    reason: str


def field_changes(old: Any, new: Any, path: str, fields: Iterable[Field]) -> Iterator[Change]:
    for field in fields:
        before, after = dotted_attribute(old, field.attribute), dotted_attribute(new, field.attribute)
        if before != after:
            where = f"{path}.{field.key}" if path else field.key
            yield Change(where, field.kind, as_text(before), as_text(after), field.breaking, field.reason)


def dotted_attribute(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(str(part) for part in dataclasses.astuple(value) if part is not None)
    return json.dumps(value, default=str)

"""Where a descriptor problem is: YAML paths (``spec.outputPorts[0].type``), their lines, and the
:class:`Report` that collects every :class:`~culturemesh.errors.Issue` found while loading."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from culturemesh.errors import DescriptorError, Issue

Loc = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def yaml_path(loc: Loc) -> str:
    """``('spec', 'outputPorts', 0, 'type')`` → ``spec.outputPorts[0].type``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


@dataclass
class Report:
    """The issues found so far, and the line each YAML path starts on."""

    source: str
    lines: dict[Loc, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def line(self, loc: Loc) -> int | None:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def add(self, loc: Loc, message: str, line: int | None = None) -> None:
        issue = Issue(self.source, yaml_path(loc), message, line or self.line(loc))
        if issue not in self.issues:
            self.issues.append(issue)

    def raise_if_any(self) -> None:
        if self.issues:
            ordered = sorted(self.issues, key=lambda i: (i.line or 0, i.path, i.message))
            raise DescriptorError(ordered)

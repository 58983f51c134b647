"""Who may read what of an output port, as its descriptor declares.

``culturemesh.outputs.<port>.access`` maps a principal to the classifications it may read (a list,
or ``all``). A port that declares no access is open to every principal for its unclassified
columns; a classified column is only ever readable by a principal granted its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from culturemesh.descriptor import Descriptor
from culturemesh.errors import CultureMeshError


class AccessDenied(CultureMeshError):
    exit_code = 8

    def __init__(self, principal: str, resource: str, reason: str) -> None:
        self.principal, self.resource, self.reason = principal, resource, reason
        super().__init__(f"access denied: principal {principal!r} may not read {resource}: {reason}")


@dataclass(frozen=True)
class Grant:
    principal: str
    readable: tuple[str, ...]
    withheld: tuple[str, ...]


def grant(descriptor: Descriptor, port: str, principal: str, columns: Sequence[str]) -> Grant:
    """The columns of ``columns`` that ``principal`` may read; raises :class:`AccessDenied` if none."""
    settings = descriptor.output_settings(port)
    resource = f"{descriptor.qualified_name} port {port!r}"
    access = dict(settings.access)
    if access and principal not in access:
        raise AccessDenied(principal, resource, f"no grant; principals with a grant: {', '.join(sorted(access))}")
    labels = access.get(principal, ())
    allowed_all = labels == "all"
    readable, withheld = [], []
    for column in columns:
        label = settings.classification.get(column, "")
        if not label or allowed_all or label in labels:
            readable.append(column)
        else:
            withheld.append(column)
    return Grant(principal, tuple(readable), tuple(withheld))

"""Which changes between two versions of a descriptor break the people who depend on it.

:func:`compare` walks an old and a new :class:`~culturemesh.descriptor.Descriptor` and returns one
:class:`Change` per difference, marked breaking or not, with the reason. There are two audiences:

* **readers** of an output port break when a port or a column disappears (a rename is a removed
  plus an added column), when a column's type narrows or changes kind, when a column may now be
  null, when the primary key, the engine, the file format or the product's name changes, or when a
  principal loses a column it could read (a new classification label, a grant taken away);
* **providers** uploading to an input port break when a file the old contract accepted would be
  rejected: a new contract column (even a nullable one: every contract column must be in the CSV
  header), a narrowed type, a column that becomes required, other CSV options, a stricter
  invalid-row policy.

Widened types, new ports, new output columns, new grants, descriptions and ownership are not
breaking. What cannot be proven compatible is reported as breaking.

The rules live next to this module by concept: ``compatibility_change`` (a :class:`Change` and values
compared as a whole), ``compatibility_coltypes`` (how a column type narrows or widens),
``compatibility_columns`` (columns added, removed, retyped, reordered), ``compatibility_outputs``
(output ports, their settings, classification and access) and ``compatibility_uploads`` (upload
inputs and their contracts). This module compares the product's identity and internals and gathers
the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from culturemesh.compatibility_change import DOC, WHEN, Change, Field, field_changes
from culturemesh.compatibility_coltypes import Audience, Fit, Verdict, type_fit
from culturemesh.compatibility_outputs import output_changes
from culturemesh.compatibility_uploads import upload_changes
from culturemesh.descriptor import Descriptor
from culturemesh.errors import CultureMeshError

__all__ = ["Audience", "BreakingChange", "Change", "Fit", "Verdict", "compare", "summarize", "type_fit"]


class BreakingChange(CultureMeshError):
    """The new descriptor breaks readers or providers of the old one; ``changes`` lists the breaks."""

    exit_code = 10

    def __init__(self, changes: Sequence[Change]) -> None:
        self.changes = [change for change in changes if change.breaking]
        first = self.changes[0].path if self.changes else "?"
        super().__init__(
            f"{len(self.changes)} breaking change(s), the first at {first}; keep the old port or column "
            "next to the new one until its readers and providers have moved, or publish a new product"
        )


def summarize(changes: Sequence[Change]) -> str:
    if not changes:
        return "no changes"
    return f"{len(changes)} change(s), {sum(change.breaking for change in changes)} breaking"


def compare(old: Descriptor, new: Descriptor) -> list[Change]:
    """Every difference from ``old`` to ``new`` that a reader or a provider could notice."""
    return [*_identity(old, new), *output_changes(old, new), *upload_changes(old, new), *_internals(old, new)]


# --- the product's identity ---------------------------------------------------------------------

_BY_NAME = "consumers find the product by domain and name"
_IDENTITY = (
    Field("metadata.name", "name", "name changed", True, _BY_NAME),
    Field("spec.domain", "domain", "domain changed", True, _BY_NAME),
    Field("metadata.namespace", "namespace", "namespace changed", False, "where it runs, not what it serves"),
    Field("spec.summary", "summary", "summary changed", False, DOC),
    Field("spec.dataProductOwner", "owner", "owner changed", False, DOC),
    Field("spec.responsibleTechnicalTeam", "team", "team changed", False, DOC),
    Field("spec.termsOfUse", "terms_of_use", "terms of use changed", False, DOC),
    Field("spec.transformer.schedule", "schedule", "schedule changed", False, WHEN),
)


def _identity(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    yield from field_changes(old, new, "", _IDENTITY)


# --- the product's own business -----------------------------------------------------------------


def _internals(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    """Its sources (spec.inputPorts) and functions change no port; the ports are compared above."""
    pairs: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = [
        ("spec.inputPorts", {p.name: p for p in old.input_ports}, {p.name: p for p in new.input_ports}),
        ("culturemesh.functions", old.functions, new.functions),
    ]
    for section, before, after in pairs:
        for name in [*before, *(n for n in after if n not in before)]:
            if before.get(name) != after.get(name):
                kind = "added" if name not in before else "removed" if name not in after else "changed"
                why = "the product's own sources and code; its ports are compared on their own"
                yield Change(f"{section}[{name}]", f"{section.split('.')[-1]} entry {kind}", None, None, False, why)

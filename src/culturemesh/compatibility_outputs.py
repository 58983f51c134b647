"""Which changes to an output port break its readers: the port, its columns, settings and access.

A port removed, its kind or file format changed, its primary key or engine changed, a column a
principal could read now classified beyond that principal's grant, or a grant narrowed or taken
away all break readers; new ports, new grants and descriptions do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from culturemesh.compatibility_change import CANNOT_PROVE, DOC, WHEN, Change, Field, field_changes
from culturemesh.compatibility_coltypes import Audience
from culturemesh.compatibility_columns import column_changes
from culturemesh.descriptor import Descriptor, OutputPort, OutputSettings

_PORT = (
    Field("type", "type", "port type changed", True, "readers expect the old kind of data"),
    Field("description", "description", "description changed", False, DOC),
    Field("dataFormat.description", "data_format.description", "description changed", False, DOC),
    Field("dataFormat.contentDescription", "data_format.content_description", "description changed", False, DOC),
    Field("dataFormat.entityExample", "data_format.entity_example", "description changed", False, DOC),
    Field("dataFormat.linkedDataSchemaDefinition", "data_format.linked_data_schema_definition",
          "linked-data schema changed", True, f"{CANNOT_PROVE}: linked-data schemas are not analysed"),
)  # fmt: skip
_SCHEMA = (
    Field("primaryKey", "analytical_schema.primary_key", "primary key changed", True,
          "readers that join or deduplicate on the key break"),
    Field("engine", "analytical_schema.engine", "engine changed", True,
          f"{CANNOT_PROVE}: another engine may merge or deduplicate rows differently"),
)  # fmt: skip
_SETTINGS = (
    Field("format", "format", "format changed", True, "readers expect the old file format"),
    Field("updateEvery", "update_every", "update interval changed", False, WHEN),
)


def output_changes(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    before, after = {p.name: p for p in old.output_ports}, {p.name: p for p in new.output_ports}
    for name, port in before.items():
        if name not in after:
            yield Change(f"spec.outputPorts[{name}]", "output port removed", port.type, None, True, "readers break")
    for name, port in after.items():
        path = f"spec.outputPorts[{name}]"
        if name not in before:
            yield Change(path, "output port added", None, port.type, False, "a new port breaks no reader")
            continue
        yield from _output_port(before[name], port, path)
        yield from _output_settings(old.output_settings(name), new.output_settings(name), before[name], port)


def _output_port(old: OutputPort, new: OutputPort, path: str) -> Iterator[Change]:
    schema, new_schema = old.analytical_schema, new.analytical_schema
    if schema is not None and new_schema is None:
        why = "readers lose the declared columns"
        yield Change(f"{path}.columns", "columns removed", "declared", None, True, f"{CANNOT_PROVE}: {why}")
    yield from field_changes(old, new, path, _PORT)
    yield from column_changes(old.columns, new.columns, path, Audience.READERS, positional=False)
    if schema is not None and new_schema is not None:
        yield from field_changes(old, new, path, _SCHEMA)


# --- classification and access ------------------------------------------------------------------

_EVERYONE = "every principal"


@dataclass(frozen=True)
class _Grant:
    """What one principal may read of a port: the classification labels, or every label."""

    labels: frozenset[str] = frozenset()
    every_label: bool = False

    def reads(self, label: str) -> bool:
        return not label or self.every_label or label in self.labels

    def covers(self, other: _Grant) -> bool:
        return self.every_label or (not other.every_label and other.labels <= self.labels)

    def __str__(self) -> str:
        return "all" if self.every_label else "[" + ", ".join(sorted(self.labels)) + "]"


def _grants(settings: OutputSettings) -> dict[str, _Grant]:
    """Each principal's grant; a port that declares no access lets everyone read unclassified columns."""
    if not settings.access:
        return {_EVERYONE: _Grant()}
    return {
        principal: _Grant(every_label=True) if labels == "all" else _Grant(frozenset(labels))
        for principal, labels in settings.access.items()
    }


def _output_settings(
    old: OutputSettings, new: OutputSettings, port: OutputPort, new_port: OutputPort
) -> Iterator[Change]:
    path = f"culturemesh.outputs[{port.name}]"
    yield from field_changes(old, new, path, _SETTINGS)
    common = {c.name for c in port.columns} & {c.name for c in new_port.columns}
    yield from _classification(old, new, common, path)
    yield from _access(old, new, path)


def _classification(old: OutputSettings, new: OutputSettings, common: set[str], path: str) -> Iterator[Change]:
    grants = _grants(new)
    for column in sorted(common & (set(old.classification) | set(new.classification))):
        before, after = old.classification.get(column, ""), new.classification.get(column, "")
        if before == after:
            continue
        kind = "classification " + ("added" if not before else "removed" if not after else "changed")
        losers = [p for p, grant in grants.items() if grant.reads(before) and not grant.reads(after)]
        why = "every principal that could read it still can"
        if losers:
            why = f"{', '.join(losers)} can no longer read it (no grant for {after!r})"
        yield Change(f"{path}.classification[{column}]", kind, before or None, after or None, bool(losers), why)


def _access(old: OutputSettings, new: OutputSettings, path: str) -> Iterator[Change]:
    if bool(old.access) != bool(new.access):
        restricted = bool(new.access)
        kind = "access restricted" if restricted else "access opened"
        why = "principals without a grant lose the port" if restricted else "every principal reads unclassified columns"
        yield Change(f"{path}.access", kind, _access_text(old), _access_text(new), restricted, why)
    before, after = _grants(old), _grants(new)
    for principal in sorted(set(old.access) | set(new.access)):
        default = None if new.access else _Grant()
        yield from _grant_change(
            f"{path}.access[{principal}]", principal, before.get(principal), after.get(principal, default)
        )


def _grant_change(path: str, principal: str, before: _Grant | None, after: _Grant | None) -> Iterator[Change]:
    if before == after:
        return
    shown = str(before) if before else "no access", str(after) if after else "no access"
    if before is None:
        yield Change(path, "access granted", *shown, False, f"{principal} may now read the port")
    elif after is None:
        yield Change(path, "access removed", *shown, True, f"{principal} can no longer read the port")
    elif after.covers(before):
        yield Change(path, "access widened", *shown, False, f"{principal} reads at least what it could")
    else:
        lost = (
            "labels it is no longer granted" if before.every_label else ", ".join(sorted(before.labels - after.labels))
        )
        yield Change(path, "access narrowed", *shown, True, f"{principal} can no longer read columns labelled {lost}")


def _access_text(settings: OutputSettings) -> str:
    return ", ".join(f"{p}: {g}" for p, g in _grants(settings).items()) if settings.access else "open"

"""Incremental versions: the entities of an upload merged into the port's previous state.

Entities have a primary key. A new key is inserted; a known key is replaced when its content
changed (and, when the port names a modified-timestamp column, only by a row at least as recent
as the one it replaces); a row flagged deleted is a tombstone that removes its key. The result is
the whole merged state, which becomes the next version. Everything is column-wise: keys are
compared with hash joins, never row by row in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

_KEY = "__culturemesh_key"
_ROW = "__culturemesh_row"


@dataclass(frozen=True)
class Merged:
    table: pa.Table
    inserted: int
    updated: int
    deleted: int
    unchanged: int


def _with_key(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    parts = [pc.cast(table.column(name), pa.string()) for name in keys]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    return table.append_column(_KEY, pc.fill_null(joined, "\x00"))


def _latest_per_key(incoming: pa.Table, modified: str | None) -> pa.Table:
    """One row per key: the most recent by ``modified``, else the last in file order."""
    numbered = incoming.append_column(_ROW, pa.array(range(incoming.num_rows), pa.int64()))
    order = [(_KEY, "ascending"), *([(modified, "descending")] if modified else []), (_ROW, "descending")]
    ranked = numbered.sort_by(order)
    keys = ranked.column(_KEY).combine_chunks()
    previous = pa.concat_arrays([pa.array([None], pa.string()), keys[:-1]])
    first = pc.fill_null(pc.not_equal(keys, previous), True)  # the first row of each key after sorting
    return ranked.filter(first).drop_columns([_ROW])


def merge(
    previous: pa.Table | None,
    incoming: pa.Table,
    deleted: pa.Array | None,
    keys: Sequence[str],
    modified: str | None = None,
) -> Merged:
    """Merge ``incoming`` (with its tombstone flags) into ``previous`` on ``keys``."""
    schema = incoming.schema
    if deleted is None:
        deleted = pa.array([False] * incoming.num_rows, pa.bool_())
    flagged = _with_key(incoming, keys).append_column("__culturemesh_deleted", pc.fill_null(deleted, False))
    winners = _latest_per_key(flagged, modified)
    base = _with_key(previous.select(schema.names).cast(schema), keys) if previous is not None else None
    if base is None or base.num_rows == 0:
        alive = winners.filter(pc.invert(winners.column("__culturemesh_deleted")))
        return Merged(alive.select(schema.names).cast(schema), alive.num_rows, 0, 0, 0)

    if modified:
        stamps = base.select([_KEY, modified]).rename_columns([_KEY, "__culturemesh_previous"])
        joined = winners.join(stamps, _KEY, join_type="left outer")
        newer = pc.fill_null(pc.greater_equal(joined.column(modified), joined.column("__culturemesh_previous")), True)
        winners = joined.filter(newer).drop_columns(["__culturemesh_previous"])
    tombstones = winners.filter(winners.column("__culturemesh_deleted"))
    upserts = winners.filter(pc.invert(winners.column("__culturemesh_deleted")))
    touched = pa.concat_arrays([upserts.column(_KEY).combine_chunks(), tombstones.column(_KEY).combine_chunks()])
    kept = base.filter(pc.invert(pc.is_in(base.column(_KEY), value_set=touched)))
    unchanged_rows = _identical(base, upserts, schema.names)
    result = pa.concat_tables([kept.select(schema.names).cast(schema), upserts.select(schema.names).cast(schema)])
    inserted = upserts.num_rows - (pc.sum(pc.is_in(upserts.column(_KEY), value_set=base.column(_KEY))).as_py() or 0)
    removed = pc.sum(pc.is_in(tombstones.column(_KEY), value_set=base.column(_KEY))).as_py() or 0
    updated = upserts.num_rows - inserted - unchanged_rows
    return Merged(result, int(inserted), int(updated), int(removed), int(unchanged_rows))


def _identical(base: pa.Table, upserts: pa.Table, names: Sequence[str]) -> int:
    """How many upserted rows equal the row they replace (a content hash compared per key)."""
    if upserts.num_rows == 0:
        return 0

    def digest(table: pa.Table) -> pa.Array:
        parts = [pc.fill_null(pc.cast(table.column(name), pa.string()), "\x00") for name in names]
        return pc.binary_join_element_wise(*parts, "\x1e") if len(parts) > 1 else parts[0]

    left = pa.table({_KEY: base.column(_KEY), "d": digest(base)})
    right = pa.table({_KEY: upserts.column(_KEY), "d": digest(upserts)})
    same = left.join(right, [_KEY, "d"], join_type="inner")
    return int(same.num_rows)

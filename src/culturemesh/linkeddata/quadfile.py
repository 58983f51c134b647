"""A linked-data port's N-Quads file and its graph index: what makes versions incremental.

A quad table (columns ``s``, ``p``, ``o``, ``g``: N-Triples terms, ``g`` null for the default
graph) is written sorted by graph, so each named graph is one contiguous byte range of the file.
The :class:`QuadFile` index lists, per graph, the SHA-256 of its lines and that byte range. Two
versions' indexes say which entities' graphs were added, changed or removed (:func:`diff`) without
parsing either file, and a consumer replaces exactly those graphs by slicing the new file
(:func:`graph_bytes`). Everything is vectorized over Arrow; the only Python loop is one hash per
graph, the unit of change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_GRAPH = ""  # the index's name for the default graph
INDEX_SCHEMA = pa.schema([("g", pa.string()), ("sha256", pa.string()), ("offset", pa.int64()), ("length", pa.int64())])


@dataclass(frozen=True)
class QuadFile:
    data: bytes  # N-Quads, UTF-8, sorted by graph then subject, predicate, object
    index: pa.Table  # INDEX_SCHEMA, one row per graph, in file order
    quads: int


@dataclass(frozen=True)
class Delta:
    """Graphs (index names) that are new, whose content changed, and that are gone."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def replaced(self) -> tuple[str, ...]:
        return self.added + self.changed

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed), "removed": len(self.removed)}


def concat(lines: pa.Array | pa.ChunkedArray) -> bytes:
    """The strings of ``lines`` (no nulls) back to back, from the Arrow buffers themselves."""
    array = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if len(array) == 0:
        return b""
    array = array.cast(pa.large_string())
    offsets = pa.Array.from_buffers(pa.int64(), array.offset + len(array) + 1, [None, array.buffers()[1]])
    start, end = offsets[array.offset].as_py(), offsets[array.offset + len(array)].as_py()
    return bytes(array.buffers()[2].slice(start, end - start).to_pybytes())


def canonical(quads: pa.Table) -> pa.Table:
    """Distinct quads sorted by graph (default graph first), subject, predicate, object."""
    table = quads.select(["s", "p", "o", "g"]).group_by(["s", "p", "o", "g"], use_threads=False).aggregate([])
    table = table.append_column("graph", pc.fill_null(table["g"], DEFAULT_GRAPH))  # default graph first
    keys = [("graph", "ascending"), ("s", "ascending"), ("p", "ascending"), ("o", "ascending")]
    return table.sort_by(keys).select(["s", "p", "o", "g"])


def _lines(quads: pa.Table, with_graph: bool) -> pa.ChunkedArray:
    columns = [quads["s"], quads["p"], quads["o"], *([quads["g"]] if with_graph else [])]
    return pc.binary_join_element_wise(*columns, pa.scalar(".\n"), pa.scalar(" "), null_handling="skip")


def ntriples(quads: pa.Table) -> bytes:
    """Every quad as an N-Triples line (graphs dropped): the union graph."""
    return concat(_lines(quads, with_graph=False))


def write(quads: pa.Table) -> QuadFile:
    """The N-Quads file of ``quads`` and its per-graph index."""
    table = canonical(quads)
    lines = _lines(table, with_graph=True).combine_chunks()
    data = concat(lines)
    if table.num_rows == 0:
        return QuadFile(data, INDEX_SCHEMA.empty_table(), 0)
    graphs = pc.fill_null(table["g"], DEFAULT_GRAPH).combine_chunks()
    n = len(graphs)
    boundary = pc.not_equal(graphs.slice(1), graphs.slice(0, n - 1))
    starts = pa.concat_arrays([pa.array([0], pa.uint64()), pc.add(pc.indices_nonzero(boundary), 1).cast(pa.uint64())])
    ends = pa.concat_arrays([starts.slice(1), pa.array([n], pa.uint64())])
    line_ends = pc.cumulative_sum(pc.binary_length(lines).cast(pa.int64()))
    byte_end = pc.take(line_ends, pc.subtract(ends, 1))
    byte_start = pc.take(pa.concat_arrays([pa.array([0], pa.int64()), line_ends]), starts)
    view = memoryview(data)
    hashes = [
        hashlib.sha256(view[a:b]).hexdigest() for a, b in zip(byte_start.to_pylist(), byte_end.to_pylist(), strict=True)
    ]
    index = pa.table(
        {
            "g": pc.take(graphs, starts),
            "sha256": pa.array(hashes, pa.string()),
            "offset": byte_start,
            "length": pc.subtract(byte_end, byte_start),
        },
        schema=INDEX_SCHEMA,
    )
    return QuadFile(data, index, table.num_rows)


def graph_bytes(data: bytes, index: pa.Table, names: tuple[str, ...] | list[str]) -> bytes:
    """The N-Quads lines of the graphs ``names`` (index names), sliced out of ``data``."""
    wanted = index.filter(pc.is_in(index["g"], pa.array(list(names), pa.string())))
    view = memoryview(data)
    offsets, lengths = wanted["offset"].to_pylist(), wanted["length"].to_pylist()
    return b"".join(view[a : a + n] for a, n in zip(offsets, lengths, strict=True))


def diff(old: pa.Table | None, new: pa.Table) -> Delta:
    """How the graphs of ``new`` differ from those of ``old`` (None: no previous version)."""
    if old is None or old.num_rows == 0:
        return Delta(tuple(new["g"].to_pylist()), (), ())
    old_g, new_g = old["g"], new["g"]
    added = new.filter(pc.invert(pc.is_in(new_g, old_g)))["g"]
    removed = old.filter(pc.invert(pc.is_in(old_g, new_g)))["g"]
    both = new.select(["g", "sha256"]).join(old.select(["g", "sha256"]), "g", right_suffix="_old", join_type="inner")
    changed = both.filter(pc.not_equal(both["sha256"], both["sha256_old"]))["g"]
    return Delta(
        tuple(sorted(added.to_pylist())), tuple(sorted(changed.to_pylist())), tuple(sorted(removed.to_pylist()))
    )


def index_to_bytes(index: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, INDEX_SCHEMA) as writer:
        writer.write_table(index.cast(INDEX_SCHEMA))
    return bytes(sink.getvalue().to_pybytes())


def index_from_bytes(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()

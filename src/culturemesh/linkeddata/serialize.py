"""Writes a quad table (:func:`culturemesh.linkeddata.engine.run`) as N-Quads, Turtle or JSON-LD.

N-Quads is written column-wise: each line is one ``binary_join_element_wise`` of the four term
columns, and the joined column's data buffer goes to the output as it is. Turtle (the union of
all graphs: Turtle has no named graphs) and JSON-LD (named graphs kept, compacted with a context
such as the OSLO Cultuurparticipatie one when given) go through rdflib.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc

from culturemesh.pipeline import Background

Format = Literal["nquads", "turtle", "jsonld"]
FORMATS: tuple[Format, ...] = ("nquads", "turtle", "jsonld")
_BATCH_ROWS = 65_536


def write(quads: pa.Table, out: BinaryIO, format: Format, context: dict[str, Any] | None = None) -> None:
    """Serialize ``quads`` to ``out`` in ``format``; ``context`` (a JSON-LD ``@context``) compacts JSON-LD."""
    if format == "nquads":
        write_nquads(quads, out)
    elif format in ("turtle", "jsonld"):
        _write_with_rdflib(quads, out, format, context)
    else:
        raise ValueError(f"unknown RDF format {format!r}; expected one of {', '.join(FORMATS)}")


def write_nquads(quads: pa.Table, out: BinaryIO) -> None:
    write_lines((nquads_lines(batch) for batch in quads.to_batches(max_chunksize=_BATCH_ROWS)), out)


def write_lines(arrays: Iterable[pa.StringArray], out: BinaryIO) -> int:
    """Writes string arrays of whole lines (such as :func:`engine.nquads` gives) as they lie in
    memory: each array's data buffer in one write, on a second thread while the next array is
    made (both release the GIL). Returns the number of lines."""
    count = 0
    with Background[int](depth=2) as writing:
        for lines in arrays:
            if len(lines) == 0:
                continue
            _, offsets_buffer, data = lines.buffers()
            offsets = pa.Array.from_buffers(pa.int32(), len(lines) + 1, [None, offsets_buffer], offset=lines.offset)
            text = memoryview(data)[offsets[0].as_py() : offsets[len(lines)].as_py()]
            writing.submit(functools.partial(out.write, text))
            count += len(lines)
    return count


def nquads_lines(batch: pa.RecordBatch | pa.Table) -> pa.StringArray:
    """One N-Quads line (with its newline) per quad, as one string array."""
    graph = batch.column("g")
    graph_part = pc.if_else(pc.is_null(graph), "", pc.binary_join_element_wise(" ", graph, ""))
    joined = pc.binary_join_element_wise(
        batch.column("s"), " ", batch.column("p"), " ", batch.column("o"), graph_part, " .\n", ""
    )
    array = joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined
    return array.cast(pa.string()) if array.type != pa.string() else array


def load_context(path: Path | str) -> dict[str, Any]:
    """The ``@context`` of a JSON-LD context document (such as the OSLO one)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    context = document.get("@context", document)
    if not isinstance(context, dict):
        raise ValueError(f"{path}: expected a JSON object with an '@context' object")
    return context


def _write_with_rdflib(quads: pa.Table, out: BinaryIO, format: Format, context: dict[str, Any] | None) -> None:
    import rdflib

    buffer = io.BytesIO()
    write_nquads(quads, buffer)
    dataset = rdflib.Dataset()
    dataset.parse(data=buffer.getvalue().decode("utf-8"), format="nquads")
    if format == "turtle":
        union = rdflib.Graph()
        for s, p, o, _ in dataset.quads((None, None, None, None)):
            union.add((s, p, o))
        _bind_namespaces(union, context)
        out.write(union.serialize(format="turtle").encode("utf-8"))
        return
    options: dict[str, Any] = {"context": context, "auto_compact": True} if context else {}
    out.write(dataset.serialize(format="json-ld", **options).encode("utf-8"))


def _bind_namespaces(graph: Any, context: dict[str, Any] | None) -> None:
    for name, value in (context or {}).items():
        if isinstance(value, str) and value.endswith(("#", "/")) and not name.startswith("@"):
            graph.bind(name, value, override=True)

"""Reading JSON uploads (JSON Lines, a JSON array, a JSON-LD document) into flat Arrow record batches.

Every format becomes blocks of JSON Lines that pyarrow parses: ``jsonl`` is cut at line ends;
``json`` and ``jsonld`` are decoded item by item (``JSONDecoder.raw_decode`` over chunks of text,
so an array or a ``@graph`` is never held whole) and written back as lines, so all three share one
type inference. Nested objects become dotted columns (``name.nl``), arrays stay list columns.
pyarrow would turn ISO dates into timestamps and drop their offset, so those are read again as
text; a field whose type differs between records (a number here, a string there) becomes text.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal, NoReturn

import pyarrow as pa
import pyarrow.json as pajson

from culturemesh.errors import UploadRejected

BLOCK_SIZE = 8 << 20
MAX_RECORD_BYTES = 64 << 20  # one line or one array item; bounds memory for a file without line ends
JsonFormat = Literal["json", "jsonl", "jsonld"]

_WHITESPACE = re.compile(r"[ \t\r\n]*")
_ITEM = "[]"  # marks "an element of this array" in a field path


@dataclass(frozen=True)
class JsonBatches:
    """The flattened column names of the first batch, and an iterator over every batch."""

    columns: tuple[str, ...]
    batches: Iterator[pa.RecordBatch]


@dataclass(frozen=True)
class _Block:
    data: bytes  # newline-delimited JSON objects
    first: int  # number of its first line (jsonl) or record (json, jsonld)
    unit: str  # "line" or "record"


def read_json_records(stream: BinaryIO, fmt: JsonFormat, name: str, *, block_size: int = BLOCK_SIZE) -> JsonBatches:
    """Stream a JSON upload as flat record batches; raises :class:`UploadRejected` for unreadable files.

    The first block is read before returning, so an unreadable start fails here; later problems
    fail while iterating. Later batches keep the first batch's columns (missing ones are null).
    """
    if fmt == "jsonl":
        blocks = _jsonl_blocks(stream, name, block_size)
    else:
        blocks = _record_blocks(_Document(stream, name, block_size).records(jsonld=fmt == "jsonld"), block_size)
    batches = (batch for batch in (_to_batch(block, name) for block in blocks) if batch is not None)
    first = next(batches, None)
    if first is None:  # an empty array or @graph: valid, and nothing to check
        return JsonBatches((), iter(()))
    return JsonBatches(tuple(first.schema.names), _conformed(first, batches))


def _jsonl_blocks(stream: BinaryIO, name: str, block_size: int) -> Iterator[_Block]:
    """Blocks of whole lines, each checked to be UTF-8 (pyarrow would pass invalid bytes through)."""
    carry, line, offset, seen = b"", 1, 0, False
    chunk = stream.read(block_size)
    if chunk.startswith(codecs.BOM_UTF8):
        chunk, offset = chunk[len(codecs.BOM_UTF8) :], len(codecs.BOM_UTF8)
    while True:
        data = carry + chunk
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        if chunk and cut == 0:  # no line end yet: the line goes on in the next chunk
            if len(data) > MAX_RECORD_BYTES:
                raise UploadRejected(f"{name}: line {line} is longer than {MAX_RECORD_BYTES >> 20} MB")
            carry, chunk = data, stream.read(block_size)
            continue
        block, carry = data[:cut], data[cut:]
        try:
            block.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad_line = line + block.count(b"\n", 0, exc.start)
            raise UploadRejected(
                f"{name}: not UTF-8 text at byte {offset + exc.start} (line {bad_line}); expected UTF-8 JSON Lines"
            ) from None
        seen = seen or bool(block.strip())
        if block:
            yield _Block(block, line, "line")
        line, offset = line + block.count(b"\n"), offset + len(block)
        if not chunk:
            break
        chunk = stream.read(block_size)
    if not seen:
        raise UploadRejected(f"{name}: the file is empty; expected one JSON object per line")


def _record_blocks(records: Iterable[dict[str, object]], block_size: int) -> Iterator[_Block]:
    lines: list[bytes] = []
    size, first = 0, 1
    for number, record in enumerate(records, 1):
        lines.append(_line(record))
        size += len(lines[-1])
        if size >= block_size:
            yield _Block(b"".join(lines), first, "record")
            lines, size, first = [], 0, number + 1
    if lines:
        yield _Block(b"".join(lines), first, "record")


_DECODER = json.JSONDecoder()  # accepts NaN and Infinity, as pyarrow does for JSON Lines


def _line(record: object) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def _kind(value: object) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string", dict: "an object"}
    return "null" if value is None else kinds.get(type(value), "an array")


class _Document:
    """A JSON or JSON-LD document read value by value from chunks of text."""

    def __init__(self, stream: BinaryIO, name: str, chunk_size: int) -> None:
        self.stream, self.name, self.chunk_size = stream, name, chunk_size
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text, self.pos, self.lines_before, self.bytes_read, self.eof = "", 0, 0, 0, False

    def records(self, *, jsonld: bool) -> Iterator[dict[str, object]]:
        expected = "a JSON array of objects, or one object"
        if jsonld:
            expected = "a JSON-LD node object, an array of them, or an object with @graph"
        start = self._peek()
        if start == "":
            self._reject(f"the file is empty; expected {expected}")
        if start == "[":
            nodes = self._items()
        elif start == "{" and jsonld:
            nodes = self._node_document()
        else:
            nodes = iter([self._object("the top-level value", expected)])
        for node in nodes:
            if jsonld:
                node.pop("@context", None)  # how to read the node as linked data, not a field of it
            yield node
        if self._peek() != "":
            self._reject(f"unexpected data after the top-level value at {self._where()}; expected {expected}")

    def _items(self) -> Iterator[dict[str, object]]:
        """The objects of the array starting at the cursor, one at a time."""
        self.pos += 1
        if self._peek() == "]":
            self.pos += 1
            return
        for index in itertools.count(1):
            yield self._object(f"item {index} of the array")
            after = self._peek()
            if after == "]":
                self.pos += 1
                return
            if after != ",":
                self._expected(after, f"',' or ']' after item {index} of the array")
            self.pos += 1

    def _object(self, what: str, expected: str = "an object") -> dict[str, object]:
        where = self._where()
        value = self._value()
        if not isinstance(value, dict):
            self._reject(f"{what} ({where}) is {_kind(value)}; expected {expected}")
        return value

    def _node_document(self) -> Iterator[dict[str, object]]:
        """A JSON-LD object: the nodes of its ``@graph`` (streamed), or else the object itself."""
        self.pos += 1
        node: dict[str, object] = {}
        graph = False
        after = self._peek()
        while after != "}":
            if after != '"':
                self._expected(after, "a property name in double quotes")
            key = str(self._value())
            if self._peek() != ":":
                self._expected(self._peek(), "':' after a property name")
            self.pos += 1
            if key == "@graph" and self._peek() == "[":
                graph = True
                yield from self._items()
            else:
                node[key] = self._value()
            after = self._peek()
            if after == ",":
                self.pos += 1
                after = self._peek()
            elif after != "}":
                self._expected(after, "',' or '}' after a property")
        self.pos += 1
        single = node.get("@graph")
        if isinstance(single, dict):
            yield single
        elif "@graph" in node:
            self._reject(f"@graph is {_kind(single)}; expected an array of node objects")
        elif not graph:
            yield node

    def _value(self) -> object:
        """Decode the JSON value at the cursor, reading more text until it is complete."""
        self._peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos > MAX_RECORD_BYTES:
                    self._reject(f"the value at {self._where()} is not JSON or longer than {MAX_RECORD_BYTES >> 20} MB")
                if self._fill(len(self.text)):
                    continue
                if exc.pos >= len(self.text.rstrip()) or exc.msg.startswith("Unterminated"):
                    self._reject("the document ends before its last value is complete (truncated upload?)")
                self._reject(f"invalid JSON at {self._where(exc.pos)} ({exc.msg})")
            except RecursionError:
                self._reject(f"the value at {self._where()} is nested too deeply")
            if end < len(self.text) or not self._fill(len(self.text)):  # a number may go on in the next chunk
                self.pos = end
                return value

    def _peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        if self.pos > self.chunk_size:  # drop what was consumed (the cursor sits between values)
            self.lines_before += self.text.count("\n", 0, self.pos)
            self.text, self.pos = self.text[self.pos :], 0
        while True:
            match = _WHITESPACE.match(self.text, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._fill():
                return ""

    def _fill(self, at_least: int = 0) -> bool:
        """Append more text; False (and nothing read) at the end of the file."""
        if self.eof:
            return False
        chunk = self.stream.read(max(self.chunk_size, at_least))
        try:
            self.text += self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            self._reject(f"not UTF-8 text at byte {self.bytes_read + exc.start}; expected a UTF-8 JSON document")
        self.bytes_read += len(chunk)
        self.eof = not chunk
        return bool(chunk)

    def _where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self.lines_before + self.text.count("\n", 0, pos) + 1
        column = pos - self.text.rfind("\n", 0, pos)
        return f"line {line}, column {column}"

    def _expected(self, found: str, expected: str) -> NoReturn:
        if found == "":
            self._reject(f"the document ends early, expected {expected} (truncated upload?)")
        self._reject(f"invalid JSON at {self._where()}: expected {expected}")

    def _reject(self, message: str) -> NoReturn:
        raise UploadRejected(f"{self.name}: {message}")


def _to_batch(block: _Block, name: str) -> pa.RecordBatch | None:
    """One block as a flat batch; a block pyarrow refuses is checked line by line and made uniform."""
    try:
        table = _read_ndjson(block.data)
    except pa.ArrowInvalid:
        records = _uniform(list(_parse_lines(block, name)))
        try:
            table = _read_ndjson(b"".join(_line(record) for record in records))
        except pa.ArrowInvalid:
            raise UploadRejected(
                f"{name}: cannot read the {block.unit}s from {block.unit} {block.first} on as JSON records"
            ) from None
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    twice = sorted({column for column in table.column_names if table.column_names.count(column) > 1})
    if twice:
        raise UploadRejected(
            f"{name}: column(s) {', '.join(twice)} occur twice once nested objects are flattened "
            f"(a key with a dot and a nested object on the same path); rename one"
        )
    batches = table.combine_chunks().to_batches()
    return batches[0] if batches and batches[0].num_rows else None


def _read_ndjson(data: bytes) -> pa.Table:
    table = pajson.read_json(io.BytesIO(data))
    text_schema = pa.schema([field.with_type(_text_for_timestamps(field.type)) for field in table.schema])
    if text_schema == table.schema:
        return table
    return pajson.read_json(io.BytesIO(data), parse_options=pajson.ParseOptions(explicit_schema=text_schema))


def _text_for_timestamps(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind):
        return pa.string()
    if pa.types.is_list(kind):
        return pa.list_(_text_for_timestamps(kind.value_type))
    if pa.types.is_struct(kind):
        return pa.struct([field.with_type(_text_for_timestamps(field.type)) for field in kind])
    return kind


def _parse_lines(block: _Block, name: str) -> Iterator[dict[str, object]]:
    for number, line in enumerate(block.data.split(b"\n"), block.first):
        if not line.strip():
            continue
        where = f"{block.unit} {number}"
        try:
            value = _DECODER.decode(line.decode("utf-8"))
        except json.JSONDecodeError as exc:
            raise UploadRejected(f"{name}: invalid JSON at {where}, column {exc.colno} ({exc.msg})") from None
        if not isinstance(value, dict):
            raise UploadRejected(
                f"{name}: {where} is {_kind(value)}; expected one JSON object per line "
                "(for a JSON array, upload it as json)"
            )
        yield value


def _uniform(records: list[dict[str, object]]) -> list[object]:
    """Turn every field that holds values of different kinds (number, string, object…) into text."""
    kinds: dict[tuple[str, ...], set[str]] = {}

    def collect(value: object, path: tuple[str, ...]) -> None:
        if value is not None:
            kinds.setdefault(path, set()).add(_kind(value))
        if isinstance(value, dict):
            for key, item in value.items():
                collect(item, (*path, key))
        elif isinstance(value, list):
            for item in value:
                collect(item, (*path, _ITEM))

    def textify(value: object, path: tuple[str, ...]) -> object:
        if value is None or path not in mixed:
            if isinstance(value, dict):
                return {key: textify(item, (*path, key)) for key, item in value.items()}
            if isinstance(value, list):
                return [textify(item, (*path, _ITEM)) for item in value]
            return value
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

    collect(records, ())
    mixed = {path for path, found in kinds.items() if len(found) > 1}
    return [textify(record, (_ITEM,)) for record in records]


def _conformed(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The first batch, then each later one in its columns: missing ones null, new ones appended."""
    yield first
    for batch in rest:
        fields, arrays = [], []
        for field in first.schema:
            index = batch.schema.get_field_index(field.name)
            column = pa.nulls(batch.num_rows, field.type) if index < 0 else batch.column(index)
            if _widens(column.type, field.type):
                with contextlib.suppress(pa.ArrowInvalid):  # an integer too large for a float stays one
                    column = column.cast(field.type)
            fields.append(field.with_type(column.type))
            arrays.append(column)
        for field, column in zip(batch.schema, batch.columns, strict=True):
            if first.schema.get_field_index(field.name) < 0:
                fields.append(field)
                arrays.append(column)
        yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _widens(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether a later batch's column can take the first batch's type without changing a value."""
    if source == target or pa.types.is_null(source):
        return True
    if pa.types.is_list(source) and pa.types.is_list(target):
        return _widens(source.value_type, target.value_type)
    nested = pa.types.is_nested(source)
    return (pa.types.is_integer(source) and pa.types.is_floating(target)) or (pa.types.is_string(target) and not nested)

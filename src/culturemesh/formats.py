"""Reading uploaded files into record batches of strings, ready for a contract check.

CSV is read by pyarrow's streaming reader in blocks, every column as text, so memory stays flat
however large the file is and types are decided by the contract, not guessed.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import re
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from culturemesh.descriptor import CsvOptions
from culturemesh.errors import UploadRejected

BLOCK_SIZE = 8 << 20


@dataclass(frozen=True)
class TextBatches:
    """The header of an upload and an iterator over its batches (all columns as strings)."""

    columns: tuple[str, ...]
    batches: Iterator[pa.RecordBatch]


DELIMITERS = ",;\t|"


def detect_delimiter(header: str, declared: str) -> str:
    """The declared delimiter, unless the header row has none of it but exactly one other common
    delimiter (a spreadsheet's ';' export to a ',' port, say): then that one."""
    if declared in header:
        return declared
    found = [candidate for candidate in DELIMITERS if candidate != declared and candidate in header]
    return found[0] if len(found) == 1 else declared


def _header(stream: BinaryIO, options: CsvOptions, name: str) -> tuple[list[str], CsvOptions]:
    """Read the header row (to name columns, detect the delimiter and catch duplicates before
    pyarrow sees them); the stream is left at the first data row, so it need not be seekable."""
    try:
        raw = stream.readline(1 << 20)
    except (EOFError, OSError, zlib.error) as exc:
        raise UploadRejected(f"{name}: cannot read the header row: {_safe_reason(exc)}") from None
    if not raw.strip():
        raise UploadRejected(f"{name}: the file is empty; expected a header row and at least one data row")
    try:
        text = codecs.decode(raw, options.encoding).lstrip("\ufeff").rstrip("\r\n")
    except (UnicodeDecodeError, LookupError) as exc:
        raise UploadRejected(f"{name}: the header row is not {options.encoding} text ({exc})") from None
    options = replace(options, delimiter=detect_delimiter(text, options.delimiter))
    names = [
        column.strip() for column in next(csv.reader([text], delimiter=options.delimiter, quotechar=options.quote_char))
    ]
    duplicates = sorted(column for column, count in Counter(names).items() if count > 1)
    if duplicates:
        raise UploadRejected(f"{name}: duplicate column name(s) in the header: {', '.join(duplicates)}")
    return names, options


def _safe_reason(exc: BaseException) -> str:
    """pyarrow's message without the row text it quotes (which may hold personal data)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "straddl" in text:
        return f"a row is longer than {BLOCK_SIZE >> 20} MiB (the largest row culturemesh accepts)"
    if isinstance(exc, EOFError | zlib.error | gzip.BadGzipFile):
        return f"the gzip stream is damaged or truncated ({type(exc).__name__})"
    return re.sub(r"(got \d+)\s*:.*", r"\1", text, flags=re.DOTALL)


def decompressed(stream: BinaryIO) -> BinaryIO:
    """The stream itself, or its gunzipped content when it starts with the gzip magic bytes."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[type-var]
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


def _cut(buffer: bytes, quote: bytes) -> int | None:
    """Where ``buffer`` can be cut after a complete row: after the last newline with an even
    number of quote characters before it (so outside quotes; RFC 4180's doubled quotes keep the
    parity). ``None`` when no row ends in the buffer."""
    position, before = len(buffer), buffer.count(quote)
    while (newline := buffer.rfind(b"\n", 0, position)) >= 0:
        before -= buffer.count(quote, newline, position)
        if before % 2 == 0:
            return newline + 1
        position = newline
    return None


def _row_blocks(stream: BinaryIO, quote: bytes, name: str) -> Iterator[bytes | memoryview]:
    """The stream in blocks of about :data:`BLOCK_SIZE` that end on a row boundary: memory stays
    flat however large the file, and each block parses on every core."""
    carry = b""
    while chunk := stream.read(BLOCK_SIZE):
        buffer = carry + chunk
        cut = _cut(buffer, quote)
        if cut is None:
            if len(buffer) > 8 * BLOCK_SIZE:
                raise UploadRejected(f"{name}: cannot read as CSV: a row is longer than {8 * BLOCK_SIZE >> 20} MiB")
            carry = buffer
            continue
        carry = buffer[cut:]
        yield memoryview(buffer)[:cut]  # no copy of the block
    if carry.strip():
        yield carry


def read_csv(stream: BinaryIO, options: CsvOptions, name: str, names: Sequence[str] = ()) -> TextBatches:
    """Stream a CSV as string batches; raises :class:`UploadRejected` for unreadable files.

    Without a header row the columns take ``names`` in order (the contract's columns). Only an
    empty unquoted field is a missing value: ``NA`` or ``NULL`` are text like any other. The file
    is read in row-aligned blocks, each parsed by pyarrow on all cores; UTF-16/32 files, whose
    newlines are not single bytes, are rejected with a clear message.
    """
    if codecs.lookup(options.encoding).name.startswith(("utf-16", "utf-32")):
        raise UploadRejected(f"{name}: {options.encoding} CSV is not supported; expected an 8-bit or UTF-8 encoding")
    columns = list(names)
    if options.header:
        columns, options = _header(stream, options, name)
    blocks = _row_blocks(stream, options.quote_char.encode(), name)
    parse_options = pacsv.ParseOptions(
        delimiter=options.delimiter, quote_char=options.quote_char, newlines_in_values=True
    )
    first: list[bytes | memoryview] = []
    if not columns:  # no header and no contract: pyarrow names the columns f0, f1, …
        try:
            first = [next(blocks)]
        except StopIteration:
            raise UploadRejected(f"{name}: the file is empty; expected at least one row") from None
        probe = pacsv.ReadOptions(encoding=options.encoding, autogenerate_column_names=True)
        columns = pacsv.read_csv(pa.BufferReader(first[0]), probe, parse_options).schema.names
    read_options = pacsv.ReadOptions(encoding=options.encoding, column_names=columns, use_threads=True)
    convert_options = pacsv.ConvertOptions(
        column_types={column: pa.string() for column in columns},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
    )
    schema = pa.schema([pa.field(column, pa.string()) for column in columns])

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for block in itertools.chain(first, blocks):
                try:
                    table = pacsv.read_csv(pa.BufferReader(block), read_options, parse_options, convert_options)
                except pa.ArrowInvalid as exc:  # a row longer than pyarrow's 1 MiB parse block
                    if "straddl" not in str(exc):
                        raise
                    whole = pacsv.ReadOptions(
                        encoding=options.encoding, column_names=columns, block_size=len(block) + 1
                    )
                    table = pacsv.read_csv(pa.BufferReader(block), whole, parse_options, convert_options)
                yield from table.cast(schema).combine_chunks().to_batches()
        except (pa.ArrowInvalid, UnicodeDecodeError, EOFError, OSError, zlib.error) as exc:
            raise UploadRejected(f"{name}: cannot read as CSV ({options.encoding}): {_safe_reason(exc)}") from None

    return TextBatches(tuple(columns), batches())

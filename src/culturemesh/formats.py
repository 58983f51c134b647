"""Reading uploaded files into record batches of strings, ready for a contract check.

CSV is read by pyarrow's streaming reader in blocks, every column as text, so memory stays flat
however large the file is and types are decided by the contract, not guessed.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
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


def read_csv(stream: BinaryIO, options: CsvOptions, name: str, names: Sequence[str] = ()) -> TextBatches:
    """Stream a CSV as string batches; raises :class:`UploadRejected` for unreadable files.

    Without a header row the columns take ``names`` in order (the contract's columns). Only an
    empty unquoted field is a missing value: ``NA`` or ``NULL`` are text like any other.
    """
    columns = list(names)
    if options.header:
        columns, options = _header(stream, options, name)
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                encoding=options.encoding,
                block_size=BLOCK_SIZE,
                column_names=columns or None,
                skip_rows=0,
                autogenerate_column_names=not columns,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=options.delimiter, quote_char=options.quote_char, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string() for column in columns},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, EOFError, OSError, zlib.error) as exc:
        if columns and "Empty CSV file" in str(exc):  # a header and nothing after it
            return TextBatches(tuple(columns), iter(()))
        raise UploadRejected(f"{name}: cannot read as CSV ({options.encoding}): {_safe_reason(exc)}") from None
    if not columns:
        columns = list(reader.schema.names)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                yield batch.cast(pa.schema([pa.field(c, pa.string()) for c in batch.schema.names]))
        except (pa.ArrowInvalid, UnicodeDecodeError, EOFError, OSError, zlib.error) as exc:
            raise UploadRejected(f"{name}: cannot read as CSV ({options.encoding}): {_safe_reason(exc)}") from None

    return TextBatches(tuple(columns), batches())

"""CSV is read in row-aligned blocks: cutting never splits a quoted value, however small the blocks."""

from __future__ import annotations

import io
import random

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from culturemesh import formats
from culturemesh.descriptor import CsvOptions


def sample(rows: int) -> bytes:
    rng = random.Random(3)
    lines = ["id,note,amount"]
    for i in range(rows):
        note = rng.choice(
            ["plain", '"with, comma"', '"two\nlines"', '"a ""quoted"" word"', '"ends with newline\n"', ""]
        )
        lines.append(f"{i},{note},{rng.randint(0, 99)}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("block", [7, 64, 1000, 1 << 20])
def test_blocks_of_any_size_give_the_rows_pyarrow_reads_from_the_whole_file(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    data = sample(500)
    monkeypatch.setattr(formats, "BLOCK_SIZE", block)
    text = formats.read_csv(io.BufferedReader(io.BytesIO(data)), CsvOptions(), "notes.csv")
    got = pa.Table.from_batches(list(text.batches)).to_pylist()
    expected = pacsv.read_csv(
        pa.BufferReader(data),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={"id": pa.string(), "note": pa.string(), "amount": pa.string()},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        ),
    ).to_pylist()
    assert got == expected


def test_the_cut_is_after_the_last_newline_outside_quotes() -> None:
    assert formats._cut(b'a,"x\ny"\nb,', b'"') == 8
    assert formats._cut(b'a,"x\ny', b'"') is None
    assert formats._cut(b"no newline", b'"') is None

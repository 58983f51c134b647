"""read_csv streams an upload as string batches, and rejects files it cannot read, naming them."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest

from culturemesh.contract import Column, check_batch
from culturemesh.descriptor import CsvOptions
from culturemesh.errors import UploadRejected
from culturemesh.formats import read_csv

NAME = "uploads/tickets-2026-03.csv"


def _rows(data: bytes, options: CsvOptions | None = None) -> tuple[tuple[str, ...], list[dict[str, str | None]]]:
    result = read_csv(io.BytesIO(data), options or CsvOptions(), NAME)
    rows = [row for batch in result.batches for row in batch.to_pylist()]
    return result.columns, rows


def test_header_row_names_the_columns() -> None:
    columns, rows = _rows(b"id,naam,prijs\n1,AB,12.5\n")
    assert columns == ("id", "naam", "prijs")
    assert rows == [{"id": "1", "naam": "AB", "prijs": "12.5"}]


def test_every_column_is_read_as_text_whatever_it_looks_like() -> None:
    result = read_csv(io.BytesIO(b"id,dag,actief\n007,2026-01-01,true\n"), CsvOptions(), NAME)
    batches = list(result.batches)
    assert all(field.type == pa.string() for batch in batches for field in batch.schema)
    assert batches[0].to_pylist() == [{"id": "007", "dag": "2026-01-01", "actief": "true"}]


def test_quoted_values_keep_delimiters_quotes_and_embedded_newlines() -> None:
    data = b'id,omschrijving\n1,"Gent, Vlaanderen"\n2,"regel een\nregel twee"\n3,"zegt ""hallo"""\n'
    _, rows = _rows(data)
    assert [row["omschrijving"] for row in rows] == ["Gent, Vlaanderen", "regel een\nregel twee", 'zegt "hallo"']
    assert [row["id"] for row in rows] == ["1", "2", "3"]


def test_empty_values_become_null_but_quoted_empty_strings_stay_text() -> None:
    _, rows = _rows(b'a,b,c\n1,,""\n,x,\n')
    assert rows == [{"a": "1", "b": None, "c": ""}, {"a": None, "b": "x", "c": None}]


def test_custom_delimiter_and_latin1_encoding_are_honoured() -> None:
    data = "naam;prijs;zaal\nCafé Théâtre;3,5;Ça va\n".encode("latin-1")
    columns, rows = _rows(data, CsvOptions(delimiter=";", encoding="latin-1"))
    assert columns == ("naam", "prijs", "zaal")
    assert rows == [{"naam": "Café Théâtre", "prijs": "3,5", "zaal": "Ça va"}]


def test_utf8_byte_order_mark_is_not_part_of_the_first_column_name() -> None:
    columns, rows = _rows(b"\xef\xbb\xbfid,naam\n1,x\n")
    assert columns == ("id", "naam")
    assert rows == [{"id": "1", "naam": "x"}]


def test_crlf_line_endings_are_read_like_lf() -> None:
    columns, rows = _rows(b"id,naam\r\n1,a\r\n2,b\r\n")
    assert columns == ("id", "naam")
    assert rows == [{"id": "1", "naam": "a"}, {"id": "2", "naam": "b"}]


def test_header_only_file_has_columns_and_no_rows() -> None:
    columns, rows = _rows(b"id,naam\n")
    assert columns == ("id", "naam")
    assert rows == []


def test_file_without_header_gets_generated_column_names() -> None:
    columns, rows = _rows(b"1,a\n2,b\n", CsvOptions(header=False))
    assert len(columns) == 2
    assert [[row[name] for name in columns] for row in rows] == [["1", "a"], ["2", "b"]]


@pytest.mark.parametrize("data", [b"", b"\n", b"   \r\n\r\n"], ids=["zero-bytes", "newline", "blank-lines"])
def test_empty_file_is_rejected_naming_the_file(data: bytes) -> None:
    with pytest.raises(UploadRejected, match="empty") as caught:
        read_csv(io.BytesIO(data), CsvOptions(), NAME)
    assert NAME in str(caught.value)


def test_duplicate_header_names_are_rejected_naming_file_and_columns() -> None:
    with pytest.raises(UploadRejected, match="duplicate column") as caught:
        read_csv(io.BytesIO(b"id,naam,id,prijs,naam\n1,a,2,3,b\n"), CsvOptions(), NAME)
    message = str(caught.value)
    assert NAME in message
    assert "id, naam" in message


def test_non_utf8_header_is_rejected_naming_file_and_encoding() -> None:
    with pytest.raises(UploadRejected) as caught:
        read_csv(io.BytesIO("naam,café\nx,y\n".encode("latin-1")), CsvOptions(), NAME)
    message = str(caught.value)
    assert NAME in message
    assert "utf-8" in message


def test_non_utf8_data_row_is_rejected_naming_the_file_when_read() -> None:
    data = b"naam,prijs\n" + "Café,3\n".encode("latin-1")
    with pytest.raises(UploadRejected) as caught:
        _rows(data)
    message = str(caught.value)
    assert NAME in message
    assert "utf-8" in message


def test_row_with_too_many_fields_is_rejected_naming_the_file() -> None:
    with pytest.raises(UploadRejected) as caught:
        _rows(b"a,b\n1,2,3\n")
    assert NAME in str(caught.value)


def test_stream_position_after_header_check_still_reads_the_first_data_row() -> None:
    stream = io.BytesIO(b"id\n1\n2\n")
    result = read_csv(stream, CsvOptions(), NAME)
    assert [row["id"] for batch in result.batches for row in batch.to_pylist()] == ["1", "2"]


def test_empty_csv_value_in_a_required_column_breaks_the_required_rule() -> None:
    result = read_csv(io.BytesIO(b"id,naam\n1,a\n,b\n"), CsvOptions(), NAME)
    columns = [Column("id", pa.int64(), nullable=False, type_name="Int64"), Column("naam", pa.string())]
    checked = check_batch(next(result.batches), columns, first_row=2)
    (violation,) = checked.violations
    assert (violation.row, violation.column) == (3, "id")
    assert violation.rule.startswith("required")
    assert checked.batch.to_pylist() == [{"id": 1, "naam": "a"}]

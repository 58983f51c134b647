"""JSON, JSON Lines and JSON-LD uploads read into flat Arrow batches, on real UiTdatabank documents."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from culturemesh.errors import UploadRejected
from culturemesh.jsonformats import JsonFormat, read_json_records

UITDATABANK = Path(__file__).resolve().parents[3] / "shared" / "reference" / "uitdatabank"
SAMPLES = sorted(UITDATABANK.glob("*/*.json"))
EVENTS = sorted((UITDATABANK / "event").glob("*.json"))
SECRET = "Rijksregister-85073100123"


def load(data: bytes, fmt: JsonFormat, **options: Any) -> pa.Table:
    result = read_json_records(io.BytesIO(data), fmt, "upload.json", **options)
    table = pa.Table.from_batches(list(result.batches))
    assert tuple(table.column_names[: len(result.columns)]) == result.columns
    return table


def dotted(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """An independent oracle: nested objects as dotted keys, everything else (arrays too) as is."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict) and value:
            flat.update(dotted(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def test_the_uitdatabank_samples_are_there() -> None:
    assert len(SAMPLES) == 17, UITDATABANK


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_uitdatabank_document_loads_as_jsonld_with_one_dotted_column_per_leaf(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    document.pop("@context", None)
    expected = dotted(document)

    table = load(path.read_bytes(), "jsonld")

    assert table.num_rows == 1
    assert table.column_names == list(expected)
    assert not any(pa.types.is_struct(field.type) for field in table.schema)
    assert table.to_pylist()[0] == expected  # dates stay text as written, with their UTC offset


def test_uitdatabank_place_keeps_language_maps_as_columns_and_arrays_as_lists() -> None:
    table = load((UITDATABANK / "place" / "original-with-optional-fields.json").read_bytes(), "jsonld")
    row = table.to_pylist()[0]

    assert row["@id"] == "http://udb-silex.dev/place/179c89c5-dba4-417b-ae96-62e7a12c2405"
    assert row["@type"] == "Place"
    assert (row["calendarType"], row["name.nl"], row["name.fr"]) == ("permanent", "Hungaria", "French name")
    assert row["address.nl.postalCode"] == "3000"
    assert row["organizer.name.nl"] == "PHPLeuven"
    assert table.schema.field("terms").type == pa.list_(
        pa.struct([("id", pa.string()), ("label", pa.string()), ("domain", pa.string())])
    )
    assert [term["domain"] for term in row["terms"]] == ["eventtype", "theme", "facility", "facility"]
    assert [price["price"] for price in row["priceInfo"]] == [19.99, 14.99]
    assert table.schema.field("labels").type == pa.list_(pa.string())


def test_uitdatabank_event_location_address_and_sub_events_are_flat_columns_and_lists() -> None:
    table = load((UITDATABANK / "event" / "original-with-multiple-dates.json").read_bytes(), "jsonld")
    row = table.to_pylist()[0]

    assert row["location.address.nl.postalCode"] == "3000"
    assert row["location.@id"].endswith("/place/179c89c5-dba4-417b-ae96-62e7a12c2405")
    assert [sub["startDate"] for sub in row["subEvent"]][::2] == [
        "2017-04-30T00:00:00+02:00",
        "2017-05-07T00:00:00+02:00",
    ]
    assert pa.types.is_list(table.schema.field("subEvent").type)


def test_json_array_and_jsonl_of_the_same_records_give_the_same_table() -> None:
    events = [json.loads(path.read_text(encoding="utf-8")) for path in EVENTS]

    from_array = load(json.dumps(events, indent=2).encode(), "json")
    from_lines = load(jsonl(events), "jsonl")
    from_jsonld = load(json.dumps(events).encode(), "jsonld")

    assert from_array.num_rows == len(EVENTS)
    assert from_array.equals(from_lines)
    assert from_array.equals(from_jsonld)


def test_jsonld_graph_document_yields_its_nodes_and_never_the_context() -> None:
    events = [json.loads(path.read_text(encoding="utf-8")) for path in EVENTS[:3]]
    events[0]["@context"] = "/contexts/event"
    document = {"@graph": events, "@context": {"name": {"@id": "http://schema.org/name", "@container": "@language"}}}

    table = load(json.dumps(document).encode(), "jsonld")

    assert table.num_rows == 3
    assert table.column("@id").to_pylist() == [event["@id"] for event in events]
    assert not [column for column in table.column_names if column.startswith("@context")]


def test_a_single_json_object_is_one_record_and_an_empty_array_is_no_record() -> None:
    assert load(b'{"@id": "x", "name": {"nl": "Punkfest"}}', "json").to_pylist() == [
        {"@id": "x", "name.nl": "Punkfest"}
    ]
    empty = read_json_records(io.BytesIO(b" [ ] "), "json", "upload.json")
    assert (empty.columns, list(empty.batches)) == ((), [])


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_missing_keys_become_null_and_fields_of_mixed_types_become_text(fmt: JsonFormat) -> None:
    records: list[dict[str, Any]] = [
        {"id": 1, "price": 12, "tags": [1, 2], "place": {"nl": "Gent"}},
        {"id": 2, "price": "gratis", "tags": ["a"], "place": "Brugge"},
        {"id": 3, "free": True},
    ]
    data = json.dumps(records).encode() if fmt == "json" else jsonl(records)

    table = load(data, fmt)

    assert table.column("id").type == pa.int64()
    assert table.column("price").to_pylist() == ["12", "gratis", None]
    assert table.column("tags").to_pylist() == [["1", "2"], ["a"], None]
    assert table.column("place").to_pylist() == ['{"nl":"Gent"}', "Brugge", None]
    assert table.column("free").to_pylist() == [None, None, True]


def test_later_batches_keep_the_first_batch_columns_and_add_new_ones_at_the_end() -> None:
    first = [{"id": n, "name": {"nl": f"event {n}"}, "price": n} for n in range(50)]
    later = [{"id": n, "price": "gratis", "extra": "x"} for n in range(50, 100)]

    result = read_json_records(io.BytesIO(jsonl(first + later)), "jsonl", "upload.jsonl", block_size=1024)
    batches = list(result.batches)

    assert result.columns == ("id", "name.nl", "price")
    assert len(batches) > 2
    assert all(batch.schema.names[:3] == ["id", "name.nl", "price"] for batch in batches)
    assert batches[-1].column("name.nl").null_count == batches[-1].num_rows
    assert batches[-1].schema.names[3:] == ["extra"]
    assert batches[-1].column("price").type == pa.string()  # a number first, text later: kept as text
    assert sum(batch.num_rows for batch in batches) == 100


def test_a_50_mb_jsonl_file_streams_in_several_batches(tmp_path: Path) -> None:
    line = {
        "@id": "https://io.uitdatabank.be/event/{n}",
        "name": {"nl": "Voorstelling {n}", "fr": "Spectacle"},
        "calendarType": "single",
        "startDate": "2024-04-22T20:00:00+02:00",
        "terms": [{"id": "0.55.0.0.0", "label": "Theatervoorstelling", "domain": "eventtype"}],
        "priceInfo": [{"category": "base", "price": 12.5, "priceCurrency": "EUR"}],
    }
    template = json.dumps(line)
    path = tmp_path / "events.jsonl"
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        while out.tell() < 50 << 20:
            out.write("".join(template.replace("{n}", str(rows + i)) + "\n" for i in range(1000)))
            rows += 1000

    with path.open("rb") as stream:
        result = read_json_records(stream, "jsonl", path.name)
        counts = [(batch.num_rows, batch.column("startDate").type) for batch in result.batches]

    assert len(counts) > 1
    assert sum(count for count, _ in counts) == rows
    assert {kind for _, kind in counts} == {pa.string()}
    assert "name.nl" in result.columns


class Reads(io.BytesIO):
    """A stream that remembers how far it was read."""

    furthest = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data


@pytest.mark.parametrize("fmt", ["json", "jsonld"])
def test_a_large_json_array_is_read_item_by_item_not_whole(fmt: JsonFormat) -> None:
    nodes = [{"@id": f"https://example.org/event/{n}", "name": {"nl": "x" * 100}} for n in range(20_000)]
    data = json.dumps({"@graph": nodes} if fmt == "jsonld" else nodes).encode()
    stream = Reads(data)

    result = read_json_records(stream, fmt, "upload.json", block_size=64 << 10)
    first = next(result.batches)
    read_for_first_batch = stream.furthest
    rows = first.num_rows + sum(batch.num_rows for batch in result.batches)

    assert read_for_first_batch < len(data) / 10
    assert rows == 20_000


def test_jsonl_with_a_byte_order_mark_crlf_blank_lines_and_no_final_newline_reads_every_record() -> None:
    data = b'\xef\xbb\xbf{"id": 1}\r\n\r\n{"id": 2}\r\n   \n{"id": 3}'
    assert load(data, "jsonl").column("id").to_pylist() == [1, 2, 3]


def test_an_invalid_line_in_a_later_block_is_reported_by_its_line_in_the_file() -> None:
    data = jsonl([{"id": n} for n in range(500)]) + b'{"id": "' + SECRET.encode() + b"\n"
    result = read_json_records(io.BytesIO(data), "jsonl", "upload.jsonl", block_size=1024)

    with pytest.raises(UploadRejected) as caught:
        list(result.batches)

    assert "upload.jsonl" in str(caught.value) and "line 501" in str(caught.value)
    assert SECRET not in str(caught.value)


S = SECRET.encode()
BAD = {
    "jsonl: invalid JSON": ("jsonl", b'{"a": 1}\n{"a": ' + S + b"}\n", "line 2"),
    "jsonl: a line that is not an object": ("jsonl", b'["' + S + b'"]\n', "expected one JSON object per line"),
    "jsonl: invalid UTF-8": ("jsonl", b'{"a": 1}\n{"a": "' + S + b'\xff"}\n', "not UTF-8 text at byte"),
    "jsonl: empty": ("jsonl", b"\n  \n", "empty"),
    "json: invalid JSON": ("json", b'[{"a": 1},\n {"a": "' + S + b'" "b"}]', "line 2"),
    "json: trailing comma": ("json", b'[{"a": "' + S + b'"},]', "invalid JSON"),
    "json: a string at the top": ("json", b'"' + S + b'"', "expected a JSON array of objects"),
    "json: an array of strings": ("json", b'["' + S + b'"]', "item 1 of the array"),
    "json: empty": ("json", b"", "empty"),
    "json: truncated": ("json", b'[{"a": "' + S + b'"}, {"b": "' + S[:5], "truncated"),
    "json: truncated after an item": ("json", b'[{"a": "' + S + b'"}', "truncated"),
    "json: invalid UTF-8": ("json", b'[{"a": "' + S + b'\xc3"}]', "not UTF-8 text at byte"),
    "json: data after the array": ("json", b'[{"a": 1}] {"b": "' + S + b'"}', "unexpected data"),
    "json: a dotted key and a nested object on the same path": (
        "json",
        b'[{"name.nl": "' + S + b'", "name": {"nl": "' + S + b'"}}]',
        "name.nl",
    ),
    "jsonld: a number at the top": ("jsonld", b"42", "JSON-LD node object"),
    "jsonld: @graph is a string": ("jsonld", b'{"@graph": "' + S + b'"}', "@graph is a string"),
    "jsonld: truncated @graph": ("jsonld", b'{"@context": {}, "@graph": [{"a": "' + S + b'"}', "truncated"),
    "jsonld: empty": ("jsonld", b"   ", "empty"),
    "jsonld: invalid JSON": ("jsonld", b'{"@id": "x",\n\n "name": ' + S + b"}", "line 3"),
}


@pytest.mark.parametrize(("fmt", "data", "expected"), BAD.values(), ids=BAD.keys())
def test_unreadable_uploads_are_rejected_naming_the_file_and_never_quoting_the_content(
    fmt: JsonFormat, data: bytes, expected: str
) -> None:
    with pytest.raises(UploadRejected) as caught:
        list(read_json_records(io.BytesIO(data), fmt, "aanbod-2024.json").batches)

    message = str(caught.value)
    assert message.startswith("aanbod-2024.json: ")
    assert expected in message
    assert SECRET not in message and SECRET[:5] not in message


def test_nan_and_infinity_read_alike_in_json_and_jsonl() -> None:
    data = b'{"a": NaN}\n{"a": Infinity}\n{"a": 1.5}\n'
    array = b"[" + data.strip().replace(b"\n", b",") + b"]"
    for table in load(data, "jsonl"), load(array, "json"):
        nan, *rest = table.column("a").to_pylist()
        assert math.isnan(nan) and rest == [math.inf, 1.5]


def rows(result_batches: Any) -> list[dict[str, Any]]:
    """Rows without their null fields, so batches that differ only in absent columns compare equal."""
    return [{k: v for k, v in row.items() if v is not None} for batch in result_batches for row in batch.to_pylist()]


@pytest.mark.parametrize("block_size", [1, 2, 3, 7, 64, 1000])
@pytest.mark.parametrize("fmt", ["json", "jsonl", "jsonld"])
def test_chunk_and_block_boundaries_anywhere_give_the_same_records(fmt: JsonFormat, block_size: int) -> None:
    nodes = [json.loads(path.read_text(encoding="utf-8")) for path in SAMPLES[-3:]]
    nodes[0]["popularity"] = 1234567890
    documents: dict[str, bytes] = {
        "json": json.dumps(nodes, indent=1).encode(),
        "jsonl": jsonl(nodes),
        "jsonld": json.dumps({"@context": "/contexts/event", "@graph": nodes, "extra": 12345}).encode(),
    }
    whole = read_json_records(io.BytesIO(documents[fmt]), fmt, "upload.json")
    chunked = read_json_records(io.BytesIO(documents[fmt]), fmt, "upload.json", block_size=block_size)

    assert rows(chunked.batches) == rows(whole.batches)
    assert chunked.columns[0] == "@id"


def test_jsonld_graph_may_hold_a_single_node_object() -> None:
    document = {"@context": "/contexts/event", "@graph": {"@id": "https://example.org/e/1", "name": {"nl": "x"}}}
    assert load(json.dumps(document).encode(), "jsonld").to_pylist() == [
        {"@id": "https://example.org/e/1", "name.nl": "x"}
    ]

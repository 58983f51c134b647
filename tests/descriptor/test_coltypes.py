"""ClickHouse type names parse into a tree and map to the Arrow types the platform stores."""

from __future__ import annotations

import pyarrow as pa
import pytest

from culturemesh.coltypes import ClickHouseType, parse_type, to_arrow


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("String", pa.string()),
        ("FixedString(16)", pa.string()),
        ("UUID", pa.string()),
        ("JSON", pa.string()),
        ("Object('json')", pa.string()),
        ("Bool", pa.bool_()),
        ("Int8", pa.int8()),
        ("Int16", pa.int16()),
        ("Int32", pa.int32()),
        ("Int64", pa.int64()),
        ("UInt8", pa.uint8()),
        ("UInt16", pa.uint16()),
        ("UInt32", pa.uint32()),
        ("UInt64", pa.uint64()),
        ("Int128", pa.decimal128(38, 0)),
        ("UInt128", pa.decimal128(38, 0)),
        ("Int256", pa.decimal256(76, 0)),
        ("UInt256", pa.decimal256(76, 0)),
        ("Float32", pa.float32()),
        ("Float64", pa.float64()),
        ("Decimal(10, 2)", pa.decimal128(10, 2)),
        ("Decimal(38, 4)", pa.decimal128(38, 4)),
        ("Decimal(50, 4)", pa.decimal256(50, 4)),
        ("Decimal32(2)", pa.decimal128(9, 2)),
        ("Decimal64(4)", pa.decimal128(18, 4)),
        ("Decimal128(6)", pa.decimal128(38, 6)),
        ("Decimal256(8)", pa.decimal256(76, 8)),
        ("Date", pa.date32()),
        ("Date32", pa.date32()),
        ("DateTime", pa.timestamp("s", tz="UTC")),
        ("DateTime('Europe/Brussels')", pa.timestamp("s", tz="Europe/Brussels")),
        ("DateTime64(0)", pa.timestamp("s", tz="UTC")),
        ("DateTime64(3)", pa.timestamp("ms", tz="UTC")),
        ("DateTime64(6, 'Europe/Brussels')", pa.timestamp("us", tz="Europe/Brussels")),
        ("DateTime64(9)", pa.timestamp("ns", tz="UTC")),
        ("Enum8('a' = 1, 'b' = 2)", pa.string()),
        ("Enum16('x' = -1000)", pa.string()),
        ("LowCardinality(String)", pa.string()),
        ("Nullable(Int32)", pa.int32()),
        ("LowCardinality(Nullable(String))", pa.string()),
        ("Array(String)", pa.list_(pa.string())),
        ("Array(Array(UInt8))", pa.list_(pa.list_(pa.uint8()))),
        ("Map(String, UInt64)", pa.map_(pa.string(), pa.uint64())),
        ("Tuple(String, Int8)", pa.struct([("f0", pa.string()), ("f1", pa.int8())])),
        ("Tuple(name String, born Date)", pa.struct([("name", pa.string()), ("born", pa.date32())])),
        (
            "Nested(row String, seat UInt16)",
            pa.list_(pa.struct([("row", pa.string()), ("seat", pa.uint16())])),
        ),
    ],
)
def test_clickhouse_type_maps_to_arrow(name: str, expected: pa.DataType) -> None:
    assert to_arrow(parse_type(name)) == expected


def test_nullable_and_low_cardinality_are_flags_on_the_wrapped_type() -> None:
    t = parse_type("LowCardinality(Nullable(String))")

    assert t == ClickHouseType("String", nullable=True, low_cardinality=True)
    assert str(t) == "LowCardinality(Nullable(String))"
    assert not parse_type("String").nullable


def test_enum_keeps_its_labels_and_values() -> None:
    t = parse_type("Enum8('sold' = 1, 'refunded' = -1, 'it\\'s' = 3)")

    assert t.enum_labels == ("sold", "refunded", "it's")
    assert dict(t.enum_values) == {"sold": 1, "refunded": -1, "it's": 3}


def test_parsed_type_prints_back_as_clickhouse_spelling() -> None:
    text = "Map(String, Array(Tuple(id UInt64, at DateTime64(3, 'Europe/Brussels'))))"

    assert str(parse_type(text)) == text
    assert str(parse_type("Decimal(10,2)")) == "Decimal(10, 2)"


def test_bare_nested_takes_its_fields_from_the_column_definitions() -> None:
    fields = [pa.field("row", pa.string()), pa.field("seat", pa.uint16())]

    assert to_arrow(parse_type("Nested"), nested_columns=fields) == pa.list_(pa.struct(fields))
    with pytest.raises(ValueError, match="columnDefinitions"):
        to_arrow(parse_type("Nested"))


@pytest.mark.parametrize(
    ("name", "position", "expected"),
    [
        ("Nullable(", 9, "expected a type such as String"),
        ("Decimal(a,b)", 8, "Decimal(P, S)"),
        ("Array()", 6, "expected a type such as String"),
        ("Foo", 0, "unknown type 'Foo'"),
        ("string", 0, "did you mean 'String'"),
        ("", 0, "expected a type name"),
        ("Array(String", 12, "expected ',' or ')'"),
        ("Array(String))", 13, "expected the end of the type"),
        ("Int8(3)", 5, "Int8 takes none"),
        ("Map(String)", 0, "Map(K, V)"),
        ("Decimal(10, 20)", 12, "a scale from 0 to the precision 10"),
        ("DateTime64(12)", 11, "a precision from 0 to 9"),
        ("Enum8('a' = 500)", 6, "from -128 to 127"),
        ("Nullable(Array(String))", 9, "Array cannot"),
        ("Tuple(a String, Int8)", 6, "all named or none named"),
        ("FixedString(0)", 12, "at least 1"),
        ("String#", 6, "expected a type name, number"),
    ],
)
def test_malformed_type_raises_value_error_with_position_and_expectation(
    name: str, position: int, expected: str
) -> None:
    with pytest.raises(ValueError, match=r"at position (\d+)") as caught:
        parse_type(name)

    message = str(caught.value)
    assert f"at position {position}:" in message
    assert expected in message
    assert repr(name) in message

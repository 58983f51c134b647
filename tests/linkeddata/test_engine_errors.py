"""Bad mappings and bad values are refused with a message naming file, mapping, rule and row."""

from __future__ import annotations

import pyarrow as pa
import pytest

from culturemesh.linkeddata import engine, yarrrml
from culturemesh.linkeddata.yarrrml import MappingError

HEAD = """
prefixes:
  ex: http://example.com/
mappings:
  deelname:
    sources: [[deelnames.csv~csv]]
    s: ex:deelname/$(id)
    po:
"""


def run(rule: str, **columns: list[str]) -> pa.Table:
    doc = yarrrml.load(HEAD + f"      - {rule}\n")
    return engine.run(doc, {"deelnames.csv": pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})})


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("[ex:p, onbekend:$(x)~iri]", "prefix 'onbekend' in 'onbekend:$(x)' is not declared"),
        ("[ex:p, ex:$(x~iri]", "is not closed by ')'"),
        ("[ex:p, $(x), xsd:decimaal]", "unknown datatype 'http://www.w3.org/2001/XMLSchema#decimaal'"),
        ("[ex:p, $(x), nl_BE~lang]", "language tag 'nl_BE' is not a BCP 47 tag"),
        ("[ex:p, $(x), foo:bar]", "prefix of datatype 'foo:bar' is not declared"),
        ("[ex:p, $(x)/a~iri]", "'$(x)/a' is not an IRI: expected prefix:name or an absolute IRI"),
    ],
)
def test_load_refuses_bad_mapping_naming_mapping_and_rule(rule: str, expected: str) -> None:
    with pytest.raises(MappingError) as caught:
        yarrrml.load(HEAD + f"      - {rule}\n")
    assert expected in str(caught.value)
    assert caught.value.mapping == "deelname"
    assert caught.value.rule == "mappings.deelname.po[0]"


def test_reference_to_undefined_mapping_is_refused() -> None:
    with pytest.raises(MappingError, match="refers to mapping 'activiteit', which is not defined"):
        yarrrml.load(HEAD + "      - p: ex:a\n        o: {mapping: activiteit}\n")


def test_missing_column_is_refused_naming_rule_and_columns() -> None:
    with pytest.raises(MappingError) as caught:
        run("[ex:p, $(prijs), xsd:decimal]", id=["1"], price=["3"])
    assert "column 'prijs' not found in the source; its columns are: id, price" in str(caught.value)
    assert caught.value.rule == "mappings.deelname.po[0]"


@pytest.mark.parametrize(
    ("rule", "values", "row", "expected"),
    [
        ("[ex:p, $(x), xsd:decimal]", ["12.5", "", "abc"], 3, "'abc' is not a valid xsd:decimal"),
        ("[ex:p, $(x), xsd:date]", ["2024-01-01", "2024-13-01", "x"], 2, "'2024-13-01' is not a valid xsd:date"),
        ("[ex:p, $(x), xsd:date]", ["2024-02-29", "2023-02-29", ""], 2, "that day does not exist"),
        ("[ex:p, $(x), xsd:dateTime]", ["2024-01-01T10:00:00", "2024-01-01T25:00:00", ""], 2, "xsd:dateTime"),
        ("[ex:p, $(x), xsd:integer]", ["1", "2", "2.5"], 3, "'2.5' is not a valid xsd:integer"),
        ("[ex:p, $(x), xsd:gYear]", ["1980", "80", ""], 2, "'80' is not a valid xsd:gYear"),
        ("[ex:p, $(x), xsd:boolean]", ["true", "ja", ""], 2, "'ja' is not a valid xsd:boolean"),
        (
            "[ex:p, $(x)~iri]",
            ["https://ok.example/", "geen iri", ""],
            2,
            "'geen iri' made by '$(x)' is not an absolute IRI",
        ),
        ('[ex:p, "ex:a b/$(x)~iri"]', ["", "1", "2"], 2, "'http://example.com/a b/1' made by"),
    ],
)
def test_value_that_does_not_fit_is_refused_naming_mapping_rule_and_row(
    rule: str, values: list[str], row: int, expected: str
) -> None:
    with pytest.raises(MappingError) as caught:
        run(rule, id=["1", "2", "3"], x=values)
    assert expected in str(caught.value)
    assert (caught.value.mapping, caught.value.rule, caught.value.row) == ("deelname", "mappings.deelname.po[0]", row)
    assert f"mapping 'deelname', rule mappings.deelname.po[0], row {row}:" in str(caught.value)


def test_empty_and_null_values_give_no_triple() -> None:
    quads = run("[ex:p, $(x)]", id=["1", "2", "3"], x=["a", "", None])
    assert quads.column("o").to_pylist() == ['"a"']


def test_values_in_iri_templates_are_percent_encoded_like_morph_kgc() -> None:
    quads = run("[ex:p, ex:v/$(x)~iri]", id=["1", "2"], x=["Élise Van/Dam", "a-b_c.d~e"])
    assert quads.column("o").to_pylist() == [
        "<http://example.com/v/%C3%89lise%20Van%2FDam>",
        "<http://example.com/v/a-b_c.d~e>",
    ]


def test_join_with_two_conditions_matches_on_both_columns() -> None:
    doc = yarrrml.load(
        HEAD
        + """      - p: ex:lid
        o:
          mapping: lidmaatschap
          condition:
            - {function: equal, parameters: [[str1, $(id), s], [str2, $(persoon), o]]}
            - {function: equal, parameters: [[str1, $(org), s], [str2, $(org), o]]}
  lidmaatschap:
    sources: [[leden.csv~csv]]
    s: ex:lid/$(nr)
"""
    )
    deelnames = pa.table({"id": ["1", "2"], "org": ["o1", "o1"]})
    leden = pa.table({"nr": ["L1", "L2", "L3"], "persoon": ["1", "1", "2"], "org": ["o1", "o2", "o2"]})
    quads = engine.run(doc, {"deelnames.csv": deelnames, "leden.csv": leden})
    assert quads.to_pylist() == [
        {"s": "<http://example.com/deelname/1>", "p": "<http://example.com/lid>", "o": "<http://example.com/lid/L1>",
         "g": None},
    ]  # fmt: skip

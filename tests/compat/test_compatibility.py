"""Which descriptor changes break readers of an output port or providers of an upload port.

Every case edits the real ticket-sales descriptor text and loads it through the real loader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from culturemesh.coltypes import parse_type
from culturemesh.compatibility import Audience, BreakingChange, Change, Fit, compare, type_fit
from culturemesh.descriptor import Descriptor, load_descriptor_text

PRODUCT = Path(__file__).resolve().parents[2] / "functions" / "ticket-sales"
TEXT = (PRODUCT / "data-product.yaml").read_text(encoding="utf-8")
SALES = "spec.outputPorts[sales]"
SETTINGS = "culturemesh.outputs[sales]"
UPLOAD = "culturemesh.inputs[sales-upload]"
CONTRACT = f"{UPLOAD}.contract"
OWN_CONTRACT = """contract:
        columnDefinitions:
          - {name: ticket_id, type: String}
          - {name: price, type: "Decimal(9, 2)"}
          - {name: note, type: String, nullable: true}"""


def load(text: str, base_dir: Path = PRODUCT) -> Descriptor:
    return load_descriptor_text(text, source="data-product.yaml", base_dir=base_dir)


def edited(*replacements: tuple[str, str], text: str = TEXT) -> str:
    for old, new in replacements:
        assert old in text, f"the descriptor no longer contains {old!r}"
        text = text.replace(old, new, 1)
    return text


def typed(column: str, type_name: str, text: str = TEXT) -> str:
    """``text`` with the type of output column ``column`` set to ``type_name``."""
    pattern = rf"(- name: {re.escape(column)}\n\s+type: )[^\n]+"
    result, count = re.subn(pattern, lambda match: match.group(1) + type_name, text)
    assert count == 1, f"no column {column!r} in the descriptor"
    return result


def diff(old_text: str, new_text: str) -> list[Change]:
    return compare(load(old_text), load(new_text))


def at(changes: list[Change], path: str) -> Change:
    found = [change for change in changes if change.path == path]
    assert len(found) == 1, f"expected one change at {path}, got: " + "\n".join(map(str, changes))
    return found[0]


def with_port(text: str = TEXT) -> str:
    port = "    - name: sales-ld\n      type: linkeddata\n      description: The sales as linked data.\n"
    return edited(("\nculturemesh:\n", f"\n{port}culturemesh:\n"), text=text)


# --- nothing, and ports -------------------------------------------------------------------------


def test_identical_descriptors_have_no_changes() -> None:
    assert diff(TEXT, TEXT) == []


def test_removed_output_port_breaks_readers_and_an_added_port_does_not() -> None:
    removed = at(diff(with_port(), TEXT), "spec.outputPorts[sales-ld]")
    added = at(diff(TEXT, with_port()), "spec.outputPorts[sales-ld]")

    assert (removed.kind, removed.breaking) == ("output port removed", True)
    assert (added.kind, added.breaking) == ("output port added", False)


def test_port_type_change_breaks_readers() -> None:
    change = at(diff(TEXT, edited(("type: analyticaldata", "type: geodata"))), f"{SALES}.type")

    assert change.breaking and (change.before, change.after) == ("analyticaldata", "geodata")


# --- columns of an output port ------------------------------------------------------------------


def test_removed_column_breaks_readers_but_not_providers_whose_files_have_a_header() -> None:
    new = edited(("            - name: venue\n", "            - name: venue_gone\n"))
    changes = diff(TEXT, new)

    assert at(changes, f"{SALES}.columns[venue]").breaking
    assert not at(changes, f"{CONTRACT}.columns[venue]").breaking


def test_renamed_column_is_reported_as_removed_and_added_and_breaks() -> None:
    changes = diff(TEXT, edited(("- name: venue\n", "- name: venue_name\n")))

    removed, added = at(changes, f"{SALES}.columns[venue]"), at(changes, f"{SALES}.columns[venue_name]")
    assert (removed.kind, removed.breaking) == ("column removed", True)
    assert (added.kind, added.after) == ("column added", "String")
    assert any(change.breaking for change in changes)


@pytest.mark.parametrize(
    ("column", "old_type", "new_type", "kind"),
    [
        ("quantity", "Int32", "Int16", "type narrowed"),
        ("quantity", "UInt64", "Int64", "type narrowed"),
        ("price", "Float64", "Float32", "type narrowed"),
        ("price", "Decimal(9, 2)", "Decimal(7, 2)", "type narrowed"),
        ("price", "Decimal(9, 2)", "Decimal(9, 1)", "type narrowed"),
        ("price", "Decimal(9, 2)", "Decimal(11, 4)", "type changed"),
        ("venue", "String", "Int32", "type narrowed"),
        ("venue", "String", "FixedString(8)", "type narrowed"),
        ("sold_at", "DateTime64(6, 'Europe/Brussels')", "DateTime64(3, 'Europe/Brussels')", "type narrowed"),
        ("sold_at", "DateTime64(3, 'Europe/Brussels')", "DateTime('Europe/Brussels')", "type narrowed"),
        ("sold_at", "DateTime('Europe/Brussels')", "DateTime('UTC')", "type changed"),
        ("event_date", "Date32", "Date", "type narrowed"),
        ("channel", "Enum8('online' = 1, 'box-office' = 2, 'uitpas' = 3)", "Enum8('online' = 1, 'uitpas' = 3)",
         "type narrowed"),
        ("channel", "Enum8('online' = 1, 'box-office' = 2)", "Enum8('online' = 2, 'box-office' = 1)", "type changed"),
        ("event_date", "Date", "DateTime('Europe/Brussels')", "type changed"),
    ],
)  # fmt: skip
def test_narrowed_or_incompatible_type_breaks_readers_and_providers(
    column: str, old_type: str, new_type: str, kind: str
) -> None:
    changes = diff(typed(column, old_type), typed(column, new_type))

    for path in (f"{SALES}.columns[{column}].type", f"{CONTRACT}.columns[{column}].type"):
        change = at(changes, path)
        assert (change.kind, change.breaking, change.before, change.after) == (kind, True, old_type, new_type)


@pytest.mark.parametrize(
    ("column", "old_type", "new_type", "kind"),
    [
        ("quantity", "Int32", "Int64", "type widened"),
        ("quantity", "UInt16", "Int32", "type widened"),
        ("price", "Float32", "Float64", "type widened"),
        ("price", "Decimal(9, 2)", "Decimal(12, 2)", "type widened"),
        ("price", "Decimal(9, 2)", "Decimal32(2)", "type respelled"),
        ("channel", "Enum8('online' = 1, 'box-office' = 2)", "Enum8('online' = 1, 'box-office' = 2, 'uitpas' = 3)",
         "type widened"),
        ("channel", "Enum8('online' = 1)", "String", "type widened"),
        ("event_date", "Date", "Date32", "type widened"),
        ("sold_at", "DateTime('Europe/Brussels')", "DateTime64(3, 'Europe/Brussels')", "type widened"),
        ("sold_at", "DateTime64(3, 'Europe/Brussels')", "DateTime64(6, 'Europe/Brussels')", "type widened"),
        ("venue", "FixedString(8)", "String", "type widened"),
        ("venue", "String", "LowCardinality(String)", "type respelled"),
    ],
)  # fmt: skip
def test_widened_type_breaks_neither_readers_nor_providers(
    column: str, old_type: str, new_type: str, kind: str
) -> None:
    changes = diff(typed(column, old_type), typed(column, new_type))

    for path in (f"{SALES}.columns[{column}].type", f"{CONTRACT}.columns[{column}].type"):
        change = at(changes, path)
        assert (change.kind, change.breaking) == (kind, False), change
    assert not any(change.breaking for change in changes)


def test_any_type_to_string_breaks_readers_but_not_providers_whose_values_are_text() -> None:
    changes = diff(TEXT, typed("quantity", "String"))

    assert at(changes, f"{SALES}.columns[quantity].type").kind == "type changed"
    assert at(changes, f"{SALES}.columns[quantity].type").breaking
    assert not at(changes, f"{CONTRACT}.columns[quantity].type").breaking


def test_column_becoming_nullable_breaks_readers_but_not_providers() -> None:
    new = edited(("type: String\n              nullable: false\n              columnDescription: Name of",
                  "type: String\n              nullable: true\n              columnDescription: Name of"))  # fmt: skip
    changes = diff(TEXT, new)

    readers, providers = (
        at(changes, f"{SALES}.columns[venue].nullable"),
        at(changes, f"{CONTRACT}.columns[venue].nullable"),
    )
    assert (readers.kind, readers.breaking) == ("column became nullable", True)
    assert (providers.kind, providers.breaking) == ("column became nullable", False)


def test_column_becoming_required_breaks_providers_but_not_readers() -> None:
    changes = diff(TEXT, typed("buyer_postal_code", "String"))

    readers = at(changes, f"{SALES}.columns[buyer_postal_code].nullable")
    providers = at(changes, f"{CONTRACT}.columns[buyer_postal_code].nullable")
    assert (readers.kind, readers.breaking) == ("column became required", False)
    assert (providers.kind, providers.breaking, providers.before, providers.after) == (
        "column became required", True, "true", "false")  # fmt: skip
    assert not any(change.path.endswith(".type") for change in changes), "Nullable(T) -> T is a nullability change"


def test_added_optional_column_is_fine_for_readers_but_breaks_providers_whose_header_must_carry_it() -> None:
    column = "            - name: seat\n              type: Nullable(String)\n"
    changes = diff(TEXT, edited(("          primaryKey:", f"{column}          primaryKey:")))

    readers, providers = at(changes, f"{SALES}.columns[seat]"), at(changes, f"{CONTRACT}.columns[seat]")
    assert (readers.kind, readers.breaking, readers.after) == ("column added", False, "Nullable(String)")
    assert providers.breaking and "header" in providers.reason


def test_primary_key_change_breaks_readers() -> None:
    change = at(
        diff(TEXT, edited(("primaryKey: [ticket_id]", "primaryKey: [ticket_id, event_id]"))), f"{SALES}.primaryKey"
    )

    assert (change.kind, change.breaking, change.before, change.after) == (
        "primary key changed", True, "ticket_id", "ticket_id, event_id")  # fmt: skip


def test_engine_change_cannot_be_proven_compatible_so_it_breaks() -> None:
    change = at(diff(TEXT, edited(("engine: MergeTree", "engine: ReplacingMergeTree"))), f"{SALES}.engine")

    assert change.breaking and change.reason.startswith("cannot prove compatible")


# --- upload contracts ---------------------------------------------------------------------------


def test_new_required_contract_column_breaks_providers() -> None:
    old = edited(("contract:\n        columnsFrom: sales", OWN_CONTRACT))
    new = edited(("nullable: true}", "nullable: true}\n          - {name: seat, type: String}"), text=old)

    change = at(diff(old, new), f"{CONTRACT}.columns[seat]")
    assert change.breaking and "required" in change.reason


def test_removed_contract_column_is_fine_with_a_header_but_breaks_headerless_files() -> None:
    old = edited(("contract:\n        columnsFrom: sales", OWN_CONTRACT))
    new = edited(("\n          - {name: note, type: String, nullable: true}", ""), text=old)
    headerless = edited(("header: true", "header: false"), text=old)

    assert not at(diff(old, new), f"{CONTRACT}.columns[note]").breaking
    assert at(
        diff(headerless, edited(("header: true", "header: false"), text=new)), f"{CONTRACT}.columns[note]"
    ).breaking


def test_contract_column_becoming_required_or_narrowed_breaks_providers() -> None:
    old = edited(("contract:\n        columnsFrom: sales", OWN_CONTRACT))
    required = edited(("{name: note, type: String, nullable: true}", "{name: note, type: String}"), text=old)
    narrowed = edited(('"Decimal(9, 2)"', '"Decimal(5, 2)"'), text=old)

    assert at(diff(old, required), f"{CONTRACT}.columns[note].nullable").breaking
    assert at(diff(old, narrowed), f"{CONTRACT}.columns[price].type").kind == "type narrowed"
    assert not any(change.path.startswith(SALES) for change in diff(old, narrowed))


def test_removed_upload_port_and_other_csv_options_break_providers() -> None:
    no_upload = edited(
        ('      upload:\n        formats: [csv]\n        csv: {delimiter: ",", encoding: utf-8, header: true}\n', "")
    )
    semicolon = edited(('delimiter: ","', 'delimiter: ";"'))

    assert at(diff(TEXT, no_upload), UPLOAD).kind == "upload port removed"
    assert at(diff(TEXT, no_upload), UPLOAD).breaking
    assert at(diff(TEXT, semicolon), f"{UPLOAD}.upload.csv.delimiter").breaking


def test_added_upload_format_is_fine_and_a_removed_one_breaks_providers() -> None:
    both = edited(("formats: [csv]", "formats: [csv, jsonl]"))

    assert not at(diff(TEXT, both), f"{UPLOAD}.upload.formats").breaking
    assert at(diff(both, TEXT), f"{UPLOAD}.upload.formats").breaking


def test_quarantining_invalid_rows_is_fine_and_rejecting_them_again_breaks_providers() -> None:
    quarantine = edited(("invalidRows: reject", "invalidRows: quarantine"))

    assert not at(diff(TEXT, quarantine), f"{UPLOAD}.invalidRows").breaking
    assert at(diff(quarantine, TEXT), f"{UPLOAD}.invalidRows").breaking


def test_json_schema_contract_change_cannot_be_proven_compatible(tmp_path: Path) -> None:
    folders = []
    for name, schema in (("old", '{"type": "object"}'), ("new", '{"type": "object", "required": ["id"]}')):
        folder = tmp_path / name
        (folder / "contract").mkdir(parents=True)
        (folder / "main.py").write_text("")
        (folder / "contract" / "sales.json").write_text(schema)
        folders.append(folder)
    text = edited(("columnsFrom: sales", "jsonSchema: contract/sales.json"))

    old, new = (load(text, base_dir=folder) for folder in folders)
    change = at(compare(old, new), f"{CONTRACT}.jsonSchema")
    assert change.breaking and change.reason.startswith("cannot prove compatible")
    assert compare(old, load(text, base_dir=folders[0])) == []


# --- classification and access ------------------------------------------------------------------


def test_classifying_a_column_breaks_readers_without_a_grant_for_the_label() -> None:
    classified = edited(("buyer_postal_code: sensitive", "buyer_postal_code: sensitive\n        venue: sensitive"))
    change = at(diff(TEXT, classified), f"{SETTINGS}.classification[venue]")

    assert (change.kind, change.breaking, change.after) == ("classification added", True, "sensitive")
    assert "public" in change.reason and "analyst" not in change.reason


def test_classifying_a_column_every_granted_principal_may_read_breaks_no_one() -> None:
    old = edited(("        public: []\n", ""))
    new = edited(("buyer_postal_code: sensitive", "buyer_postal_code: sensitive\n        venue: sensitive"), text=old)

    assert not at(diff(old, new), f"{SETTINGS}.classification[venue]").breaking


def test_declassifying_a_column_breaks_no_one() -> None:
    change = at(
        diff(TEXT, edited(("classification:\n        buyer_postal_code: sensitive", "classification: {}"))),
        f"{SETTINGS}.classification[buyer_postal_code]",
    )

    assert (change.kind, change.breaking) == ("classification removed", False)


@pytest.mark.parametrize(
    ("old", "new", "principal", "kind", "breaking"),
    [
        ("        analyst: [sensitive]\n", "", "analyst", "access removed", True),
        ("analyst: [sensitive]", "analyst: []", "analyst", "access narrowed", True),
        ("owner: all", "owner: [sensitive]", "owner", "access narrowed", True),
        ("public: []", "public: [sensitive]", "public", "access widened", False),
        ("analyst: [sensitive]", "analyst: all", "analyst", "access widened", False),
        ("public: []", "public: []\n        auditor: [sensitive]", "auditor", "access granted", False),
    ],
)
def test_grants_taken_away_break_readers_and_grants_given_do_not(
    old: str, new: str, principal: str, kind: str, breaking: bool
) -> None:
    change = at(diff(TEXT, edited((old, new))), f"{SETTINGS}.access[{principal}]")

    assert (change.kind, change.breaking) == (kind, breaking)


def test_restricting_an_open_port_to_named_principals_breaks_everyone_else() -> None:
    open_port = edited(("      access:\n        owner: all\n        analyst: [sensitive]\n        public: []\n", ""))
    changes = diff(open_port, TEXT)

    restricted = at(changes, f"{SETTINGS}.access")
    assert (restricted.kind, restricted.breaking, restricted.before) == ("access restricted", True, "open")
    assert not at(changes, f"{SETTINGS}.access[analyst]").breaking


def test_output_format_change_breaks_readers() -> None:
    change = at(diff(TEXT, edited(("format: parquet", "format: csv"))), f"{SETTINGS}.format")

    assert (change.before, change.after, change.breaking) == ("parquet", "csv", True)


# --- identity and documentation -----------------------------------------------------------------


def test_renaming_the_product_or_its_domain_breaks_consumers() -> None:
    changes = diff(TEXT, edited(("name: ticket-sales", "name: ticket-sold"), ("domain: ticketing", "domain: tickets")))

    assert at(changes, "metadata.name").breaking and at(changes, "spec.domain").breaking


def test_descriptions_summary_owner_and_new_ports_break_no_one() -> None:
    new = with_port(
        edited(
            ("summary: Tickets sold", "summary: All tickets sold"),
            ("name: Ticketing Vlaanderen", "name: Ticketing Vlaanderen vzw"),
            ("description: Every ticket sold", "description: Each ticket sold"),
            ("columnDescription: Name of the venue.", "columnDescription: The venue's name."),
            ("entityExample: '{", 'entityExample: \'{"venue": "AB", '),
        )
    )
    changes = diff(TEXT, new)

    assert {change.path for change in changes} >= {
        "spec.summary", "spec.dataProductOwner", f"{SALES}.description", f"{SALES}.dataFormat.entityExample",
        f"{SALES}.columns[venue].columnDescription", f"{CONTRACT}.columns[venue].columnDescription",
        "spec.outputPorts[sales-ld]",
    }  # fmt: skip
    assert not [change for change in changes if change.breaking]


# --- types inside containers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "readers", "providers"),
    [
        ("Array(Int32)", "Array(Int64)", Fit.WIDER, Fit.WIDER),
        ("Array(String)", "Array(Nullable(String))", Fit.OTHER, Fit.WIDER),
        ("Array(Nullable(String))", "Array(String)", Fit.WIDER, Fit.NARROWER),
        ("Map(String, Int64)", "Map(String, Int32)", Fit.NARROWER, Fit.NARROWER),
        ("Tuple(a Int32, b String)", "Tuple(a Int32, c String)", Fit.OTHER, Fit.OTHER),
        ("Tuple(a Int32, b String)", "Tuple(a Int64, b String)", Fit.WIDER, Fit.WIDER),
        ("Int32", "Float64", Fit.OTHER, Fit.WIDER),
        ("Int64", "Float64", Fit.OTHER, Fit.NARROWER),
        ("Nullable(Int32)", "Int32", Fit.SAME, Fit.SAME),
    ],
)
def test_type_fit_looks_inside_arrays_maps_and_tuples(old: str, new: str, readers: Fit, providers: Fit) -> None:
    before, after = parse_type(old), parse_type(new)

    assert type_fit(before, after, Audience.READERS).fit is readers
    assert type_fit(before, after, Audience.PROVIDERS).fit is providers


# --- reporting ----------------------------------------------------------------------------------


def test_change_prints_as_one_line_marked_breaking_or_ok() -> None:
    breaking = Change("spec.outputPorts[sales].columns[price].type", "type narrowed", "Int64", "Int32", True, "why")
    fine = Change("spec.summary", "summary changed", None, None, False, "documentation only")

    assert str(breaking) == "BREAKING  spec.outputPorts[sales].columns[price].type: type narrowed (Int64 -> Int32): why"
    assert str(fine) == "ok        spec.summary: summary changed: documentation only"


def test_breaking_change_error_exits_10_and_keeps_only_the_breaking_changes() -> None:
    changes = diff(TEXT, edited(("- name: venue\n", "- name: venue_name\n")))
    error = BreakingChange(changes)

    assert error.exit_code == 10
    assert error.changes and all(change.breaking for change in error.changes)
    assert f"{SALES}.columns[venue]" in str(error)

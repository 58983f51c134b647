"""Loading data-product descriptors: the legacy format unchanged, the culturemesh section, and errors
that name the YAML path and line."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from jsonschema import Draft202012Validator

from culturemesh.descriptor import (
    SCHEMA_PATH,
    Descriptor,
    PortType,
    descriptor_schema,
    load_descriptor,
    load_descriptor_text,
    yaml_path,
)
from culturemesh.errors import DescriptorError, Issue

FIXTURES = Path(__file__).parent / "fixtures"
MINIMAL = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def edited(old: str, new: str, text: str = MINIMAL) -> str:
    assert old in text, f"fixture no longer contains {old!r}"
    return text.replace(old, new, 1)


def issues_of(text: str, base_dir: Path | None = None) -> list[Issue]:
    with pytest.raises(DescriptorError) as caught:
        load_descriptor_text(text, source="data-product.yaml", base_dir=base_dir)
    return caught.value.issues


def only_issue(text: str) -> Issue:
    issues = issues_of(text)
    assert len(issues) == 1, issues
    return issues[0]


# --- valid descriptors ------------------------------------------------------------------------


def test_shipped_schema_is_a_valid_2020_12_schema_found_next_to_the_package() -> None:
    Draft202012Validator.check_schema(descriptor_schema())
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$schema"].endswith("2020-12/schema")


def test_legacy_descriptor_without_culturemesh_section_loads_unchanged() -> None:
    product = load_descriptor(FIXTURES / "legacy-ticket-sales.yaml")

    assert (product.name, product.namespace, product.domain) == ("ticket-sales", "ticketing", "ticketing")
    assert product.qualified_name == "ticketing/ticket-sales"
    assert product.schedule == "0 3 * * *"
    assert product.owner.contact == "ticketing@example.be"
    assert product.team is not None and product.team.name == "Data Platform Team"
    assert product.terms_of_use is not None and product.terms_of_use.uri.startswith("https://")
    assert product.raw["metadata"]["labels"] == {"team": "uitpas"}  # unknown keys kept, not rejected
    assert product.raw == yaml.safe_load((FIXTURES / "legacy-ticket-sales.yaml").read_text(encoding="utf-8"))
    assert product.path == FIXTURES / "legacy-ticket-sales.yaml"
    assert product.base_dir == FIXTURES


def test_legacy_input_ports_keep_env_secrets_and_output_port_refs() -> None:
    product = load_descriptor(FIXTURES / "legacy-ticket-sales.yaml")

    upload = product.input_port("sales-upload")
    assert dict(upload.environment_variables) == {"SOURCE_SYSTEM": "ticketmatic", "BATCH_SIZE": "5000"}
    assert dict(upload.secret_environment_variables) == {"TICKETMATIC_API_KEY": "ticketmatic-api-key"}
    ref = product.input_port("events").output_port_ref
    assert ref is not None and (ref.qualified_name, ref.output_port) == ("events/uit-events", "events-ld")


def test_legacy_output_port_columns_map_to_an_arrow_schema() -> None:
    sales = load_descriptor(FIXTURES / "legacy-ticket-sales.yaml").output_port("sales")
    schema = sales.analytical_schema

    assert sales.type is PortType.ANALYTICALDATA
    assert schema is not None and schema.primary_key == ("event_id", "ticket_id")
    assert schema.engine == "ReplacingMergeTree"
    assert schema.column("discount_code").nullable  # from Nullable(String)
    assert schema.column("postal_code").nullable  # from nullable: true
    assert not schema.column("ticket_id").nullable
    assert schema.column("tags").default == []
    arrow = schema.arrow_schema()
    assert arrow.field("sold_at").type == pa.timestamp("ms", tz="Europe/Brussels")
    assert arrow.field("price").type == pa.decimal128(10, 2)
    assert arrow.field("seats").type == pa.list_(
        pa.struct([pa.field("row", pa.string(), nullable=False), pa.field("number", pa.uint16(), nullable=False)])
    )


def test_primary_key_written_as_a_single_string_becomes_a_one_column_key() -> None:
    product = load_descriptor(FIXTURES / "legacy-ticket-sales.yaml")
    schema = product.output_port("daily-totals").analytical_schema

    assert schema is not None and schema.primary_key == ("day",)


def test_descriptor_without_culturemesh_section_gets_the_default_ingest_function() -> None:
    product = load_descriptor(FIXTURES / "legacy-ticket-sales.yaml")

    assert not product.extension.present
    assert list(product.functions) == ["ingest"]
    assert (product.functions["ingest"].source, product.functions["ingest"].timeout_seconds) == (
        "main.py",
        300,
    )
    assert product.upload_inputs() == ()
    assert product.output_settings("sales").format == "parquet"
    assert product.output_settings("sales-ld").format == "nquads"


def test_full_descriptor_with_culturemesh_section_loads_with_defaults_applied() -> None:
    product = load_descriptor(FIXTURES / "full-product")

    assert product.namespace == "default"
    assert product.functions["refunds"].timeout_seconds == 60
    assert product.functions["refunds"].target == "handle_refunds"
    sales_upload, refunds_upload = product.upload_inputs()
    assert sales_upload.formats == ("csv", "jsonl")
    assert (sales_upload.csv.delimiter, sales_upload.csv.encoding, sales_upload.csv.header) == (
        ";",
        "latin-1",
        True,
    )
    assert sales_upload.invalid_rows == "quarantine"
    assert sales_upload.contract is not None and sales_upload.contract.columns is not None
    assert [c.name for c in sales_upload.contract.columns] == [
        "ticket_id",
        "buyer_email",
        "postal_code",
        "price",
    ]
    assert "sales" in sales_upload.contract.origin
    assert refunds_upload.function == "refunds"
    assert refunds_upload.formats == ("csv",)
    assert refunds_upload.produces == ("sales", "sales-ld")  # default: every output port
    assert refunds_upload.contract is not None
    assert refunds_upload.contract.json_schema_path == FIXTURES / "full-product/contract/refund.schema.json"


def test_full_descriptor_output_settings_carry_classification_and_access() -> None:
    settings = load_descriptor(FIXTURES / "full-product").output_settings("sales")

    assert dict(settings.classification) == {"buyer_email": "pii", "postal_code": "sensitive"}
    assert dict(settings.access) == {"public": (), "analyst": ("sensitive",), "owner": "all"}
    assert settings.update_every == "P1D"
    assert settings.format == "parquet"


def test_descriptor_values_are_frozen() -> None:
    product = load_descriptor(FIXTURES / "full-product")

    with pytest.raises(AttributeError):
        product.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        product.output_settings("sales").classification["price"] = "pii"  # type: ignore[index]


def test_unknown_port_name_lookup_lists_the_ports_there_are() -> None:
    product: Descriptor = load_descriptor(FIXTURES / "full-product")

    with pytest.raises(KeyError, match="sales, sales-ld"):
        product.output_port("salez")


# --- errors name the YAML path and the line ----------------------------------------------------


def test_unknown_port_type_names_path_line_and_allowed_types() -> None:
    text = edited("type: linkeddata", "type: warehouse")
    issue = only_issue(text)

    assert issue.path == "spec.outputPorts[1].type"
    assert issue.line == line_of(text, "type: warehouse")
    assert issue.message == (
        "unknown port type 'warehouse'; expected one of blobstore, linkeddata, analyticaldata, geodata"
    )
    assert str(issue).startswith(f"data-product.yaml:{issue.line}: spec.outputPorts[1].type: ")


def test_missing_data_product_owner_is_reported_at_spec() -> None:
    text = edited("  dataProductOwner:\n    name: Team Museumpas\n    contact: museumpas@example.be\n", "")
    issue = only_issue(text)

    assert issue.path == "spec.dataProductOwner"
    assert issue.line == line_of(text, "spec:")
    assert "required field 'dataProductOwner' is missing" in issue.message


def test_missing_metadata_name_is_reported_at_metadata() -> None:
    text = edited("  name: museum-visits\n", "  namespace: museums\n")
    issue = only_issue(text)

    assert (issue.path, issue.line) == ("metadata.name", line_of(text, "metadata:"))


def test_product_name_that_is_not_a_dns_label_says_what_a_label_is() -> None:
    text = edited("name: museum-visits", "name: Museum_Visits")
    issue = only_issue(text)

    assert (issue.path, issue.line) == ("metadata.name", 4)
    assert "DNS-1123 label" in issue.message and "'Museum_Visits'" in issue.message


def test_invalid_cron_schedule_names_spec_transformer_schedule() -> None:
    text = edited('schedule: "30 2 * * 1-5"', 'schedule: "61 2 * * *"')
    issue = only_issue(text)

    assert (issue.path, issue.line) == ("spec.transformer.schedule", line_of(text, "schedule:"))
    assert "'61 2 * * *'" in issue.message and "5 fields" in issue.message


def test_wrong_api_version_says_which_one_is_expected() -> None:
    issue = only_issue(edited("apiVersion: be.ddtplatform/v1", "apiVersion: be.ddtplatform/v2"))

    assert (issue.path, issue.line) == ("apiVersion", 1)
    assert issue.message == "unsupported apiVersion 'be.ddtplatform/v2'; expected be.ddtplatform/v1"


def test_duplicate_output_port_names_point_at_the_second_and_name_the_first() -> None:
    text = edited("- name: visits-ld", "- name: visits")
    issue = only_issue(text)

    assert (issue.path, issue.line) == ("spec.outputPorts[1].name", line_of(text, "- name: visits", 2))
    assert f"also at spec.outputPorts[0], line {line_of(text, '- name: visits')}" in issue.message


def test_duplicate_yaml_key_is_an_issue_not_a_silent_overwrite() -> None:
    text = edited("  domain: museums\n", "  domain: museums\n  domain: erfgoed\n")
    issue = only_issue(text)

    assert (issue.path, issue.line) == ("spec.domain", line_of(text, "domain: erfgoed"))
    assert f"first at line {line_of(text, 'domain: museums')}" in issue.message


def test_bad_column_type_names_the_column_type_and_what_was_expected() -> None:
    text = edited("type: Nullable(String)", "type: Nullable(Strin)")
    issue = only_issue(text)

    assert issue.path == "spec.outputPorts[0].dataFormat.analyticalDataSchemaDefinition.columnDefinitions[2].type"
    assert issue.line == line_of(text, "Nullable(Strin)")
    assert "unknown type 'Strin'" in issue.message and "did you mean 'String'" in issue.message


def test_columns_from_a_missing_port_lists_the_ports_there_are() -> None:
    text = edited("columnsFrom: visits", "columnsFrom: visitors")
    issue = only_issue(text)

    assert issue.path == "culturemesh.inputs.checkins-upload.contract.columnsFrom"
    assert issue.line == line_of(text, "columnsFrom:")
    assert issue.message == "no output port 'visitors'; expected one of: visits, visits-ld"


def test_classification_of_an_unknown_column_lists_the_columns() -> None:
    text = edited("visitor_postcode: sensitive", "visitor_zip: sensitive")
    issue = only_issue(text)

    assert (issue.path, issue.line) == (
        "culturemesh.outputs.visits.classification.visitor_zip",
        line_of(text, "visitor_zip"),
    )
    assert "museum_id, day, visitor_postcode" in issue.message


def test_yaml_syntax_error_becomes_an_issue_with_its_line() -> None:
    text = edited("  domain: museums\n", "  domain: [museums\n")
    issue = only_issue(text)

    assert issue.message.startswith("YAML syntax error")
    assert issue.line is not None and issue.line >= line_of(text, "domain: [museums")


def test_every_structural_problem_is_reported_at_once_in_line_order() -> None:
    text = edited("type: linkeddata", "type: warehouse", edited("kind: DataProduct", "kind: Product"))
    issues = issues_of(text)

    assert [issue.path for issue in issues] == ["kind", "spec.outputPorts[1].type"]
    assert "2 problem(s)" in str(DescriptorError(issues))


def test_env_value_written_as_a_number_asks_for_quotes() -> None:
    text = edited("- name: checkins-upload", "- name: checkins-upload\n      environmentVariables: {LIMIT: 100}")
    issue = only_issue(text)

    assert issue.path == "spec.inputPorts[0].environmentVariables.LIMIT"
    assert "found the number 100" in issue.message and "quotes" in issue.message


def test_typo_in_culturemesh_section_is_an_unknown_field_with_a_suggestion() -> None:
    issue = only_issue(edited("      contract:\n", "      contrakt:\n"))

    assert issue.path == "culturemesh.inputs.checkins-upload.contrakt"
    assert "did you mean 'contract'" in issue.message


def test_unknown_keys_inside_the_legacy_spec_are_tolerated() -> None:
    product = load_descriptor_text(edited("  domain: museums\n", "  domain: museums\n  costCenter: 4711\n"))

    assert product.raw["spec"]["costCenter"] == 4711


def test_input_settings_for_a_port_that_does_not_exist_is_an_issue() -> None:
    text = edited("    checkins-upload:\n", "    checkin-upload:\n")
    issue = only_issue(text)

    assert (issue.path, issue.line) == ("culturemesh.inputs.checkin-upload", line_of(text, "checkin-upload:"))


def test_primary_key_naming_an_undefined_column_is_an_issue() -> None:
    issue = only_issue(edited("primaryKey: [museum_id, day]", "primaryKey: [museum_id, date]"))

    assert issue.path.endswith("analyticalDataSchemaDefinition.primaryKey[1]")
    assert "'date'" in issue.message and "museum_id, day, visitor_postcode" in issue.message


def test_input_naming_an_undeclared_function_is_an_issue() -> None:
    issue = only_issue(edited("      upload:\n", "      function: enrich\n      upload:\n"))

    assert issue.path == "culturemesh.inputs.checkins-upload.function"
    assert issue.message == "no function 'enrich' in culturemesh.functions; expected one of: ingest"


def test_missing_function_source_file_is_an_issue_when_loading_from_a_folder(tmp_path: Path) -> None:
    text = edited("culturemesh:\n", "culturemesh:\n  functions:\n    ingest: {source: handler.py, target: ingest}\n")
    issue = issues_of(text, base_dir=tmp_path)[0]

    assert issue.path == "culturemesh.functions.ingest.source"
    assert "'handler.py' not found" in issue.message
    (tmp_path / "handler.py").write_text("def ingest(event): ...\n")
    assert load_descriptor_text(text, base_dir=tmp_path).functions["ingest"].source == "handler.py"


def test_contract_with_two_sources_is_an_issue() -> None:
    text = edited("columnsFrom: visits", "columnsFrom: visits\n        jsonSchema: contract/visits.json")
    issue = only_issue(text)

    assert issue.path == "culturemesh.inputs.checkins-upload.contract"
    assert "exactly one of" in issue.message and "columnsFrom and jsonSchema" in issue.message


def test_linked_data_port_cannot_be_written_as_parquet() -> None:
    text = edited("  outputs:\n", "  outputs:\n    visits-ld:\n      format: parquet\n")
    issue = only_issue(text)

    assert issue.path == "culturemesh.outputs.visits-ld.format"
    assert "nquads, turtle, jsonld" in issue.message


def test_upload_input_without_a_contract_is_an_issue() -> None:
    issue = only_issue(edited("      contract:\n        columnsFrom: visits\n", ""))

    assert issue.path == "culturemesh.inputs.checkins-upload.contract"
    assert "needs a contract" in issue.message


def test_yaml_path_quotes_keys_that_are_not_plain_names() -> None:
    assert yaml_path(("spec", "outputPorts", 0, "type")) == "spec.outputPorts[0].type"
    assert yaml_path(("culturemesh", "outputs", "a", "classification", "seats.row")) == (
        'culturemesh.outputs.a.classification["seats.row"]'
    )


def test_missing_descriptor_file_is_a_descriptor_error(tmp_path: Path) -> None:
    with pytest.raises(DescriptorError, match="no such file"):
        load_descriptor(tmp_path)


def test_empty_descriptor_is_an_issue() -> None:
    assert "empty" in only_issue("# nothing here\n").message


def test_themes_must_be_a_list_of_words_naming_the_line() -> None:
    summary = next(line for line in MINIMAL.splitlines() if line.strip().startswith("summary:"))
    text = edited(summary, f"{summary}\n  themes: podiumkunsten")
    issue = only_issue(text)
    assert (issue.path, issue.line) == ("spec.themes", line_of(text, "themes:"))
    assert issue.message == "expected a list, found the text 'podiumkunsten'"
    listed = edited(summary, f"{summary}\n  themes: [podiumkunsten, EDUC]")
    assert load_descriptor_text(listed, source="data-product.yaml").raw["spec"]["themes"] == ["podiumkunsten", "EDUC"]

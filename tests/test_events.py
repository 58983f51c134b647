"""events/: every type has a valid schema and a conforming example, and the schemas have teeth."""

from __future__ import annotations

import json

from culturemesh import events
from culturemesh.eventschemas import check_schemas, problems, schema_file
from tests.conftest import EVENTS_DIR


def test_every_platform_event_type_has_a_schema_and_a_valid_example() -> None:
    for event_type in events.ALL_TYPES:
        assert schema_file(EVENTS_DIR, event_type).is_file(), event_type
    assert check_schemas(EVENTS_DIR) == []


def test_the_object_created_event_follows_the_cloudevents_aws_s3_adapter() -> None:
    info = events.StoredObject("landing", "ticketing/ticket-sales/sales-upload/x.csv", 10, "abc", "0001", "eu-west-1")
    event = events.object_created(info)
    record = event.json()
    assert event.type == "com.amazonaws.s3.ObjectCreated:Put"
    assert event.source == "aws:s3.eu-west-1.landing"
    assert event.get("subject") == info.key
    elements = record["responseElements"]
    assert event.id == f"{elements['x-amz-request-id']}.{elements['x-amz-id-2']}"
    assert problems(EVENTS_DIR, event.to_dict()) == []


def test_a_published_event_without_its_claim_check_breaks_the_schema() -> None:
    example = json.loads((EVENTS_DIR / "be.culturemesh.dataproduct.published.example.json").read_text())
    del example["dataref"]
    example["time"] = "yesterday"
    found = problems(EVENTS_DIR, example)
    assert any("dataref" in p for p in found)
    assert any("date-time" in p for p in found)

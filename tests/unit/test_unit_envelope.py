"""The CloudEvents HTTP binding in envelope.py: round trips, percent-encoding, refusals, conformance, interop."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary as sdk_to_binary
from cloudevents.conversion import to_structured as sdk_to_structured
from cloudevents.http import CloudEvent
from cloudevents.http import from_http as sdk_from_http

from culturemesh.envelope import Envelope, from_http, is_cloudevent, new_event, to_binary, to_structured
from culturemesh.errors import EventError

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
HTTP_FEATURE = REFERENCE / "cloudevents" / "features" / "http-protocol-binding.feature"

BASE = {
    "id": "evt-1",
    "source": "/culturemesh/products/tickets",
    "type": "be.culturemesh.upload.accepted",
    "time": "2026-03-01T09:30:00Z",
}


def _event(data: object = None, **extra: str) -> Envelope:
    return new_event({**BASE, **extra}, data)


# --- round trips ------------------------------------------------------------------------------

ROUND_TRIP_EVENTS = {
    "json-object": lambda: _event({"zaal": "Ancienne Belgique", "plaatsen": 2000}),
    "json-non-ascii": lambda: _event({"naam": "Café Théâtre – Gent", "prijs": "€12"}),
    "octet-stream": lambda: _event(bytes(range(256)), datacontenttype="application/octet-stream"),
    "text-plain": lambda: _event(b"hallo wereld\n", datacontenttype="text/plain; charset=utf-8"),
    "no-data": lambda: _event(None, subject="tickets.csv"),
    "extensions": lambda: _event({"a": 1}, dataproduct="tickets", traceparent="00-abc-def-01"),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP_EVENTS))
def test_binary_mode_round_trip_keeps_attributes_and_exact_data_bytes(name: str) -> None:
    event = ROUND_TRIP_EVENTS[name]()
    headers, body = to_binary(event)
    parsed = from_http(headers, body)
    assert dict(parsed.attributes) == dict(event.attributes)
    assert parsed.data == event.data


@pytest.mark.parametrize("name", sorted(ROUND_TRIP_EVENTS))
def test_structured_mode_round_trip_keeps_attributes_and_exact_data_bytes(name: str) -> None:
    event = ROUND_TRIP_EVENTS[name]()
    headers, body = to_structured(event)
    assert headers["content-type"].startswith("application/cloudevents+json")
    parsed = from_http(headers, body)
    assert dict(parsed.attributes) == dict(event.attributes)
    assert parsed.data == event.data


def test_binary_data_travels_as_data_base64_in_structured_mode_and_comes_back_byte_exact() -> None:
    payload = b"\x00\xff\xfe PK\x03\x04 not utf-8 \x80"
    event = _event(payload, datacontenttype="application/zip")
    _, body = to_structured(event)
    document = json.loads(body)
    assert "data" not in document
    assert base64.b64decode(document["data_base64"]) == payload
    assert from_http({"Content-Type": "application/cloudevents+json"}, body).data == payload


def test_data_base64_from_a_sender_is_decoded_to_its_bytes() -> None:
    document = {**BASE, "specversion": "1.0", "data_base64": base64.b64encode(b"\x01\x02\x03").decode()}
    event = from_http({"content-type": "application/cloudevents+json"}, json.dumps(document).encode())
    assert event.data == b"\x01\x02\x03"
    assert "data_base64" not in event.attributes


SPECIAL_VALUES = [
    "Café Théâtre",
    'quote " inside',
    "percent 100% and %41",
    "spaces  and\ttab",
    "Ωmega ☃ 🎭",
    "plain-ascii_ok:/path?x=1&y=2",
]


@pytest.mark.parametrize("value", SPECIAL_VALUES)
def test_binary_mode_percent_encodes_special_attribute_values_and_decodes_them_back(value: str) -> None:
    event = _event({"a": 1}, subject=value)
    headers, body = to_binary(event)
    header = headers["ce-subject"]
    assert header.isascii()
    assert all(0x21 <= ord(char) <= 0x7E for char in header), header
    assert '"' not in header
    assert " " not in header
    if "%" in value or not value.isascii() or " " in value or '"' in value:
        assert "%" in header
    assert from_http(headers, body).get("subject") == value


def test_binary_mode_encodes_non_ascii_as_utf8_percent_escapes() -> None:
    headers, _ = to_binary(_event(None, subject="é %"))
    assert headers["ce-subject"] == "%C3%A9%20%25"


def test_binary_mode_carries_datacontenttype_as_content_type_header_not_ce_header() -> None:
    headers, _ = to_binary(_event({"a": 1}))
    assert headers["content-type"] == "application/json"
    assert "ce-datacontenttype" not in headers


def test_binary_mode_header_names_are_matched_case_insensitively() -> None:
    headers = {
        "CE-SpecVersion": "1.0",
        "Ce-Id": "x1",
        "ce-SOURCE": "/s",
        "Ce-Type": "t.t",
        "Content-Type": "text/plain",
    }
    event = from_http(headers, b"hi")
    assert dict(event.attributes) == {
        "specversion": "1.0",
        "id": "x1",
        "source": "/s",
        "type": "t.t",
        "datacontenttype": "text/plain",
    }
    assert event.data == b"hi"


def test_structured_mode_renders_non_string_extension_values_as_strings() -> None:
    document = {**BASE, "specversion": "1.0", "sequence": 7, "replay": True, "gone": None}
    event = from_http({"content-type": "application/cloudevents+json"}, json.dumps(document).encode())
    assert event.get("sequence") == "7"
    assert event.get("replay") == "true"
    assert "gone" not in event.attributes


def test_is_cloudevent_recognises_both_modes_and_rejects_plain_requests() -> None:
    assert is_cloudevent({"Ce-Specversion": "1.0"})
    assert is_cloudevent({"Content-Type": "application/cloudevents+json; charset=utf-8"})
    assert not is_cloudevent({"Content-Type": "application/json"})


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["id", "source", "type", "specversion"])
def test_binary_mode_missing_required_attribute_is_refused_naming_it(missing: str) -> None:
    headers, body = to_binary(_event({"a": 1}))
    del headers[f"ce-{missing}"]
    with pytest.raises(EventError, match=rf"required attribute\(s\): .*\b{missing}\b"):
        from_http(headers, body)


@pytest.mark.parametrize("missing", ["id", "source", "type", "specversion"])
def test_structured_mode_missing_required_attribute_is_refused_naming_it(missing: str) -> None:
    document = {**BASE, "specversion": "1.0", "data": {"a": 1}}
    del document[missing]
    with pytest.raises(EventError, match=rf"required attribute\(s\): .*\b{missing}\b"):
        from_http({"content-type": "application/cloudevents+json"}, json.dumps(document).encode())


def test_empty_required_attribute_counts_as_missing() -> None:
    headers, body = to_binary(_event(None))
    headers["ce-id"] = ""
    with pytest.raises(EventError, match=r"required attribute\(s\): id"):
        from_http(headers, body)


def test_new_event_refuses_missing_required_attributes_naming_them() -> None:
    with pytest.raises(EventError, match="source, type"):
        new_event({"id": "1"})


@pytest.mark.parametrize("version", ["2.0", "1", "0.2"])
def test_wrong_specversion_is_refused_naming_found_and_expected_version(version: str) -> None:
    headers, body = to_binary(_event(None))
    headers["ce-specversion"] = version
    with pytest.raises(EventError, match=rf"specversion '{version}'; expected 1.0 or 0.3"):
        from_http(headers, body)


def test_a_0_3_event_is_accepted_and_kept_as_0_3() -> None:
    headers, body = to_binary(_event(None))
    headers["ce-specversion"] = "0.3"
    assert from_http(headers, body).attributes["specversion"] == "0.3"


@pytest.mark.parametrize("name", ["my_ext", "a-b", "abcdefghijklmnopqrstu"])
def test_binary_mode_bad_attribute_name_is_refused_naming_it(name: str) -> None:
    headers, body = to_binary(_event(None))
    headers[f"ce-{name}"] = "x"
    with pytest.raises(EventError, match=rf"attribute name\(s\) \['{name}'\]"):
        from_http(headers, body)


@pytest.mark.parametrize("name", ["Dataproduct", "data-product", "é"])
def test_structured_mode_bad_attribute_name_is_refused_naming_it(name: str) -> None:
    document = {**BASE, "specversion": "1.0", name: "x"}
    with pytest.raises(EventError) as caught:
        from_http({"content-type": "application/cloudevents+json"}, json.dumps(document).encode())
    assert "attribute name" in str(caught.value)
    assert repr(name) in str(caught.value)


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"id": "1",}'])
def test_structured_mode_invalid_json_is_refused(body: bytes) -> None:
    with pytest.raises(EventError, match="structured CloudEvent is not valid JSON"):
        from_http({"content-type": "application/cloudevents+json"}, body)


def test_structured_mode_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(EventError, match="must be a JSON object"):
        from_http({"content-type": "application/cloudevents+json"}, b"[1, 2]")


@pytest.mark.parametrize("value", ["***not base64***", "AAE", 12])
def test_structured_mode_bad_data_base64_is_refused(value: object) -> None:
    document = {**BASE, "specversion": "1.0", "data_base64": value}
    with pytest.raises(EventError, match="data_base64 is not base64"):
        from_http({"content-type": "application/cloudevents+json"}, json.dumps(document).encode())


def test_request_without_ce_headers_or_structured_content_type_is_not_a_cloudevent() -> None:
    with pytest.raises(EventError, match="not a CloudEvent"):
        from_http({"content-type": "application/json"}, b"{}")


def test_json_of_non_json_data_names_the_event() -> None:
    event = _event(b"not json", datacontenttype="application/json")
    with pytest.raises(EventError, match="evt-1"):
        event.json()


# --- conformance: the CloudEvents HTTP binding feature file -----------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    request: str
    attributes: dict[str, str]
    data_json: str


def _docstrings(lines: list[str]) -> list[str]:
    """Gherkin doc strings: the text between pairs of \"\"\" lines, dedented to the opening quotes."""
    found, current, indent = [], None, 0
    for line in lines:
        if line.strip() == '"""':
            if current is None:
                current, indent = [], len(line) - len(line.lstrip())
            else:
                found.append("\n".join(row[indent:] for row in current))
                current = None
        elif current is not None:
            current.append(line)
    return found


def _table_after(lines: list[str], marker: str) -> list[list[str]]:
    start = next(index for index, line in enumerate(lines) if line.strip().startswith(marker))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _substitute(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"<{key}>", value)
    return text


def _scenarios(feature: str) -> list[Scenario]:
    scenarios = []
    for block in feature.split("Scenario Outline:")[1:]:
        lines = block.splitlines()
        request, data_json = _docstrings(lines)[:2]
        attribute_rows = _table_after(lines, "Then the attributes are:")[1:]
        example_rows = _table_after(lines, "Examples:")
        for row in example_rows[1:]:
            values = dict(zip(example_rows[0], row, strict=True))
            scenarios.append(
                Scenario(
                    name=_substitute(lines[0].strip(), values),
                    request=_substitute(request, values),
                    attributes={key: _substitute(value, values) for key, value in attribute_rows},
                    data_json=data_json,
                )
            )
    return scenarios


def _split_request(text: str) -> tuple[dict[str, str], bytes]:
    head, _, body = text.partition("\n\n")
    request_line, *header_lines = head.splitlines()
    assert request_line.startswith("POST ")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return headers, body.encode()


FEATURE_SCENARIOS = _scenarios(HTTP_FEATURE.read_text(encoding="utf-8"))


def test_feature_file_yields_binary_and_structured_scenarios_for_every_example_row() -> None:
    names = [scenario.name for scenario in FEATURE_SCENARIOS]
    assert len(names) == 4
    assert sum(name.startswith("Binary content mode") for name in names) == 2
    assert sum(name.startswith("Structured content mode") for name in names) == 2
    assert all("<" not in scenario.request for scenario in FEATURE_SCENARIOS)


@pytest.mark.parametrize("scenario", FEATURE_SCENARIOS, ids=lambda scenario: scenario.name)
def test_http_binding_conformance_scenario_parses_to_expected_attributes_and_data(scenario: Scenario) -> None:
    headers, body = _split_request(scenario.request)
    event = from_http(headers, body)
    assert dict(event.attributes) == scenario.attributes
    assert event.data is not None
    assert json.loads(event.data) == json.loads(scenario.data_json)


# --- interop with the official cloudevents SDK ------------------------------------------------

# The 1.x SDK does not percent-decode ce-* headers, so binary-mode interop uses header-safe values.
INTEROP_EXTRA = {"subject": "tickets/2026-03.csv", "dataproduct": "tickets"}


def test_our_binary_event_is_read_by_the_sdk_with_same_attributes_and_data() -> None:
    event = _event({"zaal": "AB", "plaatsen": 2000}, **INTEROP_EXTRA)
    parsed = sdk_from_http(*to_binary(event))
    assert parsed.get_attributes() == dict(event.attributes)
    assert parsed.data == {"zaal": "AB", "plaatsen": 2000}


def test_our_binary_octet_stream_event_is_read_by_the_sdk_byte_exact() -> None:
    event = _event(b"\x00\x01\xff", datacontenttype="application/octet-stream")
    parsed = sdk_from_http(*to_binary(event))
    assert parsed.get_attributes() == dict(event.attributes)
    assert parsed.data == b"\x00\x01\xff"


def test_our_structured_event_is_read_by_the_sdk_with_same_attributes_and_data() -> None:
    event = _event({"naam": "Café Théâtre"}, subject='zaal "Ω" 100%')
    parsed = sdk_from_http(*to_structured(event))
    assert parsed.get_attributes() == dict(event.attributes)
    assert parsed.data == {"naam": "Café Théâtre"}


def test_our_structured_binary_data_is_read_by_the_sdk_from_data_base64() -> None:
    event = _event(bytes(range(256)), datacontenttype="application/octet-stream")
    parsed = sdk_from_http(*to_structured(event))
    assert parsed.get_attributes() == dict(event.attributes)
    assert parsed.data == bytes(range(256))


def _sdk_event(data: object, **extra: str) -> CloudEvent:
    return CloudEvent({**BASE, **extra}, data)


def test_sdk_binary_event_is_read_by_us_with_same_attributes_and_body_bytes() -> None:
    sdk_event = _sdk_event({"k": 1}, datacontenttype="application/json", **INTEROP_EXTRA)
    headers, body = sdk_to_binary(sdk_event)
    event = from_http(headers, body)
    assert dict(event.attributes) == sdk_event.get_attributes()
    assert event.data == body
    assert event.json() == {"k": 1}


def test_sdk_structured_event_is_read_by_us_with_same_attributes_and_data() -> None:
    sdk_event = _sdk_event({"naam": "Café"}, datacontenttype="application/json", subject="é 100%")
    event = from_http(*sdk_to_structured(sdk_event))
    assert dict(event.attributes) == sdk_event.get_attributes()
    assert event.json() == {"naam": "Café"}


def test_sdk_structured_binary_data_is_read_by_us_byte_exact() -> None:
    sdk_event = _sdk_event(b"\x00\xfe\xff", datacontenttype="application/octet-stream")
    event = from_http(*sdk_to_structured(sdk_event))
    assert dict(event.attributes) == sdk_event.get_attributes()
    assert event.data == b"\x00\xfe\xff"


def test_sdk_event_attributes_survive_our_forwarding_unchanged() -> None:
    """Read from the SDK, forward with our binding, read back by the SDK: nothing added or lost."""
    sdk_event = _sdk_event(b"payload", datacontenttype="text/plain", **INTEROP_EXTRA)
    forwarded = sdk_from_http(*to_binary(from_http(*sdk_to_binary(sdk_event))))
    assert forwarded.get_attributes() == sdk_event.get_attributes()
    assert forwarded.data == b"payload"


def test_gherkin_doc_string_parser_dedents_to_the_opening_quotes() -> None:
    sample = ['    """', '    {"a":', "        1}", '    """']
    assert _docstrings(sample) == ['{"a":\n    1}']

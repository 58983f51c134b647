"""A CloudEvent as culturemesh stores, routes and forwards it, and its HTTP binding.

An :class:`Envelope` keeps the context attributes as strings and the data as the exact bytes
that arrived. The HTTP binding (binary and structured content mode, CloudEvents 1.0) lives here
rather than in the cloudevents SDK because the SDK adds ``id`` and ``time`` attributes an event
did not carry and re-encodes its data, and a broker must forward events unchanged.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from culturemesh.errors import EventError

STRUCTURED = "application/cloudevents+json"
SPEC_VERSIONS = ("1.0", "0.3")  # 0.3 events are accepted and forwarded unchanged, as Knative does
_NAME = re.compile(r"^[a-z0-9]{1,20}$")
# Characters a header value may carry as they are (spec: printable ASCII but space, '"' and '%').
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
_NEEDS_QUOTING = re.compile(r'[^\x21-\x7e]|["%]')

REQUIRED = ("id", "source", "type", "specversion")


@dataclass(frozen=True)
class Envelope:
    """Context attributes (all as strings) and the data's exact bytes."""

    attributes: Mapping[str, str]
    data: bytes | None = None

    @property
    def id(self) -> str:
        return self.attributes["id"]

    @property
    def type(self) -> str:
        return self.attributes["type"]

    @property
    def source(self) -> str:
        return self.attributes["source"]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attributes.get(name, default)

    def json(self) -> Any:
        """The data parsed as JSON (``None`` when there is no data)."""
        if self.data is None:
            return None
        try:
            return json.loads(self.data)
        except ValueError as exc:
            raise EventError(f"event {self.id} ({self.type}): data is not JSON: {exc}") from None

    def with_attributes(self, **changes: str | None) -> Envelope:
        """A copy with attributes set (or removed where the value is ``None``)."""
        attributes = dict(self.attributes)
        for name, value in changes.items():
            if value is None:
                attributes.pop(name, None)
            else:
                attributes[name] = value
        return Envelope(attributes, self.data)

    def to_dict(self) -> dict[str, Any]:
        """The structured JSON form (data inline when JSON, else ``data_base64``)."""
        result: dict[str, Any] = dict(self.attributes)
        if self.data is not None:
            content_type = self.attributes.get("datacontenttype", "application/json")
            if "json" in content_type:
                result["data"] = self.json()
            else:
                result["data_base64"] = base64.b64encode(self.data).decode()
        return result


def new_event(attributes: Mapping[str, str], data: Any = None) -> Envelope:
    """A new event; dict/list data is encoded as JSON with ``datacontenttype: application/json``."""
    attrs = {"specversion": "1.0", **attributes}
    missing = [name for name in REQUIRED if not attrs.get(name)]
    if missing:
        raise EventError(f"a CloudEvent needs attribute(s) {', '.join(missing)}; got {sorted(attrs)}")
    if data is None:
        return Envelope(attrs, None)
    if isinstance(data, bytes):
        return Envelope(attrs, data)
    attrs.setdefault("datacontenttype", "application/json")
    return Envelope(attrs, json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())


def from_http(headers: Mapping[str, str], body: bytes) -> Envelope:
    """Parse a binary- or structured-mode HTTP request or response into an :class:`Envelope`."""
    lowered = {key.lower(): value for key, value in headers.items()}
    content_type = lowered.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == STRUCTURED:
        return _from_structured(body)
    attributes = {key[3:]: unquote(value) for key, value in lowered.items() if key.startswith("ce-") and len(key) > 3}
    if not attributes:
        raise EventError("not a CloudEvent: no ce-* headers and content type is not " + STRUCTURED)
    if content_type:
        attributes["datacontenttype"] = content_type
    return _checked(attributes, body if body else None)


def _from_structured(body: bytes) -> Envelope:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise EventError(f"structured CloudEvent is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise EventError("structured CloudEvent must be a JSON object")
    data: bytes | None = None
    if "data_base64" in document:
        try:
            data = base64.b64decode(document.pop("data_base64"), validate=True)
        except (ValueError, TypeError) as exc:
            raise EventError(f"structured CloudEvent: data_base64 is not base64: {exc}") from None
    elif "data" in document:
        value = document.pop("data")
        content_type = str(document.get("datacontenttype", "application/json"))
        if isinstance(value, str) and "json" not in content_type:
            data = value.encode()
        else:
            data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    attributes = {key: _attribute_text(value) for key, value in document.items() if value is not None}
    return _checked(attributes, data)


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _checked(attributes: dict[str, str], data: bytes | None) -> Envelope:
    missing = [name for name in REQUIRED if not attributes.get(name)]
    if missing:
        raise EventError(f"CloudEvent lacks required attribute(s): {', '.join(missing)}")
    if attributes["specversion"] not in SPEC_VERSIONS:
        raise EventError(f"unsupported CloudEvents specversion {attributes['specversion']!r}; expected 1.0 or 0.3")
    bad = [name for name in attributes if not _NAME.match(name)]
    if bad:
        raise EventError(f"attribute name(s) {bad}: expected lowercase letters and digits, at most 20")
    return Envelope(attributes, data)


def is_cloudevent(headers: Mapping[str, str]) -> bool:
    lowered = {key.lower(): value for key, value in headers.items()}
    return "ce-specversion" in lowered or lowered.get("content-type", "").startswith(STRUCTURED)


def to_binary(event: Envelope) -> tuple[dict[str, str], bytes]:
    """Binary content mode: attributes as ``ce-*`` headers (percent-encoded), data as the body."""
    headers = {
        f"ce-{name}": quote(value, safe=_HEADER_SAFE) if _NEEDS_QUOTING.search(value) else value
        for name, value in event.attributes.items()
        if name != "datacontenttype"
    }
    if "datacontenttype" in event.attributes:
        headers["content-type"] = event.attributes["datacontenttype"]
    return headers, event.data or b""


def to_structured(event: Envelope) -> tuple[dict[str, str], bytes]:
    body = json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    return {"content-type": STRUCTURED + "; charset=utf-8"}, body


__all__ = ["Envelope", "from_http", "is_cloudevent", "new_event", "to_binary", "to_structured"]

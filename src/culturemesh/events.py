"""The CloudEvent types culturemesh emits and consumes, and their constructors.

Every type has a JSON Schema and an example in the repository's ``events/`` folder. Event ids are
derived from what the event is about, so a redelivered input yields the same event id and
consumers can deduplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from culturemesh.envelope import Envelope, new_event

OBJECT_CREATED = "com.amazonaws.s3.ObjectCreated:Put"
UPLOAD_ACCEPTED = "be.culturemesh.upload.accepted"
UPLOAD_REJECTED = "be.culturemesh.upload.rejected"
PUBLISHED = "be.culturemesh.dataproduct.published"
FAILED = "be.culturemesh.dataproduct.failed"
STALE = "be.culturemesh.dataproduct.stale"

ALL_TYPES = (OBJECT_CREATED, UPLOAD_ACCEPTED, UPLOAD_REJECTED, PUBLISHED, FAILED, STALE)

_ID_NAMESPACE = uuid.UUID("6f1c7a52-3d0e-4c55-9a3e-0c9b1f3e5a10")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stable_id(*parts: str) -> str:
    """A UUID derived from ``parts``: the same facts always give the same event id."""
    return str(uuid.uuid5(_ID_NAMESPACE, "\x1f".join(parts)))


def product_source(qualified_name: str) -> str:
    return f"/culturemesh/dataproducts/{qualified_name}"


@dataclass(frozen=True)
class StoredObject:
    """What an object-created notification says about an object."""

    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    region: str = "local"
    time: str = ""


def object_created(obj: StoredObject) -> Envelope:
    """The object-created event as the CloudEvents AWS S3 adapter maps an S3 notification record."""
    request_id = stable_id(obj.bucket, obj.key, obj.etag, obj.sequencer)[:16].upper()
    host_id = stable_id(obj.sequencer, obj.etag)
    event_time = obj.time or now_iso()
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": obj.region,
        "eventTime": event_time,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "culturemesh"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "culturemesh-landing",
            "bucket": {
                "name": obj.bucket,
                "ownerIdentity": {"principalId": "culturemesh"},
                "arn": f"arn:aws:s3:::{obj.bucket}",
            },
            # S3 notifications carry the key URL-encoded (a space as '+'); so do ours
            "object": {
                "key": quote_plus(obj.key, safe="/"),
                "size": obj.size,
                "eTag": obj.etag,
                "sequencer": obj.sequencer,
            },
        },
    }
    return from_s3_record(record)


def record_key(record: dict[str, Any]) -> str:
    """The object key of an S3 notification record, decoded."""
    return unquote_plus(str(record["s3"]["object"]["key"]))


def from_s3_record(record: dict[str, Any]) -> Envelope:
    """A CloudEvent from one S3 event notification record, as the CloudEvents AWS S3 adapter maps
    it: id = request id + '.' + host id, source = eventSource.awsRegion.bucket, type =
    com.amazonaws.s3.<eventName>, subject = the object key, data = the record itself."""
    elements = record.get("responseElements", {})
    attributes = {
        "id": f"{elements.get('x-amz-request-id', '')}.{elements.get('x-amz-id-2', '')}",
        "source": f"{record['eventSource']}.{record['awsRegion']}.{record['s3']['bucket']['name']}",
        "type": f"com.amazonaws.s3.{record['eventName']}",
        "subject": record_key(record),
        "time": str(record["eventTime"]),
    }
    return new_event(attributes, record)


def _product_event(
    type_: str, qualified_name: str, subject: str, data: dict[str, Any], identity: tuple[str, ...], **ext: str
) -> Envelope:
    attributes = {
        "id": stable_id(type_, qualified_name, *identity),
        "source": product_source(qualified_name),
        "type": type_,
        "subject": subject,
        "time": now_iso(),
        "dataproduct": qualified_name,
        **{name: value for name, value in ext.items() if value},
    }
    return new_event(attributes, data)


def upload_accepted(qualified_name: str, data: dict[str, Any], report_uri: str = "") -> Envelope:
    obj = data["object"]
    return _product_event(
        UPLOAD_ACCEPTED, qualified_name, obj["key"], data, (obj["key"], obj["etag"]), dataref=report_uri
    )


def upload_rejected(qualified_name: str, data: dict[str, Any], report_uri: str) -> Envelope:
    obj = data["object"]
    return _product_event(
        UPLOAD_REJECTED, qualified_name, obj["key"], data, (obj["key"], obj["etag"]), dataref=report_uri
    )


def published(qualified_name: str, port: str, version: str, manifest_uri: str, data: dict[str, Any]) -> Envelope:
    return _product_event(
        PUBLISHED,
        qualified_name,
        f"{port}/{version}",
        data,
        (port, version),
        outputport=port,
        dpversion=version,
        dataref=manifest_uri,
    )


def failed(qualified_name: str, subject: str, data: dict[str, Any], identity: tuple[str, ...]) -> Envelope:
    return _product_event(FAILED, qualified_name, subject, data, identity)


def stale(qualified_name: str, port: str, version: str, data: dict[str, Any]) -> Envelope:
    """A port is late; the id names the lateness (port and its too-old version), not the moment."""
    return _product_event(
        STALE,
        qualified_name,
        f"{port}/{version}" if version else port,
        data,
        (port, version),
        outputport=port,
        dpversion=version,
    )

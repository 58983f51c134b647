"""The adapter from S3 event notifications (delivered through SQS) to CloudEvents on the broker.

In a cluster, S3 notifies an SQS queue of every object created in the landing bucket; this
adapter long-polls the queue, turns each notification record into the CloudEvent the CloudEvents
AWS S3 adapter specifies (:func:`culturemesh.events.from_s3_record`), POSTs it to ``K_SINK`` (the
broker) and deletes a message only after the broker accepted every event in it, so a crash
redelivers rather than loses. ``s3:TestEvent`` messages are dropped.
"""

from __future__ import annotations

import json
from typing import Any

from culturemesh import events
from culturemesh.envelope import Envelope
from culturemesh.errors import EventError
from culturemesh.logs import get_logger
from culturemesh.mesh.client import publish

log = get_logger("culturemesh.s3events")


def events_in(body: str) -> list[Envelope]:
    """The object-created CloudEvents in one SQS message body (an S3 notification)."""
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise EventError(f"SQS message is not JSON: {exc}") from None
    if message.get("Event") == "s3:TestEvent":
        return []
    return [
        events.from_s3_record(r)
        for r in message.get("Records", [])
        if str(r.get("eventName", "")).startswith("ObjectCreated")
    ]


def relay_once(sqs: Any, queue_url: str, sink: str, wait_seconds: int = 20) -> int:
    """One long poll: relay what arrived; returns how many events the broker accepted."""
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
    relayed = 0
    for message in received.get("Messages", []):
        try:
            found = events_in(message["Body"])
        except EventError as exc:
            log.error("unreadable notification left on the queue for its dead-letter queue", error=str(exc))
            continue
        publish(found, sink)  # raises if the broker refuses: the message stays and comes back
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        relayed += len(found)
    return relayed

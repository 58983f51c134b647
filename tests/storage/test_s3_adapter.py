"""The S3 → SQS → CloudEvents adapter, against a real SQS HTTP endpoint (moto server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any
from urllib.parse import unquote

import boto3

from culturemesh.eventschemas import problems
from tests.conftest import EVENTS_DIR, REPO

RECORD: dict[str, Any] = {
    "eventVersion": "2.1",
    "eventSource": "aws:s3",
    "awsRegion": "eu-west-1",
    "eventTime": "2026-11-27T10:15:00.000Z",
    "eventName": "ObjectCreated:Put",
    "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
    "requestParameters": {"sourceIPAddress": "10.0.0.1"},
    "responseElements": {
        "x-amz-request-id": "C3D13FE58DE4C810",
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    },
    "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "landing",
        "bucket": {
            "name": "culturemesh-landing",
            "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
            "arn": "arn:aws:s3:::culturemesh-landing",
        },
        "object": {
            "key": "ticketing/ticket-sales/sales-upload/20261127/verkoop+november+%282%29.csv",
            "size": 1024,
            "eTag": "d41d8cd98f00b204e9800998ecf8427e",
            "sequencer": "0055AED6DCD90281E5",
        },
    },
}


def sqs(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def adapter(endpoint: str, queue_url: str, sink: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CULTUREMESH_")}
    env.update(
        K_SINK=sink,
        CULTUREMESH_AWS_ENDPOINT=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
    )
    return subprocess.run(
        [sys.executable, "-m", "culturemesh", "s3-adapter", "--queue-url", queue_url, "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_s3_notification_becomes_the_adapter_specified_cloudevent_and_leaves_the_queue(
    moto_endpoint: str, make_sink
) -> None:
    client = sqs(moto_endpoint)
    queue_url = client.create_queue(QueueName=f"landing-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    client.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [RECORD]}))
    client.send_message(
        QueueUrl=queue_url, MessageBody=json.dumps({"Event": "s3:TestEvent", "Bucket": "culturemesh-landing"})
    )
    broker = make_sink()

    result = adapter(moto_endpoint, queue_url, broker.url)

    assert result.returncode == 0, result.stderr
    event = broker.wait_for(lambda e: True)
    assert event.attributes["type"] == "com.amazonaws.s3.ObjectCreated:Put"
    assert event.attributes["source"] == "aws:s3.eu-west-1.culturemesh-landing"
    assert event.attributes["id"] == "C3D13FE58DE4C810.FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
    # header values are percent-encoded on the wire (the SDK used by the test sink does not decode them)
    assert (
        unquote(event.attributes["subject"]) == "ticketing/ticket-sales/sales-upload/20261127/verkoop november (2).csv"
    )
    assert (
        problems(EVENTS_DIR, {**event.attributes, "subject": unquote(event.attributes["subject"]), "data": event.data})
        == []
    )
    assert client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages") is None


def test_when_the_broker_refuses_the_message_stays_on_the_queue(moto_endpoint: str, make_sink) -> None:
    client = sqs(moto_endpoint)
    queue_url = client.create_queue(QueueName=f"landing-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "1"})[
        "QueueUrl"
    ]
    client.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [RECORD]}))
    broker = make_sink()
    broker.respond = lambda n: (503, {}, b"down")

    result = adapter(moto_endpoint, queue_url, broker.url)

    assert result.returncode != 0 and "not reachable" in result.stderr
    import time

    time.sleep(1.5)
    assert len(client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])) == 1

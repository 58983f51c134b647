"""A product function as functions-framework serves it (the same command a Knative Service runs),
spoken to over HTTP the way a Knative broker does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cloudevents.http import from_http as sdk_from_http

from culturemesh import events
from culturemesh.descriptor import load_descriptor
from culturemesh.envelope import to_binary
from culturemesh.keyring import LocalKms
from culturemesh.keys import provision
from culturemesh.product import LANDING
from culturemesh.provider import put_sealed
from culturemesh.store import FilesystemStore
from tests.conftest import REPO, SAMPLES, Sink, free_port

pytestmark = pytest.mark.e2e
KEY = "ticketing/ticket-sales/sales-upload/t1/sales.csv"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., str]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(sink: str = "") -> str:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CULTUREMESH_", "K_"))}
        env.update(CULTUREMESH_HOME=str(tmp_path), CULTUREMESH_LOG_FORMAT="json", PORT=str(port))
        if sink:
            env["K_SINK"] = sink
        command = [
            str(Path(sys.executable).with_name("functions-framework")),
            "--target=ingest",
            "--source=functions/ticket-sales/main.py",
            "--signature-type=http",
        ]
        processes.append(
            subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}/"
            except OSError:
                time.sleep(0.05)
        raise AssertionError("functions-framework did not start")

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


def stored_upload(home: Path, content: bytes) -> dict[str, str]:
    """A provider's sealed upload; the keys are provisioned as `culturemesh up` would."""
    descriptor = load_descriptor(REPO / "functions" / "ticket-sales" / "data-product.yaml")
    kms = LocalKms(home / "keys" / "keyring.json")
    provision(kms, descriptor)
    source = home / "upload.csv"
    source.write_bytes(content)
    info = put_sealed(FilesystemStore(home / "store"), kms, descriptor, KEY, source, notify=False)
    headers, body = to_binary(events.object_created(info.as_stored()))
    return {"headers": headers, "body": body}  # type: ignore[dict-item]


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_success_replies_with_the_published_event_in_binary_mode_and_sends_the_rest_to_k_sink(
    serve, make_sink, tmp_path: Path
) -> None:
    sink: Sink = make_sink()
    url = serve(sink.url)
    upload = stored_upload(tmp_path, (SAMPLES / "sales.csv").read_bytes())

    status, headers, body = post(url, upload["headers"], upload["body"])

    assert status == 200
    reply = sdk_from_http(headers, body)
    assert reply["type"] == events.PUBLISHED and reply["dpversion"]
    assert "ce-type" in headers  # binary mode
    assert sink.of_type(events.UPLOAD_ACCEPTED).attributes["dataproduct"] == "ticketing/ticket-sales"


def test_a_rejected_upload_is_a_successful_delivery_whose_reply_is_the_rejection(serve, tmp_path: Path) -> None:
    url = serve()
    upload = stored_upload(tmp_path, (SAMPLES / "sales-broken.csv").read_bytes())
    status, headers, body = post(url, upload["headers"], upload["body"])
    assert status == 200
    assert sdk_from_http(headers, body)["type"] == events.UPLOAD_REJECTED


def test_a_request_that_is_not_a_cloudevent_is_answered_400_so_the_broker_does_not_retry(serve) -> None:
    status, _, body = post(serve(), {"content-type": "application/json"}, b'{"hello": 1}')
    assert status == 400
    assert "not a CloudEvent" in json.loads(body)["error"]


def test_an_event_for_another_product_is_answered_400(serve, tmp_path: Path) -> None:
    info = FilesystemStore(tmp_path / "store").put(LANDING, "museum/visits/upload/x.csv", b"a\n1\n", notify=False)
    headers, body = to_binary(events.object_created(info.as_stored()))
    status, _, _ = post(serve(), headers, body)
    assert status == 400


def test_a_failure_that_is_not_the_events_fault_is_answered_5xx_so_the_broker_retries(serve, tmp_path: Path) -> None:
    upload = stored_upload(tmp_path, (SAMPLES / "sales.csv").read_bytes())
    (tmp_path / "store" / LANDING / KEY).unlink()  # the object vanished: a store failure
    status, _, body = post(serve(), upload["headers"], upload["body"])
    assert status == 500
    assert json.loads(body) == {"error": "ObjectNotFound"}


def test_several_events_without_a_k_sink_fail_rather_than_lose_events(serve, tmp_path: Path) -> None:
    upload = stored_upload(tmp_path, (SAMPLES / "sales.csv").read_bytes())
    status, _, _ = post(serve(), upload["headers"], upload["body"])
    assert status == 500

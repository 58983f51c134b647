"""``culturemesh catalog serve-check``: the cluster's freshness check, as a real process over HTTP.
Ticks are POSTed as the Broker delivers a PingSource's events; stale events arrive at ``K_SINK``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from culturemesh import events
from culturemesh.catalog.dynamo import DynamoRegistry, create_table
from culturemesh.catalog.freshness import iso
from culturemesh.catalog.registry import Registry
from culturemesh.catalog.sqlite import SqliteRegistry
from culturemesh.deploy import catalog
from culturemesh.eventschemas import problems
from tests.catalog.conftest import REGION, descriptor_text, manifest, manifest_uri
from tests.conftest import EVENTS_DIR, REPO, Sink, free_port

PRODUCT = "events/uit-events"  # port "events" promises PT6H


def fill(registry: Registry, version: str = "v1", age: timedelta = timedelta(days=2)) -> None:
    """Register the product with a version of port ``events`` that is ``age`` old (late when > 6 h)."""
    registry.register_product(descriptor_text("uit-events"))
    m = manifest(PRODUCT, "events", version, iso(datetime.now(UTC) - age))
    registry.register_version(m, manifest_uri(m))


def tick_headers(number: int) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": f"tick-{number}",
        "ce-type": "dev.knative.sources.ping",
        "ce-source": f"/apis/v1/namespaces/culturemesh/pingsources/{catalog.NAME}",
        "content-type": "application/json",
    }


@dataclass
class Checker:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.read() == b""  # no body: never taken for a reply
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def tick(self, number: int = 1) -> int:
        return self.post(b'{"check": "freshness"}', tick_headers(number))


def _env(home: Path, sink: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CULTUREMESH_", "K_"))}
    return {
        **env,
        "CULTUREMESH_HOME": str(home),
        "CULTUREMESH_PROJECT": str(REPO),
        "CULTUREMESH_LOG_FORMAT": "json",
        "K_SINK": sink,
        **extra,
    }


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve-check exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"serve-check did not listen within 30 s: {log.read_text()[-2000:]}")


@pytest.fixture
def start_checker(tmp_path: Path) -> Iterator[Callable[..., Checker]]:
    started: list[Checker] = []

    def start(sink: str, **extra: str) -> Checker:
        port = free_port()
        log = tmp_path / f"serve-check-{port}.log"
        env = _env(tmp_path / "home", sink, PORT=str(port), **extra)
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "culturemesh", "catalog", "serve-check"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        checker = Checker(f"http://127.0.0.1:{port}/", process, log)
        started.append(checker)
        _wait_for_port(port, process, log)
        return checker

    yield start
    for checker in started:
        checker.process.terminate()
        try:
            checker.process.wait(10)
        except subprocess.TimeoutExpired:
            checker.process.kill()
            checker.process.wait(5)


@pytest.fixture
def home_registry(tmp_path: Path) -> Iterator[SqliteRegistry]:
    (tmp_path / "home").mkdir()
    registry = SqliteRegistry(tmp_path / "home" / "registry.sqlite")
    yield registry
    registry.close()


def stale_events(sink: Sink) -> list[dict[str, Any]]:
    return [{**e.attributes, "data": e.data} for e in sink.events if e.attributes.get("type") == events.STALE]


def test_each_tick_runs_the_check_and_a_lateness_is_published_to_k_sink_once(
    home_registry: SqliteRegistry, start_checker: Callable[..., Checker], make_sink: Callable[..., Sink]
) -> None:
    fill(home_registry)
    sink = make_sink()
    checker = start_checker(sink.url)

    assert checker.tick(1) == 204
    (event,) = stale_events(sink)
    assert (event["dataproduct"], event["outputport"], event["dpversion"]) == (PRODUCT, "events", "v1")
    assert problems(EVENTS_DIR, event) == []
    assert [(m.port, m.since_version) for m in home_registry.stale_marks(PRODUCT)] == [("events", "v1")]

    assert checker.tick(2) == 204  # the same lateness: claimed already, nothing sent
    assert sink.requests == 1

    m = manifest(PRODUCT, "events", "v2", iso(datetime.now(UTC) - timedelta(hours=7)))  # late again: new lateness
    home_registry.register_version(m, manifest_uri(m))
    assert checker.tick(3) == 204
    assert [e["dpversion"] for e in stale_events(sink)] == ["v1", "v2"]


def test_a_refusing_sink_fails_the_tick_for_a_retry_and_releases_the_claim(
    home_registry: SqliteRegistry, start_checker: Callable[..., Checker], make_sink: Callable[..., Sink]
) -> None:
    fill(home_registry)
    sink = make_sink()
    sink.respond = lambda n: (503, {}, b"") if n == 1 else (202, {}, b"")
    checker = start_checker(sink.url)

    assert checker.tick(1) == 503  # retried by the Trigger's delivery
    assert home_registry.stale_marks(PRODUCT) == []
    assert checker.tick(1) == 204  # the redelivered tick
    assert len(stale_events(sink)) == 1


def test_a_request_that_is_not_a_cloudevent_is_refused_and_checks_nothing(
    home_registry: SqliteRegistry, start_checker: Callable[..., Checker], make_sink: Callable[..., Sink]
) -> None:
    fill(home_registry)
    sink = make_sink()
    checker = start_checker(sink.url)
    assert checker.post(b"{}", {"content-type": "application/json"}) == 400
    assert sink.requests == 0 and home_registry.stale_marks(PRODUCT) == []


def test_without_k_sink_it_refuses_to_start_naming_the_sink_binding(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "culturemesh", "catalog", "serve-check"],
        env=_env(tmp_path / "home", "", PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "K_SINK is not set" in done.stderr and "SinkBinding" in done.stderr


def test_with_the_cluster_settings_it_checks_the_dynamodb_registry(
    moto_endpoint: str, start_checker: Callable[..., Checker], make_sink: Callable[..., Sink]
) -> None:
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION, **credentials)
    table = f"cm-checker-{uuid.uuid4().hex[:12]}"
    create_table(client, table)
    registry = DynamoRegistry(client, table)
    fill(registry)
    sink = make_sink()
    checker = start_checker(
        sink.url,
        CULTUREMESH_REGISTRY="dynamodb",
        CULTUREMESH_REGISTRY_TABLE=table,
        CULTUREMESH_AWS_ENDPOINT=moto_endpoint,
        CULTUREMESH_AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    assert checker.tick(1) == 204
    (event,) = stale_events(sink)
    assert event["dataproduct"] == PRODUCT and event["data"]["latestVersion"] == "v1"
    assert [m.since_version for m in registry.stale_marks(PRODUCT)] == ["v1"]

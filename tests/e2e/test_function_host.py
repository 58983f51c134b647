"""The function host's Knative Serving behaviour, observed through a real mesh over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Mesh

pytestmark = pytest.mark.e2e
SOURCE = "tests/fixtures/functions/behaviours.py"


def service(
    name: str,
    target: str,
    concurrency: int = 0,
    annotations: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "culturemesh"},
        "spec": {
            "template": {
                "metadata": {"annotations": annotations or {}},
                "spec": {
                    "containerConcurrency": concurrency,
                    "timeoutSeconds": 30,
                    "containers": [
                        {
                            "image": "ghcr.io/culturemesh/function:test",
                            "command": ["functions-framework"],
                            "args": [f"--target={target}", f"--source={SOURCE}", "--signature-type=http"],
                            "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                        }
                    ],
                },
            }
        },
    }


def trigger_to(name: str, service_name: str, event_type: str) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": "culturemesh"},
        "spec": {
            "broker": "default",
            "filter": {"attributes": {"type": event_type}},
            "subscriber": {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": service_name}},
            "delivery": {"retry": 5, "backoffPolicy": "linear", "backoffDelay": "PT0.2S"},
        },
    }


def send(mesh: Mesh, event_id: str, event_type: str) -> None:
    headers = {"ce-specversion": "1.0", "ce-id": event_id, "ce-source": "/tests", "ce-type": event_type}
    request = urllib.request.Request(mesh.ingress, data=b"", headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def wait_until(predicate: Any, timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def done(mesh: Mesh, trigger: str) -> int:
    found = [t for t in mesh.status()["triggers"] if t["name"] == f"culturemesh/{trigger}"]
    return int(found[0]["queue"].get("done", 0)) if found else 0


def processes(mesh: Mesh, name: str) -> list[dict[str, Any]]:
    return [r for r in mesh.status()["running"] if r["service"] == name]


def test_busy_processes_make_the_host_start_more_up_to_max_scale(mesh: Mesh) -> None:
    annotations = {"autoscaling.knative.dev/max-scale": "3"}
    mesh.apply(
        service("slow", "slow", concurrency=1, annotations=annotations, env={"SLOW_SECONDS": "2"}),
        trigger_to("to-slow", "slow", "be.example.slow"),
    )
    for n in range(6):
        send(mesh, f"s-{n}", "be.example.slow")

    peak = wait_until(lambda: len(processes(mesh, "slow")) >= 3 and processes(mesh, "slow"), what="3 processes")
    assert len({p["pid"] for p in peak}) == 3
    assert all(p["inflight"] <= 1 for p in peak)  # containerConcurrency 1
    wait_until(lambda: done(mesh, "to-slow") == 6, what="6 deliveries")
    assert len(processes(mesh, "slow")) == 3  # never more than max-scale


def test_without_a_concurrency_limit_one_process_serves_everything(mesh: Mesh) -> None:
    mesh.apply(
        service("shared", "slow", concurrency=0, env={"SLOW_SECONDS": "0.5"}),
        trigger_to("to-shared", "shared", "be.example.shared"),
    )
    for n in range(5):
        send(mesh, f"x-{n}", "be.example.shared")
    wait_until(lambda: done(mesh, "to-shared") == 5, what="5 deliveries")
    assert len(processes(mesh, "shared")) == 1


def test_min_scale_processes_start_on_apply_and_outlive_the_idle_window(start_mesh) -> None:
    mesh = start_mesh(idle_seconds="1")
    annotations = {"autoscaling.knative.dev/min-scale": "1"}
    mesh.apply(service("warm", "slow", annotations=annotations, env={"SLOW_SECONDS": "0"}))

    first = wait_until(lambda: processes(mesh, "warm"), what="a min-scale process")
    time.sleep(3)
    assert [p["pid"] for p in processes(mesh, "warm")] == [first[0]["pid"]]


def test_the_retention_annotation_overrides_the_default_idle_window(start_mesh) -> None:
    mesh = start_mesh(idle_seconds="600")
    annotations = {"autoscaling.knative.dev/scale-to-zero-pod-retention-period": "1s"}
    mesh.apply(
        service("brief", "slow", annotations=annotations, env={"SLOW_SECONDS": "0"}),
        trigger_to("to-brief", "brief", "be.example.brief"),
    )
    send(mesh, "b-1", "be.example.brief")
    wait_until(lambda: done(mesh, "to-brief") == 1, what="the delivery")
    wait_until(lambda: not processes(mesh, "brief"), timeout=15, what="scale to zero")


def test_a_crashed_process_is_replaced_and_its_event_retried(mesh: Mesh, tmp_path: Path) -> None:
    marker = tmp_path / "crashed"
    mesh.apply(
        service("fragile", "crash_once", env={"CRASH_MARKER": str(marker)}),
        trigger_to("to-fragile", "fragile", "be.example.fragile"),
    )
    send(mesh, "c-1", "be.example.fragile")

    wait_until(lambda: done(mesh, "to-fragile") == 1, what="the retried delivery")
    crashed_pid = int(marker.read_text())
    assert crashed_pid not in [p["pid"] for p in processes(mesh, "fragile")]
    assert json.loads(json.dumps(mesh.status()["dead_letters"])) == []

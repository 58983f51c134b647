"""A product with ``spec.transformer.schedule`` runs on its schedule: the generated PingSource's
event goes into the broker, its Trigger hands it to the product's ``scheduled`` function, and
that function derives the output again. Real mesh, real function processes, over HTTP; the tick
is fired with ``culturemesh mesh ping`` (the cron timing itself is tested in tests/mesh/test_ping.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO, Mesh, Received, Sink

pytestmark = pytest.mark.e2e
FIXTURE = REPO / "tests" / "fixtures" / "functions" / "visit-counts"
PRODUCT = "museums/visit-counts"
PING = "dev.knative.sources.ping"
PUBLISHED = "be.culturemesh.dataproduct.published"
PING_SOURCE = "visit-counts-schedule"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project of its own holding only the fixture product (its code is changed by the test)."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root / "functions" / "visit-counts")
    return root


def manifest(event: Received) -> dict[str, object]:
    uri = event.attributes["dataref"]
    assert uri.startswith("file://"), uri
    return dict(json.loads(Path(urlparse(uri).path).read_text()))


def test_a_ping_reaches_the_scheduled_function_through_the_broker_and_trigger_and_rederives_the_output(
    start_mesh: Callable[..., Mesh], make_sink: Callable[..., Sink], project: Path, tmp_path: Path
) -> None:
    mesh = start_mesh(project=str(project))
    products, pings = make_sink(), make_sink()
    mesh.cli("subscribe", "--sink", products.url, "--type", PUBLISHED, "--name", "watcher")
    mesh.cli("subscribe", "--sink", pings.url, "--type", PING, "--name", "ping-watcher")
    counts = tmp_path / "counts.csv"
    counts.write_text("day,museum,visitors\n2026-11-27,MSK Gent,120\n2026-11-27,M Leuven,80\n")
    uploaded = json.loads(mesh.cli("upload", "visit-counts", str(counts)).stdout)
    first = products.of_type(PUBLISHED)

    main = project / "functions" / "visit-counts" / "main.py"
    main.write_text(main.read_text() + "\n# a fix in the code: the nightly run must make a new version\n")
    sent = mesh.cli("mesh", "ping", PING_SOURCE).stdout

    ping = pings.of_type(PING)
    assert ping.attributes["source"] == f"/apis/v1/namespaces/culturemesh/pingsources/{PING_SOURCE}"
    assert ping.attributes["id"] in sent
    assert ping.attributes["dataproduct"] == PRODUCT
    assert ping.attributes["datacontenttype"] == "application/json"
    assert ping.data == {"dataproduct": PRODUCT, "schedule": "0 3 * * *"}
    second = products.wait_for(
        lambda e: e.attributes.get("type") == PUBLISHED and e.attributes["dpversion"] != first.attributes["dpversion"]
    )
    assert second.attributes["dataproduct"] == PRODUCT
    lineage = manifest(second)["lineage"]
    assert isinstance(lineage, dict) and lineage["inputs"][0]["key"] == uploaded["key"]
    assert manifest(second)["rows"] == 2

    status = mesh.status()
    schedule_trigger = next(t for t in status["triggers"] if t["name"] == f"culturemesh/{PING_SOURCE}")
    assert schedule_trigger["subscriber"] == "Service/visit-counts-scheduled"
    assert schedule_trigger["queue"].get("done") == 1
    assert "visit-counts-scheduled" in {r["service"] for r in status["running"]}
    (source,) = status["ping_sources"]
    assert source["name"] == f"culturemesh/{PING_SOURCE}" and source["sent"] == 1 and source["error"] == ""
    assert f"ping source culturemesh/{PING_SOURCE}: '0 3 * * *' (UTC)" in mesh.cli("mesh", "status").stdout


def test_pinging_an_unknown_ping_source_names_it_and_fails(mesh: Mesh) -> None:
    result = mesh.cli("mesh", "ping", "no-such-schedule", check=False)
    assert result.returncode != 0
    assert "no PingSource culturemesh/no-such-schedule" in result.stderr

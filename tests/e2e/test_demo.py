"""`culturemesh demo`, the main job, as `make demo` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e


def test_demo_shows_the_consumer_receiving_the_published_event_and_exits_0(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CULTUREMESH_")}
    env["CULTUREMESH_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "culturemesh", "demo"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "consumer received be.culturemesh.dataproduct.published" in out
    dataref = next(
        line.split()[-1] for line in out.splitlines() if line.strip().startswith("dataref") and "manifest" in line
    )
    assert Path(dataref.removeprefix("file://")).is_file()
    assert "consumer received be.culturemesh.upload.rejected" in out
    assert "row 2, column price: 'twelve'" in out
    assert "200 rows" in out
    assert "SHACL against the OSLO shapes: conforms" in out
    assert "as 'owner': 4 activities in 13 graphs" in out  # answered by the SPARQL endpoint over HTTP
    assert "ticketing/ticket-sales  (" in out  # found by the catalog's search
    assert "/catalog/" in out
    assert not (tmp_path / "demo" / "mesh" / "mesh.json").exists()  # the mesh was stopped

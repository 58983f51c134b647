"""Logging: filtered by level before structlog is even imported; JSON on stderr when emitted."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import sys
from culturemesh.logs import configure, get_logger
configure("json", "warning")
log = get_logger("culturemesh.test")
log.info("below the level", secret_count=1)
print("structlog" in sys.modules)
log.warning("kept", files=3)
print("structlog" in sys.modules)
"""


def test_events_below_the_level_cost_nothing_and_the_rest_are_json_on_stderr() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["False", "True"]
    (line,) = result.stderr.splitlines()
    event = json.loads(line)
    assert (event["event"], event["level"], event["files"]) == ("kept", "warning", 3)

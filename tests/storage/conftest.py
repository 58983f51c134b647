"""Fixtures for the object-store contract: each ``ObjectStore`` implementation, fresh per test.

The S3 store talks HTTP to a real moto server in its own process (one per test session); each
test gets its own bucket prefix, so tests never see each other's objects.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from culturemesh.s3store import S3Store
from culturemesh.store import FilesystemStore, ObjectStore

REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"moto server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered, if only to say no
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"moto server did not answer on {url} within 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto server process on 127.0.0.1, stopped at the end of the session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def s3_client(moto_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each implementation in turn; the S3 store lists two keys a page, so listing crosses pages."""
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "objects")
    client = request.getfixturevalue("s3_client")
    return S3Store(client, bucket_prefix=f"cm-{uuid.uuid4().hex[:12]}-", page_size=2)

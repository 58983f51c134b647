"""Fixtures for the ``Kms`` contract suite: every implementation, ready to use.

``kms`` is a :class:`LocalKms` on a fresh keyring in a temporary folder, or an :class:`AwsKms`
talking over HTTP to a real moto server, started once per session as its own process on
127.0.0.1 (region eu-west-1, dummy credentials) and stopped at the end.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]  # boto3 has no types
import pytest

from culturemesh.awskms import AwsKms
from culturemesh.keyring import LocalKms
from culturemesh.kms import Kms

REGION = "eu-west-1"


@dataclass(frozen=True)
class MotoServer:
    url: str

    def client(self, principal: str = "admin") -> Any:
        """A KMS client for ``principal``; moto accepts any credentials, so they are all the same dummy ones."""
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        return session.client("kms", endpoint_url=self.url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:  # e.g. the port was taken after all: never test against someone else's server
            raise AssertionError(f"moto server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"moto server did not answer on {url} within 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_answering(process, url, log)
        yield MotoServer(url)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def local_kms(tmp_path: Path) -> LocalKms:
    return LocalKms(tmp_path / "keys" / "keyring.json")


@pytest.fixture
def aws_kms(moto_server: MotoServer) -> AwsKms:
    return AwsKms(moto_server.client)


@pytest.fixture(params=["LocalKms", "AwsKms"])
def kms(request: pytest.FixtureRequest) -> Kms:
    """Each implementation in turn; the moto server starts only when an AwsKms test runs."""
    implementation: Kms = request.getfixturevalue("local_kms" if request.param == "LocalKms" else "aws_kms")
    return implementation


@pytest.fixture
def new_alias() -> Callable[[str], str]:
    """Aliases unique to the test: the moto server keeps its keys for the whole session."""
    run = uuid.uuid4().hex[:8]
    return lambda name: f"alias/test-{name}-{run}"

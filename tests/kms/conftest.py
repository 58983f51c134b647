"""Fixtures for the ``Kms`` contract suite: every implementation, ready to use.

``kms`` is a :class:`LocalKms` on a fresh keyring in a temporary folder, or an :class:`AwsKms`
talking over HTTP to a real moto server, started once per session as its own process on
127.0.0.1 (region eu-west-1, dummy credentials) and stopped at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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


@pytest.fixture(scope="session")
def moto_server(moto_endpoint: str) -> MotoServer:
    return MotoServer(moto_endpoint)


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

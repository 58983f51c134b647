"""Fixtures for the object-store contract: each ``ObjectStore`` implementation, fresh per test.

The S3 store talks HTTP to a real moto server in its own process (one per test session); each
test gets its own bucket prefix, so tests never see each other's objects.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from culturemesh.s3store import S3Store
from culturemesh.store import FilesystemStore, ObjectStore

REGION = "eu-west-1"


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

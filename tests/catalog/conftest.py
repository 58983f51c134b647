"""Fixtures for the catalog: each ``Registry`` backend, fresh per test, and small descriptors.

The DynamoDB registry talks HTTP to the session's real moto server (``moto_endpoint`` in
tests/conftest.py); each test gets its own table, created as the Terraform module creates it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from culturemesh.catalog.dynamo import DynamoRegistry, create_table
from culturemesh.catalog.registry import Registry
from culturemesh.catalog.sqlite import SqliteRegistry
from culturemesh.versions import Lineage, Manifest
from tests.conftest import REPO

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "eu-west-1"


def descriptor_text(name: str) -> str:
    """``ticket-sales`` is the repository's real product; the others are fixtures here."""
    if name == "ticket-sales":
        return (REPO / "functions" / "ticket-sales" / "data-product.yaml").read_text()
    return (FIXTURES / f"{name}.yaml").read_text()


def manifest(
    product: str,
    port: str,
    version: str,
    created: str = "2026-11-27T10:00:00.000Z",
    *,
    rows: int = 3,
    inputs: tuple[dict[str, Any], ...] = (),
) -> Manifest:
    key = f"{product}/{port}/versions/{version}/part-00000.parquet"
    return Manifest(
        dataproduct=product,
        outputport=port,
        version=version,
        format="parquet",
        created=created,
        rows=rows,
        bytes=1234,
        files=({"key": key, "uri": f"file:///store/products/{key}", "size": 1234, "sha256": "0" * 64},),
        schema=({"name": "event_id", "type": "string", "nullable": False},),
        lineage=Lineage(
            inputs or ({"bucket": "landing", "key": f"{product}/up/x.csv", "etag": "e", "size": 9},), "ingest", "abc"
        ),
    )


def manifest_uri(m: Manifest) -> str:
    return f"file:///store/products/{m.dataproduct}/{m.outputport}/versions/{m.version}/manifest.json"


@pytest.fixture(scope="session")
def dynamodb_client(moto_endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def sqlite_registry(tmp_path: Path) -> Iterator[SqliteRegistry]:
    registry = SqliteRegistry(tmp_path / "registry.sqlite")
    yield registry
    registry.close()


@pytest.fixture
def dynamodb_registry(dynamodb_client: Any) -> DynamoRegistry:
    table = f"cm-registry-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client, table)
    return DynamoRegistry(dynamodb_client, table)


@pytest.fixture(params=["sqlite", "dynamodb"])
def registry(request: pytest.FixtureRequest) -> Registry:
    """Each backend in turn; the moto server starts only when a DynamoDB test runs."""
    backend: Registry = request.getfixturevalue(f"{request.param}_registry")
    return backend


@pytest.fixture
def populated(registry: Registry) -> Callable[[], Registry]:
    """Register the three sample products (and nothing else)."""

    def fill() -> Registry:
        for name in ("ticket-sales", "uit-events", "museum-visits"):
            registry.register_product(descriptor_text(name), source=f"{name}.yaml")
        return registry

    return fill

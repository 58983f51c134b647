"""The platform services a process talks to, chosen once from the settings: the object store and
the KMS. A function never knows which ones it got.

- ``CULTUREMESH_STORE=filesystem`` (default): :class:`FilesystemStore` under ``HOME/store``;
  ``s3``: :class:`S3Store` (buckets ``<CULTUREMESH_BUCKET_PREFIX><bucket>``).
- ``CULTUREMESH_KMS=local`` (default): :class:`LocalKms`, the keyring ``HOME/keys/keyring.json``;
  ``aws``: :class:`AwsKms` through the AWS KMS API (the interface a KMaaS offers or is fronted with).
- ``CULTUREMESH_REGISTRY=sqlite`` (default): the catalog registry in ``HOME/registry.sqlite``;
  ``dynamodb``: the table ``CULTUREMESH_REGISTRY_TABLE`` (see ``culturemesh.catalog.dynamo``).
- ``CULTUREMESH_AWS_ENDPOINT`` points all three at an S3/KMS-compatible endpoint; credentials and
  roles come from the usual AWS environment (in a cluster: each Service's IRSA role).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from culturemesh.kms import Kms
from culturemesh.settings import Settings
from culturemesh.store import FilesystemStore, ObjectStore

if TYPE_CHECKING:
    from culturemesh.catalog.registry import Registry


def _client(settings: Settings, service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint or None)


def open_store(settings: Settings) -> ObjectStore:
    if settings.store == "s3":
        from culturemesh.s3store import S3Store

        return S3Store(_client(settings, "s3"), settings.bucket_prefix)
    return FilesystemStore(settings.store_root)


def open_kms(settings: Settings) -> Kms:
    if settings.kms == "aws":
        from culturemesh.awskms import AwsKms

        client = _client(settings, "kms")  # one process runs as one IAM role: its credentials decide
        return AwsKms(lambda principal: client)
    from culturemesh.keyring import LocalKms

    return LocalKms(settings.home / "keys" / "keyring.json")


def open_registry(settings: Settings) -> Registry:
    """The catalog registry; open it once per process and share it."""
    if settings.registry == "dynamodb":
        from culturemesh.catalog.dynamo import DynamoRegistry

        return DynamoRegistry(_client(settings, "dynamodb"), settings.registry_table)
    from culturemesh.catalog.sqlite import SqliteRegistry

    return SqliteRegistry(settings.home / "registry.sqlite")

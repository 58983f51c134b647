"""The platform's settings in a cluster: one ConfigMap every culturemesh container reads (``envFrom``).

The product manifests in ``knative/`` are the ones the embedded mesh runs too, so they carry only
what is the same everywhere; what differs in a cluster (S3 and AWS KMS instead of the filesystem
store and the local keyring, the DynamoDB registry, JSON logs) is in ``knative/cluster/``, as a
ConfigMap named :data:`CONFIG_MAP` whose keys are the ``CULTUREMESH_*`` settings. The embedded
mesh ignores ``envFrom`` and keeps its own defaults. The bucket prefix, table name and region are
the production Terraform environment's defaults; an operator who changes those variables edits
the ConfigMap to match (docs/operators.md).
"""

from __future__ import annotations

from typing import Any

from culturemesh.settings import DEFAULT_NAMESPACE

CONFIG_MAP = "culturemesh-platform"
ENV_FROM: list[dict[str, Any]] = [{"configMapRef": {"name": CONFIG_MAP}}]

SETTINGS = {
    "CULTUREMESH_STORE": "s3",
    "CULTUREMESH_KMS": "aws",
    "CULTUREMESH_REGISTRY": "dynamodb",
    "CULTUREMESH_REGISTRY_TABLE": "culturemesh-registry",  # "${var.bucket_prefix}registry"
    "CULTUREMESH_BUCKET_PREFIX": "culturemesh-",  # var.bucket_prefix
    "CULTUREMESH_AWS_REGION": "eu-west-1",  # var.region
    "CULTUREMESH_LOG_FORMAT": "json",
}


def config_map(namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIG_MAP,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "culturemesh"},
        },
        "data": dict(SETTINGS),
    }

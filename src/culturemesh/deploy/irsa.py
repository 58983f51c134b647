"""ServiceAccounts for IRSA (IAM roles for service accounts on EKS), generated from the descriptors.

Each product's Knative Services run as ``dp-<domain>-<name>``; the ``iam`` Terraform module
creates the role ``culturemesh-<domain>-<name>`` whose trust policy admits exactly
``system:serviceaccount:<namespace>:dp-<domain>-<name>``. The ServiceAccount carries that role's
ARN in ``eks.amazonaws.com/role-arn`` so EKS's pod identity webhook hands the pods its credentials.
The platform's own Services get the same treatment, each with its own role: the S3 adapter, the
dead-letter sink and the catalog's freshness check.

The AWS account is not known when the manifests are generated for the repository: the committed
files name :data:`PLACEHOLDER_ACCOUNT`, and an operator renders them for the real account with
``CULTUREMESH_AWS_ACCOUNT_ID`` (see docs/operators.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from culturemesh.descriptor import Descriptor
from culturemesh.errors import ConfigError
from culturemesh.settings import DEFAULT_NAMESPACE

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
PLACEHOLDER_ACCOUNT = "000000000000"  # no AWS account has this id; STS refuses it, loudly
ADAPTER_ACCOUNT = "culturemesh-s3-adapter"
ADAPTER_ROLE = "culturemesh-s3-adapter"
DEAD_LETTERS_ACCOUNT = "culturemesh-dead-letters"  # the Service culturemesh.deadletters.SERVICE
DEAD_LETTERS_ROLE = "culturemesh-dead-letters"
CATALOG_ACCOUNT = "culturemesh-catalog"  # the freshness check's Service (culturemesh.deploy.cluster)
CATALOG_ROLE = "culturemesh-catalog"
# The platform's Services (not a product's): service account -> the iam module's role for it.
PLATFORM_ROLES = {ADAPTER_ACCOUNT: ADAPTER_ROLE, DEAD_LETTERS_ACCOUNT: DEAD_LETTERS_ROLE, CATALOG_ACCOUNT: CATALOG_ROLE}
_ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,64}$")


def function_service_account(descriptor: Descriptor) -> str:
    """The service account every Knative Service of the product runs as (a DNS-1123 subdomain)."""
    return f"dp-{descriptor.domain}-{descriptor.name}"[:63]  # as the iam module: substr(…, 0, 63)


def function_role(descriptor: Descriptor) -> str:
    """The role name the iam module gives the product's functions (``culturemesh-<domain>-<name>``)."""
    return f"culturemesh-{descriptor.domain}-{descriptor.name}"


def role_arn(role: str, account_id: str, partition: str = "aws") -> str:
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ConfigError(f"CULTUREMESH_AWS_ACCOUNT_ID={account_id!r}: expected the 12 digits of an AWS account id")
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def service_account(name: str, role: str, account_id: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": DEFAULT_NAMESPACE}
    if labels:
        metadata["labels"] = labels
    metadata["annotations"] = {ROLE_ANNOTATION: role_arn(role, account_id)}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}


def service_accounts(
    descriptors: Sequence[Descriptor],
    account_id: str = PLACEHOLDER_ACCOUNT,
    labels: Callable[[Descriptor], dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """One ServiceAccount per product (its functions share it), then the platform Services' ones."""
    result = [
        service_account(function_service_account(d), function_role(d), account_id, labels(d) if labels else None)
        for d in sorted(descriptors, key=lambda d: d.qualified_name)
    ]
    result.extend(service_account(name, role, account_id) for name, role in PLATFORM_ROLES.items())
    return result

"""Registry records to and from JSON-ready dicts, the one stored form both backends share."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from culturemesh.catalog.registry import (
    ColumnRecord,
    PortRecord,
    PortRef,
    ProductRecord,
    SubscriptionRecord,
    VersionRecord,
)
from culturemesh.descriptor import Contact, TermsOfUse
from culturemesh.versions import Lineage, Manifest


def product_to_dict(record: ProductRecord) -> dict[str, Any]:
    return asdict(record)


def product_from_dict(raw: dict[str, Any]) -> ProductRecord:
    terms = raw["terms_of_use"]
    return ProductRecord(
        id=raw["id"],
        domain=raw["domain"],
        name=raw["name"],
        namespace=raw["namespace"],
        summary=raw["summary"],
        owner=Contact(**raw["owner"]),
        team=Contact(**raw["team"]) if raw["team"] else None,
        terms_of_use=TermsOfUse(**terms) if terms else None,
        themes=tuple(raw["themes"]),
        ports=tuple(_port(port) for port in raw["ports"]),
        inputs=tuple(PortRef(**ref) for ref in raw["inputs"]),
        descriptor_yaml=raw["descriptor_yaml"],
        digest=raw["digest"],
        registered=raw["registered"],
        updated=raw["updated"],
    )


def _port(raw: dict[str, Any]) -> PortRecord:
    return PortRecord(
        **{
            **raw,
            "columns": tuple(ColumnRecord(**column) for column in raw["columns"]),
            "primary_key": tuple(raw["primary_key"]),
            "principals": tuple(raw["principals"]),
        }
    )


def manifest_from_dict(raw: dict[str, Any]) -> Manifest:
    lineage = raw["lineage"]
    return Manifest(
        **{
            **raw,
            "files": tuple(raw["files"]),
            "schema": tuple(raw["schema"]),
            "lineage": Lineage(tuple(lineage["inputs"]), lineage["function"], lineage["function_version"]),
        }
    )


def version_to_dict(record: VersionRecord) -> dict[str, Any]:
    return asdict(record)


def version_from_dict(raw: dict[str, Any]) -> VersionRecord:
    return VersionRecord(**{**raw, "manifest": manifest_from_dict(raw["manifest"])})


def subscription_to_dict(record: SubscriptionRecord) -> dict[str, Any]:
    return asdict(record)


def subscription_from_dict(raw: dict[str, Any]) -> SubscriptionRecord:
    return SubscriptionRecord(**{**raw, "filters": tuple(tuple(f) for f in raw["filters"])})


def manifest_key(manifest: Manifest) -> str:
    """A canonical text of a manifest: two manifests are the same version iff their keys are equal."""
    return json.dumps(asdict(manifest), sort_keys=True, separators=(",", ":"))

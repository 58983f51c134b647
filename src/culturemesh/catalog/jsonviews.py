"""Registry records as the catalog API's JSON (camelCase keys, as ``openapi.yaml`` documents them)."""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from culturemesh.catalog.freshness import PortFreshness, product_freshness
from culturemesh.catalog.registry import (
    LineageEdge,
    PortRecord,
    ProductRecord,
    Registry,
    SubscriptionRecord,
    VersionRecord,
)
from culturemesh.versions import Manifest


def _contact(contact: Any) -> dict[str, Any] | None:
    return None if contact is None else {"name": contact.name, "contact": contact.contact}


def freshness_json(found: PortFreshness) -> dict[str, Any]:
    latest = found.latest.version if found.latest else None
    return {
        "state": found.state.value,
        "updateEvery": found.update_every,
        "since": found.since,
        "due": found.due,
        "latestVersion": latest,
    }


def port_json(port: PortRecord, found: PortFreshness) -> dict[str, Any]:
    columns = [
        {
            "name": c.name,
            "type": c.type,
            "nullable": c.nullable,
            "description": c.description,
            "classification": c.classification,
        }
        for c in port.columns
    ]
    return {
        "name": port.name,
        "type": port.type,
        "format": port.format,
        "description": port.description,
        "contentDescription": port.content_description,
        "updateEvery": port.update_every,
        "columns": columns,
        "primaryKey": list(port.primary_key),
        "principals": list(port.principals),
        "freshness": freshness_json(found),
    }


def summary_json(product: ProductRecord, state: str, score: float | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "id": product.id,
        "domain": product.domain,
        "name": product.name,
        "summary": product.summary,
        "owner": _contact(product.owner),
        "team": _contact(product.team),
        "themes": list(product.themes),
        "portTypes": sorted({port.type for port in product.ports}),
        "freshness": state,
        "links": {"self": f"/api/products/{product.id}", "html": f"/catalog/products/{product.id}"},
    }
    if score is not None:
        summary["score"] = score
    return summary


def product_json(registry: Registry, product: ProductRecord) -> dict[str, Any]:
    found = product_freshness(registry, product, datetime.now(UTC))
    terms = product.terms_of_use
    return {
        **summary_json(product, found.state.value),
        "namespace": product.namespace,
        "termsOfUse": None if terms is None else {"name": terms.name, "uri": terms.uri},
        "ports": [port_json(port, fresh) for port, fresh in zip(product.ports, found.ports, strict=True)],
        "inputs": [{"product": ref.product, "port": ref.port} for ref in product.inputs],
        "registered": product.registered,
        "updated": product.updated,
        "digest": product.digest,
    }


def manifest_json(manifest: Manifest) -> dict[str, Any]:
    return asdict(manifest)


def version_json(record: VersionRecord) -> dict[str, Any]:
    return {
        "product": record.product,
        "port": record.port,
        "version": record.version,
        "created": record.created,
        "rows": record.rows,
        "bytes": record.bytes,
        "format": record.format,
        "manifestUri": record.manifest_uri,
        "registered": record.registered,
        "manifest": manifest_json(record.manifest),
        "upstreams": [{"product": ref.product, "port": ref.port} for ref in record.upstreams],
    }


def edge_json(edge: LineageEdge) -> dict[str, Any]:
    return {
        "downstream": edge.downstream,
        "upstream": edge.upstream,
        "upstreamPort": edge.upstream_port,
        "declared": edge.declared,
        "lastVersion": edge.last_version,
        "firstSeen": edge.first_seen,
    }


def subscription_json(record: SubscriptionRecord) -> dict[str, Any]:
    filters = [{"kind": kind, "attribute": name, "value": value} for kind, name, value in record.filters]
    return {**{k: getattr(record, k) for k in ("name", "product", "port", "sink", "created")}, "filters": filters}


def json_value(value: Any) -> Any:
    """A cell of an Arrow row as JSON: decimals, dates and times as text, bytes as base64."""
    if isinstance(value, Decimal | date | time | timedelta):
        return value.isoformat() if isinstance(value, date | time) else str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value

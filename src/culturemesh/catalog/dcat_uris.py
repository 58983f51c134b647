"""Where the DCAT-AP Vlaanderen export says things live: dataset URIs, and the URLs of the catalog API,
the SPARQL endpoints and the broker that distributions and data services point at.
"""

from __future__ import annotations

from rdflib import URIRef

from culturemesh.descriptor import Descriptor
from culturemesh.settings import DEFAULT_BROKER, DEFAULT_NAMESPACE


def sparql_endpoint(base: str, descriptor: Descriptor, port: str) -> str:
    return f"{base}/sparql/{descriptor.domain}/{descriptor.name}/{port}"


def api_port(base: str, descriptor: Descriptor, port: str) -> str:
    return f"{base}/api/products/{descriptor.domain}/{descriptor.name}/ports/{port}"


def api_versions(base: str, descriptor: Descriptor, port: str, version: str | None) -> str:
    return f"{api_port(base, descriptor, port)}/versions" + (f"/{version}" if version else "")


def api_description(base: str) -> str:
    return f"{base}/api/openapi.yaml"


def broker_ingress(base: str) -> str:
    """Where the platform broker takes events; a subscription is a Trigger on that broker."""
    return f"{base}/{DEFAULT_NAMESPACE}/{DEFAULT_BROKER}"


def dataset_uri(base: str, descriptor: Descriptor) -> URIRef:
    return URIRef(f"{base}/id/dataproduct/{descriptor.domain}/{descriptor.name}")

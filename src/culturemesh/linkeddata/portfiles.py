"""The sealed files of a linked-data port version, and reading them back as a principal.

A version of a ``linkeddata`` port holds, next to its manifest::

    graphs.nq            N-Quads, one named graph per entity, sorted by graph (role "nquads")
    data.ttl             the same triples as Turtle, graphs merged (role "turtle")
    data.jsonld          JSON-LD with the OSLO context (role "jsonld")
    graphs.index.arrows  the per-graph index of graphs.nq (role "index"; see quadfile)

Each file is sealed (``culturemesh.sealing``) with a fresh data key wrapped under the product key,
bound to an encryption context naming the product, the bucket and the object key, so a file only
unseals as itself and only for principals the KMS grants the product key: the product's functions
and the principals in the port's ``access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from culturemesh import keys, versions
from culturemesh.access import AccessDenied, grant
from culturemesh.errors import ConfigError
from culturemesh.kms import KeyAccessDenied, Kms
from culturemesh.linkeddata import quadfile
from culturemesh.sealing import seal_bytes, unseal_bytes
from culturemesh.store import ObjectStore

if TYPE_CHECKING:
    import pyarrow as pa

    from culturemesh.descriptor import Descriptor

SEALED = "application/vnd.culturemesh.sealed"
FILES = {
    "nquads": ("graphs.nq", "application/n-quads"),
    "turtle": ("data.ttl", "text/turtle"),
    "jsonld": ("data.jsonld", "application/ld+json"),
    "index": ("graphs.index.arrows", "application/vnd.apache.arrow.stream"),
}


@dataclass(frozen=True)
class PortVersion:
    """A version's N-Quads and its graph index, decrypted."""

    manifest: versions.Manifest
    nquads: bytes
    index: pa.Table


def file_context(descriptor: Descriptor, key: str) -> dict[str, str]:
    return {"dataproduct": descriptor.qualified_name, "bucket": versions.PRODUCTS, "object": key}


def put_sealed(
    store: ObjectStore, kms: Kms, descriptor: Descriptor, principal: str, key: str, role: str, data: bytes
) -> dict[str, Any]:
    """Seal ``data`` under the product key, store it, and return its manifest file entry."""
    sealed = seal_bytes(kms, keys.product_key(descriptor), file_context(descriptor, key), principal, data)
    info = store.put(versions.PRODUCTS, key, sealed, content_type=SEALED, notify=False)
    return {
        "key": key,
        "uri": store.uri(versions.PRODUCTS, key),
        "size": info.size,
        "sha256": info.sha256,
        "role": role,
        "mediaType": FILES[role][1],
        "plainSize": len(data),
    }


def read_file(
    store: ObjectStore, kms: Kms, descriptor: Descriptor, principal: str, manifest: versions.Manifest, role: str
) -> bytes:
    """The decrypted file of ``role`` in ``manifest``; the KMS decides whether ``principal`` may."""
    entry = next((f for f in manifest.files if f.get("role") == role), None)
    resource = f"{descriptor.qualified_name} port {manifest.outputport!r}"
    if entry is None:
        raise ConfigError(f"{resource} version {manifest.version} has no {role} file")
    try:
        return unseal_bytes(
            kms, file_context(descriptor, entry["key"]), principal, store.get(versions.PRODUCTS, entry["key"]), resource
        )
    except KeyAccessDenied as exc:
        raise AccessDenied(principal, resource, f"the KMS refused key {exc.key!r}") from None


def read_version(
    store: ObjectStore, kms: Kms, descriptor: Descriptor, port: str, principal: str, version: str | None = None
) -> PortVersion:
    """A version (default: the latest) of linked-data port ``port`` as ``principal`` reads it."""
    if principal != keys.function_principal(descriptor):  # the product's own functions wrote it
        grant(descriptor, port, principal, [])  # raises AccessDenied for a principal without a grant
    manifest = versions.read_manifest(store, descriptor.qualified_name, port, version)
    index = quadfile.index_from_bytes(read_file(store, kms, descriptor, principal, manifest, "index"))
    return PortVersion(manifest, read_file(store, kms, descriptor, principal, manifest, "nquads"), index)

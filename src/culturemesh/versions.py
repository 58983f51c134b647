"""Immutable output-port versions: files, a manifest, and a ``latest`` pointer that moves last.

Layout in the ``products`` bucket::

    <domain>/<product>/<port>/versions/<version>/part-00000.parquet
    <domain>/<product>/<port>/versions/<version>/manifest.json
    <domain>/<product>/<port>/latest.json          {"version": …, "manifest": …}

A version's files are written first, then its manifest (create-only), then ``latest.json`` with a
compare-and-swap on its ETag. A crash at any point leaves the previous version as latest, and a
reader only ever follows a manifest, so half-written files are never visible. The version id is
derived from the inputs' content and the function's version: the same input twice gives the
same version, not two.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from culturemesh.errors import ObjectNotFound, PreconditionFailed, StoreError
from culturemesh.store import ObjectInfo, ObjectStore

PRODUCTS = "products"


@dataclass(frozen=True)
class Lineage:
    inputs: tuple[dict[str, Any], ...]
    function: str
    function_version: str


@dataclass(frozen=True)
class Manifest:
    dataproduct: str
    outputport: str
    version: str
    format: str
    created: str
    rows: int
    bytes: int
    files: tuple[dict[str, Any], ...]
    schema: tuple[dict[str, Any], ...]
    lineage: Lineage
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> builtins.bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: builtins.bytes) -> Manifest:
        raw = json.loads(data)
        raw["lineage"] = Lineage(**{**raw["lineage"], "inputs": tuple(raw["lineage"]["inputs"])})
        raw["files"], raw["schema"] = tuple(raw["files"]), tuple(raw["schema"])
        return cls(**raw)


def port_prefix(qualified_name: str, port: str) -> str:
    return f"{qualified_name}/{port}"


def version_id(port: str, inputs: Sequence[ObjectInfo], function_version: str) -> str:
    """Deterministic: the port, the inputs' content (sha256) and the function's version."""
    digest = hashlib.sha256()
    for part in (port, function_version, *sorted(info.sha256 for info in inputs)):
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:20]


def manifest_key(qualified_name: str, port: str, version: str) -> str:
    return f"{port_prefix(qualified_name, port)}/versions/{version}/manifest.json"


def file_key(qualified_name: str, port: str, version: str, name: str) -> str:
    return f"{port_prefix(qualified_name, port)}/versions/{version}/{name}"


def latest_key(qualified_name: str, port: str) -> str:
    return f"{port_prefix(qualified_name, port)}/latest.json"


def existing(store: ObjectStore, qualified_name: str, port: str, version: str) -> Manifest | None:
    """The manifest of a version that was already published (a redelivery), else ``None``."""
    try:
        return Manifest.from_json(store.get(PRODUCTS, manifest_key(qualified_name, port, version)))
    except ObjectNotFound:
        return None


class BaseMoved(StoreError):
    """An incremental version was merged onto a version that is no longer the latest."""


_ANY = object()


def latest_version(store: ObjectStore, qualified_name: str, port: str) -> str | None:
    try:
        return str(json.loads(store.get(PRODUCTS, latest_key(qualified_name, port)))["version"])
    except ObjectNotFound:
        return None


def commit(store: ObjectStore, manifest: Manifest, base: object = _ANY) -> str:
    """Write the manifest (create-only) and move ``latest`` to it; returns the manifest's URI.

    With ``base`` (a version id, or None for "no version yet"), ``latest`` must still be at that
    version, else :class:`BaseMoved` is raised and nothing becomes visible: an incremental version
    merged onto a stale base is recomputed (the delivery is retried), never published.
    """
    key = manifest_key(manifest.dataproduct, manifest.outputport, manifest.version)
    if base is not _ANY and latest_version(store, manifest.dataproduct, manifest.outputport) != base:
        raise BaseMoved(f"{manifest.dataproduct} port {manifest.outputport}: latest moved while merging; retry")
    # a concurrent delivery of the same input may have committed this version already
    with contextlib.suppress(PreconditionFailed):
        store.put(
            PRODUCTS,
            key,
            manifest.to_json(),
            content_type="application/json",
            if_none_match=True,
            notify=False,
        )
    _move_latest(store, manifest, key, base)
    return store.uri(PRODUCTS, key)


def _move_latest(store: ObjectStore, manifest: Manifest, key: str, base: object = _ANY) -> None:
    pointer = latest_key(manifest.dataproduct, manifest.outputport)
    body = json.dumps({"version": manifest.version, "manifest": key, "created": manifest.created}).encode()
    for _ in range(10):
        try:
            current = store.head(PRODUCTS, pointer)
        except ObjectNotFound:
            current = None
        if current is not None:
            previous = json.loads(store.get(PRODUCTS, pointer))
            if previous["version"] == manifest.version:
                return
            if base is _ANY and previous.get("created", "") > manifest.created:
                return  # finishing an older version's commit (a redelivery): a newer one stays latest
            if base is not _ANY and previous["version"] != base:
                raise BaseMoved(f"{pointer}: moved to {previous['version']} while merging onto {base}; retry")
        try:
            store.put(
                PRODUCTS,
                pointer,
                body,
                content_type="application/json",
                notify=False,
                if_none_match=current is None,
                if_match=current.etag if current else None,
            )
            return
        except PreconditionFailed:
            continue
    raise StoreError(f"could not move {pointer} after 10 attempts: too many concurrent publishers")


def latest(store: ObjectStore, qualified_name: str, port: str) -> Manifest:
    pointer = json.loads(store.get(PRODUCTS, latest_key(qualified_name, port)))
    return Manifest.from_json(store.get(PRODUCTS, pointer["manifest"]))


def read_manifest(store: ObjectStore, qualified_name: str, port: str, version: str | None) -> Manifest:
    if version is None:
        return latest(store, qualified_name, port)
    found = existing(store, qualified_name, port, version)
    if found is None:
        raise ObjectNotFound(PRODUCTS, manifest_key(qualified_name, port, version))
    return found


def input_marker_key(qualified_name: str, port: str, sha256: str) -> str:
    return f"{port_prefix(qualified_name, port)}/inputs/{sha256}.json"


def processed(store: ObjectStore, qualified_name: str, port: str, sha256: str) -> Manifest | None:
    """The version an input already became on an incremental port (a redelivery), else None."""
    try:
        marker = json.loads(store.get(PRODUCTS, input_marker_key(qualified_name, port, sha256)))
    except ObjectNotFound:
        return None
    return existing(store, qualified_name, port, marker["version"])


def record_input(store: ObjectStore, manifest: Manifest, sha256: str) -> None:
    body = json.dumps({"version": manifest.version}).encode()
    key = input_marker_key(manifest.dataproduct, manifest.outputport, sha256)
    store.put(PRODUCTS, key, body, content_type="application/json", notify=False)

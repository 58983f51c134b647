"""The provider side: putting a file on a product's upload port, as S3 and its notification would."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from culturemesh import events, keys
from culturemesh.backends import open_kms, open_store
from culturemesh.descriptor import Descriptor, UploadInput
from culturemesh.errors import ConfigError
from culturemesh.kms import Kms
from culturemesh.mesh.client import MeshClient
from culturemesh.pipeline import prefetched
from culturemesh.product import LANDING, landing_key, upload_context
from culturemesh.sealing import ChunkReader, seal
from culturemesh.settings import Settings
from culturemesh.store import ObjectInfo, ObjectStore


def upload_port(descriptor: Descriptor, port: str | None) -> UploadInput:
    """The named upload port, or the only one when no name is given."""
    uploads = descriptor.upload_inputs()
    names = [u.port for u in uploads]
    if port is None:
        if len(uploads) != 1:
            raise ConfigError(f"{descriptor.qualified_name} has upload ports {names or 'none'}; choose one with --port")
        return uploads[0]
    for upload in uploads:
        if upload.port == port:
            return upload
    raise ConfigError(f"{descriptor.qualified_name} has no upload port {port!r}; upload ports: {names or 'none'}")


def upload_stamp() -> str:
    """Each upload gets its own folder, so no raw upload is ever overwritten."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def upload_file(
    settings: Settings,
    descriptor: Descriptor,
    file: Path,
    port: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ObjectInfo:
    """Store ``file`` in the landing bucket and notify the mesh; fails early if the mesh is down."""
    target = upload_port(descriptor, port)
    client = MeshClient(settings.mesh_url, settings.ingress_url)
    if not client.health():
        client.status()  # raises MeshUnavailable with the reason
    store = open_store(settings)
    store.add_listener(lambda info: client.send(events.object_created(info.as_stored())))
    key = landing_key(descriptor, target.port, f"{upload_stamp()}/{file.name}")
    return put_sealed(store, open_kms(settings), descriptor, key, file, progress)


def put_sealed(
    store: ObjectStore,
    kms: Kms,
    descriptor: Descriptor,
    key: str,
    file: Path,
    progress: Callable[[int], None] | None = None,
    notify: bool = True,
) -> ObjectInfo:
    """Seal ``file`` as the product's provider and store it in the landing bucket under ``key``."""
    with file.open("rb") as body:
        sealed = seal(
            kms,
            keys.landing_key(descriptor),
            upload_context(descriptor, key),
            keys.provider_principal(descriptor),
            body,
        )
        with contextlib.closing(prefetched(sealed, depth=4)) as ahead:  # sealed while the last frames are stored
            return store.put(LANDING, key, io.BufferedReader(ChunkReader(ahead)), progress=progress, notify=notify)

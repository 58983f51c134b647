"""Object storage: the ``ObjectStore`` seam and its filesystem implementation (the embedded default).

The filesystem store keeps S3's semantics where they matter to culturemesh: an object appears
whole or not at all (write to a temporary file, fsync, atomic rename), every object has a sha256
and an ETag (opaque, as S3's are for the SSE-KMS objects culturemesh stores; here the first half
of the sha256, so no second digest is computed), writes can be conditional (``If-None-Match: *``
create-only, ``If-Match`` on an ETag), listing is by prefix, and every put notifies listeners
with an S3-shaped record.

Layout under the root: ``<bucket>/<key>`` for the bytes, ``.meta/<bucket>/<key>.json`` for
checksums, and ``.tmp/`` for writes in progress (never visible as objects).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from culturemesh.errors import ObjectNotFound, PreconditionFailed, StoreError
from culturemesh.events import StoredObject, now_iso

CHUNK = 1 << 20


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str
    sha256: str
    sequencer: str
    modified: str
    content_type: str = "application/octet-stream"

    def as_stored(self, region: str = "local") -> StoredObject:
        return StoredObject(self.bucket, self.key, self.size, self.etag, self.sequencer, region, self.modified)


Listener = Callable[[ObjectInfo], None]


class ObjectStore(Protocol):
    def put(
        self,
        bucket: str,
        key: str,
        body: bytes | BinaryIO,
        *,
        content_type: str = ...,
        if_none_match: bool = ...,
        if_match: str | None = ...,
        progress: Callable[[int], None] | None = ...,
        notify: bool = ...,
    ) -> ObjectInfo: ...

    def get(self, bucket: str, key: str) -> bytes: ...

    def open(self, bucket: str, key: str) -> BinaryIO: ...

    def head(self, bucket: str, key: str) -> ObjectInfo: ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def uri(self, bucket: str, key: str) -> str: ...

    def add_listener(self, listener: Listener) -> None: ...


def _check_name(kind: str, value: str) -> None:
    parts = value.split("/")
    if not value or value.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise StoreError(f"invalid {kind} {value!r}: expected a relative path without '.', '..' or '//'")
    if parts[0] in (".meta", ".tmp"):
        raise StoreError(f"invalid {kind} {value!r}: names starting with .meta or .tmp are reserved")


def _chunks(body: bytes | BinaryIO) -> Iterable[bytes]:
    if isinstance(body, bytes | bytearray | memoryview):
        yield bytes(body)
        return
    while chunk := body.read(CHUNK):
        yield chunk


class FilesystemStore:
    """An ``ObjectStore`` on a local folder; safe across processes on one machine."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._listeners: list[Listener] = []
        (root / ".tmp").mkdir(parents=True, exist_ok=True)
        (root / ".meta").mkdir(parents=True, exist_ok=True)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def path(self, bucket: str, key: str) -> Path:
        _check_name("bucket", bucket)
        _check_name("key", key)
        return self.root / bucket / key

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self.root / ".meta" / bucket / f"{key}.json"

    def uri(self, bucket: str, key: str) -> str:
        return self.path(bucket, key).resolve().as_uri()

    @contextlib.contextmanager
    def _lock(self, bucket: str) -> Iterator[None]:
        lock_file = self.root / ".tmp" / f"{bucket}.lock"
        with lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes | BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        if_none_match: bool = False,
        if_match: str | None = None,
        progress: Callable[[int], None] | None = None,
        notify: bool = True,
    ) -> ObjectInfo:
        target = self.path(bucket, key)
        tmp = self.root / ".tmp" / f"{os.getpid()}-{time.monotonic_ns()}.part"
        sha = hashlib.sha256()
        size = 0
        try:
            with tmp.open("wb") as out:
                for chunk in _chunks(body):
                    out.write(chunk)
                    sha.update(chunk)
                    size += len(chunk)
                    if progress:
                        progress(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            info = ObjectInfo(
                bucket,
                key,
                size,
                digest[:32],  # the ETag: opaque, as S3's is for SSE-KMS objects; here a content digest
                digest,
                f"{time.time_ns():020X}",
                now_iso(),
                content_type,
            )
            with self._lock(bucket):
                self._check_conditions(bucket, key, if_none_match, if_match)
                target.parent.mkdir(parents=True, exist_ok=True)
                self._write_meta(info)
                tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        if notify:
            for listener in self._listeners:
                listener(info)
        return info

    def _check_conditions(self, bucket: str, key: str, if_none_match: bool, if_match: str | None) -> None:
        present = self.path(bucket, key).is_file()
        if if_none_match and present:
            raise PreconditionFailed(bucket, key, "If-None-Match: *")
        if if_match is not None and (not present or self.head(bucket, key).etag != if_match):
            raise PreconditionFailed(bucket, key, f"If-Match: {if_match}")

    def _write_meta(self, info: ObjectInfo) -> None:
        meta = self._meta_path(info.bucket, info.key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        tmp = meta.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(info)))
        tmp.replace(meta)

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return self.path(bucket, key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(bucket, key) from None

    def open(self, bucket: str, key: str) -> BinaryIO:
        try:
            return self.path(bucket, key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(bucket, key) from None

    def head(self, bucket: str, key: str) -> ObjectInfo:
        try:
            return ObjectInfo(**json.loads(self._meta_path(bucket, key).read_text()))
        except FileNotFoundError:
            raise ObjectNotFound(bucket, key) from None

    def exists(self, bucket: str, key: str) -> bool:
        return self.path(bucket, key).is_file()

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.root / ".meta" / bucket
        if not base.is_dir():
            return
        keys = sorted(meta.relative_to(base).as_posix()[: -len(".json")] for meta in base.rglob("*.json"))
        for key in keys:
            if key.startswith(prefix) and self.path(bucket, key).is_file():
                yield self.head(bucket, key)

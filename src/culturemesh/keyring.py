"""The embedded KMS: :class:`LocalKms`, a keyring file that implements the ``Kms`` seam.

The keyring is one JSON file, readable by its owner only (0o600, in a 0o700 folder)::

    {"format": 1, "keys": [{"id": "<uuid>", "aliases": ["alias/..."], "description": "...",
      "versions": [{"version": 1, "material": "<base64 of 32 bytes>", "created": "..."}],
      "policy": {"<principal>": ["decrypt", "encrypt", "generate"]}}]}

Several processes (the mesh, function processes, the CLI) share it: changes happen under an
exclusive ``flock`` on ``<keyring>.lock`` and land with a temporary file and ``os.replace``, so a
reader sees the old keyring or the new one, never half of one; each call re-reads the file when its
inode, mtime or size changed. Nobody may use a key unless its policy grants it, the creator and
the principal ``"platform"`` included; a ``"*"`` entry grants everyone.

A ciphertext (from ``encrypt``, and ``DataKey.ciphertext``) is a self-describing blob::

    b"CMK" | format (1 byte) | key id (16 bytes) | key version (uint32 BE) | nonce (12) | AES-256-GCM ciphertext+tag

The AAD is the first 24 bytes (marker, format, key id, version) followed by the encryption context
as a count and sorted, length-prefixed UTF-8 key/value pairs; a different context, another key's
blob or any altered byte fails with ``DecryptionFailed``, never with partial plaintext.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import struct
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from culturemesh.kms import DataKey, DecryptionFailed, KeyAccessDenied, KeyNotFound, KmsError, Operation
from culturemesh.logs import get_logger

MAGIC = b"CMK"
FORMAT = 1
MAX_PLAINTEXT = 4096
OPERATIONS = frozenset({"encrypt", "decrypt", "generate"})
_HEADER = struct.Struct(">3sB16sI12s")  # marker, format, key id, key version, nonce
_AUTHENTICATED = 24  # marker, format, key id and version: the part of the header that goes into the AAD
_TAG = 16
_SATISFIED_BY = {"encrypt": {"encrypt"}, "generate": {"generate", "encrypt"}, "decrypt": {"decrypt"}}

T = TypeVar("T")
log = get_logger("culturemesh.keyring")


@dataclass(frozen=True)
class KeyVersion:
    version: int
    material: bytes = field(repr=False)
    created: str


@dataclass(frozen=True)
class KeyRecord:
    id: str
    aliases: tuple[str, ...]
    description: str
    versions: tuple[KeyVersion, ...]
    policy: Mapping[str, frozenset[str]]

    @property
    def name(self) -> str:
        """How errors name the key: its first alias, else its id."""
        return self.aliases[0] if self.aliases else self.id

    def permits(self, principal: str, operation: str) -> bool:
        granted = self.policy.get(principal, frozenset()) | self.policy.get("*", frozenset())
        return bool(granted & _SATISFIED_BY[operation])


class LocalKms:
    """A ``Kms`` on a keyring file; see the module docstring for the file and the ciphertext format."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._cache: tuple[tuple[int, int, int], dict[str, KeyRecord]] | None = None
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path.parent.chmod(0o700)
        if not self.path.exists():
            self._update(lambda keys: None)

    def create_key(self, alias: str, description: str = "") -> str:
        _check_alias(alias)
        found = _find(self._keys(), alias)
        return found.id if found else self._update(lambda keys: _create(keys, alias, description))

    def allow(self, key: str, principal: str, operations: frozenset[Operation]) -> None:
        unknown = set(operations) - OPERATIONS
        if unknown:
            raise KmsError(f"unknown operation(s) {sorted(unknown)}; expected some of {sorted(OPERATIONS)}")

        if operations <= _resolve(self._keys(), key).policy.get(principal, frozenset()):
            return  # already granted: provisioning on every start must not rewrite the keyring

        def grant(keys: dict[str, KeyRecord]) -> None:
            record = _resolve(keys, key)
            policy = {**record.policy, principal: record.policy.get(principal, frozenset()) | operations}
            keys[record.id] = replace(record, policy=policy)

        self._update(grant)
        log.info("kms.grant_added", key=key, principal=principal, operations=sorted(operations))

    def generate_data_key(self, key: str, context: Mapping[str, str], principal: str) -> DataKey:
        record = self._usable(key, principal, "generate")
        plaintext = AESGCM.generate_key(bit_length=256)
        return DataKey(record.id, plaintext, _seal(record, plaintext, context))

    def encrypt(self, key: str, plaintext: bytes, context: Mapping[str, str], principal: str) -> bytes:
        if not 1 <= len(plaintext) <= MAX_PLAINTEXT:
            raise KmsError(f"encrypt takes 1 to {MAX_PLAINTEXT} bytes, got {len(plaintext)}; use a data key for more")
        return _seal(self._usable(key, principal, "encrypt"), plaintext, context)

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str], principal: str) -> bytes:
        key_id, version, nonce, sealed = _parse(ciphertext)
        record = self._keys().get(key_id)
        if record is None:
            raise DecryptionFailed(
                f"ciphertext under key {key_id}", f"keyring {self.path} has no such key (altered, or another keyring's)"
            )
        if not record.permits(principal, "decrypt"):
            raise KeyAccessDenied(principal, record.name, "decrypt")
        material = next((v.material for v in record.versions if v.version == version), None)
        what = f"ciphertext under key {record.name!r} version {version}"
        if material is None:
            raise DecryptionFailed(what, f"the key has versions 1 to {len(record.versions)} only (altered?)")
        try:
            return AESGCM(material).decrypt(nonce, sealed, _aad(ciphertext[:_AUTHENTICATED], context))
        except InvalidTag:
            raise DecryptionFailed(
                what,
                f"the encryption context (keys {sorted(context)}) differs from the one it was made with, "
                "or the ciphertext was altered",
            ) from None

    def rotate(self, key: str) -> None:
        def add_version(keys: dict[str, KeyRecord]) -> int:
            record = _resolve(keys, key)
            number = record.versions[-1].version + 1
            keys[record.id] = replace(record, versions=(*record.versions, _new_version(number)))
            return number

        version = self._update(add_version)
        log.info("kms.key_rotated", key=key, version=version)

    def _usable(self, key: str, principal: str, operation: str) -> KeyRecord:
        record = _resolve(self._keys(), key)
        if not record.permits(principal, operation):
            raise KeyAccessDenied(principal, key, operation)
        return record

    def _keys(self) -> dict[str, KeyRecord]:
        """The keyring as it is on disk now, parsed again only when the file changed."""
        try:
            stat = self.path.stat()
            if self._cache is None or self._cache[0] != (stat.st_ino, stat.st_mtime_ns, stat.st_size):
                with self.path.open("rb") as file:  # the signature of what is read, even if replaced meanwhile
                    opened = os.fstat(file.fileno())
                    keys = _parse_keyring(file.read(), self.path)
                self._cache = ((opened.st_ino, opened.st_mtime_ns, opened.st_size), keys)
        except OSError as error:
            raise KmsError(f"cannot read keyring {self.path}: {error.strerror}") from error
        return self._cache[1]

    def _update(self, change: Callable[[dict[str, KeyRecord]], T]) -> T:
        """Apply ``change`` to the current keyring under the lock, and write the result atomically."""
        with _exclusive(self._lock_path):
            keys = dict(self._keys()) if self.path.exists() else {}
            result = change(keys)
            _write_atomically(self.path, _dump_keyring(keys))
            return result


def _check_alias(alias: str) -> None:
    if not alias.startswith("alias/") or alias == "alias/":
        raise KmsError(f"a key alias starts with 'alias/' (like 'alias/culturemesh-tickets'), got {alias!r}")


def _find(keys: Mapping[str, KeyRecord], key: str) -> KeyRecord | None:
    if key in keys:
        return keys[key]
    return next((record for record in keys.values() if key in record.aliases), None)


def _resolve(keys: Mapping[str, KeyRecord], key: str) -> KeyRecord:
    record = _find(keys, key)
    if record is None:
        raise KeyNotFound(key)
    return record


def _create(keys: dict[str, KeyRecord], alias: str, description: str) -> str:
    existing = _find(keys, alias)  # another process may have created it since we looked
    if existing is not None:
        return existing.id
    record = KeyRecord(str(uuid.uuid4()), (alias,), description, (_new_version(1),), {})
    keys[record.id] = record
    log.info("kms.key_created", alias=alias, key_id=record.id)
    return record.id


def _new_version(number: int) -> KeyVersion:
    return KeyVersion(number, AESGCM.generate_key(bit_length=256), datetime.now(UTC).isoformat())


def _seal(record: KeyRecord, plaintext: bytes, context: Mapping[str, str]) -> bytes:
    newest = record.versions[-1]
    header = _HEADER.pack(MAGIC, FORMAT, uuid.UUID(record.id).bytes, newest.version, os.urandom(12))
    return header + AESGCM(newest.material).encrypt(header[-12:], plaintext, _aad(header[:_AUTHENTICATED], context))


def _aad(authenticated_header: bytes, context: Mapping[str, str]) -> bytes:
    """The header's marker, format, key id and version, then the context in one unambiguous encoding."""
    parts = [authenticated_header, struct.pack(">I", len(context))]
    for name, value in sorted(context.items()):
        for text in (name.encode(), value.encode()):
            parts += [struct.pack(">I", len(text)), text]
    return b"".join(parts)


def _parse(blob: bytes) -> tuple[str, int, bytes, bytes]:
    """Key id, key version, nonce and sealed bytes of a ciphertext, or ``DecryptionFailed``."""
    smallest = _HEADER.size + _TAG
    if len(blob) < smallest:
        raise DecryptionFailed("ciphertext", f"it has {len(blob)} bytes, fewer than the {smallest} of any (truncated?)")
    marker, version_of_format, key_id, version, nonce = _HEADER.unpack_from(blob)
    if marker != MAGIC:
        raise DecryptionFailed("ciphertext", f"it does not start with {MAGIC!r}: not made by LocalKms, or altered")
    if version_of_format != FORMAT:
        raise DecryptionFailed("ciphertext", f"format {version_of_format} is unknown; this LocalKms reads {FORMAT}")
    return str(uuid.UUID(bytes=key_id)), version, nonce, blob[_HEADER.size :]


def _parse_keyring(raw: bytes, path: Path) -> dict[str, KeyRecord]:
    try:
        document = json.loads(raw)
        if document.get("format") != FORMAT:
            raise ValueError(f"format {document.get('format')!r}, expected {FORMAT}")
        records = [_record(item) for item in document["keys"]]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise KmsError(f"keyring {path} is damaged ({error}); restore it from its backup") from error
    return {record.id: record for record in records}


def _record(item: dict[str, Any]) -> KeyRecord:
    versions = tuple(
        KeyVersion(int(v["version"]), base64.b64decode(v["material"], validate=True), str(v["created"]))
        for v in item["versions"]
    )
    if not versions or any(len(v.material) != 32 for v in versions):
        raise ValueError(f"key {item['id']} needs 256-bit key material in every version")
    policy = {str(who): frozenset(map(str, ops)) for who, ops in item["policy"].items()}
    return KeyRecord(str(item["id"]), tuple(item["aliases"]), str(item.get("description", "")), versions, policy)


def _dump_keyring(keys: Mapping[str, KeyRecord]) -> bytes:
    def version(v: KeyVersion) -> dict[str, Any]:
        return {"version": v.version, "material": base64.b64encode(v.material).decode(), "created": v.created}

    items = [
        {
            **asdict(r),
            "versions": [version(v) for v in r.versions],
            "policy": {p: sorted(o) for p, o in r.policy.items()},
        }
        for r in keys.values()
    ]
    return json.dumps({"format": FORMAT, "keys": items}, indent=2).encode()


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0o600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)  # os.replace: atomic on one filesystem
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)

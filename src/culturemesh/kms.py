"""Keys: the ``Kms`` seam in front of the government's key-management service (KMaaS).

culturemesh never holds a master key. It asks the KMS to generate data keys and to encrypt
(wrap) and decrypt (unwrap) small secrets under a master key, always *as a principal* (a product's
functions, a consumer, an operator), and always with an encryption context that binds the result
to what it protects. The KMS's key policies decide which principal may use which key for what.

Two implementations pass one shared test suite: :class:`culturemesh.keyring.LocalKms` (the
embedded default, a keyring file readable by the platform only) and
:class:`culturemesh.awskms.AwsKms` (the AWS KMS API through boto3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from culturemesh.errors import CultureMeshError

Operation = Literal["encrypt", "decrypt", "generate"]


class KmsError(CultureMeshError):
    exit_code = 9


class KeyAccessDenied(KmsError):
    """The KMS refused: this principal may not use this key for this operation."""

    def __init__(self, principal: str, key: str, operation: str) -> None:
        self.principal, self.key, self.operation = principal, key, operation
        super().__init__(f"access denied: principal {principal!r} may not {operation} with key {key!r}")


class KeyNotFound(KmsError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no key {key!r} in the KMS")


class DecryptionFailed(KmsError):
    """The ciphertext was altered, belongs to another key, or its encryption context differs."""

    def __init__(self, what: str, reason: str) -> None:
        self.what, self.reason = what, reason
        super().__init__(f"cannot decrypt {what}: {reason}")


@dataclass(frozen=True, repr=False)
class DataKey:
    """A fresh 256-bit data key: use ``plaintext`` once and forget it; store ``ciphertext``."""

    key_id: str
    plaintext: bytes
    ciphertext: bytes


class Kms(Protocol):
    def __hash__(self) -> int: ...  # one ParquetCrypto per Kms instance is cached per process

    def create_key(self, alias: str, description: str = "") -> str:
        """The key id behind ``alias`` (``alias/...``), creating the key if it does not exist."""
        ...

    def allow(self, key: str, principal: str, operations: frozenset[Operation]) -> None:
        """Grant ``principal`` the ``operations`` on ``key`` (key id or alias); idempotent."""
        ...

    def generate_data_key(self, key: str, context: Mapping[str, str], principal: str) -> DataKey: ...

    def encrypt(self, key: str, plaintext: bytes, context: Mapping[str, str], principal: str) -> bytes:
        """Wrap a small secret (up to 4 KiB) under ``key``; the result names its key."""
        ...

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str], principal: str) -> bytes:
        """Unwrap: the key is named by the ciphertext; the context must equal the one used to wrap."""
        ...

    def rotate(self, key: str) -> None:
        """New key material for ``key``; ciphertexts under older material still decrypt."""
        ...

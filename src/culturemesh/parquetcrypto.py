"""Parquet Modular Encryption bridged to culturemesh's ``Kms``.

A product's Parquet files are written with an encrypted footer under the product key, and each
classified column (``pii``, ``sensitive``, …) under its classification's key; double wrapping is
on, so the KMS is asked once per master key per process, not once per file. A reader whose
principal may not unwrap a column's key cannot read that column, while every other column still
reads: partial access is enforced by the keys themselves.

pyarrow builds its KMS clients through a factory; :class:`KmsBridge` is that client, holding the
``Kms`` and the principal the file is read or written as. One long-lived ``CryptoFactory`` per
``Kms`` serves a whole process.
"""

from __future__ import annotations

import atexit
import base64
import functools
import gc
import weakref
from collections.abc import Mapping, Sequence
from datetime import timedelta

import pyarrow.parquet.encryption as pe

from culturemesh.kms import Kms

_PURPOSE = "parquet-key-encryption-key"
_LIVE: weakref.WeakSet[ParquetCrypto] = weakref.WeakSet()


class KmsBridge(pe.KmsClient):  # type: ignore[misc]
    """pyarrow's KmsClient in front of a culturemesh ``Kms``, acting as one principal."""

    def __init__(self, kms: Kms, principal: str) -> None:
        super().__init__()
        self.kms, self.principal = kms, principal
        self.calls = 0

    def _context(self, master_key: str) -> dict[str, str]:
        return {"purpose": _PURPOSE, "masterkey": master_key}

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> bytes:
        self.calls += 1
        wrapped = self.kms.encrypt(
            master_key_identifier, key_bytes, self._context(master_key_identifier), self.principal
        )
        return base64.b64encode(wrapped)

    def unwrap_key(self, wrapped_key: bytes, master_key_identifier: str) -> bytes:
        self.calls += 1
        return self.kms.decrypt(base64.b64decode(wrapped_key), self._context(master_key_identifier), self.principal)


class ParquetCrypto:
    """Encryption and decryption properties for one ``Kms``; create one per process and reuse it."""

    def __init__(self, kms: Kms, cache_lifetime: timedelta = timedelta(minutes=10)) -> None:
        self.kms = kms
        self.cache_lifetime = cache_lifetime
        self.clients: list[KmsBridge] = []
        self.factory = pe.CryptoFactory(self._client)
        _LIVE.add(self)

    def _client(self, config: pe.KmsConnectionConfig) -> KmsBridge:
        client = KmsBridge(self.kms, config.custom_kms_conf["principal"])
        self.clients.append(client)
        return client

    @property
    def kms_calls(self) -> int:
        return sum(client.calls for client in self.clients)

    def _connection(self, principal: str) -> pe.KmsConnectionConfig:
        return pe.KmsConnectionConfig(custom_kms_conf={"principal": principal})

    def encryption(
        self, principal: str, footer_key: str, column_keys: Mapping[str, Sequence[str]]
    ) -> pe.FileEncryptionProperties:
        """Footer (and unlisted columns) under ``footer_key``; ``column_keys`` maps a key to its columns."""
        listed = {key: list(columns) for key, columns in column_keys.items() if columns}
        config = pe.EncryptionConfiguration(
            footer_key=footer_key,
            column_keys=listed,
            # No classified column: every column under the footer key (pyarrow needs one or the other).
            uniform_encryption=not listed,
            double_wrapping=True,
            cache_lifetime=self.cache_lifetime,
        )
        return self.factory.file_encryption_properties(self._connection(principal), config)

    def decryption(self, principal: str) -> pe.FileDecryptionProperties:
        config = pe.DecryptionConfiguration(cache_lifetime=self.cache_lifetime)
        return self.factory.file_decryption_properties(self._connection(principal), config)


@functools.cache
def crypto_for(kms: Kms) -> ParquetCrypto:
    """The process's one ``ParquetCrypto`` per ``Kms``."""
    return ParquetCrypto(kms)


@atexit.register
def _release() -> None:
    """Drop pyarrow's crypto factories while Python is still alive: their C++ side holds our
    Python KMS clients, and tearing them down during interpreter shutdown can abort the process
    after its work is done."""
    for crypto in list(_LIVE):
        crypto.factory.remove_cache_entries_for_all_tokens()
        crypto.clients.clear()
        del crypto.factory
    _LIVE.clear()
    crypto_for.cache_clear()
    gc.collect()

"""The platform services a process talks to, chosen once from the settings: the object store and
the KMS. A function never knows which ones it got."""

from __future__ import annotations

from culturemesh.kms import Kms
from culturemesh.settings import Settings
from culturemesh.store import FilesystemStore, ObjectStore


def open_store(settings: Settings) -> ObjectStore:
    return FilesystemStore(settings.store_root)


def open_kms(settings: Settings) -> Kms:
    from culturemesh.keyring import LocalKms

    return LocalKms(settings.home / "keys" / "keyring.json")

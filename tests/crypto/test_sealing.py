"""Envelope encryption of whole objects: round trips, and every kind of tampering fails cleanly."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from culturemesh.keyring import LocalKms
from culturemesh.kms import DecryptionFailed, KeyAccessDenied
from culturemesh.sealing import ChunkReader, seal, seal_bytes, unseal, unseal_bytes

KEY_A, KEY_B = "alias/culturemesh/test/a", "alias/culturemesh/test/b"
CONTEXT = {"dataproduct": "test/a", "object": "landing/x.csv"}


@pytest.fixture
def kms(tmp_path: Path) -> LocalKms:
    kms = LocalKms(tmp_path / "keys" / "keyring.json")
    for key in (KEY_A, KEY_B):
        kms.create_key(key)
        kms.allow(key, "writer", frozenset({"generate", "encrypt", "decrypt"}))
    return kms


@pytest.mark.parametrize("size", [0, 1, 1000, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 300_000])
def test_sealed_bytes_unseal_to_the_same_bytes_across_frame_boundaries(kms: LocalKms, size: int) -> None:
    data = os.urandom(size)
    sealed = b"".join(seal(kms, KEY_A, CONTEXT, "writer", data, frame=64 * 1024))
    assert size < 16 or data not in sealed  # a short value can occur in random bytes by chance
    assert b"".join(unseal(kms, CONTEXT, "writer", io.BytesIO(sealed))) == data


def test_a_chunk_reader_streams_the_plaintext_to_a_parser(kms: LocalKms) -> None:
    data = b"a,b\n" + b"1,2\n" * 100_000
    sealed = seal_bytes(kms, KEY_A, CONTEXT, "writer", data)
    reader = io.BufferedReader(ChunkReader(unseal(kms, CONTEXT, "writer", io.BytesIO(sealed))))
    assert reader.readline() == b"a,b\n"
    assert reader.read() == data[4:]


def test_a_flipped_byte_anywhere_in_the_frames_fails_and_returns_nothing(kms: LocalKms) -> None:
    sealed = bytearray(seal_bytes(kms, KEY_A, CONTEXT, "writer", b"x" * 200_000))
    for position in (len(sealed) - 1, len(sealed) // 2, 200):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            unseal_bytes(kms, CONTEXT, "writer", bytes(tampered))


def test_a_truncated_object_fails_even_at_a_frame_boundary(kms: LocalKms) -> None:
    frame = 1024
    sealed = b"".join(seal(kms, KEY_A, CONTEXT, "writer", b"y" * (3 * frame), frame=frame))
    without_last_frame = sealed[: len(sealed) - (frame + 16)]
    with pytest.raises(DecryptionFailed, match="frame 1"):
        unseal_bytes(kms, CONTEXT, "writer", without_last_frame)
    with pytest.raises(DecryptionFailed, match="truncated header"):
        unseal_bytes(kms, CONTEXT, "writer", sealed[:20])


def test_another_encryption_context_is_refused(kms: LocalKms) -> None:
    sealed = seal_bytes(kms, KEY_A, CONTEXT, "writer", b"secret")
    with pytest.raises(DecryptionFailed):
        unseal_bytes(kms, {**CONTEXT, "object": "landing/other.csv"}, "writer", sealed)


def test_a_wrapped_key_from_another_products_object_does_not_open_this_one(kms: LocalKms) -> None:
    mine = seal_bytes(kms, KEY_A, CONTEXT, "writer", b"mine" * 100)
    theirs = seal_bytes(kms, KEY_B, CONTEXT, "writer", b"theirs" * 100)
    header_length = 8 + 2 + int.from_bytes(mine[8:10], "big") + 12
    other_length = 8 + 2 + int.from_bytes(theirs[8:10], "big") + 12
    spliced = theirs[:other_length] + mine[header_length:]
    with pytest.raises(DecryptionFailed):
        unseal_bytes(kms, CONTEXT, "writer", spliced)


def test_a_principal_without_a_grant_cannot_unseal(kms: LocalKms) -> None:
    sealed = seal_bytes(kms, KEY_A, CONTEXT, "writer", b"secret")
    with pytest.raises(KeyAccessDenied) as refused:
        unseal_bytes(kms, CONTEXT, "stranger", sealed)
    assert refused.value.principal == "stranger"


def test_an_object_whose_key_is_missing_from_the_kms_fails_clearly(kms: LocalKms, tmp_path: Path) -> None:
    sealed = seal_bytes(kms, KEY_A, CONTEXT, "writer", b"secret")
    with pytest.raises(DecryptionFailed, match="has no such key"):
        unseal_bytes(LocalKms(tmp_path / "other" / "keyring.json"), CONTEXT, "writer", sealed)  # an empty keyring


def test_anything_that_is_not_a_sealed_object_is_refused(kms: LocalKms) -> None:
    with pytest.raises(DecryptionFailed, match="not a sealed culturemesh object"):
        unseal_bytes(kms, CONTEXT, "writer", b"ticket_id,price\nT-1,12.50\n")

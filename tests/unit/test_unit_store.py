"""FilesystemStore keeps S3's semantics: whole objects, checksums, conditional writes, listing, notifications."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest

from culturemesh.errors import ObjectNotFound, PreconditionFailed, StoreError
from culturemesh.store import FilesystemStore, ObjectInfo

BUCKET = "landing"


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "objects")


def _leftovers(store: FilesystemStore) -> list[str]:
    return sorted(path.name for path in (store.root / ".tmp").iterdir() if not path.name.endswith(".lock"))


def test_listener_is_not_called_when_a_conditional_put_loses(store: FilesystemStore) -> None:
    store.put(BUCKET, "k", b"1")
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    with pytest.raises(PreconditionFailed):
        store.put(BUCKET, "k", b"2", if_none_match=True)
    assert seen == []


@pytest.mark.parametrize("bucket", ["..", "/abs", ".meta", ".tmp", ""])
def test_invalid_buckets_are_refused_with_store_error(store: FilesystemStore, bucket: str) -> None:
    with pytest.raises(StoreError, match="invalid bucket"):
        store.put(bucket, "k", b"x")


def test_no_temporary_files_remain_after_puts(store: FilesystemStore) -> None:
    for index in range(5):
        store.put(BUCKET, f"k{index}", b"x" * index)
    store.put(BUCKET, "stream", io.BytesIO(b"streamed"))
    assert _leftovers(store) == []
    assert not list((store.root / ".meta").rglob("*.tmp"))


class _BrokenBody(io.RawIOBase):
    """A body whose second read fails, like a client connection dropping mid-upload."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError("connection reset")
        return b"partial data"


def test_failing_put_leaves_no_visible_object_and_no_temporary_file(store: FilesystemStore) -> None:
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    with pytest.raises(OSError, match="connection reset"):
        store.put(BUCKET, "broken.csv", _BrokenBody())
    assert not store.exists(BUCKET, "broken.csv")
    with pytest.raises(ObjectNotFound):
        store.head(BUCKET, "broken.csv")
    assert list(store.list(BUCKET)) == []
    assert _leftovers(store) == []
    assert seen == []


def test_failing_overwrite_keeps_the_previous_object(store: FilesystemStore) -> None:
    before = store.put(BUCKET, "k", b"good")
    with pytest.raises(OSError):
        store.put(BUCKET, "k", _BrokenBody())
    assert store.get(BUCKET, "k") == b"good"
    assert store.head(BUCKET, "k") == before


def test_a_key_that_is_only_a_prefix_of_stored_keys_is_not_an_object(store: FilesystemStore) -> None:
    store.put(BUCKET, "tickets/2026.csv", b"x")
    assert not store.exists(BUCKET, "tickets")
    with pytest.raises(ObjectNotFound):
        store.get(BUCKET, "tickets")


def test_concurrent_create_only_puts_on_one_key_have_exactly_one_winner(store: FilesystemStore) -> None:
    threads_count = 8
    start = threading.Barrier(threads_count)
    winners: list[bytes] = []
    losers: list[bytes] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        body = f"writer {index}".encode() * 1000
        start.wait()
        try:
            store.put(BUCKET, "once.csv", body, if_none_match=True)
        except PreconditionFailed:
            with lock:
                losers.append(body)
        else:
            with lock:
                winners.append(body)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(winners) == 1
    assert len(losers) == threads_count - 1
    assert store.get(BUCKET, "once.csv") == winners[0]
    assert store.head(BUCKET, "once.csv").sha256 == hashlib.sha256(winners[0]).hexdigest()
    assert _leftovers(store) == []


def test_uri_is_a_file_uri_to_the_object_bytes(store: FilesystemStore) -> None:
    store.put(BUCKET, "a/b.csv", b"x")
    uri = store.uri(BUCKET, "a/b.csv")
    assert uri.startswith("file://")
    assert uri.endswith("/landing/a/b.csv")


def test_as_stored_carries_the_s3_record_fields(store: FilesystemStore) -> None:
    info = store.put(BUCKET, "k", b"abc")
    stored = info.as_stored()
    assert (stored.bucket, stored.key, stored.size, stored.etag) == (BUCKET, "k", 3, info.etag)

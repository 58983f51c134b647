"""FilesystemStore keeps S3's semantics: whole objects, checksums, conditional writes, listing, notifications."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest

from culturemesh.errors import ObjectNotFound, PreconditionFailed, StoreError
from culturemesh.store import CHUNK, FilesystemStore, ObjectInfo

BUCKET = "landing"


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "objects")


def _leftovers(store: FilesystemStore) -> list[str]:
    return sorted(path.name for path in (store.root / ".tmp").iterdir() if not path.name.endswith(".lock"))


def test_put_then_get_returns_the_exact_bytes(store: FilesystemStore) -> None:
    body = "naam;prijs\nCafé;3,5\n".encode() + bytes(range(256))
    store.put(BUCKET, "tickets/2026/03.csv", body)
    assert store.get(BUCKET, "tickets/2026/03.csv") == body
    with store.open(BUCKET, "tickets/2026/03.csv") as handle:
        assert handle.read() == body


def test_put_records_size_sha256_and_md5_etag_and_head_returns_them(store: FilesystemStore) -> None:
    body = b"hello culturemesh"
    info = store.put(BUCKET, "a.txt", body, content_type="text/plain")
    assert info.size == len(body)
    assert info.sha256 == hashlib.sha256(body).hexdigest()
    assert info.etag == hashlib.md5(body, usedforsecurity=False).hexdigest()
    assert info.content_type == "text/plain"
    assert store.head(BUCKET, "a.txt") == info


def test_put_of_empty_body_creates_an_empty_object_with_empty_checksums(store: FilesystemStore) -> None:
    info = store.put(BUCKET, "empty", b"")
    assert store.get(BUCKET, "empty") == b""
    assert info.size == 0
    assert info.sha256 == hashlib.sha256(b"").hexdigest()


def test_streaming_put_from_file_object_reports_progress_totalling_the_size(
    store: FilesystemStore, tmp_path: Path
) -> None:
    body = bytes(range(256)) * ((2 * CHUNK + 12345) // 256 + 1)
    source = tmp_path / "big.bin"
    source.write_bytes(body)
    seen: list[int] = []
    with source.open("rb") as handle:
        info = store.put(BUCKET, "big.bin", handle, progress=seen.append)
    assert sum(seen) == len(body) == info.size
    assert len(seen) >= 3  # streamed in chunks, not read at once
    assert info.sha256 == hashlib.sha256(body).hexdigest()
    assert store.get(BUCKET, "big.bin") == body


def test_put_overwrites_an_existing_key_and_head_follows(store: FilesystemStore) -> None:
    store.put(BUCKET, "k", b"one")
    second = store.put(BUCKET, "k", b"two!")
    assert store.get(BUCKET, "k") == b"two!"
    assert store.head(BUCKET, "k").etag == second.etag
    assert store.head(BUCKET, "k").size == 4


def test_create_only_put_on_existing_key_raises_precondition_failed_and_keeps_old_bytes(
    store: FilesystemStore,
) -> None:
    store.put(BUCKET, "k", b"first")
    with pytest.raises(PreconditionFailed, match="If-None-Match") as caught:
        store.put(BUCKET, "k", b"second", if_none_match=True)
    assert (caught.value.bucket, caught.value.key) == (BUCKET, "k")
    assert store.get(BUCKET, "k") == b"first"
    assert _leftovers(store) == []


def test_create_only_put_on_new_key_succeeds(store: FilesystemStore) -> None:
    store.put(BUCKET, "new", b"x", if_none_match=True)
    assert store.get(BUCKET, "new") == b"x"


def test_if_match_with_wrong_etag_raises_and_with_right_etag_replaces(store: FilesystemStore) -> None:
    first = store.put(BUCKET, "k", b"v1")
    with pytest.raises(PreconditionFailed, match="If-Match"):
        store.put(BUCKET, "k", b"v2", if_match="0" * 32)
    assert store.get(BUCKET, "k") == b"v1"
    store.put(BUCKET, "k", b"v2", if_match=first.etag)
    assert store.get(BUCKET, "k") == b"v2"


def test_if_match_on_missing_key_raises(store: FilesystemStore) -> None:
    with pytest.raises(PreconditionFailed):
        store.put(BUCKET, "absent", b"x", if_match=hashlib.md5(b"x", usedforsecurity=False).hexdigest())
    assert not store.exists(BUCKET, "absent")


def test_list_by_prefix_returns_only_matching_keys(store: FilesystemStore) -> None:
    for key in ["tickets/2026/02.csv", "tickets/2026/01.csv", "tickets-old/x.csv", "zalen/ab.csv"]:
        store.put(BUCKET, key, key.encode())
    store.put("other", "tickets/2026/05.csv", b"x")
    keys = [info.key for info in store.list(BUCKET, "tickets/")]
    assert keys == ["tickets/2026/01.csv", "tickets/2026/02.csv"]
    assert all(isinstance(info, ObjectInfo) and info.bucket == BUCKET for info in store.list(BUCKET))


def test_list_returns_keys_in_key_order(store: FilesystemStore) -> None:
    keys = ["b", "report.csv", "report", "a/x", "a-b", "tickets/2026-01.csv", "tickets/2026.csv"]
    for key in keys:
        store.put(BUCKET, key, key.encode())
    assert [info.key for info in store.list(BUCKET)] == sorted(keys)


def test_list_of_unknown_bucket_is_empty(store: FilesystemStore) -> None:
    assert list(store.list("nothing-here")) == []


def test_listener_is_called_once_per_put_with_the_object_info(store: FilesystemStore) -> None:
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    first = store.put(BUCKET, "a", b"1")
    second = store.put(BUCKET, "b", b"22")
    assert seen == [first, second]


def test_listener_is_not_called_when_notify_is_false(store: FilesystemStore) -> None:
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    store.put(BUCKET, "quiet", b"1", notify=False)
    assert seen == []
    assert store.exists(BUCKET, "quiet")


def test_listener_is_not_called_when_a_conditional_put_loses(store: FilesystemStore) -> None:
    store.put(BUCKET, "k", b"1")
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    with pytest.raises(PreconditionFailed):
        store.put(BUCKET, "k", b"2", if_none_match=True)
    assert seen == []


def test_sequencers_increase_with_each_put(store: FilesystemStore) -> None:
    sequencers = [store.put(BUCKET, "k", bytes([n])).sequencer for n in range(5)]
    assert sequencers == sorted(sequencers)
    assert len(set(sequencers)) == 5


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", ".meta/x", ".tmp/x", "a/../b", "./a", "", "a/"])
def test_invalid_keys_are_refused_with_store_error(store: FilesystemStore, key: str) -> None:
    with pytest.raises(StoreError, match="invalid key"):
        store.put(BUCKET, key, b"x")
    with pytest.raises(StoreError, match="invalid key"):
        store.get(BUCKET, key)


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


def test_get_head_and_open_of_missing_key_raise_object_not_found(store: FilesystemStore) -> None:
    with pytest.raises(ObjectNotFound, match=r"'missing\.csv'") as caught:
        store.get(BUCKET, "missing.csv")
    assert (caught.value.bucket, caught.value.key) == (BUCKET, "missing.csv")
    with pytest.raises(ObjectNotFound):
        store.head(BUCKET, "missing.csv")
    with pytest.raises(ObjectNotFound):
        store.open(BUCKET, "missing.csv")
    assert not store.exists(BUCKET, "missing.csv")


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

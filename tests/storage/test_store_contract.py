"""The ``ObjectStore`` contract: every test runs against FilesystemStore and S3Store (on moto).

Whatever culturemesh relies on from object storage is stated here once, so the embedded store
and the cloud store cannot drift apart.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from culturemesh.errors import ObjectNotFound, PreconditionFailed, StoreError
from culturemesh.s3store import MULTIPART_THRESHOLD, S3Store
from culturemesh.store import CHUNK, FilesystemStore, ObjectInfo, ObjectStore

BUCKET = "landing"
MiB = 1 << 20


def _pattern(size: int) -> bytes:
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def test_put_then_get_head_and_open_round_trip_bytes_sha256_and_etag(store: ObjectStore) -> None:
    body = "naam;prijs\nCafé;3,5\n".encode() + bytes(range(256))
    info = store.put(BUCKET, "tickets/2026/03.csv", body, content_type="text/csv")
    assert (info.bucket, info.key, info.size) == (BUCKET, "tickets/2026/03.csv", len(body))
    assert info.sha256 == hashlib.sha256(body).hexdigest()
    # The ETag is opaque (S3's is the MD5 only for unencrypted single-part objects): 32 hex digits
    # that the same content gives again and other content does not.
    assert re.fullmatch(r"[0-9a-f]{32}", info.etag)
    assert store.put(BUCKET, "copy", body).etag == info.etag
    assert store.put(BUCKET, "other", body + b"!").etag != info.etag
    assert info.content_type == "text/csv"
    assert store.get(BUCKET, "tickets/2026/03.csv") == body
    with store.open(BUCKET, "tickets/2026/03.csv") as handle:
        assert handle.read() == body
    assert store.head(BUCKET, "tickets/2026/03.csv") == info


def test_put_of_empty_body_creates_an_empty_object_with_empty_checksums(store: ObjectStore) -> None:
    info = store.put(BUCKET, "empty", b"")
    assert store.get(BUCKET, "empty") == b""
    assert (info.size, info.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert re.fullmatch(r"[0-9a-f]{32}", info.etag)


def test_put_records_modified_as_iso_utc_time_ending_in_z(store: ObjectStore) -> None:
    info = store.put(BUCKET, "k", b"x")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", info.modified)
    assert store.head(BUCKET, "k").modified == info.modified


def test_streaming_put_from_file_object_reports_progress_totalling_the_size(store: ObjectStore, tmp_path: Path) -> None:
    body = _pattern(2 * CHUNK + 12345)
    source = tmp_path / "upload.bin"
    source.write_bytes(body)
    seen: list[int] = []
    with source.open("rb") as handle:
        info = store.put(BUCKET, "upload.bin", handle, progress=seen.append)
    assert sum(seen) == len(body) == info.size
    assert len(seen) >= 3  # streamed in chunks, not read at once
    assert info.sha256 == hashlib.sha256(body).hexdigest()
    assert store.get(BUCKET, "upload.bin") == body


def test_20_mib_object_round_trips_with_its_sha256(store: ObjectStore, tmp_path: Path) -> None:
    body = _pattern(20 * MiB + 7)
    source = tmp_path / "big.bin"
    source.write_bytes(body)
    with source.open("rb") as handle:
        info = store.put(BUCKET, "big.bin", handle)
    assert info.size == len(body)
    assert info.sha256 == hashlib.sha256(body).hexdigest()
    assert store.head(BUCKET, "big.bin") == info
    assert store.get(BUCKET, "big.bin") == body
    if isinstance(store, S3Store):
        assert info.etag.endswith("-3")  # three 8 MiB parts: it really went up as a multipart upload


def test_put_overwrites_an_existing_key_and_head_follows(store: ObjectStore) -> None:
    store.put(BUCKET, "k", b"one")
    second = store.put(BUCKET, "k", b"two!")
    assert store.get(BUCKET, "k") == b"two!"
    assert store.head(BUCKET, "k") == second


def test_sequencers_increase_with_each_put(store: ObjectStore) -> None:
    sequencers = [store.put(BUCKET, "k", bytes([n])).sequencer for n in range(5)]
    assert sequencers == sorted(sequencers)
    assert len(set(sequencers)) == 5
    assert all(re.fullmatch(r"[0-9A-F]+", sequencer) for sequencer in sequencers)


def test_create_only_put_on_existing_key_raises_precondition_failed_and_leaves_object_unchanged(
    store: ObjectStore,
) -> None:
    first = store.put(BUCKET, "k", b"first")
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    with pytest.raises(PreconditionFailed, match="If-None-Match") as caught:
        store.put(BUCKET, "k", b"second", if_none_match=True)
    assert (caught.value.bucket, caught.value.key) == (BUCKET, "k")
    assert store.get(BUCKET, "k") == b"first"
    assert store.head(BUCKET, "k") == first
    assert seen == []  # a lost conditional put announces nothing


def test_create_only_put_on_new_key_succeeds(store: ObjectStore) -> None:
    store.put(BUCKET, "new", b"x", if_none_match=True)
    assert store.get(BUCKET, "new") == b"x"


def test_if_match_with_wrong_etag_raises_and_with_right_etag_replaces(store: ObjectStore) -> None:
    first = store.put(BUCKET, "k", b"v1")
    with pytest.raises(PreconditionFailed, match="If-Match"):
        store.put(BUCKET, "k", b"v2", if_match="0" * 32)
    assert store.get(BUCKET, "k") == b"v1"
    second = store.put(BUCKET, "k", b"v2", if_match=first.etag)
    assert store.get(BUCKET, "k") == b"v2"
    assert store.head(BUCKET, "k") == second


def test_if_match_on_missing_key_raises_precondition_failed(store: ObjectStore) -> None:
    with pytest.raises(PreconditionFailed, match="If-Match"):
        store.put(BUCKET, "absent", b"x", if_match="0" * 32)
    assert not store.exists(BUCKET, "absent")


def test_conditional_puts_hold_for_objects_above_the_multipart_threshold(store: ObjectStore) -> None:
    old, new = _pattern(MULTIPART_THRESHOLD + MiB), _pattern(MULTIPART_THRESHOLD + 2 * MiB)
    first = store.put(BUCKET, "big", old)
    with pytest.raises(PreconditionFailed, match="If-None-Match"):
        store.put(BUCKET, "big", new, if_none_match=True)
    with pytest.raises(PreconditionFailed, match="If-Match"):
        store.put(BUCKET, "big", new, if_match="0" * 32)
    with pytest.raises(PreconditionFailed, match="If-Match"):
        store.put(BUCKET, "absent", new, if_match=first.etag)
    assert store.head(BUCKET, "big") == first
    assert not store.exists(BUCKET, "absent")
    second = store.put(BUCKET, "big", new, if_match=first.etag)
    assert store.get(BUCKET, "big") == new
    assert second.sha256 == hashlib.sha256(new).hexdigest()


def test_list_by_prefix_returns_only_matching_keys_in_key_order(store: ObjectStore) -> None:
    keys = ["tickets/2026/02.csv", "tickets/2026/01.csv", "tickets/2026/03.csv", "tickets-old/x.csv", "zalen/ab.csv"]
    for key in keys:
        store.put(BUCKET, key, key.encode())
    store.put("other", "tickets/2026/05.csv", b"x")
    listed = list(store.list(BUCKET, "tickets/"))
    assert [info.key for info in listed] == ["tickets/2026/01.csv", "tickets/2026/02.csv", "tickets/2026/03.csv"]
    assert listed[0] == store.head(BUCKET, "tickets/2026/01.csv")
    assert all(info.sha256 == hashlib.sha256(info.key.encode()).hexdigest() for info in listed)


def test_list_without_prefix_returns_every_key_in_key_order(store: ObjectStore) -> None:
    keys = ["b", "report.csv", "report", "a/x", "a-b", "tickets/2026-01.csv", "tickets/2026.csv"]
    for key in keys:
        store.put(BUCKET, key, key.encode())
    assert [info.key for info in store.list(BUCKET)] == sorted(keys)


def test_list_of_unknown_bucket_is_empty(store: ObjectStore) -> None:
    assert list(store.list("nothing-here")) == []


def test_listener_is_called_once_per_put_with_the_object_info(store: ObjectStore) -> None:
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    first = store.put(BUCKET, "a", b"1")
    second = store.put(BUCKET, "b", b"22")
    assert seen == [first, second]


def test_listener_is_not_called_when_notify_is_false(store: ObjectStore) -> None:
    seen: list[ObjectInfo] = []
    store.add_listener(seen.append)
    store.put(BUCKET, "quiet", b"1", notify=False)
    assert seen == []
    assert store.exists(BUCKET, "quiet")


def test_get_head_and_open_of_missing_key_raise_object_not_found(store: ObjectStore) -> None:
    store.put(BUCKET, "present", b"x")
    for bucket in (BUCKET, "never-used"):
        with pytest.raises(ObjectNotFound, match=r"'missing\.csv'") as caught:
            store.get(bucket, "missing.csv")
        assert (caught.value.bucket, caught.value.key) == (bucket, "missing.csv")
        with pytest.raises(ObjectNotFound):
            store.head(bucket, "missing.csv")
        with pytest.raises(ObjectNotFound):
            store.open(bucket, "missing.csv")


def test_exists_is_true_only_for_stored_objects(store: ObjectStore) -> None:
    store.put(BUCKET, "tickets/2026.csv", b"x")
    assert store.exists(BUCKET, "tickets/2026.csv")
    assert not store.exists(BUCKET, "tickets")  # a prefix of a key is not an object
    assert not store.exists(BUCKET, "missing.csv")
    assert not store.exists("never-used", "tickets/2026.csv")


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", ".meta/x", ".tmp/x", "a/../b", "./a", "", "a/"])
def test_invalid_keys_are_refused_with_store_error(store: ObjectStore, key: str) -> None:
    with pytest.raises(StoreError, match="invalid key"):
        store.put(BUCKET, key, b"x")
    with pytest.raises(StoreError, match="invalid key"):
        store.get(BUCKET, key)


def test_uri_names_the_object_in_the_scheme_of_its_store(store: ObjectStore) -> None:
    store.put(BUCKET, "a/b.csv", b"x")
    uri = store.uri(BUCKET, "a/b.csv")
    if isinstance(store, FilesystemStore):
        assert uri == (store.root / BUCKET / "a" / "b.csv").resolve().as_uri()
    else:
        assert isinstance(store, S3Store)
        assert uri == f"s3://{store.bucket_prefix}{BUCKET}/a/b.csv"


# S3 only: how failures other than "not found" and "precondition failed" reach the caller.


def test_s3_error_becomes_store_error_naming_operation_bucket_and_key(s3_client: Any) -> None:
    store = S3Store(s3_client, bucket_prefix="x" * 64 + "-")
    with pytest.raises(StoreError, match=r"CreateBucket.*'landing'.*'x{64}-landing'.*'k'") as caught:
        store.put(BUCKET, "k", b"x")
    assert not isinstance(caught.value, ObjectNotFound | PreconditionFailed)


def test_unreachable_s3_endpoint_becomes_store_error() -> None:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(StoreError, match=r"HeadObject.*'landing'.*'k'.*Could not connect"):
        S3Store(client).head(BUCKET, "k")
    with pytest.raises(StoreError, match=r"HeadBucket.*'landing'.*'k'.*Could not connect"):
        S3Store(client).put(BUCKET, "k", b"x")

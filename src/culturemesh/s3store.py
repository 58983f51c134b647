"""Object storage on S3: the cloud ``ObjectStore``; the same test suite runs against it and FilesystemStore.

Bucket ``b`` is the S3 bucket ``f"{bucket_prefix}{b}"``, created on first put. Each object carries
its sha256, sequencer and write time as metadata (``x-amz-meta-sha256``, ``-sequencer``,
``-modified``), so put and head agree; the ETag is S3's own (md5 hex for single-part objects).
A put hashes the body into a spool first (memory up to 8 MiB, then a temporary file), because S3
wants metadata when an upload starts; up to 8 MiB it is one PutObject, above that a multipart
upload of 8 MiB parts, aborted on failure; both send ``ChecksumSHA256`` for S3 to verify.

``If-None-Match: *`` and ``If-Match`` go on PutObject and CompleteMultipartUpload, where AWS
enforces them atomically. moto 5.2 honours all but ``If-Match`` on CompleteMultipartUpload, so
that case is also checked by a conditional HeadObject just before completing (a small race on moto).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO, cast

from botocore.exceptions import BotoCoreError, ClientError

from culturemesh.errors import ObjectNotFound, PreconditionFailed, StoreError
from culturemesh.events import now_iso
from culturemesh.logs import get_logger
from culturemesh.store import CHUNK, Listener, ObjectInfo, _check_name

MULTIPART_THRESHOLD = 8 << 20
PART_SIZE = 8 << 20
_NOT_FOUND = frozenset({"NoSuchKey", "NoSuchBucket", "NotFound", "404"})

log = get_logger("culturemesh.s3store")


class S3Store:
    """An ``ObjectStore`` on S3 (or anything speaking its API, such as moto or MinIO) via a boto3 client."""

    def __init__(self, client: Any, bucket_prefix: str = "", *, page_size: int = 1000) -> None:
        self.client = client
        self.bucket_prefix = bucket_prefix
        self.page_size = page_size
        self._listeners: list[Listener] = []
        self._created: set[str] = set()
        self._last_sequencer = 0
        self._lock = threading.Lock()

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def bucket_name(self, bucket: str) -> str:
        _check_name("bucket", bucket)
        return f"{self.bucket_prefix}{bucket}"

    def uri(self, bucket: str, key: str) -> str:
        _check_name("key", key)
        return f"s3://{self.bucket_name(bucket)}/{key}"

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
        _check_name("key", key)
        name = self._ensure_bucket(bucket, key)
        conditions = {"IfNoneMatch": "*"} if if_none_match else {}
        if if_match is not None:
            conditions["IfMatch"] = f'"{if_match}"'
        with tempfile.SpooledTemporaryFile(max_size=MULTIPART_THRESHOLD) as spool:
            size, sha256 = _spool(body, spool, progress)
            spool.seek(0)
            sequencer, modified = self._sequencer(), now_iso()
            metadata = {"sha256": sha256, "sequencer": sequencer, "modified": modified}
            args = {"Bucket": name, "Key": key, "ContentType": content_type, "Metadata": metadata}
            with self._errors("PutObject", bucket, key, if_none_match, if_match):
                if size <= MULTIPART_THRESHOLD:
                    data = spool.read()
                    response = self.client.put_object(Body=data, ChecksumSHA256=_b64_sha256(data), **args, **conditions)
                else:
                    response = self._put_multipart(spool, args, conditions)
        etag = str(response["ETag"]).strip('"')
        info = ObjectInfo(bucket, key, size, etag, sha256, sequencer, modified, content_type)
        if notify:
            for listener in self._listeners:
                listener(info)
        return info

    def _put_multipart(self, spool: IO[bytes], args: dict[str, Any], conditions: dict[str, str]) -> Any:
        where = {"Bucket": args["Bucket"], "Key": args["Key"]}
        upload_id = self.client.create_multipart_upload(ChecksumAlgorithm="SHA256", **args)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            while chunk := spool.read(PART_SIZE):
                number, checksum = len(parts) + 1, _b64_sha256(chunk)
                part = self.client.upload_part(
                    **where, UploadId=upload_id, PartNumber=number, Body=chunk, ChecksumSHA256=checksum
                )
                parts.append({"PartNumber": number, "ETag": part["ETag"], "ChecksumSHA256": checksum})
            if "IfMatch" in conditions:  # moto ignores If-Match on CompleteMultipartUpload: check it here too
                self.client.head_object(**where, IfMatch=conditions["IfMatch"])
            return self.client.complete_multipart_upload(
                **where, UploadId=upload_id, MultipartUpload={"Parts": parts}, **conditions
            )
        except BaseException:
            try:
                self.client.abort_multipart_upload(**where, UploadId=upload_id)
            except (ClientError, BotoCoreError) as error:  # the first error is the one to raise
                log.warning("multipart upload not aborted", **where, upload_id=upload_id, error=str(error))
            raise

    def get(self, bucket: str, key: str) -> bytes:
        with self.open(bucket, key) as handle, self._errors("GetObject", bucket, key):
            return handle.read()

    def open(self, bucket: str, key: str) -> BinaryIO:
        _check_name("key", key)
        with self._errors("GetObject", bucket, key):
            response = self.client.get_object(Bucket=self.bucket_name(bucket), Key=key)
        return cast(BinaryIO, response["Body"])

    def head(self, bucket: str, key: str) -> ObjectInfo:
        _check_name("key", key)
        with self._errors("HeadObject", bucket, key):
            response = self.client.head_object(Bucket=self.bucket_name(bucket), Key=key)
        return _info(bucket, key, response)

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.head(bucket, key)
        except ObjectNotFound:
            return False
        return True

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order; an unknown bucket lists nothing."""
        for key in self._keys(bucket, prefix):
            try:
                with self._errors("HeadObject", bucket, key):
                    response = self.client.head_object(Bucket=self.bucket_name(bucket), Key=key)
            except ObjectNotFound:  # deleted since it was listed
                continue
            yield _info(bucket, key, response)

    def _keys(self, bucket: str, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket_name(bucket), Prefix=prefix, PaginationConfig={"PageSize": self.page_size}
        )
        try:
            with self._errors("ListObjectsV2", bucket, prefix):
                for page in pages:
                    yield from (str(entry["Key"]) for entry in page.get("Contents", []))
        except ObjectNotFound:  # no such bucket: nothing was ever put there
            return

    def _ensure_bucket(self, bucket: str, key: str) -> str:
        """The S3 bucket's name, created if missing (looking first: a role may write objects, not buckets)."""
        name = self.bucket_name(bucket)
        if name in self._created:
            return name
        with self._errors("HeadBucket", bucket, key):
            exists = self._bucket_exists(name)
        if not exists:
            region = self.client.meta.region_name
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            with self._errors("CreateBucket", bucket, key, tolerate="BucketAlreadyOwnedByYou"):
                self.client.create_bucket(Bucket=name, **location)
        self._created.add(name)
        return name

    def _bucket_exists(self, name: str) -> bool:
        try:
            self.client.head_bucket(Bucket=name)
        except ClientError as error:
            if _code(error) in _NOT_FOUND:
                return False
            raise
        return True

    def _sequencer(self) -> str:
        """Like the filesystem store's: nanoseconds as 20 hex digits, strictly increasing in this process."""
        with self._lock:
            self._last_sequencer = max(time.time_ns(), self._last_sequencer + 1)
            return f"{self._last_sequencer:020X}"

    @contextlib.contextmanager
    def _errors(
        self,
        operation: str,
        bucket: str,
        key: str,
        if_none_match: bool = False,
        if_match: str | None = None,
        tolerate: str = "",
    ) -> Iterator[None]:
        """Turn boto errors into culturemesh's; an error whose code is ``tolerate`` counts as success."""
        try:
            yield
        except ClientError as error:
            if tolerate and _code(error) == tolerate:
                return
            raise self._translate(error, operation, bucket, key, if_none_match, if_match) from error
        except BotoCoreError as error:
            raise StoreError(f"S3 {operation} on {self._where(bucket, key)} failed: {error}") from error

    def _translate(
        self, error: ClientError, operation: str, bucket: str, key: str, if_none_match: bool, if_match: str | None
    ) -> StoreError:
        details = error.response.get("Error", {})
        code, status = _code(error), error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        match_failed = f"If-Match: {if_match}"
        if code == "PreconditionFailed" or status == 412:
            condition = details.get("Condition")  # moto names the failed header; S3 may not
            none_match_lost = condition == "If-None-Match" or (condition is None and if_match is None)
            return PreconditionFailed(bucket, key, "If-None-Match: *" if none_match_lost else match_failed)
        if (code in _NOT_FOUND or status == 404) and if_match is not None:
            return PreconditionFailed(bucket, key, match_failed)  # S3 answers If-Match on a missing key with 404
        if code in _NOT_FOUND or status == 404:
            return ObjectNotFound(bucket, key)
        message = details.get("Message", str(error))
        return StoreError(f"S3 {operation} on {self._where(bucket, key)} failed: {code or status}: {message}")

    def _where(self, bucket: str, key: str) -> str:
        return f"bucket {bucket!r} (S3 bucket {self.bucket_prefix + bucket!r}), key {key!r}"


def _spool(body: bytes | BinaryIO, spool: IO[bytes], progress: Callable[[int], None] | None) -> tuple[int, str]:
    """Copy ``body`` into ``spool`` chunk by chunk; return its size and sha256 hex."""
    sha, size = hashlib.sha256(), 0
    source = io.BytesIO(body) if isinstance(body, bytes | bytearray | memoryview) else body
    while chunk := source.read(CHUNK):
        spool.write(chunk)
        sha.update(chunk)
        size += len(chunk)
        if progress:
            progress(len(chunk))
    return size, sha.hexdigest()


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _info(bucket: str, key: str, response: dict[str, Any]) -> ObjectInfo:
    """An ``ObjectInfo`` from a HeadObject answer; objects written by other tools lack our metadata."""
    metadata, modified_at = response.get("Metadata", {}), cast(datetime, response["LastModified"]).astimezone(UTC)
    modified = modified_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return ObjectInfo(
        bucket,
        key,
        int(response["ContentLength"]),
        str(response["ETag"]).strip('"'),
        str(metadata.get("sha256", "")),
        str(metadata.get("sequencer") or f"{int(modified_at.timestamp()) * 10**9:020X}"),
        str(metadata.get("modified") or modified),
        str(response.get("ContentType", "application/octet-stream")),
    )

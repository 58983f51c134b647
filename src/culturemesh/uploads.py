"""An upload on a product's upload port: where it is, how it is read, and the running totals of
its check. Raw uploads live sealed in the ``landing`` bucket; their reports in ``reports``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa

from culturemesh.contract import Violation
from culturemesh.descriptor import Descriptor, UploadInput
from culturemesh.errors import UploadRejected
from culturemesh.formats import TextBatches, read_csv
from culturemesh.jsonformats import JsonBatches, read_json_records
from culturemesh.merge import Merged
from culturemesh.store import ObjectInfo

LANDING = "landing"
REPORTS = "reports"
MAX_REPORTED = 1000


@dataclass(frozen=True)
class Upload:
    """An object on one of the product's upload ports."""

    port: UploadInput
    object: ObjectInfo
    filename: str

    def describe(self) -> dict[str, Any]:
        info = self.object
        return {
            "bucket": info.bucket,
            "key": info.key,
            "etag": info.etag,
            "size": info.size,
            "sha256": info.sha256,
        }


def landing_key(descriptor: Descriptor, port: str, filename: str) -> str:
    return f"{descriptor.qualified_name}/{port}/{filename}"


def upload_context(descriptor: Descriptor, key: str) -> dict[str, str]:
    """The encryption context of a raw upload: it only unseals as that object of that product."""
    return {"dataproduct": descriptor.qualified_name, "bucket": LANDING, "object": key}


def report_context(descriptor: Descriptor, key: str) -> dict[str, str]:
    return {"dataproduct": descriptor.qualified_name, "bucket": REPORTS, "object": key}


JSON_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonld": "jsonld", ".json": "json"}


def upload_format(filename: str) -> str:
    """The format of an upload, from its name (``.csv``, ``.json``, ``.jsonl``/``.ndjson``,
    ``.jsonld``, each optionally ``.gz``); anything else is read as CSV."""
    name = filename.lower().removesuffix(".gz")
    return next((fmt for suffix, fmt in JSON_SUFFIXES.items() if name.endswith(suffix)), "csv")


def read_upload(stream: BinaryIO, upload: Upload, names: list[str]) -> TextBatches | JsonBatches:
    fmt = upload_format(upload.filename)
    if fmt not in upload.port.formats:
        accepted = ", ".join(upload.port.formats)
        raise UploadRejected(
            f"{upload.object.key}: a {fmt} upload, but input port {upload.port.port!r} accepts {accepted}"
        )
    if fmt == "csv":
        return read_csv(stream, upload.port.csv, upload.object.key, names)
    return read_json_records(stream, fmt, upload.object.key)  # type: ignore[arg-type]


class Written:
    """Running totals of one upload's check."""

    def __init__(self) -> None:
        self.total = 0
        self.valid = 0
        self.violation_count = 0
        self.violations: list[Violation] = []
        self.ports: set[str] = set()
        self.merges: dict[str, Merged] = {}
        self.port_rows: dict[str, int] = {}
        self.schemas: dict[str, pa.Schema] = {}

    def add(self, rows: int, valid: int, violations: list[Violation], count: int) -> None:
        self.total += rows
        self.valid += valid
        self.violation_count += count
        room = MAX_REPORTED - len(self.violations)
        self.violations.extend(violations[: max(room, 0)])

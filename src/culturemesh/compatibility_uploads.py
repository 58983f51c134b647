"""Which changes to an upload input break its providers: formats, CSV options, policy, contract.

A file the old contract accepted must still be accepted: fewer formats, other CSV options, a
stricter invalid-row policy, new or narrowed contract columns break providers. A contract given as
a JSON Schema is compared as parsed JSON, identical or not provably compatible.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from culturemesh.compatibility_change import CANNOT_PROVE, Change, Field, as_text, dotted_attribute, field_changes
from culturemesh.compatibility_coltypes import Audience
from culturemesh.compatibility_columns import column_changes
from culturemesh.descriptor import Contract, Descriptor, UploadInput

_CSV = "files written for the old setting no longer read the same"
_UPLOAD = (
    Field("upload.csv.delimiter", "csv.delimiter", "CSV delimiter changed", True, _CSV),
    Field("upload.csv.quoteChar", "csv.quote_char", "CSV quote character changed", True, _CSV),
    Field("upload.csv.encoding", "csv.encoding", "CSV encoding changed", True, _CSV),
    Field("upload.csv.header", "csv.header", "CSV header setting changed", True, _CSV),
)


def upload_changes(old: Descriptor, new: Descriptor) -> Iterator[Change]:
    before, after = {u.port: u for u in old.upload_inputs()}, {u.port: u for u in new.upload_inputs()}
    for name in before:
        if name not in after:
            why = "providers can no longer upload to it"
            yield Change(f"culturemesh.inputs[{name}]", "upload port removed", "upload", None, True, why)
    for name, upload in after.items():
        path = f"culturemesh.inputs[{name}]"
        if name not in before:
            yield Change(path, "upload port added", None, "upload", False, "a new port breaks no provider")
        else:
            yield from _upload(before[name], upload, path)


def _upload(old: UploadInput, new: UploadInput, path: str) -> Iterator[Change]:
    if old.formats != new.formats:
        removed = [f for f in old.formats if f not in new.formats]
        why = f"uploads as {', '.join(removed)} are rejected" if removed else "providers may upload more formats"
        formats = as_text(old.formats), as_text(new.formats)
        yield Change(f"{path}.upload.formats", "upload formats changed", *formats, bool(removed), why)
    yield from field_changes(old, new, path, _UPLOAD)
    if old.invalid_rows != new.invalid_rows:
        stricter = new.invalid_rows == "reject"
        why = "an upload with one invalid row is rejected whole" if stricter else "invalid rows no longer reject all"
        rows = old.invalid_rows, new.invalid_rows
        yield Change(f"{path}.invalidRows", "invalid-row policy changed", *rows, stricter, why)
    yield from _contract(old.contract, new.contract, f"{path}.contract", positional=not new.csv.header)


def _contract(old: Contract | None, new: Contract | None, path: str, positional: bool) -> Iterator[Change]:
    if old is None or new is None:
        if old != new:
            added = old is None
            origins = dotted_attribute(old, "origin"), dotted_attribute(new, "origin")
            why = "uploads are now checked against it" if added else "uploads are no longer checked"
            yield Change(path, "contract added" if added else "contract removed", *origins, added, why)
    elif old.columns is not None and new.columns is not None:
        yield from column_changes(old.columns, new.columns, path, Audience.PROVIDERS, positional)
    elif old.json_schema_path is not None and new.json_schema_path is not None:
        yield from _json_schema(old.json_schema_path, new.json_schema_path, f"{path}.jsonSchema")
    else:
        why = f"{CANNOT_PROVE}: columns and a JSON Schema cannot be compared"
        yield Change(path, "contract kind changed", old.origin, new.origin, True, why)


def _json_schema(old: Path, new: Path, path: str) -> Iterator[Change]:
    """JSON Schema contracts are compared as parsed JSON: identical, or not provably compatible."""
    before, after = _read_json(old), _read_json(new)
    if before is None or after is None:
        why = f"{CANNOT_PROVE}: cannot read {old if before is None else new} as JSON"
        yield Change(path, "JSON Schema unreadable", str(old), str(new), True, why)
    elif before != after:
        why = f"{CANNOT_PROVE}: changes inside a JSON Schema are not analysed"
        yield Change(path, "JSON Schema changed", str(old), str(new), True, why)
    elif old.name != new.name:
        yield Change(path, "JSON Schema moved", old.name, new.name, False, "the same schema in another file")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

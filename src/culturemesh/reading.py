"""Reading an output port's version as a principal, within its grant."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from culturemesh import versions
from culturemesh.access import AccessDenied, grant
from culturemesh.descriptor import Descriptor, PortType
from culturemesh.errors import ConfigError
from culturemesh.kms import DecryptionFailed, KeyAccessDenied, Kms
from culturemesh.parquetcrypto import crypto_for
from culturemesh.store import ObjectStore


def read_port(
    store: ObjectStore,
    kms: Kms,
    descriptor: Descriptor,
    port: str,
    principal: str,
    version: str | None,
    columns: Sequence[str] | None = None,
) -> tuple[pa.Table, tuple[str, ...]]:
    """The version's rows with the columns ``principal`` may read, and the names withheld."""
    try:
        output = descriptor.output_port(port)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    if output.type is PortType.LINKEDDATA:
        raise ConfigError(
            f"port {port!r} of {descriptor.qualified_name} is a linked-data port, not a table: query it with "
            f"SPARQL at /sparql/{descriptor.qualified_name}/{port} on the mesh (docs/linked-data.md)"
        )
    manifest = versions.read_manifest(store, descriptor.qualified_name, port, version)
    available = [field["name"] for field in manifest.schema]
    requested = list(columns) if columns else available
    unknown = [c for c in requested if c not in available]
    if unknown:
        raise ConfigError(f"port {port!r} has no column(s) {', '.join(unknown)}; columns: {', '.join(available)}")
    allowed = grant(descriptor, port, principal, requested)
    if columns and allowed.withheld:
        raise AccessDenied(
            principal,
            f"{descriptor.qualified_name} port {port!r}",
            f"column(s) {', '.join(allowed.withheld)} are classified",
        )
    tables = [
        read_parquet(
            store, kms, principal, f["key"], list(allowed.readable), f"{descriptor.qualified_name} port {port!r}"
        )
        for f in manifest.files
    ]
    return pa.concat_tables(tables), allowed.withheld


def read_parquet(
    store: ObjectStore, kms: Kms, principal: str, key: str, columns: Sequence[str] | None, resource: str
) -> pa.Table:
    """Decrypt a port file as ``principal``: the KMS, not this code, decides which column keys it
    may unwrap. A file that does not decrypt (altered, truncated, not ours) is an error, never data."""
    properties = crypto_for(kms).decryption(principal)
    try:
        return pq.read_table(
            pa.BufferReader(store.get(versions.PRODUCTS, key)), columns=columns, decryption_properties=properties
        )
    except KeyAccessDenied as exc:
        raise AccessDenied(principal, resource, f"the KMS refused key {exc.key!r}") from None
    except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
        raise DecryptionFailed(
            f"{resource} file {key}", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        ) from None


def write_table(table: pa.Table, output: Path | None) -> None:
    if output is None:
        sink = pa.BufferOutputStream()  # pyarrow never holds on to a Python file object
        pacsv.write_csv(table, sink)
        sys.stdout.buffer.write(sink.getvalue().to_pybytes())
        sys.stdout.buffer.flush()
    elif output.suffix == ".parquet":
        pq.write_table(table, output)
    elif output.suffix == ".json":
        import json

        output.write_text(json.dumps(table.to_pylist(), default=str, indent=2))
    else:
        pacsv.write_csv(table, output)

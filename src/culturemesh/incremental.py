"""The incremental ports of one upload: their rows collected, then merged with the latest version.

A port with ``culturemesh.outputs.<port>.merge.mode: incremental`` does not replace its state with
each upload: the upload's entities are merged (:mod:`culturemesh.merge`) into the latest version
and the merged state is the next version. Its id includes the base version, the commit requires
that base to still be the latest (else the delivery is retried and the merge recomputed), and a
marker per input keeps a redelivered input from producing a second version.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from culturemesh import keys, versions
from culturemesh.descriptor import Descriptor
from culturemesh.kms import Kms
from culturemesh.merge import Merged, merge
from culturemesh.reading import read_parquet
from culturemesh.store import ObjectStore

_TRUE = pa.array(["true", "1", "yes", "y"])


def deleted_flags(batch: pa.RecordBatch, column: str | None) -> pa.Array | None:
    """The tombstone flags of an upload batch (a true-ish value in ``column``), if it has them."""
    if column is None or column not in batch.schema.names:
        return None
    values = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(batch.column(column), pa.string())))
    return pc.fill_null(pc.is_in(values, value_set=_TRUE), False)


class IncrementalPorts:
    def __init__(self, descriptor: Descriptor, store: ObjectStore, kms: Kms, produces: Iterable[str]) -> None:
        self.descriptor, self.store, self.kms = descriptor, store, kms
        self.ports = {port for port in produces if descriptor.output_settings(port).merge == "incremental"}
        self.base = {port: versions.latest_version(store, descriptor.qualified_name, port) for port in self.ports}
        self._rows: dict[str, list[pa.RecordBatch]] = {port: [] for port in self.ports}
        self._flags: dict[str, list[pa.Array]] = {port: [] for port in self.ports}

    def deleted_column(self, port: str) -> str | None:
        return self.descriptor.output_settings(port).deleted_column

    def add(self, port: str, rows: pa.RecordBatch, flags: pa.Array | None) -> None:
        self._rows[port].append(rows)
        self._flags[port].append(flags if flags is not None else pa.array([False] * rows.num_rows, pa.bool_()))

    def merged(self, port: str, schema: pa.Schema) -> Merged:
        """The port's next state: the latest version's rows merged with this upload's."""
        incoming = pa.Table.from_batches(self._rows[port], schema=schema)
        flags = pa.concat_arrays(self._flags[port]) if self._flags[port] else pa.array([], pa.bool_())
        analytical = self.descriptor.output_port(port).analytical_schema
        primary_key = list(analytical.primary_key) if analytical else []
        return merge(
            self._previous(port), incoming, flags, primary_key, self.descriptor.output_settings(port).modified_column
        )

    def _previous(self, port: str) -> pa.Table | None:
        version = self.base[port]
        if version is None:
            return None
        manifest = versions.read_manifest(self.store, self.descriptor.qualified_name, port, version)
        principal = keys.function_principal(self.descriptor)
        resource = f"{self.descriptor.qualified_name} port {port!r} version {version}"
        tables = [read_parquet(self.store, self.kms, principal, f["key"], None, resource) for f in manifest.files]
        return pa.concat_tables(tables) if tables else None

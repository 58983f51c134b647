"""A data product at work: from an upload event to a rejected upload or published versions.

:meth:`Product.ingest` is what a product's ingest function calls. It streams the upload in record
batches, checks each against the input port's contract, lets the product's own (vectorized)
``transform`` shape the valid rows into output-port batches, writes each port's new version, and
returns the events to publish. Nothing becomes visible unless the whole upload is accepted (or,
under the ``quarantine`` policy, its valid rows are).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from culturemesh import events, keys, quality, versions
from culturemesh.contract import CheckedBatch, Column, check_batch
from culturemesh.descriptor import ColumnDefinition, Descriptor, UploadInput, load_descriptor
from culturemesh.envelope import Envelope
from culturemesh.errors import ConfigError, EventError, UploadRejected
from culturemesh.formats import decompressed
from culturemesh.incremental import IncrementalPorts, deleted_flags
from culturemesh.kms import Kms
from culturemesh.merge import Merged
from culturemesh.outcomes import Outcomes
from culturemesh.parquetcrypto import crypto_for
from culturemesh.pipeline import Background, prefetched
from culturemesh.project import unsupported
from culturemesh.quality import QualityFailure
from culturemesh.reading import read_parquet
from culturemesh.sealing import ChunkReader, unseal
from culturemesh.store import ObjectStore
from culturemesh.uploads import (
    LANDING,
    MAX_REPORTED,
    REPORTS,
    Upload,
    Written,
    landing_key,
    read_upload,
    report_context,
    upload_context,
    upload_format,
)

__all__ = [
    "LANDING",
    "REPORTS",
    "Product",
    "Transform",
    "Upload",
    "code_version",
    "contract_columns",
    "landing_key",
    "read_upload",
    "report_context",
    "upload_context",
    "upload_format",
]

if TYPE_CHECKING:
    from culturemesh.catalog.registry import Registry
    from culturemesh.schemacheck import RecordCheck

PING = "dev.knative.sources.ping"  # the event a Knative PingSource sends on each tick
Transform = Callable[[pa.RecordBatch], Mapping[str, pa.RecordBatch]]


# What a product's behaviour depends on: code, descriptor, contracts, mappings, shapes, contexts.
_CODE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".jsonld", ".csv", ".rml", ".ttl", ".nt", ".sparql", ".rq"}


def code_version(folder: Path) -> str:
    """A digest of the product's code and configuration: a change makes new versions."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in _CODE_SUFFIXES:
            if "__pycache__" in path.parts or "samples" in path.parts:
                continue
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def contract_columns(descriptor: Descriptor, port: UploadInput) -> list[Column]:
    definitions: tuple[ColumnDefinition, ...] = ()
    if port.contract is not None and port.contract.columns is not None:
        definitions = port.contract.columns
    classification: dict[str, str] = {}
    for output in descriptor.output_ports:
        classification.update(descriptor.output_settings(output.name).classification)
    return [
        Column(
            name=d.name,
            type=d.arrow_type(),
            nullable=d.nullable,
            enum=d.parsed_type().enum_labels,
            classification=classification.get(d.name, ""),
            type_name=d.type,
        )
        for d in definitions
    ]


class Product:
    def __init__(
        self,
        descriptor: Descriptor,
        store: ObjectStore,
        kms: Kms,
        function: str = "ingest",
        registry: Registry | None = None,
    ) -> None:
        problems = unsupported(descriptor)
        if problems:
            raise ConfigError("; ".join(str(issue) for issue in problems))
        self.descriptor = descriptor
        self.store = store
        self.kms = kms
        self.crypto = crypto_for(kms)
        self.principal = keys.function_principal(descriptor)
        self.outcomes = Outcomes(descriptor, store, kms, self.principal, registry)
        self._schemas: dict[str, RecordCheck] = {}  # compiled JSON Schema contracts, per input port
        self.function = function
        folder = descriptor.base_dir or Path.cwd()
        self.function_version = code_version(folder)

    @classmethod
    def load(
        cls, folder: Path, store: ObjectStore, kms: Kms, function: str = "ingest", registry: Registry | None = None
    ) -> Product:
        return cls(load_descriptor(folder / "data-product.yaml"), store, kms, function, registry)

    # the upload ----------------------------------------------------------------------------
    def upload_from(self, event: Envelope) -> Upload:
        if event.type != events.OBJECT_CREATED:
            raise EventError(f"event {event.id}: expected type {events.OBJECT_CREATED}, got {event.type}")
        record = event.json()
        bucket, key = record["s3"]["bucket"]["name"], events.record_key(record)
        prefix = f"{self.descriptor.qualified_name}/"
        if not key.startswith(prefix) or key.count("/") < 3:
            raise EventError(f"event {event.id}: object {key!r} is not under {prefix}<input port>/<file>")
        port_name, filename = key[len(prefix) :].split("/", 1)
        port = self.descriptor.extension.inputs.get(port_name)
        if port is None or not port.upload:
            names = [p.port for p in self.descriptor.upload_inputs()]
            raise EventError(f"event {event.id}: {port_name!r} is not an upload port of this product; ports: {names}")
        return Upload(port, self.store.head(bucket, key), filename)

    # the whole job -------------------------------------------------------------------------
    def ingest(self, event: Envelope, transform: Transform | None = None) -> list[Envelope]:
        upload = self.upload_from(event)
        produces = upload.port.produces or tuple(p.name for p in self.descriptor.output_ports)
        incremental = IncrementalPorts(self.descriptor, self.store, self.kms, produces)
        version = {
            port: versions.version_id(port, [upload.object], self.function_version + (incremental.base.get(port) or ""))
            for port in produces
        }
        done = [self._done(port, version[port], upload, incremental) for port in produces]
        if all(done):  # a redelivery: the same input already became these versions
            for manifest in done:
                if manifest is not None and manifest.outputport not in incremental.ports:
                    versions.commit(self.store, manifest)  # finishes a commit a crash interrupted
            return [self.outcomes.published(m) for m in done if m is not None]
        with tempfile.TemporaryDirectory(prefix="culturemesh-") as scratch:
            try:
                result = self._check_and_write(upload, produces, transform, Path(scratch), incremental)
            except UploadRejected as exc:
                return [self.outcomes.reject(upload, str(exc), [], 0)]
            if result.violations and (upload.port.invalid_rows == "reject" or result.valid == 0):
                message = f"{result.violation_count} value(s) break the contract of input port {upload.port.port!r}"
                return [self.outcomes.reject(upload, message, result.violations, result.total, result.violation_count)]
            failures = {port: self._quality(port, Path(scratch) / f"{port}.parquet") for port in result.ports}
            if any(failures.values()):
                return [self.outcomes.failed(upload, {port: found for port, found in failures.items() if found})]
            manifests = [
                self._commit(upload, port, version[port], result, Path(scratch), incremental) for port in produces
            ]
        accepted = self.outcomes.accept(upload, result)
        return [accepted, *(self.outcomes.published(m) for m in manifests)]

    def rerun(self, event: Envelope) -> list[Envelope]:
        """A scheduled run (the PingSource of ``spec.transformer.schedule``): each upload port's
        latest upload is ingested again with the current code. The same upload and the same code
        give the same version (announced again); changed code gives a new version."""
        if event.type != PING:
            raise EventError(f"event {event.id}: expected {PING}, got {event.type}")
        emitted: list[Envelope] = []
        for port in self.descriptor.upload_inputs():
            prefix = f"{self.descriptor.qualified_name}/{port.port}/"
            latest = max(self.store.list(LANDING, prefix), key=lambda info: info.key, default=None)
            if latest is not None:
                emitted.extend(self.ingest(events.object_created(latest.as_stored())))
        return emitted

    def _done(self, port: str, version: str, upload: Upload, incremental: IncrementalPorts) -> versions.Manifest | None:
        qualified = self.descriptor.qualified_name
        if port in incremental.ports:
            return versions.processed(self.store, qualified, port, upload.object.sha256)
        return versions.existing(self.store, qualified, port, version)

    def _check_and_write(
        self,
        upload: Upload,
        produces: tuple[str, ...],
        transform: Transform | None,
        scratch: Path,
        incremental: IncrementalPorts,
    ) -> Written:
        columns = contract_columns(self.descriptor, upload.port)
        name = upload.object.key
        writers: dict[str, pq.ParquetWriter] = {}
        written = Written()
        with (
            self.store.open(upload.object.bucket, upload.object.key) as sealed,
            Background[None]() as encoding,  # the previous batch is encoded while this one is checked
            contextlib.ExitStack() as stack,
        ):
            plain = unseal(self.kms, upload_context(self.descriptor, upload.object.key), self.principal, sealed, name)
            stream = decompressed(io.BufferedReader(ChunkReader(plain), buffer_size=1 << 20))
            text = read_upload(stream, upload, [column.name for column in columns])
            missing = [column.name for column in columns if column.name not in text.columns]
            if missing:
                raise UploadRejected(
                    f"{name}: header lacks contract column(s) {', '.join(missing)}; "
                    f"expected {', '.join(c.name for c in columns)}, found {', '.join(text.columns)}"
                )
            batches = stack.enter_context(contextlib.closing(prefetched(text.batches)))  # parsed ahead
            for batch in batches:
                checked = self._check(upload.port, columns, batch, written.total + 1)
                written.add(batch.num_rows, checked.batch.num_rows, checked.violations, checked.violation_count)
                outputs = transform(checked.batch) if transform else self._default_split(checked.batch, produces)
                for port, out in outputs.items():
                    if port in incremental.ports:
                        flags = deleted_flags(batch, incremental.deleted_column(port))
                        incremental.add(port, out, None if flags is None or transform else flags.filter(checked.valid))
                        written.schemas[port] = out.schema
                        continue
                    if port not in writers:
                        writers[port] = self._writer(scratch / f"{port}.parquet", port, out.schema)
                        written.schemas[port] = out.schema
                    encoding.submit(functools.partial(writers[port].write_batch, out))
                    written.port_rows[port] = written.port_rows.get(port, 0) + out.num_rows
        for writer in writers.values():
            writer.close()
        if written.total == 0:
            raise UploadRejected(f"{name}: the file has a header but no data rows")
        for port in incremental.ports & set(written.schemas):
            merged = incremental.merged(port, written.schemas[port])
            with self._writer(scratch / f"{port}.parquet", port, written.schemas[port]) as writer:
                writer.write_table(merged.table)
            written.port_rows[port] = merged.table.num_rows
            written.merges[port] = merged
        written.ports = set(writers) | set(written.merges)
        return written

    def _check(self, port: UploadInput, columns: list[Column], batch: pa.RecordBatch, first_row: int) -> CheckedBatch:
        """One batch against the port's contract: column definitions, or a JSON Schema."""
        contract = port.contract
        if contract is None or contract.json_schema_path is None:
            return check_batch(batch, columns, first_row=first_row, limit=MAX_REPORTED)
        if port.port not in self._schemas:
            from culturemesh.schemacheck import compile_record_schema

            classification: dict[str, str] = {}
            for output in self.descriptor.output_ports:
                classification.update(self.descriptor.output_settings(output.name).classification)
            schema = json.loads(contract.json_schema_path.read_text())
            self._schemas[port.port] = compile_record_schema(schema, classification=classification)
        return self._schemas[port.port].check(batch, first_row, MAX_REPORTED)

    def _writer(self, path: Path, port: str, schema: pa.Schema) -> pq.ParquetWriter:
        """An encrypted Parquet writer: footer and unclassified columns under the product key, each
        classified column under its classification's key."""
        classification = self.descriptor.output_settings(port).classification
        column_keys: dict[str, list[str]] = {}
        for column, label in classification.items():
            if column in schema.names:
                column_keys.setdefault(keys.classification_key(self.descriptor, label), []).append(column)
        properties = self.crypto.encryption(self.principal, keys.product_key(self.descriptor), column_keys)
        return pq.ParquetWriter(path, schema, compression="zstd", encryption_properties=properties)

    def _default_split(self, batch: pa.RecordBatch, produces: tuple[str, ...]) -> dict[str, pa.RecordBatch]:
        """Without a transform each produced port gets its own columns of the checked rows."""
        result = {}
        for port in produces:
            schema = self.descriptor.output_port(port).analytical_schema
            names = [c.name for c in schema.columns] if schema else batch.schema.names
            result[port] = batch.select(names) if schema else batch
            if schema:
                result[port] = result[port].cast(schema.arrow_schema())
        return result

    # outcomes ------------------------------------------------------------------------------
    def _commit(
        self, upload: Upload, port: str, version: str, written: Written, scratch: Path, incremental: IncrementalPorts
    ) -> versions.Manifest:
        qualified = self.descriptor.qualified_name
        local = scratch / f"{port}.parquet"
        if port not in written.ports:
            analytical = self.descriptor.output_port(port).analytical_schema
            written.schemas[port] = analytical.arrow_schema() if analytical else pa.schema([])
            self._writer(local, port, written.schemas[port]).close()
        key = versions.file_key(qualified, port, version, "part-00000.parquet")
        with local.open("rb") as body:
            info = self.store.put(
                versions.PRODUCTS, key, body, content_type="application/vnd.apache.parquet", notify=False
            )
        manifest = versions.Manifest(
            dataproduct=qualified,
            outputport=port,
            version=version,
            format="parquet",
            created=events.now_iso(),
            rows=written.port_rows.get(port, 0),
            bytes=info.size,
            files=(
                {
                    "key": key,
                    "uri": self.store.uri(versions.PRODUCTS, key),
                    "size": info.size,
                    "sha256": info.sha256,
                },
            ),
            schema=tuple({"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in written.schemas[port]),
            lineage=versions.Lineage((upload.describe(),), self.function, self.function_version),
            extra=_merge_summary(written.merges.get(port), incremental.base.get(port)),
        )
        if port in incremental.ports:
            versions.commit(self.store, manifest, base=incremental.base[port])
            versions.record_input(self.store, manifest, upload.object.sha256)
        else:
            versions.commit(self.store, manifest)
        return manifest

    def _quality(self, port: str, local: Path) -> list[QualityFailure]:
        rules = self.descriptor.output_settings(port).quality
        if not rules:
            return []
        decryption = self.crypto.decryption(self.principal)
        table = pq.read_table(local, columns=quality.columns_needed(rules), decryption_properties=decryption)
        return quality.check(table, rules, self._referenced_keys)

    def _referenced_keys(self, product: str, port: str, key: str) -> pa.Array:
        manifest = versions.latest(self.store, product, port)
        resource = f"{product} port {port!r}"
        parts = [read_parquet(self.store, self.kms, self.principal, f["key"], [key], resource) for f in manifest.files]
        return pa.concat_tables(parts).column(key).combine_chunks()


def _merge_summary(merged: Merged | None, base: str | None) -> dict[str, object]:
    if merged is None:
        return {}
    counts = {"inserted": merged.inserted, "updated": merged.updated, "deleted": merged.deleted}
    return {"merge": {"base": base, **counts, "unchanged": merged.unchanged}}

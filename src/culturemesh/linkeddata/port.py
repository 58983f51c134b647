"""A ``linkeddata`` output port at work: a new version of an input becomes OSLO linked data.

A product's handler reacts to ``be.culturemesh.dataproduct.published`` of a port its linked-data
port reads (an input port with an ``outputPortRef``, to another product or to itself)::

    @product_function
    def linked_data(event: Envelope, product: Product) -> list[Envelope]:
        return LinkedDataPort.of(product).handle(event)

Per linked-data port the event feeds, :meth:`LinkedDataPort.handle` reads the sources' versions as
the product's principal (which the source ports must grant), runs the YARRRML mapping, validates
the graph against the port's SHACL shapes, and writes an immutable version: sealed N-Quads (one
named graph per entity), Turtle and JSON-LD, and a graph index. A violation publishes nothing and
emits ``be.culturemesh.dataproduct.failed`` with a sealed report naming focus node, path,
constraint and message. Versions are incremental: each graph's hash is compared with the previous
version's, the manifest counts added, changed and removed graphs, and only those travel to the
SPARQL stores. The version id derives from the inputs' versions and the code's version, so a
redelivered event finds its version and only finishes what a crash interrupted.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from culturemesh import events, keys, versions
from culturemesh.descriptor import Descriptor, LinkedDataSettings, OutputPortRef, PortType
from culturemesh.envelope import Envelope
from culturemesh.errors import ConfigError, EventError
from culturemesh.linkeddata import portfiles, quadfile
from culturemesh.logs import get_logger
from culturemesh.sealing import seal_bytes
from culturemesh.uploads import REPORTS, report_context

if TYPE_CHECKING:
    import pyarrow as pa

    from culturemesh.linkeddata.shacl import Report
    from culturemesh.product import Product

log = get_logger("culturemesh.linkeddata.port")
Mapper = Callable[[LinkedDataSettings, Mapping[str, "pa.Table"]], "pa.Table"]


@dataclass(frozen=True)
class SourceVersion:
    """The version of an input port a mapping source was read from."""

    source: str
    input_port: str
    ref: OutputPortRef
    version: str

    def describe(self) -> dict[str, str]:
        return {
            "source": self.source,
            "dataproduct": self.ref.qualified_name,
            "outputport": self.ref.output_port,
            "version": self.version,
        }


def run_mapping(settings: LinkedDataSettings, tables: Mapping[str, pa.Table]) -> pa.Table:
    """The YARRRML mapping of ``settings`` over ``tables`` (one per mapping source): a quad table."""
    from culturemesh.linkeddata import engine, yarrrml

    return engine.run(yarrrml.load(settings.mapping), tables)


class LinkedDataPort:
    def __init__(self, product: Product, graph_store_auth: str = "", mapper: Mapper = run_mapping) -> None:
        self.product, self.descriptor = product, product.descriptor
        self.store, self.kms, self.principal = product.store, product.kms, product.principal
        self.graph_store_auth, self.mapper = graph_store_auth, mapper

    @classmethod
    def of(cls, product: Product) -> LinkedDataPort:
        from culturemesh.settings import Settings

        return cls(product, Settings.from_env().graph_store_auth)

    def ports_fed_by(self, event: Envelope) -> list[str]:
        """The linked-data ports with a source read from the port ``event`` announces."""
        announced = (event.get("dataproduct"), event.get("outputport"))
        return [
            port.name
            for port in self.descriptor.output_ports
            if port.type == PortType.LINKEDDATA
            and any((ref.qualified_name, ref.output_port) == announced for _, ref in self._refs(port.name).values())
        ]

    def handle(self, event: Envelope) -> list[Envelope]:
        if event.type != events.PUBLISHED:
            raise EventError(f"event {event.id}: expected type {events.PUBLISHED}, got {event.type}")
        ports = self.ports_fed_by(event)
        if not ports:
            raise EventError(
                f"event {event.id}: no linked-data port of {self.descriptor.qualified_name} reads "
                f"{event.get('dataproduct')} port {event.get('outputport')!r}"
            )
        published = [self.publish(port, event) for port in ports]
        return [envelope for envelope in published if envelope is not None]

    # one port ------------------------------------------------------------------------------
    def settings(self, port: str) -> LinkedDataSettings:
        found = self.descriptor.output_settings(port).linked_data
        if found is None:
            raise ConfigError(f"culturemesh.outputs.{port}: a linkeddata port needs mapping and sources")
        return found

    def _refs(self, port: str) -> dict[str, tuple[str, OutputPortRef]]:
        """Mapping source → (input port, the output port it references)."""
        result = {}
        for source, input_name in self.settings(port).sources.items():
            ref = self.descriptor.input_port(input_name).output_port_ref
            if ref is None:
                raise ConfigError(f"input port {input_name!r} has no outputPortRef to read from")
            result[source] = (input_name, ref)
        return result

    def _sources(self, port: str, event: Envelope) -> list[SourceVersion] | None:
        """The version each mapping source reads; None while some source has no version yet."""
        announced = (event.get("dataproduct"), event.get("outputport"), event.get("dpversion"))
        found = []
        for source, (input_name, ref) in sorted(self._refs(port).items()):
            version = announced[2] if (ref.qualified_name, ref.output_port) == announced[:2] else None
            version = version or versions.latest_version(self.store, ref.qualified_name, ref.output_port)
            if version is None:
                log.info("linked data waits for a source", source=source, outputport=ref.output_port)
                return None
            found.append(SourceVersion(source, input_name, ref, str(version)))
        return found

    def version_id(self, port: str, sources: list[SourceVersion]) -> str:
        digest = hashlib.sha256()
        for part in (port, self.product.function_version, *(json.dumps(s.describe()) for s in sources)):
            digest.update(part.encode() + b"\x00")
        return digest.hexdigest()[:20]

    def publish(self, port: str, event: Envelope) -> Envelope | None:
        sources = self._sources(port, event)
        if sources is None:
            return None
        version = self.version_id(port, sources)
        done = versions.existing(self.store, self.descriptor.qualified_name, port, version)
        if done is not None:  # a redelivery: finish what a crash may have interrupted
            versions.commit(self.store, done)
            self._push(port, done)
            return self.product.outcomes.published(done)
        quads = self.mapper(self.settings(port), self._tables(sources))
        report = self._validate(port, quads)
        if report is not None and not report.conforms:
            return self._failed(port, version, sources, report)
        manifest = self._commit(port, version, sources, quads, report)
        self._push(port, manifest)
        return self.product.outcomes.published(manifest)

    def _tables(self, sources: list[SourceVersion]) -> dict[str, pa.Table]:
        from culturemesh.reading import read_port

        tables = {}
        for source in sources:
            upstream = self._descriptor_of(source.ref)
            tables[source.source] = read_port(
                self.store, self.kms, upstream, source.ref.output_port, self.principal, source.version
            )[0]
        return tables

    def _descriptor_of(self, ref: OutputPortRef) -> Descriptor:
        if ref.qualified_name == self.descriptor.qualified_name:
            return self.descriptor
        from culturemesh.project import load_products

        folder = self.descriptor.base_dir.parent if self.descriptor.base_dir else None
        for descriptor in load_products(folder) if folder else []:
            if descriptor.qualified_name == ref.qualified_name:
                return descriptor
        raise ConfigError(f"no data product {ref.qualified_name} next to {self.descriptor.qualified_name}")

    def _validate(self, port: str, quads: pa.Table) -> Report | None:
        from culturemesh.linkeddata import shacl

        paths = self.settings(port).shapes
        return shacl.validate(quads, shacl.load_shapes(paths)) if paths else None

    # outcomes ------------------------------------------------------------------------------
    def _failed(self, port: str, version: str, sources: list[SourceVersion], report: Report) -> Envelope:
        qualified = self.descriptor.qualified_name
        body = {
            "dataproduct": qualified,
            "outputport": port,
            "status": "failed",
            "inputs": [s.describe() for s in sources],
            "shapes": [str(p.name) for p in self.settings(port).shapes],
            "shacl": report.as_dict(),
            "created": events.now_iso(),
        }
        key = f"{qualified}/{port}/shacl/{version}.json"
        sealed = seal_bytes(
            self.kms,
            keys.landing_key(self.descriptor),
            report_context(self.descriptor, key),
            self.principal,
            json.dumps(body, indent=2).encode(),
        )
        self.store.put(REPORTS, key, sealed, content_type=portfiles.SEALED, notify=False)
        first = "; ".join(str(f) for f in report.findings[:3])
        data = {
            "dataproduct": qualified,
            "outputport": port,
            "reason": f"{report.count} SHACL violation(s) of the port's shapes, e.g. {first}",
            "inputs": [s.describe() for s in sources],
            "violations": [f.as_dict() for f in report.findings[:20]],
            "report": self.store.uri(REPORTS, key),
        }
        log.warning("linked data failed its shapes", outputport=port, violations=report.count)
        return events.failed(qualified, f"{port}/{version}", data, (port, version))

    def _previous(self, port: str) -> tuple[str | None, pa.Table | None]:
        qualified = self.descriptor.qualified_name
        base = versions.latest_version(self.store, qualified, port)
        if base is None:
            return None, None
        manifest = versions.read_manifest(self.store, qualified, port, base)
        raw = portfiles.read_file(self.store, self.kms, self.descriptor, self.principal, manifest, "index")
        return base, quadfile.index_from_bytes(raw)

    def _commit(
        self, port: str, version: str, sources: list[SourceVersion], quads: pa.Table, report: Report | None
    ) -> versions.Manifest:
        qualified = self.descriptor.qualified_name
        written = quadfile.write(quads)
        base, previous = self._previous(port)
        delta = quadfile.diff(previous, written.index)
        contents = {
            "nquads": written.data,
            "turtle": self._serialize(port, quads, "turtle"),
            "jsonld": self._serialize(port, quads, "jsonld"),
            "index": quadfile.index_to_bytes(written.index),
        }
        files = tuple(
            portfiles.put_sealed(
                self.store,
                self.kms,
                self.descriptor,
                self.principal,
                versions.file_key(qualified, port, version, portfiles.FILES[role][0]),
                role,
                data,
            )
            for role, data in contents.items()
        )
        manifest = versions.Manifest(
            dataproduct=qualified,
            outputport=port,
            version=version,
            format="nquads",
            created=events.now_iso(),
            rows=written.quads,
            bytes=sum(int(f["size"]) for f in files),
            files=files,
            schema=tuple({"name": name, "type": "string", "nullable": name == "g"} for name in ("s", "p", "o", "g")),
            lineage=versions.Lineage(
                tuple(s.describe() for s in sources), self.product.function, self.product.function_version
            ),
            extra=_summary(base, written.index.num_rows, delta, report),
        )
        versions.commit(self.store, manifest, base=base)
        log.info("linked data published", outputport=port, version=version, quads=written.quads, **delta.counts())
        return manifest

    def _serialize(self, port: str, quads: pa.Table, fmt: str) -> bytes:
        from culturemesh.linkeddata import serialize

        out = io.BytesIO()
        path = self.settings(port).context
        serialize.write(quads, out, fmt, context=serialize.load_context(path) if path else None)  # type: ignore[arg-type]
        return out.getvalue()

    def _push(self, port: str, manifest: versions.Manifest) -> None:
        """Bring the port's external Graph Store (if any) to ``manifest``'s version."""
        url = self.settings(port).graph_store
        if url is None:
            return
        from culturemesh.linkeddata import graphstore

        qualified = self.descriptor.qualified_name
        pushed = graphstore.pushed_version(self.store, qualified, port, url)
        if pushed == manifest.version:
            return
        new = portfiles.read_version(self.store, self.kms, self.descriptor, port, self.principal, manifest.version)
        old = None
        if pushed is not None:
            old_manifest = versions.read_manifest(self.store, qualified, port, pushed)
            raw = portfiles.read_file(self.store, self.kms, self.descriptor, self.principal, old_manifest, "index")
            old = quadfile.index_from_bytes(raw)
        delta = quadfile.diff(old, new.index)
        graphstore.GraphStore(url, self.graph_store_auth).push(new.nquads, new.index, delta)
        graphstore.record_pushed(self.store, qualified, port, url, manifest.version)
        log.info("graphs pushed", outputport=port, version=manifest.version, **delta.counts())


def _summary(base: str | None, graphs: int, delta: quadfile.Delta, report: Report | None) -> dict[str, Any]:
    summary: dict[str, Any] = {"graphs": {"base": base, "total": graphs, **delta.counts()}}
    if report is not None:
        summary["shacl"] = {
            "conforms": report.conforms,
            "triples": report.triples,
            "shapeRepairs": [r.as_dict() for r in report.repairs],
        }
    return summary

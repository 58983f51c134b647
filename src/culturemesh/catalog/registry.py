"""The catalog registry: what it holds, the seam its backends implement, and the errors it raises.

Per data product the registry holds the descriptor (its YAML text, so it reloads with
:mod:`culturemesh.descriptor`), owner, team, terms of use, the output ports with their schema
and type, every published version with its manifest, the consumers' subscriptions, the lineage
edges between products, and the stale events already emitted. Two backends implement
:class:`Registry` and pass one shared test suite: :class:`~culturemesh.catalog.sqlite.SqliteRegistry`
(embedded default) and :class:`~culturemesh.catalog.dynamo.DynamoRegistry`.

Every write is idempotent: registering the same descriptor or version twice changes nothing.
A bad write raises a :class:`RegistryError` (see :mod:`culturemesh.catalog.errors`, re-exported
here) and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from culturemesh.catalog.errors import (
    InvalidDescriptor,
    InvalidQuery,
    InvalidRegistration,
    NotRegistered,
    PortNotFound,
    ProductNotFound,
    RegistryConflict,
    RegistryError,
    RegistryUnavailable,
    VersionNotFound,
)
from culturemesh.descriptor import Contact, Descriptor, TermsOfUse, load_descriptor_text
from culturemesh.errors import DescriptorError, Issue
from culturemesh.versions import Manifest

__all__ = [
    "ANY",
    "ColumnRecord",
    "InvalidDescriptor",
    "InvalidQuery",
    "InvalidRegistration",
    "Lineage",
    "LineageEdge",
    "NotRegistered",
    "PortNotFound",
    "PortRecord",
    "PortRef",
    "ProductNotFound",
    "ProductRecord",
    "Registry",
    "RegistryConflict",
    "RegistryError",
    "RegistryUnavailable",
    "StaleMark",
    "SubscriptionRecord",
    "VersionNotFound",
    "VersionRecord",
    "build_product",
    "check_version",
    "digest_of",
    "newest_first",
    "same_subscription",
    "subscription_from_trigger",
    "version_of_input",
    "version_record",
    "version_upstreams",
]

ANY = "*"  # a subscription that names no product (or no port) matches every one


# --- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnRecord:
    name: str
    type: str
    nullable: bool = False
    description: str | None = None
    classification: str | None = None  # the label a column's key is under (culturemesh.outputs.<port>)


@dataclass(frozen=True)
class PortRecord:
    """One output port: its type, format, schema and how often it should update."""

    name: str
    type: str  # a culturemesh.descriptor.PortType value
    format: str
    description: str | None = None
    content_description: str | None = None
    update_every: str | None = None  # ISO-8601 duration (culturemesh.outputs.<port>.updateEvery)
    columns: tuple[ColumnRecord, ...] = ()
    primary_key: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()  # the principals the port grants access to


@dataclass(frozen=True)
class PortRef:
    """An output port of a product (what an ``outputPortRef`` input reads)."""

    product: str
    port: str


@dataclass(frozen=True)
class ProductRecord:
    """A registered data product. ``descriptor_yaml`` is the descriptor as deployed."""

    id: str  # domain/name
    domain: str
    name: str
    namespace: str
    summary: str
    owner: Contact
    team: Contact | None
    terms_of_use: TermsOfUse | None
    themes: tuple[str, ...]
    ports: tuple[PortRecord, ...]
    inputs: tuple[PortRef, ...]  # declared upstream ports (outputPortRef inputs)
    descriptor_yaml: str
    digest: str  # sha256 of descriptor_yaml
    registered: str  # ISO-8601 UTC, first registration
    updated: str  # ISO-8601 UTC, last change of the descriptor

    def descriptor(self) -> Descriptor:
        """The descriptor, loaded again with :mod:`culturemesh.descriptor`."""
        return load_descriptor_text(self.descriptor_yaml, source=f"registry:{self.id}")

    def port(self, name: str) -> PortRecord:
        for port in self.ports:
            if port.name == name:
                return port
        raise PortNotFound(self.id, name, [p.name for p in self.ports])


@dataclass(frozen=True)
class VersionRecord:
    """A published version of one output port, with its manifest."""

    product: str
    port: str
    version: str
    created: str  # from the manifest
    rows: int
    bytes: int
    format: str
    manifest_uri: str
    manifest: Manifest
    registered: str  # when the registry learned of it

    @property
    def upstreams(self) -> tuple[PortRef, ...]:
        return version_upstreams(self.manifest)


@dataclass(frozen=True)
class SubscriptionRecord:
    """A consumer subscription: a Trigger on the platform broker whose subscriber is the consumer."""

    name: str  # the Trigger's name
    product: str  # domain/name, or ANY
    port: str  # output port, or ANY
    sink: str
    filters: tuple[tuple[str, str, str], ...]  # (exact|prefix, attribute, value)
    created: str


@dataclass(frozen=True)
class LineageEdge:
    """``downstream`` reads ``upstream``'s port ``upstream_port``: declared in its descriptor
    (``declared``), seen in a version's lineage inputs (``last_version`` of the upstream), or both."""

    downstream: str
    upstream: str
    upstream_port: str
    declared: bool
    last_version: str  # the upstream version a downstream version last read; "" if none yet
    first_seen: str


@dataclass(frozen=True)
class Lineage:
    product: str
    upstream: tuple[LineageEdge, ...] = ()  # edges whose downstream is the product
    downstream: tuple[LineageEdge, ...] = ()  # edges whose upstream is the product


@dataclass(frozen=True)
class StaleMark:
    """A stale event emitted for one lateness: port ``port`` of ``product`` whose latest version
    ``since_version`` ("" when it never published) was due a successor at ``due``."""

    product: str
    port: str
    since_version: str
    due: str
    emitted: str = field(default="", compare=False)


# --- the seam -----------------------------------------------------------------------------------


class Registry(Protocol):
    """What the catalog stores. Ids are ``domain/name``; lists come back in a stable order."""

    def register_product(self, descriptor_yaml: str, *, source: str = "<descriptor>") -> ProductRecord:
        """Validate and store a descriptor (and its declared lineage edges); idempotent.
        Raises :class:`InvalidDescriptor` naming ``source``."""
        ...

    def product(self, product_id: str) -> ProductRecord: ...

    def products(self) -> list[ProductRecord]:
        """Every product, sorted by id."""
        ...

    def register_version(self, manifest: Manifest, manifest_uri: str) -> VersionRecord:
        """Store a published version (and its lineage edges); idempotent. Raises
        :class:`ProductNotFound`, :class:`PortNotFound` or :class:`RegistryConflict`."""
        ...

    def versions(self, product_id: str, port: str | None = None) -> list[VersionRecord]:
        """The product's versions (of one port, or all), newest first."""
        ...

    def version(self, product_id: str, port: str, version: str) -> VersionRecord: ...

    def latest_version(self, product_id: str, port: str) -> VersionRecord | None: ...

    def put_subscription(self, subscription: SubscriptionRecord) -> SubscriptionRecord:
        """Store a subscription by (product, name); the same one twice changes nothing."""
        ...

    def remove_subscription(self, product_id: str, name: str) -> bool:
        """Forget a subscription; true when there was one."""
        ...

    def subscriptions(self, product_id: str | None = None) -> list[SubscriptionRecord]:
        """Subscriptions of one product (including those to ANY product), or all; sorted."""
        ...

    def lineage(self, product_id: str) -> Lineage: ...

    def mark_stale(self, mark: StaleMark) -> bool:
        """Record that a stale event was emitted for this lateness; false when it already was
        (atomic: of several processes marking the same lateness, exactly one gets true)."""
        ...

    def clear_stale(self, mark: StaleMark) -> None:
        """Release a claim whose event could not be published (the next check retries)."""
        ...

    def stale_marks(self, product_id: str) -> list[StaleMark]: ...

    def close(self) -> None: ...


# --- pure pieces both backends share ------------------------------------------------------------


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_product(descriptor_yaml: str, source: str, now: str) -> ProductRecord:
    """The record for a descriptor text; :class:`InvalidDescriptor` when it fails validation."""
    try:
        descriptor = load_descriptor_text(descriptor_yaml, source=source)
    except DescriptorError as exc:
        raise InvalidDescriptor(exc.issues) from None
    return ProductRecord(
        id=descriptor.qualified_name,
        domain=descriptor.domain,
        name=descriptor.name,
        namespace=descriptor.namespace,
        summary=descriptor.summary,
        owner=descriptor.owner,
        team=descriptor.team,
        terms_of_use=descriptor.terms_of_use,
        themes=_themes(descriptor.raw, source),
        ports=tuple(_port(descriptor, port.name) for port in descriptor.output_ports),
        inputs=tuple(
            PortRef(port.output_port_ref.qualified_name, port.output_port_ref.output_port)
            for port in descriptor.input_ports
            if port.output_port_ref is not None
        ),
        descriptor_yaml=descriptor_yaml,
        digest=digest_of(descriptor_yaml),
        registered=now,
        updated=now,
    )


def _themes(raw: Mapping[str, Any], source: str) -> tuple[str, ...]:
    """``spec.themes``: an optional list of theme words or URIs (the legacy format allows extra keys)."""
    themes = raw.get("spec", {}).get("themes", [])
    if not isinstance(themes, list) or not all(isinstance(theme, str) and theme for theme in themes):
        raise InvalidDescriptor([Issue(source, "spec.themes", "expected a list of non-empty texts")])
    return tuple(themes)


def _port(descriptor: Descriptor, name: str) -> PortRecord:
    port = descriptor.output_port(name)
    settings = descriptor.output_settings(name)
    schema = port.analytical_schema
    data_format = port.data_format
    return PortRecord(
        name=name,
        type=port.type.value,
        format=settings.format,
        description=port.description,
        content_description=data_format.content_description if data_format else None,
        update_every=settings.update_every,
        columns=tuple(
            ColumnRecord(c.name, c.type, c.nullable, c.description, settings.classification.get(c.name))
            for c in port.columns
        ),
        primary_key=schema.primary_key if schema else (),
        principals=tuple(sorted(settings.access)),
    )


def check_version(product: ProductRecord, manifest: Manifest) -> None:
    """A version must name a registered port of its product (raises :class:`PortNotFound`)."""
    product.port(manifest.outputport)


def version_upstreams(manifest: Manifest) -> tuple[PortRef, ...]:
    """The products' output ports a version read, from its lineage inputs: an input naming
    ``dataproduct`` and ``outputport``, or an object under ``products/<domain>/<name>/<port>/versions/``."""
    found: list[PortRef] = []
    for item in manifest.lineage.inputs:
        if isinstance(item.get("dataproduct"), str) and isinstance(item.get("outputport"), str):
            ref = PortRef(item["dataproduct"], item["outputport"])
        elif item.get("bucket") == "products" and isinstance(item.get("key"), str):
            parts = item["key"].split("/")
            if len(parts) < 5 or parts[3] != "versions":
                continue
            ref = PortRef(f"{parts[0]}/{parts[1]}", parts[2])
        else:
            continue
        if ref.product != manifest.dataproduct and ref not in found:
            found.append(ref)
    return tuple(found)


def version_of_input(manifest: Manifest, ref: PortRef) -> str:
    """The upstream version id an input of ``manifest`` names for ``ref`` ("" when none does)."""
    for item in manifest.lineage.inputs:
        if item.get("dataproduct") == ref.product and item.get("outputport") == ref.port:
            return str(item.get("version", item.get("dpversion", "")))
        key = item.get("key")
        if item.get("bucket") == "products" and isinstance(key, str) and key.startswith(f"{ref.product}/{ref.port}/"):
            parts = key.split("/")
            return parts[4] if len(parts) > 4 else ""
    return ""


def version_record(manifest: Manifest, manifest_uri: str, now: str) -> VersionRecord:
    return VersionRecord(
        product=manifest.dataproduct,
        port=manifest.outputport,
        version=manifest.version,
        created=manifest.created,
        rows=manifest.rows,
        bytes=manifest.bytes,
        format=manifest.format,
        manifest_uri=manifest_uri,
        manifest=manifest,
        registered=now,
    )


def same_subscription(a: SubscriptionRecord, b: SubscriptionRecord) -> bool:
    """Whether storing ``b`` over ``a`` would change what the subscription means."""
    return (a.product, a.name, a.port, a.sink, a.filters) == (b.product, b.name, b.port, b.sink, b.filters)


def newest_first(records: Sequence[VersionRecord]) -> list[VersionRecord]:
    return sorted(records, key=lambda r: (r.created, r.version), reverse=True)


def subscription_from_trigger(trigger: Mapping[str, Any], created: str) -> SubscriptionRecord:
    """The subscription a consumer Trigger (as :func:`culturemesh.subscriptions.subscription`
    builds it) stands for: its product and port come from its ``dataproduct``/``outputport``
    exact filters (ANY when it has none)."""
    spec = trigger.get("spec", {})
    filters: list[tuple[str, str, str]] = []
    for entry in spec.get("filters", []):
        for kind in ("exact", "prefix"):
            for attribute, value in (entry.get(kind) or {}).items():
                filters.append((kind, str(attribute), str(value)))
    exact = {attribute: value for kind, attribute, value in filters if kind == "exact"}
    return SubscriptionRecord(
        name=str(trigger.get("metadata", {}).get("name", "")),
        product=exact.get("dataproduct", ANY),
        port=exact.get("outputport", ANY),
        sink=str(spec.get("subscriber", {}).get("uri", "")),
        filters=tuple(filters),
        created=created,
    )

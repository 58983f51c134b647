"""The catalog as DCAT-AP Vlaanderen 2.0 (Turtle): what a harvester of Flemish open-data portals reads.

:func:`to_turtle` is a pure function over descriptors and the manifests of their published
versions. It writes one ``dcat:Catalog``; per data product a ``dcat:Dataset``; per output port a
``dcat:Distribution`` and a ``dcat:DataService`` for its query endpoint (the SPARQL endpoint of a
linked-data port, the catalog API for the others); and per product a ``dcat:DataService`` for the
CloudEvents it emits through the broker. The graph is valid against the official SHACL shapes
(``DCAT-AP-VL-20-SHACL.ttl``, erkende standaard 2022-04-21), which ask more than DCAT does:

- a value of a class-constrained property must carry that class *in the data* (the shapes are
  checked without inference): URLs are typed ``rdfs:Resource``, licences ``dct:LicenseDocument``,
  agents ``dct:Agent``, contacts ``vcard:Kind``;
- controlled vocabularies are checked through ``skos:inScheme``, so every concept we use is
  written with its type and scheme (:func:`_concept`);
- a catalog, every dataset and every data service have exactly one contact point; a catalog and
  every distribution exactly one licence. A distribution's licence is its product's
  ``termsOfUse.uri``: a product without one is not exported but named in a
  :class:`CatalogExportError`, because inventing terms of use for someone else's data is not ours
  to do. A missing owner contact is fine: the contact point then carries the owner's name only.

Descriptors carry no language tag; culturemesh's are written in English, so titles, descriptions
and names are tagged :data:`LANGUAGE`.

The vocabularies and code lists are in :mod:`culturemesh.catalog.dcat_vocab`, the URI layout in
:mod:`culturemesh.catalog.dcat_uris`; this module checks the products and builds the graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from culturemesh import events
from culturemesh.catalog.dcat_uris import (
    api_description,
    api_port,
    api_versions,
    broker_ingress,
    dataset_uri,
    sparql_endpoint,
)
from culturemesh.catalog.dcat_vocab import (
    ACCESS_RIGHTS,
    CLOUDEVENTS_SPEC,
    DATA_THEMES,
    DEFAULT_THEME,
    FILE_TYPES,
    FORMATS,
    GDI_KEYWORDS,
    LANGUAGE,
    MDCAT,
    MEDIA_TYPES,
    OPEN_DATA,
    OPEN_DATA_SERVICE,
    SPARQL_PROTOCOL,
    VCARD,
    theme_code,
)
from culturemesh.descriptor import Contact, Descriptor, OutputPort, PortType
from culturemesh.errors import CultureMeshError
from culturemesh.settings import DEFAULT_BROKER, DEFAULT_NAMESPACE
from culturemesh.versions import Manifest

__all__ = ["LANGUAGE", "CatalogExportError", "CatalogInfo", "Entry", "build_graph", "to_turtle"]

_EMAIL = re.compile(r"^(mailto:)?[^@\s:/]+@[^@\s/]+$")

Entry = tuple[Descriptor, Mapping[str, Sequence[Manifest]]]


class CatalogExportError(CultureMeshError):
    """Products that cannot be described validly; ``problems`` names product and field of each."""

    exit_code = 3

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"cannot export the catalog as DCAT-AP Vlaanderen: {len(self.problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class CatalogInfo:
    """The catalog's own metadata: who publishes it, whom to contact, its metadata's licence."""

    title: str = "culturemesh data products"
    description: str = "Data products of the Flemish cultural sector, published on the culturemesh data mesh."
    publisher: str = "culturemesh"
    contact: Contact = field(default_factory=lambda: Contact("culturemesh catalog"))
    licence: str = "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0"
    licence_name: str = "Modellicentie Gratis Hergebruik v1.0"


def to_turtle(entries: Sequence[Entry], base_uri: str, catalog: CatalogInfo | None = None) -> str:
    """The catalog of ``entries`` (each a descriptor and its ports' versions, newest last) in Turtle."""
    return build_graph(entries, base_uri, catalog).serialize(format="turtle")


def build_graph(entries: Sequence[Entry], base_uri: str, catalog: CatalogInfo | None = None) -> Graph:
    """The catalog as an rdflib graph; :class:`CatalogExportError` names every product it cannot describe."""
    problems = [problem for entry in entries for problem in _problems(entry)]
    names = [descriptor.qualified_name for descriptor, _ in entries]
    problems += [
        f"{name}: listed {names.count(name)} times; expected once"
        for name in sorted(set(names))
        if names.count(name) > 1
    ]
    if problems:
        raise CatalogExportError(problems)
    writer = _Writer(base_uri.rstrip("/"))
    writer.catalog(catalog or CatalogInfo(), entries)
    return writer.graph


def _problems(entry: Entry) -> list[str]:
    descriptor, versions = entry
    name = descriptor.qualified_name
    problems = []
    terms = descriptor.terms_of_use
    if terms is None or not terms.uri:
        problems.append(
            f"{name}: spec.termsOfUse.uri is missing; DCAT-AP Vlaanderen requires a licence on every distribution. "
            "Add termsOfUse with the URI of the licence (e.g. Modellicentie Gratis Hergebruik v1.0) to its descriptor"
        )
    known = {port.name for port in descriptor.output_ports}
    problems += [
        f"{name}: versions given for port {port!r}, which it does not declare" for port in versions if port not in known
    ]
    for port in descriptor.output_ports:
        fmt = _format(descriptor, port.name, versions.get(port.name, ()))
        if fmt not in FORMATS:
            problems.append(
                f"{name}: output port {port.name!r} has format {fmt!r}; expected one of {', '.join(FORMATS)}"
            )
        problems += [
            f"{name}: port {port.name!r} version {m.version}: created {m.created!r} is not an ISO-8601 time"
            for m in versions.get(port.name, ())
            if _time(m.created) is None
        ]
    return problems


def _format(descriptor: Descriptor, port: str, manifests: Sequence[Manifest]) -> str:
    return manifests[-1].format if manifests else descriptor.output_settings(port).format


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def port_is_public(descriptor: Descriptor, port: str) -> bool:
    """Whether an anonymous reader sees the whole port: no access list and no classified column."""
    settings = descriptor.output_settings(port)
    return not settings.access and not settings.classification


class _Writer:
    def __init__(self, base: str) -> None:
        self.base = base
        self.graph = Graph()
        for prefix, namespace in (
            ("dcat", DCAT),
            ("dct", DCTERMS),
            ("foaf", FOAF),
            ("vcard", VCARD),
            ("skos", SKOS),
            ("mdcat", MDCAT),
            ("owl", OWL),
        ):
            self.graph.bind(prefix, namespace)

    def add(self, subject: Node, *pairs: tuple[Node, Node | None]) -> None:
        for predicate, value in pairs:
            if value is not None:
                self.graph.add((subject, predicate, value))

    # --- shared pieces --------------------------------------------------------------------------

    def text(self, value: str | None) -> Literal | None:
        return Literal(value, lang=LANGUAGE) if value else None

    def url(self, value: str) -> URIRef:
        node = URIRef(value)
        self.add(node, (RDF.type, RDFS.Resource))
        return node

    def concept(self, iri: str | URIRef, scheme: URIRef, label: str | None = None) -> URIRef:
        node = URIRef(iri)
        self.add(node, (RDF.type, SKOS.Concept), (SKOS.inScheme, scheme), (SKOS.prefLabel, self.text(label)))
        self.add(scheme, (RDF.type, SKOS.ConceptScheme))
        return node

    def access_rights(self, public: bool) -> URIRef:
        code = "PUBLIC" if public else "RESTRICTED"
        return self.concept(f"{ACCESS_RIGHTS}/{code}", ACCESS_RIGHTS, code.lower())

    def agent(self, node: URIRef, name: str) -> URIRef:
        self.add(node, (RDF.type, DCTERMS.Agent), (RDF.type, FOAF.Agent), (FOAF.name, self.text(name)))
        return node

    def contact(self, node: URIRef, contact: Contact) -> URIRef:
        self.add(node, (RDF.type, VCARD.Kind), (VCARD.fn, Literal(contact.name)))
        value = (contact.contact or "").strip()
        if _EMAIL.match(value):
            self.add(node, (VCARD.hasEmail, self.url(value if value.startswith("mailto:") else f"mailto:{value}")))
        elif value.startswith(("http://", "https://")):
            self.add(node, (FOAF.page, self.url(value)))
        elif value:
            self.add(node, (VCARD.note, Literal(value)))  # a phone number or free text: still worth showing
        return node

    def licence(self, uri: str, name: str | None) -> URIRef:
        node = URIRef(uri)
        self.add(node, (RDF.type, DCTERMS.LicenseDocument), (RDFS.label, Literal(name) if name else None))
        return node

    # --- the catalog and what it holds ----------------------------------------------------------

    def catalog(self, info: CatalogInfo, entries: Iterable[Entry]) -> None:
        node = URIRef(f"{self.base}/catalog")
        self.add(
            node,
            (RDF.type, DCAT.Catalog),
            (DCTERMS.title, self.text(info.title)),
            (DCTERMS.description, self.text(info.description)),
            (DCTERMS.identifier, Literal(f"{self.base}/catalog")),
            (DCTERMS.license, self.licence(info.licence, info.licence_name)),
            (DCTERMS.publisher, self.agent(URIRef(f"{node}#publisher"), info.publisher)),
            (DCAT.contactPoint, self.contact(URIRef(f"{node}#contact"), info.contact)),
        )
        for descriptor, versions in entries:
            dataset, services = self.dataset(descriptor, versions)
            self.add(node, (DCAT.dataset, dataset), *((DCAT.service, service) for service in services))

    def dataset(
        self, descriptor: Descriptor, versions: Mapping[str, Sequence[Manifest]]
    ) -> tuple[URIRef, list[URIRef]]:
        node = dataset_uri(self.base, descriptor)
        times = sorted(t for manifests in versions.values() for m in manifests if (t := _time(m.created)) is not None)
        public = all(port_is_public(descriptor, port.name) for port in descriptor.output_ports)
        self.add(
            node,
            (RDF.type, DCAT.Dataset),
            (DCTERMS.title, self.text(descriptor.name)),
            (DCTERMS.description, self.text(descriptor.summary)),
            (DCTERMS.identifier, Literal(descriptor.qualified_name)),
            (DCTERMS.accessRights, self.access_rights(public)),
            (DCTERMS.publisher, self.agent(URIRef(f"{node}#owner"), descriptor.owner.name)),
            (DCAT.contactPoint, self.contact(URIRef(f"{node}#contact"), descriptor.owner)),
            (MDCAT.statuut, self.concept(OPEN_DATA, GDI_KEYWORDS, "Vlaamse Open data")),
            (DCTERMS.issued, Literal(times[0]) if times else None),
            (DCTERMS.modified, Literal(times[-1]) if times else None),
            (DCAT.keyword, self.text(descriptor.domain)),
        )
        self.themes(node, descriptor)
        for upstream in (port.output_port_ref for port in descriptor.input_ports):  # lineage
            if upstream is not None:
                self.add(node, (DCTERMS.source, URIRef(f"{self.base}/id/dataproduct/{upstream.qualified_name}")))
        services = [self.events_service(descriptor, node)]
        for port in descriptor.output_ports:
            service = self.port_service(descriptor, port, node)
            self.add(
                node, (DCAT.distribution, self.distribution(descriptor, port, versions.get(port.name, ()), service))
            )
            services.append(service)
        return node, services

    def themes(self, node: URIRef, descriptor: Descriptor) -> None:
        declared = descriptor.raw.get("spec", {}).get("themes") or []
        codes = [code for theme in declared if (code := theme_code(str(theme)))]
        for code in codes or [DEFAULT_THEME]:
            self.add(node, (DCAT.theme, self.concept(f"{DATA_THEMES}/{code}", DATA_THEMES)))
        for word in declared:
            if not theme_code(str(word)):
                self.add(node, (DCAT.keyword, self.text(str(word))))

    def distribution(
        self, descriptor: Descriptor, port: OutputPort, manifests: Sequence[Manifest], service: URIRef
    ) -> URIRef:
        node = URIRef(f"{dataset_uri(self.base, descriptor)}/port/{port.name}")
        file_type, media_type = FORMATS[_format(descriptor, port.name, manifests)]
        latest = max(manifests, key=lambda m: _time(m.created) or datetime.min) if manifests else None
        terms = descriptor.terms_of_use
        assert terms is not None and terms.uri  # checked by _problems
        access = sparql_endpoint if port.type is PortType.LINKEDDATA else api_port
        self.add(
            node,
            (RDF.type, DCAT.Distribution),
            (DCTERMS.identifier, Literal(f"{descriptor.qualified_name}/{port.name}")),
            (DCTERMS.title, self.text(port.name)),
            (DCTERMS.description, self.text(port.description)),
            (DCTERMS.license, self.licence(terms.uri, terms.name)),
            (DCTERMS.format, self.concept(f"{FILE_TYPES}/{file_type}", FILE_TYPES, file_type)),
            (DCAT.mediaType, self.concept(f"https://www.iana.org/assignments/media-types/{media_type}", MEDIA_TYPES)),
            (DCAT.accessURL, self.url(access(self.base, descriptor, port.name))),
            # The shapes' VoorbeeldWeergaveShape targets every dcat:Distribution and requires exactly
            # one downloadURL. A version's files are encrypted objects in the store; the API gives
            # the latest version's manifest, which lists them, and `culturemesh read` decrypts
            # what the reader's grants allow.
            (
                DCAT.downloadURL,
                self.url(api_versions(self.base, descriptor, port.name, latest.version if latest else None)),
            ),
            (DCAT.accessService, service),
        )
        schema = port.data_format.linked_data_schema_definition if port.data_format else None
        if schema and schema.startswith(("http://", "https://")):
            self.add(node, (DCTERMS.conformsTo, URIRef(schema)))
            self.add(URIRef(schema), (RDF.type, DCTERMS.Standard))
        if latest is not None:
            self.add(
                node,
                (DCTERMS.modified, Literal(_time(latest.created))),
                (DCAT.byteSize, Literal(latest.bytes, datatype=XSD.nonNegativeInteger)),
                (OWL.versionInfo, Literal(latest.version)),
            )
        return node

    def service(
        self, node: URIRef, descriptor: Descriptor, dataset: URIRef, public: bool, *pairs: tuple[Node, Node]
    ) -> None:
        terms = descriptor.terms_of_use
        self.add(
            node,
            (RDF.type, DCAT.DataService),
            (DCTERMS.accessRights, self.access_rights(public)),
            (DCAT.contactPoint, URIRef(f"{dataset}#contact")),
            (MDCAT.statuut, self.concept(OPEN_DATA_SERVICE, GDI_KEYWORDS, "Vlaamse Open data Service")),
            (DCAT.servesDataset, dataset),
            (DCTERMS.license, self.licence(terms.uri, terms.name) if terms and terms.uri else None),
            *pairs,
        )

    def port_service(self, descriptor: Descriptor, port: OutputPort, dataset: URIRef) -> URIRef:
        node = URIRef(f"{dataset}/port/{port.name}/service")
        if port.type is PortType.LINKEDDATA:
            kind, endpoint, description = "sparql", sparql_endpoint(self.base, descriptor, port.name), SPARQL_PROTOCOL
            title = f"{descriptor.name} {port.name}: SPARQL endpoint"
        else:
            kind, endpoint = "api", api_port(self.base, descriptor, port.name)
            description, title = URIRef(api_description(self.base)), f"{descriptor.name} {port.name}: catalog API"
        self.service(
            node,
            descriptor,
            dataset,
            port_is_public(descriptor, port.name),
            (DCTERMS.identifier, Literal(f"{descriptor.qualified_name}/{port.name}/{kind}")),
            (DCTERMS.title, Literal(title, lang=LANGUAGE)),
            (DCAT.endpointURL, self.url(endpoint)),
            (DCAT.endpointDescription, self.url(description)),
        )
        return node

    def events_service(self, descriptor: Descriptor, dataset: URIRef) -> URIRef:
        node = URIRef(f"{dataset}/events")
        how = (
            f"CloudEvents of type {events.PUBLISHED} with the extension dataproduct={descriptor.qualified_name}, "
            f"one per new version of an output port (extension outputport). Subscribe with "
            f"`culturemesh subscribe --sink URL --type {events.PUBLISHED} --product {descriptor.qualified_name}` "
            f"or a Knative Trigger on the broker {DEFAULT_NAMESPACE}/{DEFAULT_BROKER}."
        )
        # Subscribing adds a Trigger to the platform's broker, which needs the platform's consent:
        # the event service is restricted whatever the data's own access rights are.
        self.service(
            node,
            descriptor,
            dataset,
            False,
            (DCTERMS.identifier, Literal(f"{descriptor.qualified_name}/events")),
            (DCTERMS.title, Literal(f"{descriptor.name}: events", lang=LANGUAGE)),
            (DCTERMS.description, Literal(how, lang=LANGUAGE)),
            (DCAT.endpointURL, self.url(broker_ingress(self.base))),
            (DCAT.endpointDescription, self.url(CLOUDEVENTS_SPEC)),
        )
        return node

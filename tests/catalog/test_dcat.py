"""The DCAT-AP Vlaanderen export, checked with pyshacl against the official OSLO shapes."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as ns

from culturemesh import versions
from culturemesh.catalog.dcat import CatalogExportError, build_graph, to_turtle
from culturemesh.descriptor import Descriptor, load_descriptor
from culturemesh.store import FilesystemStore
from culturemesh.versions import Lineage, Manifest
from tests.conftest import REPO, SAMPLES
from tests.product.test_product_ingest import make_product, upload

SHAPES = REPO.parent / "shared" / "reference" / "oslo" / "DCAT-AP-VL-20-SHACL.ttl"
FIXTURES = REPO / "tests" / "descriptor" / "fixtures"
BASE = "https://mesh.example.be"
TERMS = (
    "  termsOfUse:\n    name: CC BY 4.0\n    uri: https://creativecommons.org/licenses/by/4.0/\n  dataProductOwner:\n"
)
Entry = tuple[Descriptor, Mapping[str, Sequence[Manifest]]]


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES)


@pytest.fixture(scope="module")
def ticket_sales(tmp_path_factory: pytest.TempPathFactory) -> Entry:
    """The real product, with two versions its ingest published from the sample upload."""
    root = tmp_path_factory.mktemp("ticket-sales")
    folder = root / "ticket-sales"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    store = FilesystemStore(root / "store")
    product = make_product(folder, store)
    sample = (SAMPLES / "sales.csv").read_bytes()
    published = []
    for name, content in (("a.csv", sample), ("b.csv", sample + sample.splitlines(keepends=True)[1])):
        product.ingest(upload(product, store, content, name))
        published.append(versions.latest(store, "ticketing/ticket-sales", "sales"))
    assert published[0].version != published[1].version
    return product.descriptor, {"sales": published}


def fixture_product(tmp_path: Path, source: Path, edit: Mapping[str, str]) -> Descriptor:
    """A descriptor fixture copied next to its files, with text replacements applied."""
    folder = tmp_path / source.parent.name / source.stem
    if source.name == "data-product.yaml":
        shutil.copytree(source.parent, folder)
    else:
        folder.mkdir(parents=True)
        shutil.copy(source, folder / "data-product.yaml")
    path = folder / "data-product.yaml"
    text = path.read_text()
    for old, new in edit.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    return load_descriptor(path)


def made_manifest(descriptor: Descriptor, port: str, fmt: str, created: str, rows: int) -> Manifest:
    """A version as the ingest would commit it (same fields, same shapes of values)."""
    key = versions.file_key(descriptor.qualified_name, port, "v" + created[:10].replace("-", ""), f"part-00000.{fmt}")
    columns = descriptor.output_port(port).columns
    return Manifest(
        dataproduct=descriptor.qualified_name,
        outputport=port,
        version="v" + created[:10].replace("-", ""),
        format=fmt,
        created=created,
        rows=rows,
        bytes=rows * 40,
        files=({"key": key, "uri": f"file:///store/products/{key}", "size": rows * 40, "sha256": "0" * 64},),
        schema=tuple({"name": c.name, "type": c.type, "nullable": c.nullable} for c in columns),
        lineage=Lineage(({"bucket": "landing", "key": f"{descriptor.qualified_name}/upload.csv"},), "ingest", "1"),
    )


@pytest.fixture
def others(tmp_path: Path) -> list[Entry]:
    """The descriptor fixtures, terms of use added where the legacy files lack them."""
    legacy = fixture_product(
        tmp_path, FIXTURES / "legacy-ticket-sales.yaml", {"name: ticket-sales\n": "name: box-office\n"}
    )
    full = fixture_product(
        tmp_path,
        FIXTURES / "full-product" / "data-product.yaml",
        {"name: ticket-sales": "name: refunds", "  dataProductOwner:\n": TERMS},
    )
    minimal = fixture_product(tmp_path, FIXTURES / "minimal.yaml", {"  dataProductOwner:\n": TERMS})
    return [
        (
            legacy,
            {
                "sales": [made_manifest(legacy, "sales", "parquet", "2026-10-01T03:00:00.000Z", 120)],
                "sales-ld": [made_manifest(legacy, "sales-ld", "nquads", "2026-10-01T03:00:05.000Z", 960)],
            },
        ),
        (full, {"sales-ld": [made_manifest(full, "sales-ld", "turtle", "2026-10-02T08:00:00+02:00", 10)]}),
        (minimal, {}),
    ]


def validate(graph: Graph, shapes: Graph) -> tuple[bool, str]:
    conforms, _, text = pyshacl.validate(graph, shacl_graph=shapes, advanced=True)
    return bool(conforms), str(text)


def violated_paths(graph: Graph, shapes: Graph) -> set[tuple[str, str]]:
    """(focus node, property path) of every result the shapes report."""
    _, results, _ = pyshacl.validate(graph, shacl_graph=shapes, advanced=True)
    assert isinstance(results, Graph)
    return {
        (str(results.value(r, ns.SH.focusNode)), str(results.value(r, ns.SH.resultPath)))
        for r in results.subjects(ns.RDF.type, ns.SH.ValidationResult)
    }


def test_export_of_real_and_legacy_products_conforms_to_the_official_dcat_ap_vl_shapes(
    ticket_sales: Entry, others: list[Entry], shapes: Graph
) -> None:
    turtle = to_turtle([ticket_sales, *others], BASE)

    conforms, report = validate(Graph().parse(data=turtle, format="turtle"), shapes)

    assert conforms, report


def test_every_product_and_port_appears_with_its_distribution_and_services(
    ticket_sales: Entry, others: list[Entry]
) -> None:
    entries = [ticket_sales, *others]
    graph = Graph().parse(data=to_turtle(entries, BASE), format="turtle")

    catalog = next(graph.subjects(ns.RDF.type, ns.DCAT.Catalog))
    datasets = {str(graph.value(d, ns.DCTERMS.identifier)): d for d in graph.objects(catalog, ns.DCAT.dataset)}
    assert set(datasets) == {d.qualified_name for d, _ in entries}
    for descriptor, _ in entries:
        dataset = datasets[descriptor.qualified_name]
        assert graph.value(dataset, ns.DCTERMS.description) == Literal(descriptor.summary, lang="en")
        ports = {str(graph.value(d, ns.DCTERMS.identifier)) for d in graph.objects(dataset, ns.DCAT.distribution)}
        assert ports == {f"{descriptor.qualified_name}/{p.name}" for p in descriptor.output_ports}
        served = set(graph.subjects(ns.DCAT.servesDataset, dataset))
        assert len(served) == len(descriptor.output_ports) + 1  # one query endpoint per port, one for events
        assert served <= set(graph.objects(catalog, ns.DCAT.service))


def test_a_distribution_carries_format_media_type_access_and_its_latest_version(
    ticket_sales: Entry, others: list[Entry]
) -> None:
    descriptor, published = ticket_sales
    graph = Graph().parse(data=to_turtle([ticket_sales, *others], BASE), format="turtle")
    sales = URIRef(f"{BASE}/id/dataproduct/ticketing/ticket-sales/port/sales")
    latest = published["sales"][-1]

    assert graph.value(sales, ns.DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/PARQUET"
    )
    assert graph.value(sales, ns.DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
    )
    assert graph.value(sales, ns.DCAT.accessURL) == URIRef(f"{BASE}/api/products/ticketing/ticket-sales/ports/sales")
    assert graph.value(sales, ns.DCAT.byteSize) == Literal(latest.bytes, datatype=ns.XSD.nonNegativeInteger)
    assert latest.bytes > 0
    modified = graph.value(sales, ns.DCTERMS.modified)
    assert isinstance(modified, Literal) and modified.datatype == ns.XSD.dateTime
    assert modified.toPython().isoformat().replace("+00:00", "Z").startswith(latest.created[:19])
    assert descriptor.terms_of_use is not None and descriptor.terms_of_use.uri
    assert graph.value(sales, ns.DCTERMS.license) == URIRef(descriptor.terms_of_use.uri)
    ld = URIRef(f"{BASE}/id/dataproduct/ticketing/box-office/port/sales-ld")
    assert graph.value(ld, ns.DCAT.accessURL) == URIRef(f"{BASE}/sparql/ticketing/box-office/sales-ld")
    assert graph.value(ld, ns.DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/RDF_N_QUADS"
    )


def test_access_rights_follow_the_ports_grants_and_owner_becomes_publisher_and_contact(
    ticket_sales: Entry, others: list[Entry]
) -> None:
    graph = Graph().parse(data=to_turtle([ticket_sales, *others], BASE), format="turtle")
    rights = "http://publications.europa.eu/resource/authority/access-right/"
    sales = URIRef(f"{BASE}/id/dataproduct/ticketing/ticket-sales")
    daily = URIRef(f"{BASE}/id/dataproduct/ticketing/box-office/port/daily-totals/service")

    assert graph.value(sales, ns.DCTERMS.accessRights) == URIRef(rights + "RESTRICTED")  # classified buyer_postal_code
    assert graph.value(daily, ns.DCTERMS.accessRights) == URIRef(
        rights + "PUBLIC"
    )  # no access list, nothing classified
    contact = graph.value(sales, ns.DCAT.contactPoint)
    assert (
        str(graph.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")))
        == "mailto:data@ticketing.example.be"
    )
    publisher = graph.value(sales, ns.DCTERMS.publisher)
    assert str(graph.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name"))) == "Ticketing Vlaanderen"
    # lineage: the legacy product reads events/uit-events
    box_office = URIRef(f"{BASE}/id/dataproduct/ticketing/box-office")
    assert graph.value(box_office, ns.DCTERMS.source) == URIRef(f"{BASE}/id/dataproduct/events/uit-events")


def test_a_dataset_without_a_title_or_a_distribution_without_licence_does_not_conform(
    ticket_sales: Entry, shapes: Graph
) -> None:
    graph = build_graph([ticket_sales], BASE)
    dataset = URIRef(f"{BASE}/id/dataproduct/ticketing/ticket-sales")
    assert validate(graph, shapes)[0]

    graph.remove((dataset, ns.DCTERMS.title, None))
    assert violated_paths(graph, shapes) == {(str(dataset), str(ns.DCTERMS.title))}

    graph = build_graph([ticket_sales], BASE)
    graph.remove((URIRef(f"{dataset}/port/sales"), ns.DCTERMS.license, None))
    assert violated_paths(graph, shapes) == {(f"{dataset}/port/sales", str(ns.DCTERMS.license))}


def test_a_theme_from_an_unknown_vocabulary_is_caught_by_the_shapes(ticket_sales: Entry, shapes: Graph) -> None:
    graph = build_graph([ticket_sales], BASE)
    dataset = URIRef(f"{BASE}/id/dataproduct/ticketing/ticket-sales")
    graph.add((dataset, ns.DCAT.theme, URIRef("https://example.org/themes/culture")))

    assert (str(dataset), str(ns.DCAT.theme)) in violated_paths(graph, shapes)


def test_declared_themes_become_belgif_themes_or_keywords(tmp_path: Path, shapes: Graph) -> None:
    themed = fixture_product(
        tmp_path,
        FIXTURES / "minimal.yaml",
        {
            "  dataProductOwner:\n": TERMS.replace(
                "  dataProductOwner:\n", "  themes: [SOCI, museums]\n  dataProductOwner:\n"
            )
        },
    )
    graph = build_graph([(themed, {})], BASE)
    dataset = URIRef(f"{BASE}/id/dataproduct/museums/museum-visits")

    assert set(graph.objects(dataset, ns.DCAT.theme)) == {URIRef("https://vocab.belgif.be/auth/datatheme/SOCI")}
    assert Literal("museums", lang="en") in set(graph.objects(dataset, ns.DCAT.keyword))
    assert validate(graph, shapes)[0]


def test_a_legacy_descriptor_without_an_owner_contact_still_exports_validly(tmp_path: Path, shapes: Graph) -> None:
    no_contact = fixture_product(
        tmp_path, FIXTURES / "minimal.yaml", {"  dataProductOwner:\n": TERMS, "    contact: museumpas@example.be\n": ""}
    )
    assert no_contact.owner.contact is None

    conforms, report = validate(build_graph([(no_contact, {})], BASE), shapes)

    assert conforms, report


def test_descriptors_without_terms_of_use_are_refused_naming_each_product_and_the_field(
    tmp_path: Path, ticket_sales: Entry
) -> None:
    minimal = fixture_product(tmp_path, FIXTURES / "minimal.yaml", {})
    full = fixture_product(
        tmp_path, FIXTURES / "full-product" / "data-product.yaml", {"name: ticket-sales": "name: refunds"}
    )

    with pytest.raises(CatalogExportError) as caught:
        to_turtle([ticket_sales, (minimal, {}), (full, {})], BASE)

    assert len(caught.value.problems) == 2
    message = str(caught.value)
    assert "museums/museum-visits: spec.termsOfUse.uri is missing" in message
    assert "ticketing/refunds: spec.termsOfUse.uri is missing" in message
    assert "ticket-sales" not in message.replace("ticketing/refunds", "")


def test_versions_of_an_undeclared_port_or_a_bad_time_are_refused(ticket_sales: Entry) -> None:
    descriptor, published = ticket_sales
    stray = dataclasses.replace(published["sales"][-1], outputport="refunds")
    bad_time = dataclasses.replace(published["sales"][-1], created="yesterday")

    with pytest.raises(CatalogExportError) as caught:
        to_turtle([(descriptor, {"sales": [bad_time], "refunds": [stray]})], BASE)

    message = str(caught.value)
    assert "versions given for port 'refunds', which it does not declare" in message
    assert "created 'yesterday' is not an ISO-8601 time" in message


def test_the_same_product_listed_twice_is_refused(ticket_sales: Entry) -> None:
    with pytest.raises(CatalogExportError, match="ticketing/ticket-sales: listed 2 times"):
        to_turtle([ticket_sales, ticket_sales], BASE)

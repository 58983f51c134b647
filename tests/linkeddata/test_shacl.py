"""SHACL validation against the official OSLO Cultuurparticipatie shapes (pyshacl), the repair of
the published shapes' defect, and the per-graph index that makes linked-data versions incremental.

``quad_table`` (N-Quads text parsed by pyoxigraph, an independent parser) is shared with the other
linked-data port tests."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyoxigraph as ox
import pytest

from culturemesh.linkeddata import quadfile, shacl

REPO = Path(__file__).resolve().parents[2]
OSLO_SHAPES = REPO / "functions" / "cultuurparticipatie" / "oslo" / "cultuurparticipatie-ap-SHACL.ttl"
QUAD_SCHEMA = pa.schema([("s", pa.string()), ("p", pa.string()), ("o", pa.string()), ("g", pa.string())])
CP = "https://data.vlaanderen.be/ns/cultuurparticipatie#"
CRM = "http://www.cidoc-crm.org/cidoc-crm/"  # the shapes want an Activiteit to be a crm:E7_Activity
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def quad_table(text: str) -> pa.Table:
    parsed = list(ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS))
    return pa.table(
        {
            "s": [str(q.subject) for q in parsed],
            "p": [str(q.predicate) for q in parsed],
            "o": [str(q.object) for q in parsed],
            "g": [None if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name) for q in parsed],
        },
        schema=QUAD_SCHEMA,
    )


def deelname(n: int, *, activiteit: bool = True) -> str:
    s, g = f"<https://example.org/deelname/{n}>", f"<https://example.org/graph/deelname/{n}>"
    lines = [
        f"{s} {RDF_TYPE} <{CP}Deelname> {g} .",
        f"{s} <{CP}Deelname.participant> <https://example.org/participant/{n}> {g} .",
    ]
    participant = f"<https://example.org/participant/{n}>"
    lines.append(f"{participant} {RDF_TYPE} <{CP}Participant> <https://example.org/graph/participant/{n}> .")
    if activiteit:
        a = f"<https://example.org/activiteit/{n % 3}>"
        lines.append(f"{s} <{CP}Deelname.activiteit> {a} {g} .")
        lines.append(f"{a} {RDF_TYPE} <{CRM}E7_Activity> <https://example.org/graph/activiteit/{n % 3}> .")
    return "\n".join(lines) + "\n"


def test_the_published_oslo_shapes_load_after_their_double_path_shape_is_split_and_the_repair_is_named() -> None:
    shapes = shacl.load_shapes([OSLO_SHAPES])

    assert len(shapes.repairs) == 1
    repair = shapes.repairs[0]
    assert repair.file == OSLO_SHAPES.name
    assert repair.shape.endswith("#RealisatorShape/6fce063e03afed4078f32664201c46b0c53da61a")
    assert "2 sh:path values" in repair.problem and "Realisator.voertUit" in repair.problem
    assert "split into 2 property shapes" in repair.action
    # the parent now points at one shape per path, each with exactly one path
    from rdflib import URIRef

    sh = "http://www.w3.org/ns/shacl#"
    parts = [s for s in shapes.graph.subjects(URIRef(sh + "path"), None) if str(s).startswith(repair.shape)]
    assert len(parts) == 2
    assert all(len(list(shapes.graph.objects(p, URIRef(sh + "path")))) == 1 for p in parts)


def test_the_raw_published_shapes_are_refused_by_pyshacl_so_the_repair_is_needed() -> None:
    import pyshacl
    import rdflib

    raw = rdflib.Graph().parse(OSLO_SHAPES, format="turtle")
    with pytest.raises(Exception, match="more than one 'sh:path'"):
        pyshacl.validate(rdflib.Graph(), shacl_graph=raw)


def test_conforming_deelnames_pass_the_oslo_shapes() -> None:
    report = shacl.validate(quad_table(deelname(1) + deelname(2)), shacl.load_shapes([OSLO_SHAPES]))

    assert report.conforms and report.count == 0 and report.triples == 10


def test_a_violation_names_focus_node_path_constraint_and_message() -> None:
    report = shacl.validate(quad_table(deelname(1) + deelname(2, activiteit=False)), shacl.load_shapes([OSLO_SHAPES]))

    assert not report.conforms and report.count == 1
    finding = report.findings[0]
    assert finding.focus_node == "https://example.org/deelname/2"
    assert finding.path == f"{CP}Deelname.activiteit"
    assert finding.constraint == "http://www.w3.org/ns/shacl#MinCountConstraintComponent"
    assert finding.shape.startswith("https://data.vlaanderen.be/doc/applicatieprofiel/cultuurparticipatie/")
    assert finding.severity == "Violation" and finding.message
    assert report.as_dict()["shapeRepairs"][0]["file"] == OSLO_SHAPES.name


def test_a_literal_where_the_shapes_want_a_typed_value_is_a_violation() -> None:
    bad = deelname(1) + (
        '<https://example.org/deelname/1> <http://purl.org/dc/terms/type> "geen concept" '
        "<https://example.org/graph/deelname/1> .\n"
    )
    report = shacl.validate(quad_table(bad), shacl.load_shapes([OSLO_SHAPES]))

    assert not report.conforms
    assert {f.path for f in report.findings} == {"http://purl.org/dc/terms/type"}


def test_a_missing_or_broken_shapes_file_is_a_shapes_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(shacl.ShapesError, match="no such shapes file"):
        shacl.load_shapes([tmp_path / "absent.ttl"])
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<a> sh:path ")
    with pytest.raises(shacl.ShapesError, match=r"broken\.ttl: not valid Turtle"):
        shacl.load_shapes([broken])


# --- the graph index ---------------------------------------------------------------------------


def entity(n: int, *, activiteit: bool = True) -> str:
    s, g = f"<https://example.org/deelname/{n}>", f"<https://example.org/graph/deelname/{n}>"
    lines = [f"{s} {RDF_TYPE} <{CP}Deelname> {g} .", f'{s} <{CP}Deelname.tijdstip> "2026-11-0{n}" {g} .']
    if activiteit:
        lines.append(f"{s} <{CP}Deelname.activiteit> <https://example.org/activiteit/{n % 3}> {g} .")
    return "\n".join(lines) + "\n"


def test_the_nquads_file_keeps_each_entity_graph_contiguous_and_the_index_slices_it_back() -> None:
    text = entity(2) + entity(1) + '<https://example.org/x> <https://example.org/p> "dflt" .\n'
    written = quadfile.write(quad_table(text))

    assert written.quads == 7
    assert written.index["g"].to_pylist() == [
        "",
        "<https://example.org/graph/deelname/1>",
        "<https://example.org/graph/deelname/2>",
    ]
    one = quadfile.graph_bytes(written.data, written.index, ["<https://example.org/graph/deelname/2>"])
    assert sorted(one.decode().splitlines()) == sorted(entity(2).splitlines())
    # the whole file is valid N-Quads with every quad once
    assert len(list(ox.parse(written.data, format=ox.RdfFormat.N_QUADS))) == 7


def test_duplicate_quads_are_written_once_and_order_of_rows_does_not_change_the_hashes() -> None:
    forward = quadfile.write(quad_table(entity(1) + entity(2)))
    backward = quadfile.write(quad_table(entity(2) + entity(1) + entity(1)))

    assert forward.data == backward.data
    assert forward.index.equals(backward.index)


def test_the_diff_of_two_indexes_names_added_changed_and_removed_graphs() -> None:
    old = quadfile.write(quad_table(entity(1) + entity(2) + entity(3))).index
    new = quadfile.write(quad_table(entity(1) + entity(2, activiteit=False) + entity(4))).index

    delta = quadfile.diff(old, new)

    graph = "<https://example.org/graph/deelname/{}>".format
    assert delta == quadfile.Delta(added=(graph(4),), changed=(graph(2),), removed=(graph(3),))
    assert quadfile.diff(None, old).added == tuple(old["g"].to_pylist())
    assert quadfile.index_from_bytes(quadfile.index_to_bytes(new)).equals(new)

"""Every mapping of this suite gives the same RDF dataset as morph-kgc, the reference RML engine.

morph-kgc runs as a subprocess from its own venv (.venv/tools/morph-kgc, made by `make test`: it
pins an older rdflib than ours). Each case is a mapping plus its source files; both engines run it
in the same folder and their N-Quads are compared per named graph (rdflib isomorphism, which also
covers blank nodes) and, without blank nodes, as exact sets of quads.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from culturemesh.linkeddata import engine, serialize, yarrrml

REPO = Path(__file__).resolve().parents[2]
MORPH_KGC = REPO / ".venv" / "tools" / "morph-kgc" / "bin" / "python"
PRODUCT = REPO / "functions" / "cultuurparticipatie"

FEATURES = """
prefixes:
  ex: http://example.com/
  sdo: https://schema.org/
mappings:
  person:
    sources: [[people.csv~csv]]
    s: ex:person/$(name)
    graph: ex:g/$(id)
    po:
      - [a, [ex:Person, sdo:Person]]
      - [ex:name, $(name), nl~lang]
      - [[ex:label, sdo:name], $(name)]
      - [ex:age, $(age), xsd:integer]
      - [ex:born, $(born), xsd:dateTime]
      - [ex:year, $(year), xsd:gYear]
      - [ex:day, $(day), xsd:date]
      - [ex:score, $(score), xsd:decimal]
      - [ex:member, $(member), xsd:boolean]
      - [ex:knows, ex:person/$(friend)~iri]
      - [ex:home, $(homepage)~iri]
      - [ex:greeting, "Dag $(name), welkom!~literal"]
      - [ex:page, ex:page/$(id)]
      - [ex:source, registry]
      - [ex:kind, ex:Kind]
      - p: ex:nickname
        o: {value: $(nick), language: en}
      - p: ex:code
        o: [[$(id), xsd:string], [$(nick), nl~lang]]
      - p: ex:inOwnGraph
        o: ex:flag/$(id)~iri
        graph: ex:side/$(id)
      - p: ex:org
        o:
          mapping: org
          condition:
            function: equal
            parameters: [[str1, $(org), s], [str2, $(id), o]]
      - p: ex:membership
        o:
          mapping: membership
          condition:
            function: equal
            parameters: [[str1, $(id), s], [str2, $(person), o]]
      - p: ex:self
        o:
          mapping: alias
  alias:
    sources: [[people.csv~csv]]
    s: ex:alias/$(id)
  org:
    sources: [[orgs.csv~csv]]
    s: ex:org/$(id)
    po:
      - [ex:label, $(name)]
      - [ex:founded, $(founded), xsd:gYear]
  membership:
    sources: [[memberships.csv~csv]]
    s: ex:membership/$(person)/$(org)
    po:
      - [ex:since, $(since), xsd:date]
"""
PEOPLE = """id,name,age,born,year,day,score,member,friend,homepage,nick,org
1,Jan Peeters,034,2001-03-04 10:00:00,1987,2024-02-29,12.5,TRUE,2,https://jan.example.org/a?b=c,Jantje,o1
2,"Marie ""Mie"" Claes",,1999-12-31T23:00:00Z,2001,,3,false,1,,,o2
3,Élise/Van Dam 100%,7,,,1999-01-01,.5,1,,http://example.org/élise,"multi
line",o1
4,"back\\slash",-0012,2020-01-01T00:00:00.5+02:00,0999,2020-12-31Z,-1.0,0,3,,x,o3
"""
ORGS = "id,name,founded\no1,deSingel,1980\no2,Vooruit,\no1,deSingel,1980\n"
MEMBERSHIPS = "person,org,since\n1,o1,2010-05-01\n2,o2,\n3,o2,2001-01-01\n"

JSON_MAPPING = """
prefixes:
  ex: http://example.com/
mappings:
  event:
    sources: [[events.json~jsonpath, "$.events[*]"]]
    s: ex:event/$(id)
    po:
      - [ex:title, $(title), nl~lang]
      - [ex:venue, ex:venue/$(location.id)~iri]
      - [ex:city, $(location.address.city)]
      - [ex:capacity, $(capacity), xsd:integer]
"""
EVENTS = """{"events": [
  {"id": "e1", "title": "Concert", "location": {"id": "v 1", "address": {"city": "Gent"}}, "capacity": 300},
  {"id": "e2", "title": "Expo", "location": {"id": "v2", "address": {"city": "Leuven"}}},
  {"id": "e3", "location": {"id": "v3", "address": {"city": "Brugge"}}, "capacity": 12}
]}"""

BLANK_MAPPING = """
prefixes:
  ex: http://example.com/
mappings:
  ticket:
    sources: [[tickets.csv~csv]]
    s: ex:ticket/$(id)
    po:
      - [ex:price, ticket$(id)~blanknode]
  price:
    sources: [[tickets.csv~csv]]
    s: ticket$(id)~blanknode
    po:
      - [ex:amount, $(amount), xsd:decimal]
"""
TICKETS = "id,amount\n1,12.50\n2,8\n"

CASES: dict[str, dict[str, str]] = {
    "features": {"mapping.yaml": FEATURES, "people.csv": PEOPLE, "orgs.csv": ORGS, "memberships.csv": MEMBERSHIPS},
    "json": {"mapping.yaml": JSON_MAPPING, "events.json": EVENTS},
    "blank-nodes": {"mapping.yaml": BLANK_MAPPING, "tickets.csv": TICKETS},
}
OSLO_CASES = {
    "oslo-activiteiten": ("activiteiten.yarrrml.yaml", ["activiteiten.csv", "locaties.csv", "organisatoren.csv",
                                                        "uitvoerders.csv"]),
    "oslo-deelnames": ("deelnames.yarrrml.yaml", ["deelnames.csv"]),
}  # fmt: skip


def morph_kgc_nquads(folder: Path, mapping: str) -> str:
    """N-Quads written by morph-kgc for ``mapping``, run in ``folder`` (where its sources are)."""
    if not MORPH_KGC.exists():
        pytest.fail(f"{MORPH_KGC} missing: run `make test` (or the Makefile's morph-kgc rule) to install the oracle")
    config = f"[CONFIGURATION]\noutput_format=N-QUADS\noutput_file=oracle.nq\n[Case]\nmappings={mapping}\n"
    (folder / "oracle.ini").write_text(config)
    result = subprocess.run(
        [str(MORPH_KGC), "-m", "morph_kgc", "oracle.ini"], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return (folder / "oracle.nq").read_text(encoding="utf-8")


def culturemesh_nquads(folder: Path, mapping: str) -> str:
    """Our N-Quads, by both paths: the quad table (what ports use) and the stream (what
    ``culturemesh map`` writes) give the same lines in the same order."""
    doc = yarrrml.load(folder / mapping)
    tables = engine.load_sources(doc)
    table, streamed = io.BytesIO(), io.BytesIO()
    serialize.write(engine.run(doc, tables), table, "nquads")
    serialize.write_lines(engine.nquads(doc, tables), streamed)
    assert streamed.getvalue() == table.getvalue()
    return table.getvalue().decode("utf-8")


def assert_same_dataset(ours: str, oracle: str) -> None:
    mine, theirs = rdflib.Dataset(), rdflib.Dataset()
    mine.parse(data=ours, format="nquads")
    theirs.parse(data=oracle, format="nquads")
    names = lambda d: {g.identifier for g in d.graphs() if len(g)}  # noqa: E731
    assert names(mine) == names(theirs)
    for name in names(theirs):
        ours_only = set(mine.graph(name)) - set(theirs.graph(name))
        theirs_only = set(theirs.graph(name)) - set(mine.graph(name))
        assert isomorphic(mine.graph(name), theirs.graph(name)), f"graph {name}: {ours_only} vs {theirs_only}"
    assert len(ours.splitlines()) > 0
    if "_:" not in oracle:
        assert set(ours.splitlines()) == {line.rstrip(" .") + " ." for line in oracle.splitlines() if line.strip()} or (
            {_quad(q) for q in mine.quads()} == {_quad(q) for q in theirs.quads()}
        )


def _quad(quad: tuple[object, ...]) -> tuple[object, ...]:
    s, p, o, g = quad
    return s, p, o, getattr(g, "identifier", g)


@pytest.mark.parametrize("case", sorted(CASES))
def test_feature_mapping_gives_the_same_dataset_as_morph_kgc(case: str, tmp_path: Path) -> None:
    for name, text in CASES[case].items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert_same_dataset(culturemesh_nquads(tmp_path, "mapping.yaml"), morph_kgc_nquads(tmp_path, "mapping.yaml"))


@pytest.mark.parametrize("case", sorted(OSLO_CASES))
def test_oslo_mapping_gives_the_same_dataset_as_morph_kgc(case: str, tmp_path: Path) -> None:
    mapping, sources = OSLO_CASES[case]
    shutil.copy(PRODUCT / "mappings" / mapping, tmp_path / mapping)
    for source in sources:
        shutil.copy(PRODUCT / "samples" / source, tmp_path / source)
    assert_same_dataset(culturemesh_nquads(tmp_path, mapping), morph_kgc_nquads(tmp_path, mapping))

"""`culturemesh map` as users run it: a real process, files in, RDF out, errors as exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import rdflib

PRODUCT = Path(__file__).resolve().parents[2] / "functions" / "cultuurparticipatie"
CONTEXT = Path("/work/shared/reference/oslo/cultuurparticipatie-ap.jsonld")


def culturemesh(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "culturemesh", *args], cwd=cwd, capture_output=True, text=True)


def test_map_writes_nquads_turtle_and_jsonld_of_the_same_graph(tmp_path: Path) -> None:
    mapping = PRODUCT / "mappings" / "deelnames.yarrrml.yaml"
    source = f"deelnames.csv={PRODUCT / 'samples' / 'deelnames.csv'}"
    graphs = {}
    for fmt, parser in (("nquads", "nquads"), ("turtle", "turtle"), ("jsonld", "json-ld")):
        out = tmp_path / f"out.{fmt}"
        result = culturemesh("map", str(mapping), "--source", source, "-o", str(out), "--format", fmt, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        dataset = rdflib.Dataset()
        dataset.parse(out, format=parser)
        graphs[fmt] = {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}
    assert len(graphs["nquads"]) == 49
    assert graphs["nquads"] == graphs["turtle"] == graphs["jsonld"]


def test_map_jsonld_is_compacted_with_the_oslo_context(tmp_path: Path) -> None:
    mapping = PRODUCT / "mappings" / "deelnames.yarrrml.yaml"
    source = f"deelnames.csv={PRODUCT / 'samples' / 'deelnames.csv'}"
    result = culturemesh("map", str(mapping), "--source", source, "--format", "jsonld", "--context", str(CONTEXT),
                         cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    graph = json.dumps(document["@graph"])
    assert '"Deelname"' in graph and '"Deelname.activiteit"' in graph  # compact OSLO terms
    assert "https://data.vlaanderen.be/ns/cultuurparticipatie#Deelname" not in graph


def test_map_reads_sources_next_to_the_mapping_by_default(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text((PRODUCT / "mappings" / "deelnames.yarrrml.yaml").read_text())
    (tmp_path / "deelnames.csv").write_text((PRODUCT / "samples" / "deelnames.csv").read_text())
    result = culturemesh("map", "m.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 49


def test_bad_value_exits_with_one_message_naming_mapping_rule_and_row(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text((PRODUCT / "mappings" / "deelnames.yarrrml.yaml").read_text())
    rows = (PRODUCT / "samples" / "deelnames.csv").read_text().replace("2026-12-03T19:21:00", "2026-12-33T19:21:00")
    (tmp_path / "deelnames.csv").write_text(rows)
    result = culturemesh("map", "m.yaml", cwd=tmp_path)
    assert result.returncode == 12
    assert result.stderr.strip().splitlines() == [
        "error: m.yaml, mapping 'tijdstip', rule mappings.tijdstip.po[1], row 3: value '2026-12-33T19:21:00+01:00' "
        "is not a valid xsd:dateTime: expected a date-time YYYY-MM-DDThh:mm:ss[Z|+hh:mm]"
    ]


def test_unknown_source_name_is_a_config_error(tmp_path: Path) -> None:
    mapping = PRODUCT / "mappings" / "deelnames.yarrrml.yaml"
    result = culturemesh("map", str(mapping), "--source", "tickets.csv=x.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "the mapping has no source 'tickets.csv'; its sources: deelnames.csv" in result.stderr

"""`culturemesh init`: a new product that validates, runs, reads and deploys as generated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.test_cli import cli

VISITS = (
    "visit_id,museum,visitors,visited_at,paid,visited_on\n"
    "v1,MAS,3,2026-11-02 10:00:00,true,2026-11-02\n"
    "v2,M Leuven,,2026-11-02 11:30:00,false,2026-11-02\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "functions").mkdir()
    return tmp_path


def _env(project: Path) -> dict[str, str]:
    return {"CULTUREMESH_PROJECT": str(project), "CULTUREMESH_HOME": str(project / ".culturemesh")}


def test_a_product_made_from_a_sample_csv_validates_runs_and_reads(project: Path) -> None:
    (project / "visits.csv").write_text(VISITS)
    made = cli("init", "museum-visits", "--domain", "musea", "--from-csv", "visits.csv", cwd=project, env=_env(project))
    assert made.returncode == 0, made.stderr
    folder = project / "functions" / "museum-visits"
    descriptor = yaml.safe_load((folder / "data-product.yaml").read_text())
    columns = descriptor["spec"]["outputPorts"][0]["dataFormat"]["analyticalDataSchemaDefinition"]["columnDefinitions"]
    assert [(c["name"], c["type"]) for c in columns] == [
        ("visit_id", "String"),
        ("museum", "String"),
        ("visitors", "Nullable(Int64)"),
        ("visited_at", "DateTime('Europe/Brussels')"),
        ("paid", "Bool"),
        ("visited_on", "Date"),
    ]
    assert cli("validate", cwd=project, env=_env(project)).returncode == 0

    sample = folder / "samples" / "museum-visits.csv"
    ran = cli("run", "museum-visits", "--input", str(sample), cwd=project, env=_env(project))
    assert ran.returncode == 0, ran.stderr
    assert '"type": "be.culturemesh.dataproduct.published"' in ran.stdout

    out = project / "records.json"
    read = cli("read", "museum-visits", "records", "--as", "owner", "-o", str(out), cwd=project, env=_env(project))
    assert read.returncode == 0, read.stderr
    rows = json.loads(out.read_text())
    assert [row["visit_id"] for row in rows] == ["v1", "v2"]
    assert rows[1]["visitors"] is None

    built = cli("build", "knative", cwd=project, env=_env(project))
    assert built.returncode == 0, built.stderr
    assert (project / "knative" / "museum-visits.yaml").is_file()
    assert cli("validate", cwd=project, env=_env(project)).returncode == 0


def test_a_product_without_a_sample_gets_an_example_that_runs(project: Path) -> None:
    assert cli("init", "visits", "--domain", "musea", cwd=project, env=_env(project)).returncode == 0
    sample = project / "functions" / "visits" / "samples" / "visits.csv"
    ran = cli("run", "visits", "--input", str(sample), cwd=project, env=_env(project))
    assert ran.returncode == 0, ran.stderr


def test_init_refuses_an_existing_product_and_changes_nothing(project: Path) -> None:
    assert cli("init", "visits", "--domain", "musea", cwd=project, env=_env(project)).returncode == 0
    descriptor = project / "functions" / "visits" / "data-product.yaml"
    before = descriptor.read_text()
    again = cli("init", "visits", "--domain", "other", cwd=project, env=_env(project))
    assert again.returncode == 2
    assert "exists already" in again.stderr
    assert descriptor.read_text() == before


@pytest.mark.parametrize(("name", "domain"), [("Museum_Visits", "musea"), ("visits", "Musea"), ("visits-", "musea")])
def test_init_refuses_names_that_cannot_name_services_and_keys(project: Path, name: str, domain: str) -> None:
    result = cli("init", name, "--domain", domain, cwd=project, env=_env(project))
    assert result.returncode == 2
    assert "expected lower-case letters, digits and '-'" in result.stderr
    assert not any((project / "functions").iterdir())


def test_init_refuses_a_sample_with_duplicate_columns(project: Path) -> None:
    (project / "dup.csv").write_text("id,id\n1,2\n")
    result = cli("init", "dups", "--domain", "musea", "--from-csv", "dup.csv", cwd=project, env=_env(project))
    assert result.returncode == 2
    assert "dup.csv" in result.stderr and "duplicate" in result.stderr

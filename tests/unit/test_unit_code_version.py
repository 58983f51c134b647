"""A product's function version changes with anything its behaviour depends on, and only that."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO

from culturemesh.product import code_version


@pytest.fixture
def product(tmp_path: Path) -> Path:
    folder = tmp_path / "cultuurparticipatie"
    shutil.copytree(REPO / "functions" / "cultuurparticipatie", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.mark.parametrize(
    "changed",
    ["main.py", "data-product.yaml", "mappings/activiteiten.yarrrml.yaml", "oslo/cultuurparticipatie-ap.jsonld"],
)
def test_code_mapping_shapes_and_context_make_a_new_version(product: Path, changed: str) -> None:
    before = code_version(product)
    with (product / changed).open("a") as out:
        out.write("\n")
    assert code_version(product) != before


def test_samples_readme_and_bytecode_do_not(product: Path) -> None:
    before = code_version(product)
    (product / "samples" / "activiteiten.csv").write_text("changed\n")
    (product / "README.md").write_text("changed\n")
    (product / "__pycache__").mkdir(exist_ok=True)
    (product / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00")
    assert code_version(product) == before

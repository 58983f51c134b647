"""A linkeddata port's settings in the descriptor: loaded into values, and every mistake reported
with file, line and YAML path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from culturemesh.descriptor import load_descriptor
from culturemesh.errors import DescriptorError
from tests.linkeddata.test_port import PRODUCT_DIR


def test_the_cultuurparticipatie_port_settings_load_with_paths_inside_the_product() -> None:
    settings = load_descriptor(PRODUCT_DIR).output_settings("activiteiten-ld").linked_data

    assert settings is not None
    assert settings.mapping == PRODUCT_DIR / "mappings" / "activiteiten.yarrrml.yaml"
    assert settings.shapes == (PRODUCT_DIR / "oslo" / "cultuurparticipatie-ap-SHACL.ttl",)
    assert dict(settings.sources)["locaties.csv"] == "locaties-versions"
    assert settings.graph_store is None


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "cultuurparticipatie"
    shutil.copytree(PRODUCT_DIR, target, ignore=shutil.ignore_patterns("samples", "__pycache__"))
    return target


def edit(folder: Path, change: str, new: str) -> None:
    path = folder / "data-product.yaml"
    text = path.read_text()
    assert change in text
    path.write_text(text.replace(change, new, 1))


def issues(folder: Path) -> list[str]:
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(folder)
    return [str(issue) for issue in caught.value.issues]


def test_a_missing_shapes_file_and_an_unknown_source_port_are_named_with_line_and_yaml_path(folder: Path) -> None:
    edit(folder, "shapes: [oslo/cultuurparticipatie-ap-SHACL.ttl]", "shapes: [oslo/absent.ttl]")
    edit(folder, "locaties.csv: locaties-versions", "locaties.csv: locaties-upload")

    found = issues(folder)

    line = next(
        i for i, text in enumerate((folder / "data-product.yaml").read_text().splitlines(), 1) if "absent" in text
    )
    assert any(
        f"data-product.yaml:{line}: culturemesh.outputs.activiteiten-ld.shapes[0]: shapes file" in i for i in found
    )
    assert any(
        "culturemesh.outputs.activiteiten-ld.sources[\"locaties.csv\"]: no input port 'locaties-upload' with an "
        "outputPortRef" in i
        for i in found
    ), found


def test_mapping_settings_on_an_analytical_port_are_refused(folder: Path) -> None:
    raw = yaml.safe_load((folder / "data-product.yaml").read_text())
    raw["culturemesh"]["outputs"]["locaties"]["mapping"] = "mappings/activiteiten.yarrrml.yaml"
    (folder / "data-product.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))

    assert any(
        "culturemesh.outputs.locaties.mapping: only a linkeddata port has 'mapping'" in i for i in issues(folder)
    )


def test_a_graph_store_must_be_an_http_url(folder: Path) -> None:
    edit(folder, "      context: oslo/", "      graphStore: ftp://example.org/gsp\n      context: oslo/")

    assert any("culturemesh.outputs.activiteiten-ld.graphStore: invalid value 'ftp://" in i for i in issues(folder))

"""``culturemesh diff OLD NEW`` as CI runs it: lines, summary, JSON and exit codes, files and git.

The command runs under the same error-to-exit-code group as ``culturemesh`` itself, through
``register``, until it is wired into the main command.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from culturemesh.cli import _Group
from culturemesh.commands.diff import register

PRODUCT = Path(__file__).resolve().parents[2] / "functions" / "ticket-sales"
TEXT = (PRODUCT / "data-product.yaml").read_text(encoding="utf-8")
RENAMED = TEXT.replace("- name: venue\n", "- name: venue_name\n", 1)
WIDENED = TEXT.replace("type: Int32", "type: Int64", 1)


def culturemesh(*args: str, project: Path | None = None) -> Result:
    group = _Group("culturemesh")
    register(group)
    env = {"CULTUREMESH_PROJECT": str(project)} if project else {}
    return CliRunner().invoke(group, list(args), env=env, catch_exceptions=False)


def product(folder: Path, text: str = TEXT) -> Path:
    """A product folder holding ``text`` as its descriptor and the function it names."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data-product.yaml").write_text(text, encoding="utf-8")
    shutil.copy(PRODUCT / "main.py", folder / "main.py")
    return folder


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=culturemesh tests", "-c", "user.email=tests@culturemesh.example", "-c",
                "commit.gpgsign=false"]  # fmt: skip
    subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose HEAD holds functions/ticket-sales as shipped."""
    root = tmp_path / "repo"
    product(root / "functions" / "ticket-sales")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "ticket-sales as shipped")
    return root


def test_widened_type_prints_ok_lines_and_a_summary_and_exits_0(tmp_path: Path) -> None:
    old, new = product(tmp_path / "old"), product(tmp_path / "new", WIDENED)

    result = culturemesh("diff", str(old / "data-product.yaml"), str(new))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "ok        spec.outputPorts[sales].columns[quantity].type: type widened (Int32 -> Int64): " in lines[0]
    assert lines[-1].startswith("2 change(s), 0 breaking")


def test_identical_descriptors_print_no_changes_and_exit_0(tmp_path: Path) -> None:
    old = product(tmp_path / "old")

    result = culturemesh("diff", str(old), str(old))

    assert result.exit_code == 0
    assert result.stdout.startswith("no changes")


def test_renamed_column_prints_breaking_lines_and_exits_10(tmp_path: Path) -> None:
    old, new = product(tmp_path / "old"), product(tmp_path / "new", RENAMED)

    result = culturemesh("diff", str(old), str(new))

    assert result.exit_code == 10
    assert "BREAKING  spec.outputPorts[sales].columns[venue]: column removed (String -> none): " in result.stdout
    assert "ok        spec.outputPorts[sales].columns[venue_name]: column added" in result.stdout
    assert "breaking change(s), the first at spec.outputPorts[sales].columns[venue]" in result.stderr


def test_json_output_lists_every_change_with_its_verdict_and_still_exits_10(tmp_path: Path) -> None:
    old, new = product(tmp_path / "old"), product(tmp_path / "new", RENAMED)

    result = culturemesh("diff", "--json", str(old), str(new))

    assert result.exit_code == 10
    report = json.loads(result.stdout)
    removed = next(c for c in report["changes"] if c["path"] == "spec.outputPorts[sales].columns[venue]")
    assert removed == {
        "path": "spec.outputPorts[sales].columns[venue]", "kind": "column removed", "before": "String",
        "after": None, "breaking": True, "reason": removed["reason"],
    }  # fmt: skip
    assert report["breaking"] == sum(c["breaking"] for c in report["changes"]) >= 1


def test_invalid_new_descriptor_exits_3_naming_the_yaml_path(tmp_path: Path) -> None:
    old, new = product(tmp_path / "old"), product(tmp_path / "new", TEXT.replace("type: analyticaldata", "type: cube"))

    result = culturemesh("diff", str(old), str(new))

    assert result.exit_code == 3
    assert "spec.outputPorts[0].type" in result.stderr


def test_git_revision_is_compared_with_the_working_copy(repo: Path) -> None:
    product(repo / "functions" / "ticket-sales", RENAMED)
    working = repo / "functions" / "ticket-sales" / "data-product.yaml"

    by_file = culturemesh("diff", "git:HEAD:functions/ticket-sales/data-product.yaml", str(working), project=repo)
    by_folder = culturemesh("diff", "git:HEAD:functions/ticket-sales", str(working.parent), project=repo)
    unchanged = culturemesh("diff", "git:HEAD:functions/ticket-sales", "git:HEAD:functions/ticket-sales", project=repo)

    assert by_file.exit_code == by_folder.exit_code == 10
    assert "BREAKING  spec.outputPorts[sales].columns[venue]: column removed" in by_file.stdout
    assert by_file.stdout.splitlines()[:-1] == by_folder.stdout.splitlines()[:-1]
    assert (unchanged.exit_code, unchanged.stdout.split(":")[0]) == (0, "no changes")


def test_git_json_schema_contract_is_read_at_the_same_revision(repo: Path) -> None:
    folder = repo / "functions" / "ticket-sales"
    (folder / "contract").mkdir()
    (folder / "contract" / "sales.json").write_text('{"type": "object"}')
    product(folder, TEXT.replace("columnsFrom: sales", "jsonSchema: contract/sales.json"))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "JSON Schema contract")
    source = "git:HEAD:functions/ticket-sales"

    same = culturemesh("diff", source, str(folder), project=repo)
    (folder / "contract" / "sales.json").write_text('{"type": "object", "required": ["ticket_id"]}')
    changed = culturemesh("diff", source, str(folder), project=repo)

    assert same.exit_code == 0, same.output
    assert changed.exit_code == 10
    assert "culturemesh.inputs[sales-upload].contract.jsonSchema: JSON Schema changed" in changed.stdout
    assert "cannot prove compatible" in changed.stdout


def test_unknown_git_revision_exits_2_and_says_how_to_fix_it(repo: Path) -> None:
    result = culturemesh("diff", "git:no-such-rev:functions/ticket-sales", str(repo / "functions" / "ticket-sales"),
                         project=repo)  # fmt: skip

    assert result.exit_code == 2
    assert "'no-such-rev'" in result.stderr and "git fetch" in result.stderr


def test_git_source_without_a_path_exits_2(tmp_path: Path) -> None:
    result = culturemesh("diff", "git:HEAD", str(product(tmp_path / "new")))

    assert result.exit_code == 2
    assert "expected git:REV:PATH" in result.stderr


def test_register_adds_the_diff_command() -> None:
    group = click.Group()
    register(group)

    assert "diff" in group.commands

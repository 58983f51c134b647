"""The culturemesh command as users run it: exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SAMPLES


def cli(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith("CULTUREMESH_")}
    return subprocess.run(
        [sys.executable, "-m", "culturemesh", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
    )


def test_validate_accepts_the_repository_products_and_event_schemas() -> None:
    result = cli("validate")
    assert result.returncode == 0, result.stderr
    assert "descriptor(s)" in result.stdout and "Knative manifests" in result.stdout


def test_validate_names_file_yaml_path_line_and_expectation_and_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "data-product.yaml"
    text = (REPO / "functions" / "ticket-sales" / "data-product.yaml").read_text()
    bad.write_text(text.replace("type: analyticaldata", "type: warehouse"))
    line = next(i for i, row in enumerate(bad.read_text().splitlines(), 1) if "warehouse" in row)

    result = cli("validate", str(bad))

    assert result.returncode == 3
    assert f"{bad}:{line}: spec.outputPorts[0].type" in result.stderr
    assert "analyticaldata" in result.stderr  # says what was expected


def test_validate_refuses_an_invalid_cron_schedule_naming_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "data-product.yaml"
    text = (REPO / "functions" / "ticket-sales" / "data-product.yaml").read_text()
    bad.write_text(text.replace("  inputPorts:\n", "  transformer:\n    schedule: '61 * * * *'\n  inputPorts:\n", 1))
    result = cli("validate", str(bad))
    assert result.returncode == 3
    assert "spec.transformer.schedule" in result.stderr


def test_run_transforms_a_local_file_without_the_mesh(tmp_path: Path) -> None:
    result = cli("run", "ticket-sales", "--input", str(SAMPLES / "sales.csv"), env={"CULTUREMESH_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    documents = json.loads("[" + result.stdout.replace("}\n{", "},\n{") + "]")
    assert [d["type"] for d in documents] == [
        "be.culturemesh.upload.accepted",
        "be.culturemesh.dataproduct.published",
    ]
    assert (tmp_path / "store" / "products" / "ticketing" / "ticket-sales" / "sales" / "latest.json").is_file()


def test_run_on_a_broken_file_exits_4_and_points_at_the_report(tmp_path: Path) -> None:
    result = cli(
        "run",
        "ticket-sales",
        "--input",
        str(SAMPLES / "sales-broken.csv"),
        env={"CULTUREMESH_HOME": str(tmp_path)},
    )
    assert result.returncode == 4
    assert "rejected; the report is at file://" in result.stderr


def test_upload_without_a_running_mesh_says_how_to_start_it_and_exits_6(tmp_path: Path) -> None:
    result = cli(
        "upload",
        "ticket-sales",
        str(SAMPLES / "sales.csv"),
        env={"CULTUREMESH_HOME": str(tmp_path), "CULTUREMESH_PORT": "1"},
    )
    assert result.returncode == 6
    assert "culturemesh up" in result.stderr
    assert "Traceback" not in result.stderr


def test_read_gives_a_principal_only_its_granted_columns(tmp_path: Path) -> None:
    env = {"CULTUREMESH_HOME": str(tmp_path)}
    assert cli("run", "ticket-sales", "--input", str(SAMPLES / "sales.csv"), env=env).returncode == 0

    public = cli("read", "ticket-sales", "sales", "--as", "public", env=env)
    analyst = cli("read", "ticket-sales", "sales", "--as", "analyst", env=env)
    refused = cli(
        "read", "ticket-sales", "sales", "--as", "public", "--columns", "ticket_id,buyer_postal_code", env=env
    )
    stranger = cli("read", "ticket-sales", "sales", "--as", "stranger", env=env)

    assert public.returncode == 0 and "buyer_postal_code" not in public.stdout.splitlines()[0]
    assert "withheld" in public.stderr
    assert analyst.returncode == 0 and "buyer_postal_code" in analyst.stdout.splitlines()[0]
    assert refused.returncode == 8 and "buyer_postal_code" in refused.stderr
    assert stranger.returncode == 8 and "no grant" in stranger.stderr


def test_unknown_product_lists_the_products_there_are() -> None:
    result = cli("run", "no-such-product", "--input", str(SAMPLES / "sales.csv"))
    assert result.returncode == 2
    assert "ticket-sales" in result.stderr


def test_validate_accepts_a_product_folder() -> None:
    result = cli("validate", str(REPO / "functions" / "ticket-sales"))
    assert result.returncode == 0, result.stderr
    assert "ok: 1 descriptor(s)" in result.stdout


def test_read_of_an_unknown_port_names_the_ports_there_are(tmp_path: Path) -> None:
    result = cli("read", "ticket-sales", "no-such-port", env={"CULTUREMESH_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "no output port 'no-such-port'" in result.stderr and "sales" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_rotate_keeps_older_versions_readable_and_new_versions_use_the_new_material(tmp_path: Path) -> None:
    env = {"CULTUREMESH_HOME": str(tmp_path)}
    first = cli("run", "ticket-sales", "--input", str(SAMPLES / "sales.csv"), env=env)
    assert first.returncode == 0, first.stderr
    old_version = json.loads("[" + first.stdout.replace("}\n{", "},\n{") + "]")[-1]["dpversion"]
    keyring_before = json.loads((tmp_path / "keys" / "keyring.json").read_text())

    rotated = cli("keys", "rotate", "ticket-sales", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert "rotated alias/culturemesh/ticketing/ticket-sales/sensitive" in rotated.stdout
    changed = tmp_path / "changed.csv"
    changed.write_text((SAMPLES / "sales.csv").read_text().replace("T-000001", "T-900001"))
    second = cli("run", "ticket-sales", "--input", str(changed), env=env)
    assert second.returncode == 0, second.stderr

    old = cli("read", "ticket-sales", "sales", "--as", "analyst", "--version", old_version, env=env)
    new = cli("read", "ticket-sales", "sales", "--as", "analyst", env=env)
    assert old.returncode == 0 and "T-000001" in old.stdout, old.stderr
    assert new.returncode == 0 and "T-900001" in new.stdout, new.stderr
    assert json.loads((tmp_path / "keys" / "keyring.json").read_text()) != keyring_before


def test_validate_refuses_a_knative_manifest_the_admission_webhook_would_refuse(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "project"
    for folder in ("functions", "events", "knative"):
        shutil.copytree(REPO / folder, project / folder)
    manifest = project / "knative" / "ticket-sales.yaml"
    manifest.write_text(manifest.read_text().replace("backoffPolicy: exponential", "backoffPolicy: fibonacci"))

    result = cli("validate", env={"CULTUREMESH_PROJECT": str(project)})

    assert result.returncode == 3
    assert "Trigger/ticket-sales-sales-upload" in result.stderr and "spec.delivery.backoffPolicy" in result.stderr


def test_validate_reports_knative_manifests_the_descriptors_no_longer_generate(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "project"
    shutil.copytree(REPO / "functions", project / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "knative", project / "knative")
    shutil.copytree(REPO / "events", project / "events")
    env = {"CULTUREMESH_PROJECT": str(project), "CULTUREMESH_HOME": str(tmp_path / "home")}
    assert cli("validate", cwd=project, env=env).returncode == 0

    descriptor = project / "functions" / "ticket-sales" / "data-product.yaml"
    descriptor.write_text(descriptor.read_text().replace("name: ticket-sales\n", "name: ticket-sales-v2\n", 1))
    result = cli("validate", cwd=project, env=env)
    assert result.returncode == 3
    assert "knative/ticket-sales-v2.yaml: <root>: missing: the descriptors generate it" in result.stderr
    assert "knative/ticket-sales.yaml: <root>: generated for a product that no longer exists" in result.stderr
    assert "run `culturemesh build knative`" in result.stderr

    assert cli("build", "knative", cwd=project, env=env).returncode == 0
    (project / "knative" / "ticket-sales.yaml").unlink()
    assert cli("validate", cwd=project, env=env).returncode == 0


def test_the_lazy_verb_table_names_exactly_what_each_command_module_registers() -> None:
    import importlib

    import click

    from culturemesh.cli import COMMANDS

    registered: dict[str, str] = {}
    for module in sorted(set(COMMANDS.values())):
        group = click.Group()
        importlib.import_module(f"culturemesh.commands.{module}").register(group)
        registered.update(dict.fromkeys(group.commands, module))
    assert registered == COMMANDS

"""The container recipe runs what the generated Knative Services ask it to run."""

from __future__ import annotations

import json
import re

from culturemesh.deploy import knative
from culturemesh.project import load_products
from tests.conftest import REPO


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines = (REPO / "Dockerfile").read_text().splitlines()
    return [(line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in lines if line and not line.startswith("#")]


def test_the_image_runs_as_a_non_root_user_and_listens_on_knatives_port() -> None:
    instructions = dockerfile_instructions()
    users = [value for keyword, value in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(keyword == "ENV" and "PORT=8080" in value for keyword, value in instructions)


def test_the_default_command_is_the_one_the_generated_service_runs() -> None:
    cmd = json.loads(next(value for keyword, value in dockerfile_instructions() if keyword == "CMD"))
    (ticket_sales,) = [d for d in load_products(REPO / "functions") if d.name == "ticket-sales"]  # the image's default
    service = knative.services(ticket_sales, REPO)[0]
    container = service["spec"]["template"]["spec"]["containers"][0]
    assert cmd == [*container["command"], *container["args"]]


def test_the_image_ships_the_code_the_services_name() -> None:
    text = (REPO / "Dockerfile").read_text()
    for descriptor in load_products(REPO / "functions"):
        for service in knative.services(descriptor, REPO):
            source = next(
                a for a in service["spec"]["template"]["spec"]["containers"][0]["args"] if a.startswith("--source=")
            )
            assert source.split("=", 1)[1].startswith("functions/") and "COPY functions ./functions" in text


def test_the_buildpacks_procfile_starts_functions_framework_with_the_http_signature() -> None:
    procfile = (REPO / "Procfile").read_text()
    assert re.match(r"^web: functions-framework .*--signature-type=http", procfile)

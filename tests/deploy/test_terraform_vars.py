"""The Terraform variables generated from the descriptors: complete, exact, and committed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from culturemesh.deploy import terraform
from culturemesh.descriptor import load_descriptor
from culturemesh.project import load_products
from tests.conftest import REPO


def test_the_committed_variables_match_the_descriptors() -> None:
    committed = json.loads((REPO / terraform.TFVARS).read_text())
    assert committed == terraform.variables(load_products(REPO / "functions")), "run `culturemesh build terraform`"


def test_every_product_port_classification_and_grant_appears_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "museum-visits"
    shutil.copytree(REPO / "functions" / "ticket-sales", folder, ignore=shutil.ignore_patterns("samples"))
    text = (folder / "data-product.yaml").read_text()
    text = text.replace("name: ticket-sales", "name: museum-visits").replace("domain: ticketing", "domain: museums")
    text = text.replace("buyer_postal_code: sensitive", "buyer_postal_code: pii\n        venue: sensitive")
    text = text.replace("analyst: [sensitive]", "analyst: [sensitive]\n        researcher: [pii]")
    (folder / "data-product.yaml").write_text(text)
    products = [load_descriptor(REPO / "functions" / "ticket-sales"), load_descriptor(folder)]

    generated = terraform.variables(products)

    assert generated == {
        "products": {
            "museums/museum-visits": {
                "domain": "museums",
                "name": "museum-visits",
                "ports": ["sales"],
                "classifications": ["pii", "sensitive"],
                "consumers": {"analyst": ["sensitive"], "owner": ["*"], "public": [], "researcher": ["pii"]},
            },
            "ticketing/ticket-sales": {
                "domain": "ticketing",
                "name": "ticket-sales",
                "ports": ["sales"],
                "classifications": ["sensitive"],
                "consumers": {"analyst": ["sensitive"], "owner": ["*"], "public": []},
            },
        }
    }

"""The Terraform variables the production environment needs, generated from the descriptors.

``culturemesh build terraform`` writes ``infra/terraform/environments/production/
culturemesh.auto.tfvars.json``: per product its output ports, its column classifications and the
classifications each consumer principal may read (``["*"]``: all). Keys, key policies, buckets
and roles are all derived from it by the modules; nothing else goes in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturemesh.descriptor import Descriptor
from culturemesh.keys import labels

TFVARS = Path("infra/terraform/environments/production/culturemesh.auto.tfvars.json")


def product_variables(descriptor: Descriptor) -> dict[str, Any]:
    consumers: dict[str, set[str]] = {}
    for port in descriptor.output_ports:
        for principal, granted in descriptor.output_settings(port.name).access.items():
            wanted = {"*"} if granted == "all" else set(granted)
            consumers[principal] = consumers.get(principal, set()) | wanted
    return {
        "domain": descriptor.domain,
        "name": descriptor.name,
        "ports": [port.name for port in descriptor.output_ports],
        "classifications": sorted(labels(descriptor)),
        "consumers": {principal: sorted(granted) for principal, granted in sorted(consumers.items())},
    }


def variables(descriptors: Sequence[Descriptor]) -> dict[str, Any]:
    return {
        "products": {
            d.qualified_name: product_variables(d) for d in sorted(descriptors, key=lambda d: d.qualified_name)
        }
    }


def write(descriptors: Sequence[Descriptor], project: Path) -> Path:
    path = project / TFVARS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(variables(descriptors), indent=2, sort_keys=True) + "\n")
    return path

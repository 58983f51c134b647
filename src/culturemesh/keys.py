"""Which master keys a data product has, who may use them, and how that is set up in the KMS.

Per product: a product key (``alias/culturemesh/<domain>/<name>``) for its outputs (Parquet
footers and unclassified columns, sealed port files), one key per column classification it
declares (``…/<label>``), and a landing key (``…/landing``) for raw uploads and their reports.
Principals:

- ``product:<domain>/<name>``: the product's functions; everything on all its keys;
- ``provider:<domain>/<name>``: whoever uploads to it; seals uploads and reads their reports, and
  nothing else (it holds no grant on the product's output keys);
- every principal in an output port's ``access``: decrypt with the product key, and with the key
  of each classification it is granted (``all``: every classification).
"""

from __future__ import annotations

from culturemesh.descriptor import Descriptor
from culturemesh.kms import Kms, Operation

EVERYTHING: frozenset[Operation] = frozenset({"encrypt", "decrypt", "generate"})
READ: frozenset[Operation] = frozenset({"decrypt"})


def product_key(descriptor: Descriptor) -> str:
    return f"alias/culturemesh/{descriptor.qualified_name}"


def landing_key(descriptor: Descriptor) -> str:
    return f"{product_key(descriptor)}/landing"


def classification_key(descriptor: Descriptor, label: str) -> str:
    return f"{product_key(descriptor)}/{label}"


def function_principal(descriptor: Descriptor) -> str:
    return f"product:{descriptor.qualified_name}"


def provider_principal(descriptor: Descriptor) -> str:
    return f"provider:{descriptor.qualified_name}"


def labels(descriptor: Descriptor) -> set[str]:
    return {
        label
        for port in descriptor.output_ports
        for label in descriptor.output_settings(port.name).classification.values()
    }


def provision(kms: Kms, descriptor: Descriptor) -> None:
    """Create the product's keys and write its key policies (idempotent)."""
    main, landing = product_key(descriptor), landing_key(descriptor)
    kms.create_key(main, f"culturemesh data product {descriptor.qualified_name}")
    kms.allow(main, function_principal(descriptor), EVERYTHING)
    kms.create_key(landing, f"culturemesh uploads to {descriptor.qualified_name}")
    kms.allow(landing, function_principal(descriptor), EVERYTHING)
    kms.allow(landing, provider_principal(descriptor), EVERYTHING)
    for label in sorted(labels(descriptor)):
        key = classification_key(descriptor, label)
        kms.create_key(key, f"culturemesh {descriptor.qualified_name} columns classified {label}")
        kms.allow(key, function_principal(descriptor), EVERYTHING)
    for port in descriptor.output_ports:
        for principal, granted in descriptor.output_settings(port.name).access.items():
            kms.allow(main, principal, READ)
            for label in sorted(labels(descriptor) if granted == "all" else set(granted)):
                kms.allow(classification_key(descriptor, label), principal, READ)


def rotate(kms: Kms, descriptor: Descriptor) -> list[str]:
    """New key material for every key of the product; returns the keys rotated."""
    rotated = [
        product_key(descriptor),
        landing_key(descriptor),
        *(classification_key(descriptor, label) for label in sorted(labels(descriptor))),
    ]
    for key in rotated:
        kms.rotate(key)
    return rotated

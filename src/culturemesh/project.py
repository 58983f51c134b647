"""The project on disk: its data products under ``functions/``."""

from __future__ import annotations

from pathlib import Path

from culturemesh.descriptor import Descriptor, load_descriptor
from culturemesh.errors import ConfigError, DescriptorError, Issue


def descriptor_paths(functions_dir: Path) -> list[Path]:
    return sorted(functions_dir.glob("*/data-product.yaml"))


def load_products(functions_dir: Path) -> list[Descriptor]:
    """Every product's descriptor; all problems of all products are reported together."""
    if not functions_dir.is_dir():
        raise ConfigError(
            f"no functions/ folder at {functions_dir}; run from a culturemesh project or set CULTUREMESH_PROJECT"
        )
    products: list[Descriptor] = []
    issues: list[Issue] = []
    for path in descriptor_paths(functions_dir):
        try:
            products.append(load_descriptor(path))
        except DescriptorError as exc:
            issues.extend(exc.issues)
    if issues:
        raise DescriptorError(issues)
    names = [p.qualified_name for p in products]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ConfigError(f"two products share the name(s) {', '.join(clashes)} (domain/name must be unique)")
    return products


def find_product(functions_dir: Path, name: str) -> Descriptor:
    """A product by folder name, ``metadata.name`` or ``domain/name``."""
    folder = functions_dir / name
    if (folder / "data-product.yaml").is_file():
        return load_descriptor(folder / "data-product.yaml")
    for descriptor in load_products(functions_dir):
        if name in (descriptor.name, descriptor.qualified_name):
            return descriptor
    known = ", ".join(p.parent.name for p in descriptor_paths(functions_dir)) or "none"
    raise ConfigError(f"no data product {name!r} under {functions_dir}; products: {known}")


def unsupported(descriptor: Descriptor) -> list[Issue]:
    """What a valid descriptor asks for that this culturemesh version cannot run yet."""
    issues = []
    for upload in descriptor.upload_inputs():
        for port in upload.produces or tuple(p.name for p in descriptor.output_ports):
            output = descriptor.output_settings(port)
            if output.format != "parquet":
                where = f"culturemesh.outputs.{port}.format"
                issues.append(
                    Issue(descriptor.path or "", where, f"only parquet ports can be written yet, not {output.format}")
                )
    return issues

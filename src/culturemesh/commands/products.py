"""Verbs about data products: validate, run, upload, read, build."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import click

from culturemesh import events
from culturemesh.backends import open_kms, open_store
from culturemesh.commands._common import echo_json, settings_of
from culturemesh.descriptor import Descriptor, load_descriptor
from culturemesh.errors import ConfigError, DescriptorError, Issue, UploadRejected
from culturemesh.keys import provision
from culturemesh.project import descriptor_paths, find_product, load_products, unsupported


def _load_handler(descriptor: Descriptor, function: str) -> Any:
    spec = descriptor.functions[function]
    source = (descriptor.base_dir or Path.cwd()) / spec.source
    module_spec = importlib.util.spec_from_file_location(
        f"culturemesh_product_{descriptor.name.replace('-', '_')}", source
    )
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"cannot import {source}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    entry = getattr(module, spec.target, None)
    handler = getattr(entry, "culturemesh_handler", None)
    if handler is None:
        raise ConfigError(f"{source}: {spec.target!r} is not a function decorated with @product_function")
    return handler


def check_manifests(folder: Path) -> list[Issue]:
    """Every Knative object under ``folder`` is valid against its CRD schema and passes the
    admission rules of Knative's webhooks."""
    from culturemesh.deploy.crds import crd_problems
    from culturemesh.errors import MeshError
    from culturemesh.mesh.admission import admit
    from culturemesh.mesh.server import parse_manifests

    issues: list[Issue] = []
    for path in sorted(folder.rglob("*.yaml")):
        try:
            documents = parse_manifests(path.read_text())
        except MeshError as exc:
            issues.append(Issue(path, "", str(exc)))
            continue
        for index, obj in enumerate(documents):
            where = f"[{index}] {obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
            issues.extend(Issue(path, where, problem) for problem in crd_problems(obj))
            if obj.get("kind") in ("Broker", "Trigger", "Service", "PingSource"):
                try:
                    admit(obj)
                except MeshError as exc:
                    issues.append(Issue(path, where, str(exc)))
    return issues


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check descriptors (default: every functions/*/data-product.yaml), the event schemas and,
    by default, the Knative manifests under knative/ against Knative's admission rules."""
    settings = settings_of(ctx)
    targets: list[Path] = []
    for path in paths or (settings.functions_dir,):
        if path.is_dir() and (path / "data-product.yaml").is_file():
            targets.append(path / "data-product.yaml")
        else:
            targets.extend(descriptor_paths(path) if path.is_dir() else [path])
    issues: list[Issue] = []
    for target in targets:
        try:
            issues.extend(unsupported(load_descriptor(target)))
        except DescriptorError as exc:
            issues.extend(exc.issues)
    from culturemesh.eventschemas import check_schemas

    issues.extend(check_schemas(settings.project / "events"))
    if not paths:
        issues.extend(check_manifests(settings.project / "knative"))
    if issues:
        raise DescriptorError(issues)
    click.echo(f"ok: {len(targets)} descriptor(s), the event schemas and the Knative manifests are valid")


@click.command()
@click.argument("product")
@click.option("--input", "input_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--port", default=None, help="Upload port (needed when the product has several).")
@click.pass_context
def run(ctx: click.Context, product: str, input_file: Path, port: str | None) -> None:
    """Run PRODUCT's transformation in-process on a local file, without the mesh."""
    from culturemesh.product import Product, landing_key
    from culturemesh.provider import put_sealed, upload_port, upload_stamp

    settings = settings_of(ctx)
    descriptor = find_product(settings.functions_dir, product)
    upload = upload_port(descriptor, port)
    store, kms = open_store(settings), open_kms(settings)
    provision(kms, descriptor)
    key = landing_key(descriptor, upload.port, f"{upload_stamp()}/{input_file.name}")
    info = put_sealed(store, kms, descriptor, key, input_file, notify=False)
    handler = _load_handler(descriptor, upload.function)
    ingest = Product(descriptor, store, kms, upload.function)
    emitted = list(handler(events.object_created(info.as_stored()), ingest))
    for event in emitted:
        echo_json(event.to_dict())
    if any(event.type == events.UPLOAD_REJECTED for event in emitted):
        raise UploadRejected(f"{input_file}: rejected; the report is at {emitted[-1].get('dataref')}")


@click.command()
@click.argument("product")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--port", default=None, help="Upload port (needed when the product has several).")
@click.pass_context
def upload(ctx: click.Context, product: str, file: Path, port: str | None) -> None:
    """Put FILE on PRODUCT's upload port; the mesh is notified as S3 would notify it."""
    from culturemesh.provider import upload_file

    settings = settings_of(ctx)
    descriptor = find_product(settings.functions_dir, product)
    size = file.stat().st_size
    with click.progressbar(
        length=size, label=f"uploading {file.name}", file=sys.stderr, hidden=size < (8 << 20)
    ) as bar:
        info = upload_file(settings, descriptor, file, port, progress=bar.update)
    click.echo(json.dumps({"bucket": info.bucket, "key": info.key, "size": info.size, "etag": info.etag}))


@click.command()
@click.argument("product")
@click.argument("port")
@click.option("--version", "version", default=None, help="A version id (default: latest).")
@click.option("--as", "principal", default="public", show_default=True, help="The principal reading.")
@click.option("--columns", default=None, help="Comma-separated columns to read.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help=".parquet, .csv or .json")
@click.pass_context
def read(
    ctx: click.Context,
    product: str,
    port: str,
    version: str | None,
    principal: str,
    columns: str | None,
    output: Path | None,
) -> None:
    """Read an output port as PRINCIPAL: only the columns it is granted."""
    from culturemesh.reading import read_port, write_table

    settings = settings_of(ctx)
    descriptor = find_product(settings.functions_dir, product)
    wanted = [c.strip() for c in columns.split(",")] if columns else None
    store, kms = open_store(settings), open_kms(settings)
    table, withheld = read_port(store, kms, descriptor, port, principal, version, wanted)
    if withheld:
        click.echo(f"note: column(s) withheld from {principal!r}: {', '.join(withheld)}", err=True)
    write_table(table, output)


@click.group()
def build() -> None:
    """Generate deployable configuration from the descriptors."""


@build.command("knative")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.pass_context
def build_knative(ctx: click.Context, out: Path | None) -> None:
    """Write knative/ (Broker, a Service per function, a Trigger per input port)."""
    from culturemesh.deploy import irsa, knative

    settings = settings_of(ctx)
    written = knative.write(
        load_products(settings.functions_dir),
        settings.project,
        out or settings.project / "knative",
        aws_account_id=settings.aws_account_id or irsa.PLACEHOLDER_ACCOUNT,
    )
    for path in written:
        click.echo(str(path))


@build.command("terraform")
@click.pass_context
def build_terraform(ctx: click.Context) -> None:
    """Write the production environment's Terraform variables from the descriptors."""
    from culturemesh.deploy import terraform

    settings = settings_of(ctx)
    click.echo(str(terraform.write(load_products(settings.functions_dir), settings.project)))


@click.group("keys")
def keys_group() -> None:
    """Manage a product's master keys in the KMS."""


@keys_group.command("rotate")
@click.argument("product")
@click.pass_context
def keys_rotate(ctx: click.Context, product: str) -> None:
    """New key material for every key of PRODUCT; versions written before stay readable."""
    from culturemesh.keys import rotate

    settings = settings_of(ctx)
    descriptor = find_product(settings.functions_dir, product)
    kms = open_kms(settings)
    provision(kms, descriptor)
    for key in rotate(kms, descriptor):
        click.echo(f"rotated {key}")


def register(group: click.Group) -> None:
    for command in (validate, run, upload, read, build, keys_group):
        group.add_command(command)

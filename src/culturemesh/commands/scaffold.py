"""``culturemesh init NAME``: scaffold a data product that validates and runs as generated."""

from __future__ import annotations

from pathlib import Path

import click

from culturemesh.commands._common import settings_of
from culturemesh.errors import ConfigError


@click.command()
@click.argument("name")
@click.option("--domain", required=True, help="The owning domain (metadata.namespace), e.g. musea.")
@click.option("--owner", default="Data product owner", show_default=True, help="dataProductOwner.name")
@click.option("--contact", default="data@example.be", show_default=True, help="dataProductOwner.contact")
@click.option(
    "--from-csv",
    "sample",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A sample upload: the output port's columns are inferred from it, and it becomes the product's sample.",
)
@click.pass_context
def init(ctx: click.Context, name: str, domain: str, owner: str, contact: str, sample: Path | None) -> None:
    """Scaffold functions/NAME: descriptor, handler, README and a sample upload, ready to run."""
    from culturemesh.descriptor import load_descriptor
    from culturemesh.scaffold import scaffold

    settings = settings_of(ctx)
    folder = settings.functions_dir / name
    if folder.exists():
        raise ConfigError(f"{folder} exists already; choose another name or remove it")
    files = scaffold(name, domain, owner, contact, sample)
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    load_descriptor(folder / "data-product.yaml")  # what was generated must validate
    click.echo(f"created {folder}")
    click.echo(f"  try it:   culturemesh run {name} --input {folder / 'samples' / f'{name}.csv'}")
    click.echo(f"  read it:  culturemesh read {name} records --as owner")
    click.echo("  deploy:   culturemesh build knative && culturemesh build terraform")


def register(group: click.Group) -> None:
    group.add_command(init)

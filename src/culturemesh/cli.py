"""The ``culturemesh`` command. Every flag has a ``CULTUREMESH_*`` environment twin.

Errors are :class:`~culturemesh.errors.CultureMeshError`; each maps to its exit code and prints
one actionable message (no traceback) on stderr.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from culturemesh import __version__
from culturemesh.errors import CultureMeshError
from culturemesh.logs import configure
from culturemesh.settings import Settings


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module = importlib.import_module(f"culturemesh.commands.{COMMANDS[name]}")
            module.register(self)
        return self.commands.get(name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CultureMeshError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"auto_envvar_prefix": "CULTUREMESH", "help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="culturemesh")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), help="Project folder (holds functions/).")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="State folder (default PROJECT/.culturemesh).",
)
@click.option("--log-format", type=click.Choice(["auto", "json", "console"]), default=None)
@click.pass_context
def main(ctx: click.Context, project: Path | None, home: Path | None, log_format: str | None) -> None:
    """culturemesh: data products, CloudEvents and an embedded Knative-like mesh."""
    settings = Settings.from_env().with_overrides(
        project=project.resolve() if project else None,
        home=home.resolve() if home else None,
        log_format=log_format,
    )
    configure(settings.log_format, settings.log_level)
    ctx.obj = settings


# Each verb's module, imported only when that verb runs (or for the help listing): `culturemesh map`
# need not import what `culturemesh up` needs. Each module's register() adds its verbs.
COMMANDS = {
    "validate": "products", "run": "products", "upload": "products", "read": "products", "build": "products",
    "keys": "products", "init": "scaffold", "dead-letters": "mesh", "s3-adapter": "mesh", "up": "mesh",
    "mesh": "mesh", "demo": "mesh", "subscribe": "consumer", "tail": "consumer", "diff": "diff",
    "tokens": "tokens", "map": "linkeddata", "catalog": "catalog",
}  # fmt: skip

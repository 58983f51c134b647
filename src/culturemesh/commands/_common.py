from __future__ import annotations

import json
from typing import Any

import click

from culturemesh.settings import Settings


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    return settings if settings is not None else Settings.from_env()


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))

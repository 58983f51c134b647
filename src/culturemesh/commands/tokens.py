"""``culturemesh tokens``: bearer tokens for the embedded mesh's HTTP endpoints (SPARQL, catalog API)."""

from __future__ import annotations

import click

from culturemesh.auth import TokenStore
from culturemesh.commands._common import settings_of


@click.group()
def tokens() -> None:
    """Issue and revoke bearer tokens that name a principal."""


@tokens.command()
@click.argument("principal")
@click.pass_context
def issue(ctx: click.Context, principal: str) -> None:
    """Mint a token for PRINCIPAL and print it once (only its hash is kept)."""
    click.echo(TokenStore(settings_of(ctx).home).issue(principal))


@tokens.command()
@click.argument("principal")
@click.pass_context
def revoke(ctx: click.Context, principal: str) -> None:
    """Revoke every token of PRINCIPAL."""
    count = TokenStore(settings_of(ctx).home).revoke(principal)
    click.echo(f"revoked {count} token(s) of {principal}")


def register(group: click.Group) -> None:
    group.add_command(tokens)

"""Verbs for consumers: subscribe to events, follow them."""

from __future__ import annotations

import asyncio
import json
import os

import click

from culturemesh.commands._common import settings_of
from culturemesh.mesh.client import MeshClient
from culturemesh.settings import DEFAULT_NAMESPACE, Settings
from culturemesh.subscriptions import parse_pairs, subscription, subscription_name

_FILTER_HELP = "ATTRIBUTE=VALUE an event must match exactly (repeatable)."


def _exact(event_type: str | None, product: str | None, pairs: tuple[str, ...]) -> dict[str, str]:
    exact = parse_pairs(pairs, "--filter")
    if event_type:
        exact["type"] = event_type
    if product:
        exact["dataproduct"] = product
    return exact


@click.command()
@click.option("--sink", required=True, help="The consumer's URL; events arrive there in binary mode.")
@click.option("--type", "event_type", default=None, help="Only events of this type.")
@click.option("--product", default=None, help="Only events of this data product (domain/name).")
@click.option("--filter", "pairs", multiple=True, help=_FILTER_HELP)
@click.option("--prefix", "prefixes", multiple=True, help="ATTRIBUTE=PREFIX an attribute must start with (repeatable).")
@click.option("--name", default=None, help="Subscription (Trigger) name; default derived from sink and filters.")
@click.pass_context
def subscribe(
    ctx: click.Context,
    sink: str,
    event_type: str | None,
    product: str | None,
    pairs: tuple[str, ...],
    prefixes: tuple[str, ...],
    name: str | None,
) -> None:
    """Subscribe a sink URL to the platform's events (adds a Trigger to the running mesh)."""
    settings = settings_of(ctx)
    exact = _exact(event_type, product, pairs)
    prefix = parse_pairs(prefixes, "--prefix")
    trigger = subscription(name or subscription_name(sink, exact, prefix), sink, exact, prefix)
    applied = MeshClient(settings.mesh_url, settings.ingress_url).apply([trigger])
    click.echo(f"subscribed: {applied[0]} -> {sink}")


@click.command()
@click.option("--type", "event_type", default=None, help="Only events of this type.")
@click.option("--product", default=None, help="Only events of this data product (domain/name).")
@click.option("--filter", "pairs", multiple=True, help=_FILTER_HELP)
@click.option("--count", type=int, default=None, help="Exit after this many events.")
@click.option("--timeout", type=float, default=None, help="Exit (code 1) if no event arrives for this many seconds.")
@click.pass_context
def tail(
    ctx: click.Context,
    event_type: str | None,
    product: str | None,
    pairs: tuple[str, ...],
    count: int | None,
    timeout: float | None,
) -> None:
    """Follow matching events as they arrive, one JSON document per line."""
    settings = settings_of(ctx)
    received = asyncio.run(_tail(settings, _exact(event_type, product, pairs), count, timeout))
    if count is not None and received < count:
        raise click.exceptions.Exit(1)


async def _tail(settings: Settings, exact: dict[str, str], count: int | None, timeout: float | None) -> int:
    from culturemesh.consumer import LocalSink

    client = MeshClient(settings.mesh_url, settings.ingress_url)
    name = f"tail-{os.getpid()}"
    received = 0
    async with LocalSink() as sink:
        await asyncio.to_thread(client.apply, [subscription(name, sink.url, exact, durable=False)])
        click.echo(f"# following {json.dumps(exact) if exact else 'every event'} (Ctrl-C to stop)", err=True)
        try:
            while count is None or received < count:
                event = await sink.next(timeout)
                click.echo(json.dumps(event.to_dict(), sort_keys=True), nl=True)
                received += 1
        except (TimeoutError, asyncio.CancelledError, KeyboardInterrupt):
            pass
        finally:
            await asyncio.to_thread(client.delete, "Trigger", DEFAULT_NAMESPACE, name)
    return received


def register(group: click.Group) -> None:
    group.add_command(subscribe)
    group.add_command(tail)

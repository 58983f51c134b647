"""Verbs about the embedded mesh: up, mesh apply, mesh status, demo."""

from __future__ import annotations

import asyncio
import faulthandler
import signal
from pathlib import Path

import click

from culturemesh.commands._common import echo_json, settings_of


@click.command()
@click.option("--port", type=int, default=None, help="Port of the broker ingress and admin API (env CULTUREMESH_PORT).")
@click.pass_context
def up(ctx: click.Context, port: int | None) -> None:
    """Run the embedded mesh until stopped, configured from knative/ (else from the descriptors)."""
    from culturemesh.backends import open_kms
    from culturemesh.deploy import knative
    from culturemesh.keys import provision
    from culturemesh.mesh.server import parse_manifests, serve
    from culturemesh.project import load_products

    settings = settings_of(ctx).with_overrides(port=port)
    products = load_products(settings.functions_dir)
    manifests = settings.project / "knative"
    if manifests.is_dir() and any(manifests.glob("*.yaml")):
        objects = [obj for path in sorted(manifests.glob("*.yaml")) for obj in parse_manifests(path.read_text())]
        source = f"{manifests}/"
    else:
        objects, source = knative.objects(products, settings.project), "the descriptors"
    settings.mesh_dir.mkdir(parents=True, exist_ok=True)
    kms = open_kms(settings)
    for descriptor in products:  # keys and key policies come from the descriptors, as in a deploy
        provision(kms, descriptor)
    from culturemesh import deadletters

    deadletters.provision(kms)
    from culturemesh.backends import open_registry
    from culturemesh.catalog.sync import register_descriptor

    registry = open_registry(settings)  # every product is in the catalog from the start
    for descriptor in products:
        register_descriptor(registry, descriptor)
    registry.close()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack to stderr
    click.echo(f"culturemesh mesh on {settings.mesh_url}: {len(objects)} Knative objects from {source}", err=True)
    click.echo(f"  web catalog {settings.mesh_url}/catalog/   JSON API {settings.mesh_url}/api/", err=True)
    asyncio.run(serve(settings, objects))


@click.group("mesh")
def mesh_group() -> None:
    """Configure and inspect the running embedded mesh."""


@mesh_group.command("apply")
@click.option("-f", "--filename", "paths", multiple=True, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def mesh_apply(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Load Knative Broker, Trigger, Service, SinkBinding and PingSource YAML (files or folders) into the mesh."""
    from culturemesh.mesh.client import MeshClient
    from culturemesh.mesh.server import parse_manifests

    settings = settings_of(ctx)
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.y*ml")) if path.is_dir() else [path])
    objects = [obj for file in files for obj in parse_manifests(file.read_text())]
    for applied in MeshClient(settings.mesh_url, settings.ingress_url).apply(objects):
        click.echo(f"applied {applied}")


@mesh_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the raw status document.")
@click.pass_context
def mesh_status(ctx: click.Context, as_json: bool) -> None:
    """Show brokers, triggers with their filters, queue depth, dead letters and running functions."""
    from culturemesh.mesh.client import MeshClient

    settings = settings_of(ctx)
    status = MeshClient(settings.mesh_url, settings.ingress_url).status()
    if as_json:
        echo_json(status)
        return
    click.echo(f"mesh {settings.mesh_url}   brokers: {', '.join(status['brokers'])}")
    click.echo("triggers:")
    for trigger in status["triggers"]:
        queue = trigger["queue"]
        click.echo(
            f"  {trigger['name']:<40} -> {trigger['subscriber']:<38} pending {queue.get('pending', 0)}"
            f"  done {queue.get('done', 0)}  dead {queue.get('dead', 0)}"
        )
        click.echo(f"      filter {trigger['filter']}")
    for ping in status.get("ping_sources", []):
        click.echo(
            f"ping source {ping['name']}: {ping['schedule']!r} ({ping['timezone']}) -> {ping['sink']}"
            f"  next {ping['next']}  sent {ping['sent']}" + (f"  error: {ping['error']}" if ping["error"] else "")
        )
    click.echo("running functions: " + (", ".join(r["service"] for r in status["running"]) or "none"))
    for dead in status["dead_letters"]:
        click.echo(
            f"dead letter: event {dead['id']} on {dead['trigger']} after {dead['attempts']} attempt(s): {dead['error']}"
        )


@mesh_group.command("ping")
@click.argument("name")
@click.option("--namespace", default="culturemesh", show_default=True, help="Namespace of the PingSource.")
@click.pass_context
def mesh_ping(ctx: click.Context, name: str, namespace: str) -> None:
    """Have PingSource NAME send its event now, outside its schedule (a scheduled run on demand)."""
    from culturemesh.mesh.client import MeshClient

    settings = settings_of(ctx)
    sent = MeshClient(settings.mesh_url, settings.ingress_url).ping(namespace, name)
    click.echo(f"sent event {sent['id']} from {sent['source']}")


@click.command()
@click.option("--keep", is_flag=True, help="Leave the mesh running after the demo.")
@click.pass_context
def demo(ctx: click.Context, keep: bool) -> None:
    """The main job: start the mesh, upload sample data, show a consumer receiving the events."""
    from culturemesh.demo import run_demo

    run_demo(settings_of(ctx), keep=keep)


@click.command("s3-adapter")
@click.option("--queue-url", required=True, help="The SQS queue S3 notifies (env CULTUREMESH_QUEUE_URL).")
@click.option("--once", is_flag=True, help="One long poll, then exit (for jobs and tests).")
@click.pass_context
def s3_adapter(ctx: click.Context, queue_url: str, once: bool) -> None:
    """Relay S3 object-created notifications from SQS to the broker as CloudEvents (runs in a cluster)."""
    import boto3

    from culturemesh.errors import ConfigError
    from culturemesh.s3events import relay_once

    settings = settings_of(ctx)
    if not settings.sink:
        raise ConfigError("K_SINK is not set: bind the adapter to the broker with a SinkBinding")
    sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint or None)
    while True:
        relayed = relay_once(sqs, queue_url, settings.sink, wait_seconds=1 if once else 20)
        if once:
            click.echo(f"relayed {relayed} event(s)")
            return


@click.command("dead-letters")
@click.pass_context
def dead_letters(ctx: click.Context) -> None:
    """Serve the platform's dead-letter sink on $PORT: refused events are kept, sealed."""
    import os

    from culturemesh import deadletters
    from culturemesh.backends import open_kms, open_store

    settings = settings_of(ctx)
    kms = open_kms(settings)
    if settings.kms == "local":  # in a cluster the key and its policy are Terraform's (modules/kms)
        deadletters.provision(kms)
    deadletters.serve(int(os.environ.get("PORT", "8080")), open_store(settings), kms)


def register(group: click.Group) -> None:
    group.add_command(dead_letters)
    group.add_command(s3_adapter)
    group.add_command(up)
    group.add_command(mesh_group)
    group.add_command(demo)

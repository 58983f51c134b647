"""``culturemesh catalog``: list, show, search, register and export the catalog registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from culturemesh.commands._common import echo_json, settings_of

if TYPE_CHECKING:
    from culturemesh.catalog.registry import ProductRecord, Registry
    from culturemesh.catalog.search import SearchHit
    from culturemesh.versions import Manifest

_FILTERS = [
    click.option("--domain", default=None, help="Only products of this domain."),
    click.option("--type", "port_type", default=None, help="Only products with a port of this type."),
    click.option("--owner", default=None, help="Only products of this owner or team (name or contact)."),
    click.option("--fresh", "freshness", type=click.Choice(["fresh", "stale", "unknown"]), default=None),
    click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table."),
]


def _with_filters(command: Any) -> Any:
    for option in reversed(_FILTERS):
        command = option(command)
    return command


def _registry(ctx: click.Context) -> Registry:
    from culturemesh.backends import open_registry

    return open_registry(settings_of(ctx))


@click.group("catalog")
def catalog_group() -> None:
    """The catalog: every data product, its ports, versions, freshness and lineage."""


def _search(
    ctx: click.Context,
    text: str,
    limit: int,
    *,
    domain: str | None,
    port_type: str | None,
    owner: str | None,
    freshness: str | None,
) -> list[SearchHit]:
    from culturemesh.catalog.search import Filters, search

    registry = _registry(ctx)
    try:
        return search(registry, text, Filters(domain, port_type, owner, freshness), limit=limit)
    finally:
        registry.close()


def _hit_row(hit: SearchHit) -> dict[str, Any]:
    product = hit.product
    return {
        "id": product.id,
        "summary": product.summary,
        "owner": product.owner.name,
        "ports": [f"{p.name} ({p.type})" for p in product.ports],
        "freshness": hit.freshness.value,
        "score": hit.score,
        "matched": list(hit.matched),
    }


def _print_hits(hits: list[SearchHit], as_json: bool, scored: bool) -> None:
    if as_json:
        echo_json([_hit_row(hit) for hit in hits])
        return
    if not hits:
        click.echo("no data products match", err=True)
        return
    width = max(len(hit.product.id) for hit in hits)
    for hit in hits:
        score = f"  {hit.score:6.2f}" if scored else ""
        summary = hit.product.summary if len(hit.product.summary) <= 70 else hit.product.summary[:69] + "…"
        click.echo(f"{hit.product.id:<{width}}  {hit.freshness.value:<7}{score}  {summary}")


@catalog_group.command("list")
@_with_filters
@click.pass_context
def list_products(
    ctx: click.Context,
    domain: str | None,
    port_type: str | None,
    owner: str | None,
    freshness: str | None,
    as_json: bool,
) -> None:
    """Every registered data product (by id), with its freshness."""
    hits = _search(ctx, "", 10_000, domain=domain, port_type=port_type, owner=owner, freshness=freshness)
    _print_hits(hits, as_json, scored=False)


@catalog_group.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@_with_filters
@click.pass_context
def search_products(
    ctx: click.Context,
    words: tuple[str, ...],
    limit: int,
    domain: str | None,
    port_type: str | None,
    owner: str | None,
    freshness: str | None,
    as_json: bool,
) -> None:
    """Search names, summaries, themes, owners, ports and columns; best match first.

    WORDS may hold "quoted phrases" and filters domain:, owner:, type:, fresh:.
    """
    hits = _search(ctx, " ".join(words), limit, domain=domain, port_type=port_type, owner=owner, freshness=freshness)
    _print_hits(hits, as_json, scored=True)


@catalog_group.command("show")
@click.argument("product")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option(
    "--versions", "shown", type=click.IntRange(1, 10_000), default=5, show_default=True, help="Versions per port."
)
@click.pass_context
def show(ctx: click.Context, product: str, as_json: bool, shown: int) -> None:
    """A product: owner, terms, ports and their schema, versions, freshness, lineage, subscriptions."""
    registry = _registry(ctx)
    try:
        document = _describe(registry, registry.product(product), shown)
    finally:
        registry.close()
    if as_json:
        echo_json(document)
    else:
        _print_document(document)


def _describe(registry: Registry, record: ProductRecord, shown: int) -> dict[str, Any]:
    from dataclasses import asdict

    from culturemesh.catalog.freshness import product_freshness

    freshness = {p.port: p for p in product_freshness(registry, record, datetime.now(UTC)).ports}
    lineage = registry.lineage(record.id)
    ports = []
    for port in record.ports:
        versions = registry.versions(record.id, port.name)
        found = freshness[port.name]
        ports.append(
            {
                **{k: v for k, v in asdict(port).items() if k != "columns"},
                "columns": [asdict(column) for column in port.columns],
                "freshness": {"state": found.state.value, "since": found.since, "due": found.due},
                "versionCount": len(versions),
                "versions": [
                    {
                        "version": v.version,
                        "created": v.created,
                        "rows": v.rows,
                        "bytes": v.bytes,
                        "manifest": v.manifest_uri,
                    }
                    for v in versions[:shown]
                ],
            }
        )
    return {
        "id": record.id,
        "summary": record.summary,
        "owner": asdict(record.owner),
        "team": asdict(record.team) if record.team else None,
        "termsOfUse": asdict(record.terms_of_use) if record.terms_of_use else None,
        "themes": list(record.themes),
        "registered": record.registered,
        "updated": record.updated,
        "ports": ports,
        "upstream": [asdict(edge) for edge in lineage.upstream],
        "downstream": [asdict(edge) for edge in lineage.downstream],
        "subscriptions": [{"name": s.name, "port": s.port, "sink": s.sink} for s in registry.subscriptions(record.id)],
    }


def _print_document(doc: dict[str, Any]) -> None:
    click.echo(f"{doc['id']}\n  {doc['summary']}")
    owner, team, terms = doc["owner"], doc["team"], doc["termsOfUse"]
    click.echo(f"  owner: {owner['name']}" + (f" <{owner['contact']}>" if owner.get("contact") else ""))
    if team:
        click.echo(f"  team:  {team['name']}")
    if terms:
        click.echo(f"  terms: {terms.get('name') or ''} {terms.get('uri') or ''}".rstrip())
    if doc["themes"]:
        click.echo(f"  themes: {', '.join(doc['themes'])}")
    for port in doc["ports"]:
        fresh = port["freshness"]
        every = f", every {port['update_every']}" if port["update_every"] else ""
        timing = "".join(
            f", {word} {fresh[key]}" for word, key in (("since", "since"), ("next due", "due")) if fresh.get(key)
        )
        click.echo(f"\n  port {port['name']} ({port['type']}, {port['format']}{every}): {fresh['state']}{timing}")
        for column in port["columns"]:
            label = f" [{column['classification']}]" if column["classification"] else ""
            click.echo(f"    {column['name']:<20} {column['type']}{label}  {column['description'] or ''}".rstrip())
        click.echo(f"    versions ({port['versionCount']}):")
        for version in port["versions"]:
            click.echo(
                f"      {version['version']}  {version['created']}  {version['rows']} rows  {version['bytes']} bytes"
            )
    for direction in ("upstream", "downstream"):
        for edge in doc[direction]:
            other = edge["upstream"] if direction == "upstream" else edge["downstream"]
            click.echo(f"  {direction}: {other} (port {edge['upstream_port']})")
    for sub in doc["subscriptions"]:
        click.echo(f"  subscription {sub['name']}: port {sub['port']} -> {sub['sink']}")


@catalog_group.command("register")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def register_products(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Register descriptors (product folders or files; default every product under functions/)."""
    from culturemesh.catalog.sync import register_paths
    from culturemesh.project import descriptor_paths

    settings = settings_of(ctx)
    files = [p / "data-product.yaml" if p.is_dir() else p for p in paths] or descriptor_paths(settings.functions_dir)
    registry = _registry(ctx)
    try:
        for record in register_paths(registry, files):
            click.echo(f"registered {record.id} ({record.digest[:12]})")
    finally:
        registry.close()


@catalog_group.command("check")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Emit a stale event for each late port not yet announced (to K_SINK, else the mesh's broker).

    The embedded mesh does this on its own; a cluster runs `catalog serve-check` on a PingSource.
    """
    from culturemesh.catalog import freshness
    from culturemesh.mesh.client import publish

    settings = settings_of(ctx)
    sink = settings.sink or settings.ingress_url
    registry = _registry(ctx)
    try:
        emitted = freshness.check(registry, lambda found: publish(found, sink))
    finally:
        registry.close()
    for event in emitted:
        click.echo(f"stale: {event.get('dataproduct')} port {event.get('outputport')} (event {event.id})")
    click.echo(f"{len(emitted)} stale event(s) sent to {sink}", err=True)


@catalog_group.command("serve-check")
@click.pass_context
def serve_check(ctx: click.Context) -> None:
    """Serve the freshness check on $PORT: each event POSTed (a PingSource tick) runs `catalog check`
    once, publishing to K_SINK (knative/cluster/catalog-check.yaml runs it in a cluster)."""
    import os

    from culturemesh.catalog import checker
    from culturemesh.errors import ConfigError
    from culturemesh.mesh.client import publish

    settings = settings_of(ctx)
    sink = settings.sink
    if not sink:
        raise ConfigError("K_SINK is not set: bind the catalog check to the broker with a SinkBinding")
    registry = _registry(ctx)
    try:
        checker.serve(int(os.environ.get("PORT", "8080")), registry, lambda found: publish(found, sink))
    finally:
        registry.close()


@catalog_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["dcat", "odcs"]), required=True)
@click.option("--product", default=None, help="Only this product (domain/name).")
@click.option("--port", default=None, help="ODCS: only this output port.")
@click.option("--base-uri", default=None, help="DCAT: the base of the catalog's URIs (default: the mesh URL).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def export(
    ctx: click.Context, fmt: str, product: str | None, port: str | None, base_uri: str | None, output: Path | None
) -> None:
    """Export the catalog as DCAT-AP Vlaanderen (Turtle) or ODCS v3 contracts (YAML, one per port)."""
    registry = _registry(ctx)
    try:
        records = [registry.product(product)] if product else registry.products()
        entries = [
            (r.descriptor(), {p.name: [v.manifest for v in registry.versions(r.id, p.name)] for p in r.ports})
            for r in records
        ]
    finally:
        registry.close()
    if fmt == "dcat":
        text = _dcat(entries, base_uri or f"{settings_of(ctx).mesh_url}/catalog/")
    else:
        text = _odcs(entries, port)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


def _dcat(entries: list[Any], base_uri: str) -> str:
    from culturemesh.catalog import dcat

    return str(dcat.to_turtle(entries, base_uri))


def _odcs(entries: list[tuple[Any, dict[str, list[Manifest]]]], only: str | None) -> str:
    import yaml

    from culturemesh.catalog import odcs

    documents = []
    for descriptor, manifests in entries:
        for name, found in manifests.items():
            if only is None or name == only:
                documents.append(odcs.contract(descriptor, name, found))
    if only is not None and not documents:
        from culturemesh.catalog.registry import PortNotFound

        raise PortNotFound(
            entries[0][0].qualified_name if entries else "*", only, sorted({n for _, m in entries for n in m})
        )
    return yaml.safe_dump_all(json.loads(json.dumps(documents, default=str)), sort_keys=False, allow_unicode=True)


def register(group: click.Group) -> None:
    group.add_command(catalog_group)

"""Keeping the registry in step with the platform: products as they are deployed, versions as they
are published, consumer subscriptions as they are applied, and the periodic freshness check.

- :func:`register_paths` / :func:`register_descriptor`: ``culturemesh up``, ``culturemesh catalog
  register`` (the deploy path) and a product function that finds itself unregistered;
- :func:`register_published`: a product function, for each version it publishes;
- :func:`watch`: the embedded mesh, every ``catalog_interval`` seconds: consumer subscriptions
  (Triggers labelled ``culturemesh.be/subscription: "true"``, as ``culturemesh subscribe`` makes them) and
  the stale events of late ports (published to the broker ingress).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from culturemesh.catalog import freshness
from culturemesh.catalog.registry import (
    ANY,
    ProductNotFound,
    ProductRecord,
    Registry,
    VersionRecord,
    subscription_from_trigger,
)
from culturemesh.descriptor import Descriptor
from culturemesh.envelope import Envelope
from culturemesh.errors import CultureMeshError, DescriptorError, Issue
from culturemesh.events import now_iso
from culturemesh.logs import get_logger
from culturemesh.settings import Settings
from culturemesh.subscriptions import SUBSCRIPTION_LABEL
from culturemesh.versions import Manifest

log = get_logger("culturemesh.catalog")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DescriptorError([Issue(path, "", f"cannot read the descriptor as UTF-8 text: {exc}")]) from None


def register_paths(registry: Registry, paths: Iterable[Path]) -> list[ProductRecord]:
    return [registry.register_product(_read(path), source=str(path)) for path in paths]


def register_descriptor(registry: Registry, descriptor: Descriptor) -> ProductRecord:
    """Register a loaded descriptor from its file (its YAML text, comments and all)."""
    if descriptor.path is None:
        raise DescriptorError([Issue("<descriptor>", "", "a descriptor loaded from text has no file to register")])
    return registry.register_product(_read(descriptor.path), source=str(descriptor.path))


def register_published(registry: Registry, descriptor: Descriptor, manifest: Manifest, uri: str) -> VersionRecord:
    """Register a version a product published; registers the product first if it is not yet."""
    try:
        return registry.register_version(manifest, uri)
    except ProductNotFound:
        register_descriptor(registry, descriptor)
        return registry.register_version(manifest, uri)


def is_subscription(trigger: Mapping[str, Any]) -> bool:
    """A consumer subscription: a Trigger labelled so by ``culturemesh subscribe`` (or the catalog's
    copy-paste YAML), delivering to a URL."""
    labels = (trigger.get("metadata") or {}).get("labels") or {}
    subscriber = (trigger.get("spec") or {}).get("subscriber") or {}
    return labels.get(SUBSCRIPTION_LABEL) == "true" and bool(subscriber.get("uri"))


def sync_subscriptions(registry: Registry, triggers: Sequence[Mapping[str, Any]]) -> None:
    """Make the registry's subscriptions those of ``triggers`` (Trigger objects as applied)."""
    wanted = {}
    for trigger in triggers:
        if is_subscription(trigger):
            record = subscription_from_trigger(trigger, now_iso())
            wanted[(record.product, record.name)] = record
    for stored in registry.subscriptions():
        if (stored.product, stored.name) not in wanted:
            registry.remove_subscription(stored.product, stored.name)
    for record in wanted.values():
        if record.product == ANY or _known(registry, record.product):
            registry.put_subscription(record)


def _known(registry: Registry, product: str) -> bool:
    try:
        registry.product(product)
    except ProductNotFound:
        return False
    return True


async def watch(
    registry: Registry,
    triggers: Callable[[], Sequence[Mapping[str, Any]]],
    publish: Callable[[Sequence[Envelope]], object],
    interval: float,
) -> None:
    """Until cancelled: sync subscriptions and emit stale events, every ``interval`` seconds."""
    while True:
        try:
            await asyncio.to_thread(sync_subscriptions, registry, triggers())
            await asyncio.to_thread(freshness.check, registry, publish)
        except (CultureMeshError, OSError) as exc:  # the next round tries again
            log.warning("catalog check failed", error=str(exc), error_type=type(exc).__name__)
        await asyncio.sleep(interval)


async def watch_mesh(settings: Settings, triggers: Mapping[tuple[str, str], Any]) -> None:
    """:func:`watch` for the embedded mesh: ``triggers`` is its broker's live Trigger table;
    stale events go to the broker ingress. The registry is opened once, here."""
    from culturemesh.backends import open_registry
    from culturemesh.mesh.client import publish

    def applied() -> list[dict[str, Any]]:
        return [
            {"metadata": {"name": name, "labels": dict(t.labels)}, "spec": dict(t.spec)}
            for (_, name), t in list(triggers.items())
        ]

    registry = open_registry(settings)
    try:
        await watch(registry, applied, lambda found: publish(found, settings.ingress_url), settings.catalog_interval)
    finally:
        registry.close()

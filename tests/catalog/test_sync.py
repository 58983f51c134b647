"""The mesh's Triggers become the catalog's subscriptions: exactly the labelled, durable ones."""

from __future__ import annotations

from pathlib import Path

from culturemesh.catalog.sqlite import SqliteRegistry
from culturemesh.catalog.sync import sync_subscriptions
from culturemesh.mesh.objects import parse_trigger
from culturemesh.subscriptions import subscription
from tests.catalog.conftest import descriptor_text


def _as_applied(obj: dict[str, object]) -> dict[str, object]:
    """What the embedded mesh hands the catalog: the parsed Trigger, labels kept."""
    trigger = parse_trigger(obj)
    return {"metadata": {"name": trigger.name, "labels": dict(trigger.labels)}, "spec": dict(trigger.spec)}


def test_subscribe_triggers_are_subscriptions_and_tail_or_hand_made_ones_are_not(tmp_path: Path) -> None:
    registry = SqliteRegistry(tmp_path / "registry.sqlite")
    registry.register_product(descriptor_text("uit-events"))
    wanted = {"dataproduct": "events/uit-events"}
    durable = subscription("sub-museum-app", "http://app.example/hook", wanted)
    tail = subscription("tail-4242", "http://127.0.0.1:5000/", wanted, durable=False)
    unlabelled = {**durable, "metadata": {"name": "partner-feed", "namespace": "culturemesh"}}
    sync_subscriptions(registry, [_as_applied(t) for t in (durable, tail, unlabelled)])
    assert [s.name for s in registry.subscriptions("events/uit-events")] == ["sub-museum-app"]

    sync_subscriptions(registry, [_as_applied(tail)])  # the subscription's Trigger was deleted
    assert list(registry.subscriptions("events/uit-events")) == []

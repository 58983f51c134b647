"""The registry contract: one suite, run against SQLite and against DynamoDB on a moto server."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from culturemesh.catalog.registry import (
    ANY,
    InvalidDescriptor,
    PortNotFound,
    ProductNotFound,
    Registry,
    RegistryConflict,
    StaleMark,
    VersionNotFound,
    subscription_from_trigger,
)
from culturemesh.catalog.sqlite import SqliteRegistry
from culturemesh.descriptor import load_descriptor_text
from culturemesh.subscriptions import subscription
from tests.catalog.conftest import descriptor_text, manifest, manifest_uri
from tests.conftest import REPO


def _snapshot(registry: Registry) -> tuple[object, ...]:
    products = registry.products()
    return (
        products,
        [registry.versions(p.id) for p in products],
        [registry.lineage(p.id) for p in products],
        registry.subscriptions(),
    )


def test_a_registered_product_keeps_its_descriptor_owner_terms_ports_and_schema(registry: Registry) -> None:
    text = descriptor_text("ticket-sales")
    record = registry.register_product(text, source="ticket-sales.yaml")
    stored = registry.product("ticketing/ticket-sales")
    assert stored == record
    assert stored.owner.name == "Ticketing Vlaanderen" and stored.team is not None
    assert stored.terms_of_use is not None and stored.terms_of_use.name == "Modellicentie Gratis Hergebruik v1.0"
    sales = stored.port("sales")
    assert (sales.type, sales.format) == ("analyticaldata", "parquet")
    assert [c.name for c in sales.columns][:3] == ["ticket_id", "event_id", "venue"]
    assert sales.columns[-1].classification == "sensitive" and sales.columns[-1].nullable
    assert sales.primary_key == ("ticket_id",)
    assert stored.descriptor_yaml == text
    assert stored.descriptor() == load_descriptor_text(text)


def test_registering_the_same_descriptor_twice_changes_nothing(registry: Registry) -> None:
    first = registry.register_product(descriptor_text("museum-visits"))
    before = _snapshot(registry)
    again = registry.register_product(descriptor_text("museum-visits"))
    assert again == first
    assert _snapshot(registry) == before


def test_a_changed_descriptor_replaces_the_old_one_but_keeps_the_first_registration_time(registry: Registry) -> None:
    first = registry.register_product(descriptor_text("uit-events"))
    changed = descriptor_text("uit-events").replace("as OSLO linked data", "as OSLO linked data, daily")
    second = registry.register_product(changed)
    assert second.summary.endswith("daily.") and second.digest != first.digest
    assert second.registered == first.registered
    assert registry.product("events/uit-events").summary == second.summary
    assert len(registry.products()) == 1


def test_an_invalid_descriptor_is_refused_with_its_yaml_path_and_nothing_changes(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    before = _snapshot(registry)
    broken = descriptor_text("museum-visits").replace("type: analyticaldata", "type: spreadsheet")
    with pytest.raises(InvalidDescriptor) as caught:
        registry.register_product(broken, source="museum-visits.yaml")
    assert caught.value.status == 400
    assert any("spec.outputPorts[0].type" in issue.path for issue in caught.value.issues)
    assert "museum-visits.yaml" in str(caught.value)
    with pytest.raises(InvalidDescriptor, match=r"spec\.themes"):
        registry.register_product(descriptor_text("museum-visits").replace("themes: [musea]", "themes: musea"))
    assert _snapshot(registry) == before


def test_products_are_listed_by_id_and_an_unknown_one_is_not_found(registry: Registry) -> None:
    for name in ("uit-events", "ticket-sales", "museum-visits"):
        registry.register_product(descriptor_text(name))
    assert [p.id for p in registry.products()] == [
        "events/uit-events",
        "museums/museum-visits",
        "ticketing/ticket-sales",
    ]
    with pytest.raises(ProductNotFound) as caught:
        registry.product("events/nope")
    assert caught.value.status == 404 and "events/nope" in str(caught.value)


def test_versions_are_kept_with_their_manifests_newest_first(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    old = manifest("events/uit-events", "events", "v1", "2026-11-27T08:00:00.000Z", rows=10)
    new = manifest("events/uit-events", "events", "v0", "2026-11-27T09:00:00.000Z", rows=12)
    registry.register_version(old, manifest_uri(old))
    record = registry.register_version(new, manifest_uri(new))
    assert (record.rows, record.bytes, record.manifest_uri) == (12, 1234, manifest_uri(new))
    assert [v.version for v in registry.versions("events/uit-events")] == ["v0", "v1"]
    assert registry.version("events/uit-events", "events", "v1").manifest == old
    latest = registry.latest_version("events/uit-events", "events")
    assert latest is not None and latest.version == "v0" and latest.manifest.lineage == new.lineage
    assert registry.latest_version("events/uit-events", "events-ld") is None
    with pytest.raises(VersionNotFound):
        registry.version("events/uit-events", "events", "v9")


def test_registering_the_same_version_twice_changes_nothing(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    m = manifest("events/uit-events", "events", "v1")
    first = registry.register_version(m, manifest_uri(m))
    before = _snapshot(registry)
    assert registry.register_version(m, manifest_uri(m)) == first
    assert _snapshot(registry) == before


def test_a_version_id_reused_with_another_manifest_is_a_conflict(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    m = manifest("events/uit-events", "events", "v1", rows=3)
    registry.register_version(m, manifest_uri(m))
    before = _snapshot(registry)
    with pytest.raises(RegistryConflict) as caught:
        registry.register_version(dataclasses.replace(m, rows=4), manifest_uri(m))
    assert caught.value.status == 409
    assert _snapshot(registry) == before


def test_a_version_for_an_unknown_product_or_port_is_refused_and_nothing_changes(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    before = _snapshot(registry)
    unknown = manifest("events/nope", "events", "v1")
    with pytest.raises(ProductNotFound):
        registry.register_version(unknown, manifest_uri(unknown))
    wrong_port = manifest("events/uit-events", "tickets", "v1")
    with pytest.raises(PortNotFound) as caught:
        registry.register_version(wrong_port, manifest_uri(wrong_port))
    assert "events, events-ld" in str(caught.value) and caught.value.status == 404
    assert _snapshot(registry) == before


def test_declared_lineage_links_both_products_whichever_registers_first(registry: Registry) -> None:
    registry.register_product(descriptor_text("museum-visits"))  # before its upstream exists
    registry.register_product(descriptor_text("uit-events"))
    (edge,) = registry.lineage("museums/museum-visits").upstream
    assert (edge.upstream, edge.upstream_port, edge.declared, edge.last_version) == (
        "events/uit-events",
        "events",
        True,
        "",
    )
    assert registry.lineage("events/uit-events").downstream == (edge,)
    assert registry.lineage("events/uit-events").upstream == ()


def test_an_input_dropped_from_the_descriptor_drops_its_declared_edge(registry: Registry) -> None:
    registry.register_product(descriptor_text("museum-visits"))
    text = descriptor_text("museum-visits")
    without = text[: text.index("    - name: events\n")] + text[text.index("  outputPorts:") :]
    registry.register_product(without)
    assert registry.lineage("museums/museum-visits").upstream == ()


def test_a_versions_lineage_inputs_become_edges_naming_the_upstream_version(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    registry.register_product(descriptor_text("ticket-sales"))
    upstream_key = "events/uit-events/events/versions/u7/part-00000.parquet"
    m = manifest(
        "ticketing/ticket-sales",
        "sales",
        "t1",
        inputs=({"bucket": "products", "key": upstream_key, "etag": "e", "size": 1},),
    )
    registry.register_version(m, manifest_uri(m))
    (edge,) = registry.lineage("ticketing/ticket-sales").upstream
    assert (edge.upstream, edge.upstream_port, edge.declared, edge.last_version) == (
        "events/uit-events",
        "events",
        False,
        "u7",
    )
    assert registry.lineage("events/uit-events").downstream == (edge,)


def test_subscriptions_from_consumer_triggers_are_kept_per_product(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    trigger = subscription(
        "sub-museum-app", "http://app.example/hook", {"dataproduct": "events/uit-events", "outputport": "events"}
    )
    everything = subscription("sub-audit", "http://audit.example/", {"type": "be.culturemesh.dataproduct.published"})
    first = registry.put_subscription(subscription_from_trigger(trigger, "2026-11-27T10:00:00.000Z"))
    assert (first.product, first.port, first.sink) == ("events/uit-events", "events", "http://app.example/hook")
    registry.put_subscription(subscription_from_trigger(everything, "2026-11-27T10:00:00.000Z"))
    # the same trigger seen again later changes nothing
    assert registry.put_subscription(subscription_from_trigger(trigger, "2026-11-28T00:00:00.000Z")) == first
    assert [s.name for s in registry.subscriptions("events/uit-events")] == ["sub-audit", "sub-museum-app"]
    assert [s.product for s in registry.subscriptions()] == [ANY, "events/uit-events"]
    assert registry.remove_subscription("events/uit-events", "sub-museum-app") is True
    assert registry.remove_subscription("events/uit-events", "sub-museum-app") is False
    assert [s.name for s in registry.subscriptions("events/uit-events")] == ["sub-audit"]


def test_a_stale_mark_is_claimed_once_and_can_be_released(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    mark = StaleMark("events/uit-events", "events", "v1", "2026-11-27T16:00:00.000Z")
    assert registry.mark_stale(mark) is True
    assert registry.mark_stale(mark) is False
    assert [(m.port, m.since_version, m.due) for m in registry.stale_marks("events/uit-events")] == [
        ("events", "v1", "2026-11-27T16:00:00.000Z")
    ]
    registry.clear_stale(mark)
    assert registry.stale_marks("events/uit-events") == []
    assert registry.mark_stale(mark) is True


def test_concurrent_claims_of_one_lateness_give_exactly_one_winner(registry: Registry) -> None:
    registry.register_product(descriptor_text("uit-events"))
    mark = StaleMark("events/uit-events", "events", "v1", "2026-11-27T16:00:00.000Z")
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(registry.mark_stale(mark))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]


_WRITER = """
import sys
from pathlib import Path
from culturemesh.catalog.sqlite import SqliteRegistry
from tests.catalog.conftest import descriptor_text, manifest, manifest_uri

registry = SqliteRegistry(Path(sys.argv[1]), timeout=60)
registry.register_product(descriptor_text("uit-events"))
for n in range(15):
    m = manifest("events/uit-events", "events", f"p{sys.argv[2]}-{n:02d}", f"2026-11-27T10:{n:02d}:00.000Z")
    registry.register_version(m, manifest_uri(m))
"""


def test_several_processes_register_into_one_sqlite_file_without_losing_a_write(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(n)], cwd=REPO, stderr=subprocess.PIPE)
        for n in range(4)
    ]
    for writer in writers:
        _, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr.decode()
    registry = SqliteRegistry(path)
    assert len(registry.versions("events/uit-events", "events")) == 60
    assert len(registry.products()) == 1
    registry.close()


def test_a_missing_dynamodb_table_is_reported_as_unavailable_naming_it(dynamodb_client: object) -> None:
    from culturemesh.catalog.dynamo import DynamoRegistry
    from culturemesh.catalog.registry import RegistryUnavailable

    registry = DynamoRegistry(dynamodb_client, "cm-registry-never-created")
    with pytest.raises(RegistryUnavailable, match="'cm-registry-never-created' does not exist") as caught:
        registry.products()
    assert caught.value.status == 503
    with pytest.raises(RegistryUnavailable):
        registry.register_product(descriptor_text("uit-events"))

"""Knative objects for the embedded mesh: durations, retry backoff, and delivery defaults."""

from __future__ import annotations

from typing import Any

import pytest

from culturemesh.mesh.objects import (
    CLUSTER_DEFAULT,
    Delivery,
    ObjectError,
    parse_broker,
    parse_duration,
    parse_trigger,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT0.2S", 0.2),
        ("PT10S", 10.0),
        ("PT1M", 60.0),
        ("PT1M30S", 90.0),
        ("PT2H", 7200.0),
        ("P1D", 86400.0),
        ("P1DT2H", 93600.0),
        ("P1DT1H1M1.5S", 90061.5),
    ],
)
def test_parse_duration_reads_iso8601_durations_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0.2", "PT", "P1S", "P", "", "PT1S2M", "pt1s", "PT-1S", "10s"])
def test_parse_duration_refuses_what_is_not_an_iso8601_duration(text: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601 duration") as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)


def test_exponential_backoff_waits_delay_times_two_to_the_attempt() -> None:
    delivery = Delivery(backoff_policy="exponential", backoff_delay=0.2)
    assert [delivery.wait_before(n) for n in (1, 2, 3, 4)] == pytest.approx([0.4, 0.8, 1.6, 3.2])


def test_linear_backoff_waits_delay_times_the_attempt() -> None:
    delivery = Delivery(backoff_policy="linear", backoff_delay=0.5)
    assert [delivery.wait_before(n) for n in (1, 2, 3, 4)] == pytest.approx([0.5, 1.0, 1.5, 2.0])


def test_cluster_default_is_ten_retries_exponential_from_point_two_seconds() -> None:
    assert (CLUSTER_DEFAULT.retry, CLUSTER_DEFAULT.backoff_policy, CLUSTER_DEFAULT.backoff_delay) == (
        10,
        "exponential",
        0.2,
    )


def _trigger(delivery: dict[str, Any] | None = None, name: str = "on-upload") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "broker": "default",
        "filter": {"attributes": {"type": "be.culturemesh.upload.accepted"}},
        "subscriber": {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "ingest"}},
    }
    if delivery is not None:
        spec["delivery"] = delivery
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": "cultuur"},
        "spec": spec,
    }


def _broker(delivery: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {"delivery": delivery} if delivery is not None else {}
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "metadata": {"name": "default"}, "spec": spec}


BROKER_DELIVERY = {
    "retry": 3,
    "backoffPolicy": "linear",
    "backoffDelay": "PT1S",
    "timeout": "PT30S",
    "deadLetterSink": {"uri": "http://dls.local/"},
}
TRIGGER_DELIVERY = {
    "retry": 5,
    "backoffPolicy": "exponential",
    "backoffDelay": "PT0.5S",
    "timeout": "PT5S",
    "deadLetterSink": {"uri": "http://trigger-dls.local/"},
}


def test_trigger_without_delivery_and_without_broker_uses_the_cluster_default() -> None:
    assert parse_trigger(_trigger()).delivery(None) == CLUSTER_DEFAULT


def test_trigger_without_delivery_uses_its_brokers_delivery() -> None:
    broker = parse_broker(_broker(BROKER_DELIVERY))
    delivery = parse_trigger(_trigger()).delivery(broker)
    assert delivery == Delivery(3, "linear", 1.0, 30.0, {"uri": "http://dls.local/"})


def test_trigger_delivery_overrides_its_brokers_delivery() -> None:
    broker = parse_broker(_broker(BROKER_DELIVERY))
    delivery = parse_trigger(_trigger(TRIGGER_DELIVERY)).delivery(broker)
    assert delivery == Delivery(5, "exponential", 0.5, 5.0, {"uri": "http://trigger-dls.local/"})


def test_broker_without_delivery_gets_the_cluster_default() -> None:
    assert parse_broker(_broker()).delivery == CLUSTER_DEFAULT


def test_fields_a_trigger_leaves_out_fall_back_to_the_cluster_default() -> None:
    delivery = parse_trigger(_trigger({"retry": 2})).delivery(None)
    assert delivery == Delivery(2, "exponential", 0.2, None, None)


def test_parse_trigger_reads_names_broker_subscriber_and_filter() -> None:
    trigger = parse_trigger(_trigger())
    assert (trigger.namespace, trigger.name, trigger.broker) == ("cultuur", "on-upload", "default")
    assert trigger.subscriber["ref"]["name"] == "ingest"
    assert trigger.matches({"type": "be.culturemesh.upload.accepted"})
    assert not trigger.matches({"type": "be.culturemesh.upload.rejected"})


@pytest.mark.parametrize(
    ("delivery", "path"),
    [
        ({"backoffPolicy": "fibonacci"}, "spec.delivery.backoffPolicy"),
        ({"retry": -1}, "spec.delivery.retry"),
        ({"retry": "3"}, "spec.delivery.retry"),
        ({"backoffDelay": "0.2"}, "spec.delivery.backoffDelay"),
        ({"backoffDelay": "PT"}, "spec.delivery.backoffDelay"),
        ({"timeout": "P1S"}, "spec.delivery.timeout"),
        ({"deadLetterSink": {}}, "spec.delivery.deadLetterSink"),
    ],
)
def test_bad_trigger_delivery_is_refused_naming_the_field(delivery: dict[str, Any], path: str) -> None:
    with pytest.raises(ObjectError) as caught:
        parse_trigger(_trigger(delivery))
    assert caught.value.path == path
    assert path in str(caught.value)
    assert "'on-upload'" in str(caught.value)


@pytest.mark.parametrize(
    ("delivery", "path"),
    [
        ({"backoffPolicy": "random"}, "spec.delivery.backoffPolicy"),
        ({"retry": -5}, "spec.delivery.retry"),
        ({"backoffDelay": "1s"}, "spec.delivery.backoffDelay"),
    ],
)
def test_bad_broker_delivery_is_refused_naming_the_field(delivery: dict[str, Any], path: str) -> None:
    with pytest.raises(ObjectError) as caught:
        parse_broker(_broker(delivery))
    assert caught.value.path == path
    assert path in str(caught.value)


def test_bad_trigger_filter_is_refused_naming_the_filter_path() -> None:
    obj = _trigger()
    obj["spec"]["filters"] = [{"exact": {"type": "a"}}, {"exact": {"type": "a"}, "suffix": {"type": "b"}}]
    with pytest.raises(ObjectError) as caught:
        parse_trigger(obj)
    assert "spec.filters[1]" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda obj: obj["spec"].pop("broker"), "spec.broker"),
        (lambda obj: obj["spec"].pop("subscriber"), "spec.subscriber"),
        (lambda obj: obj["metadata"].pop("name"), "metadata.name"),
    ],
    ids=["broker", "subscriber", "name"],
)
def test_trigger_missing_a_required_field_is_refused_naming_it(change: Any, path: str) -> None:
    obj = _trigger()
    change(obj)
    with pytest.raises(ObjectError) as caught:
        parse_trigger(obj)
    assert caught.value.path == path

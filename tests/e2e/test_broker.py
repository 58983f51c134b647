"""The broker over HTTP, as a separate process: ingress, durable queue, retries, dead letters,
replies. Each test drives it with its own triggers and an independent sink."""

from __future__ import annotations

import base64
import json
import signal
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.conftest import Mesh

pytestmark = pytest.mark.e2e


def trigger(
    name: str, uri: str, attributes: dict[str, str] | None = None, delivery: dict[str, Any] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"broker": "default", "subscriber": {"uri": uri}}
    if attributes is not None:
        spec["filter"] = {"attributes": attributes}
    if delivery is not None:
        spec["delivery"] = delivery
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": "culturemesh"},
        "spec": spec,
    }


def post(url: str, headers: dict[str, str], body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def send(mesh: Mesh, event_id: str, event_type: str = "be.example.ping", **extensions: str) -> int:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/tests",
        "ce-type": event_type,
        "content-type": "application/json",
    }
    headers.update({f"ce-{name}": value for name, value in extensions.items()})
    return post(mesh.ingress, headers, json.dumps({"n": event_id}).encode())


def test_ingress_answers_202_for_binary_and_structured_events_and_400_for_anything_else(mesh: Mesh, make_sink) -> None:
    sink = make_sink()
    mesh.apply(trigger("all", sink.url))
    assert send(mesh, "b-1") == 202
    structured = {
        "specversion": "1.0",
        "id": "s-1",
        "source": "/tests",
        "type": "be.example.ping",
        "data": {"x": 1},
    }
    assert post(mesh.ingress, {"content-type": "application/cloudevents+json"}, json.dumps(structured).encode()) == 202
    assert post(mesh.ingress, {"content-type": "application/json"}, b"{}") == 400
    assert (
        post(
            mesh.url + "/culturemesh/no-such-broker",
            {"ce-specversion": "1.0", "ce-id": "x", "ce-source": "/t", "ce-type": "t"},
            b"",
        )
        == 404
    )

    assert sink.wait_for(lambda e: e.attributes["id"] == "s-1").data == {"x": 1}
    first = sink.wait_for(lambda e: e.attributes["id"] == "b-1")
    assert first.attributes["knativebrokerttl"] == "255"


def test_exact_attribute_filters_route_only_matching_events(mesh: Mesh, make_sink) -> None:
    sales, anything = make_sink(), make_sink()
    mesh.apply(
        trigger("sales-only", sales.url, {"type": "be.example.sale", "dataproduct": "ticketing/ticket-sales"}),
        trigger("has-product", anything.url, {"dataproduct": ""}),
    )
    send(mesh, "1", "be.example.sale", dataproduct="ticketing/ticket-sales")
    send(mesh, "2", "be.example.sale", dataproduct="museum/visits")
    send(mesh, "3", "be.example.sale")

    anything.wait_for(lambda e: e.attributes["id"] == "2")
    sales.wait_for(lambda e: e.attributes["id"] == "1")
    time.sleep(0.5)
    assert [e.attributes["id"] for e in sales.events] == ["1"]
    assert sorted(e.attributes["id"] for e in anything.events) == ["1", "2"]


def test_a_failing_subscriber_is_retried_until_it_succeeds(mesh: Mesh, make_sink) -> None:
    sink = make_sink()
    sink.respond = lambda n: (503, {}, b"busy") if n <= 2 else (200, {}, b"")
    mesh.apply(trigger("flaky", sink.url, delivery={"retry": 5, "backoffPolicy": "linear", "backoffDelay": "PT0.1S"}))

    send(mesh, "r-1")
    sink.wait_for(lambda e: e.attributes["id"] == "r-1")

    assert sink.requests == 3
    # The sink has the event the moment it answers; the broker records the delivery just after.
    deadline = time.monotonic() + 10
    while True:
        queue = next(t for t in mesh.status()["triggers"] if t["name"] == "culturemesh/flaky")["queue"]
        if queue["done"] == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert queue["done"] == 1 and queue["dead"] == 0


def test_retry_gives_up_after_limit_and_dead_letters_original_event_with_error_extensions(
    mesh: Mesh, make_sink
) -> None:
    failing, dead_letters = make_sink(), make_sink()
    failing.respond = lambda n: (500, {}, b"database down")
    delivery = {
        "retry": 2,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.05S",
        "deadLetterSink": {"uri": dead_letters.url},
    }
    mesh.apply(trigger("doomed", failing.url, delivery=delivery))

    send(mesh, "d-1")
    dead = dead_letters.wait_for(lambda e: e.attributes["id"] == "d-1")

    assert failing.requests == 3  # the first attempt and two retries
    assert dead.attributes["knativeerrorcode"] == "500"
    assert dead.attributes["knativeerrordest"] == failing.url
    assert base64.b64decode(dead.attributes["knativeerrordata"]) == b"database down"
    assert dead.data == {"n": "d-1"}
    assert mesh.status()["dead_letters"][0]["id"] == "d-1"


def test_a_4xx_other_than_404_408_409_429_is_not_retried(mesh: Mesh, make_sink) -> None:
    sink = make_sink()
    sink.respond = lambda n: (400, {}, b"bad")
    mesh.apply(trigger("picky", sink.url, delivery={"retry": 5, "backoffDelay": "PT0.05S"}))
    send(mesh, "p-1")
    deadline = time.monotonic() + 10
    while not mesh.status()["dead_letters"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert sink.requests == 1


def test_a_reply_event_reenters_the_broker_with_its_ttl_decremented(mesh: Mesh, make_sink) -> None:
    replier, listener = make_sink(), make_sink()
    reply_headers = {
        "ce-specversion": "1.0",
        "ce-id": "reply-1",
        "ce-source": "/replier",
        "ce-type": "be.example.pong",
        "content-type": "application/json",
    }
    replier.respond = lambda n: (200, reply_headers, b'{"pong": true}')
    mesh.apply(
        trigger("ping", replier.url, {"type": "be.example.ping"}),
        trigger("pong", listener.url, {"type": "be.example.pong"}),
    )

    send(mesh, "ping-1")
    pong = listener.wait_for(lambda e: e.attributes["id"] == "reply-1")

    assert pong.attributes["knativebrokerttl"] == "254"
    assert pong.data == {"pong": True}


def test_queued_events_survive_a_broker_crash_and_are_delivered_after_restart(start_mesh, make_sink) -> None:
    from tests.conftest import free_port

    port = free_port()  # nobody listens here yet: deliveries fail and stay queued
    mesh = start_mesh()
    mesh.apply(
        trigger(
            "later",
            f"http://127.0.0.1:{port}/",
            delivery={"retry": 50, "backoffPolicy": "linear", "backoffDelay": "PT0.2S"},
        )
    )
    assert send(mesh, "durable-1") == 202
    mesh.stop(signal.SIGKILL)

    sink = make_sink(port)
    mesh.start()
    event = sink.wait_for(lambda e: e.attributes["id"] == "durable-1")

    assert event.data == {"n": "durable-1"}
    assert any(t["name"] == "culturemesh/later" for t in mesh.status()["triggers"])


def test_an_event_whose_ttl_is_spent_is_refused(mesh: Mesh) -> None:
    assert send(mesh, "loop-1", knativebrokerttl="0") == 400


def test_an_ordered_trigger_delivers_events_of_one_partition_key_one_at_a_time_in_order(mesh: Mesh, make_sink) -> None:
    sink = make_sink()

    def respond(n: int) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.05)  # long enough that unordered delivery would overlap
        return 200, {}, b""

    sink.respond = respond
    ordered = trigger("ordered", sink.url, {"type": "be.example.seq"}, {"retry": 3, "backoffDelay": "PT0.05S"})
    ordered["metadata"]["annotations"] = {"kafka.eventing.knative.dev/delivery.order": "ordered"}
    mesh.apply(ordered)
    for n in range(30):
        send(mesh, f"{'ab'[n % 2]}-{n:02d}", "be.example.seq", partitionkey="ab"[n % 2])

    sink.wait_for(lambda e: len(sink.events) >= 30, timeout=60)
    for key in "ab":
        ids = [e.attributes["id"] for e in sink.events if e.attributes["partitionkey"] == key]
        assert ids == sorted(ids), f"partition {key} out of order: {ids}"
        assert len(ids) == 15


def test_a_failing_event_holds_back_later_events_of_its_partition_until_it_succeeds(mesh: Mesh, make_sink) -> None:
    sink = make_sink()
    failures = {"left": 3}

    def respond(n: int) -> tuple[int, dict[str, str], bytes]:
        if failures["left"] > 0:
            failures["left"] -= 1
            return 503, {}, b"not yet"
        return 200, {}, b""

    sink.respond = respond
    ordered = trigger(
        "strict",
        sink.url,
        {"type": "be.example.strict"},
        {"retry": 10, "backoffPolicy": "linear", "backoffDelay": "PT0.1S"},
    )
    ordered["metadata"]["annotations"] = {"kafka.eventing.knative.dev/delivery.order": "ordered"}
    mesh.apply(ordered)
    for n in range(3):
        send(mesh, f"k-{n}", "be.example.strict", partitionkey="k")

    sink.wait_for(lambda e: len(sink.events) >= 3, timeout=30)
    assert [e.attributes["id"] for e in sink.events] == ["k-0", "k-1", "k-2"]
    assert sink.requests == 6  # k-0 failed three times before anything behind it was sent


def test_mesh_apply_refuses_what_knative_admission_refuses_naming_the_field(mesh: Mesh, make_sink) -> None:
    import json as _json

    sink = make_sink()
    bad = trigger("bad", sink.url, delivery={"backoffPolicy": "fibonacci", "backoffDelay": "0.2"})
    bad["spec"]["filters"] = [{"exact": {"type": "a", "source": "b"}}, {"cesql": "type LIKE"}]
    path = mesh.home / "bad.json"
    path.write_text(_json.dumps([bad]))

    result = mesh.cli("mesh", "apply", "-f", str(path), check=False)

    assert result.returncode == 6
    for field in (
        "spec.delivery.backoffPolicy",
        "spec.delivery.backoffDelay",
        "spec.filters[0].exact",
        "spec.filters[1]",
    ):
        assert field in result.stderr, field
    assert not any(t["name"] == "culturemesh/bad" for t in mesh.status()["triggers"])


def test_a_cesql_trigger_routes_by_expression(mesh: Mesh, make_sink) -> None:
    sink = make_sink()
    routed = trigger("by-sql", sink.url)
    routed["spec"]["filters"] = [{"cesql": "type LIKE 'be.example.%' AND INT(seq) > 1"}]
    mesh.apply(routed)
    send(mesh, "q-1", "be.example.ping", seq="1")
    send(mesh, "q-2", "be.example.ping", seq="2")
    send(mesh, "q-3", "other.ping", seq="3")
    sink.wait_for(lambda e: e.attributes["id"] == "q-2")
    time.sleep(0.5)
    assert [e.attributes["id"] for e in sink.events] == ["q-2"]


@pytest.mark.parametrize("status", [404, 408, 409, 429, 502])
def test_statuses_knative_retries_are_retried(mesh: Mesh, make_sink, status: int) -> None:
    sink = make_sink()
    sink.respond = lambda n: (status, {}, b"later") if n == 1 else (200, {}, b"")
    mesh.apply(trigger(f"retry-{status}", sink.url, delivery={"retry": 3, "backoffDelay": "PT0.05S"}))
    send(mesh, f"st-{status}")
    sink.wait_for(lambda e: e.attributes["id"] == f"st-{status}")
    assert sink.requests == 2


def test_a_2xx_body_that_is_not_a_cloudevent_is_a_failure_and_a_202_body_is_not_a_reply(mesh: Mesh, make_sink) -> None:
    bad_reply, accepted_only, listener = make_sink(), make_sink(), make_sink()
    bad_reply.respond = lambda n: (200, {"content-type": "text/plain"}, b"OK")
    ce = {"ce-specversion": "1.0", "ce-id": "r-202", "ce-source": "/x", "ce-type": "be.example.pong"}
    accepted_only.respond = lambda n: (202, ce, b"{}")
    dead = make_sink()
    mesh.apply(
        trigger(
            "says-ok",
            bad_reply.url,
            {"type": "be.example.ok"},
            {"retry": 1, "backoffDelay": "PT0.05S", "deadLetterSink": {"uri": dead.url}},
        ),
        trigger("says-202", accepted_only.url, {"type": "be.example.accepted"}),
        trigger("pongs", listener.url, {"type": "be.example.pong"}),
    )
    send(mesh, "ok-1", "be.example.ok")
    send(mesh, "acc-1", "be.example.accepted")

    dead_letter = dead.wait_for(lambda e: e.attributes["id"] == "ok-1")
    assert dead_letter.attributes["knativeerrorcode"] == "200"
    assert base64.b64decode(dead_letter.attributes["knativeerrordata"]) == b"OK"
    assert bad_reply.requests == 2  # a failure, so it was retried once
    accepted_only.wait_for(lambda e: e.attributes["id"] == "acc-1")
    time.sleep(0.5)
    assert listener.events == []  # the 202's body was not taken as a reply


def test_knativeerrordata_is_at_most_1024_characters(mesh: Mesh, make_sink) -> None:
    failing, dead = make_sink(), make_sink()
    failing.respond = lambda n: (500, {}, b"x" * 5000)
    mesh.apply(trigger("big-error", failing.url, delivery={"retry": 0, "deadLetterSink": {"uri": dead.url}}))
    send(mesh, "big-1")
    letter = dead.wait_for(lambda e: e.attributes["id"] == "big-1")
    assert len(letter.attributes["knativeerrordata"]) == 1024


def test_a_subscriber_slower_than_the_delivery_timeout_is_retried(mesh: Mesh, make_sink) -> None:
    sink = make_sink()

    def respond(n: int) -> tuple[int, dict[str, str], bytes]:
        if n == 1:
            time.sleep(1.0)
        return 200, {}, b""

    sink.respond = respond
    mesh.apply(trigger("impatient", sink.url, delivery={"retry": 2, "backoffDelay": "PT0.05S", "timeout": "PT0.3S"}))
    send(mesh, "slow-1")
    deadline = time.monotonic() + 10
    while sink.requests < 2:
        assert time.monotonic() < deadline, "the timed-out delivery was not retried"
        time.sleep(0.05)


def test_the_generated_dead_letter_sink_keeps_refused_events_sealed_for_the_operator(mesh: Mesh, make_sink) -> None:
    from culturemesh import deadletters
    from culturemesh.keyring import LocalKms
    from culturemesh.sealing import unseal_bytes

    failing = make_sink()
    failing.respond = lambda n: (500, {}, b"the subscriber is broken")
    refused = trigger(
        "to-broken",
        failing.url,
        {"type": "be.example.broken"},
        {
            "retry": 1,
            "backoffDelay": "PT0.05S",
            "deadLetterSink": {
                "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": deadletters.SERVICE}
            },
        },
    )
    mesh.apply(refused)
    send(mesh, "dl-1", "be.example.broken")

    folder = mesh.home / "store" / deadletters.BUCKET
    deadline = time.monotonic() + 30
    while not list(folder.rglob("*.json")):
        assert time.monotonic() < deadline, "no dead letter was kept"
        time.sleep(0.2)
    path = next(folder.rglob("*.json"))
    key = path.relative_to(folder).as_posix()
    assert b"dl-1" not in path.read_bytes()  # sealed
    kept = json.loads(
        unseal_bytes(
            LocalKms(mesh.home / "keys" / "keyring.json"), deadletters.context(key), "operator", path.read_bytes()
        )
    )
    assert kept["id"] == "dl-1" and kept["knativeerrorcode"] == "500"
    assert base64.b64decode(kept["knativeerrordata"]) == b"the subscriber is broken"

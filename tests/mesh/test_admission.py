"""Knative's admission-webhook rules applied locally: what a cluster would refuse is refused here,
naming the field; what the generated knative/ manifests contain is admitted."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from culturemesh.deploy import knative
from culturemesh.errors import MeshError
from culturemesh.mesh.admission import AdmissionError, admit
from culturemesh.project import load_products

REPO = Path(__file__).resolve().parents[2]

Edit = Callable[[dict[str, Any]], None]


SUPPORTED = {
    ("eventing.knative.dev/v1", "Broker"),
    ("eventing.knative.dev/v1", "Trigger"),
    ("serving.knative.dev/v1", "Service"),
}


def generated() -> list[dict[str, Any]]:
    """The generated objects of the kinds ``admit`` knows (others, such as SinkBinding, it refuses)."""
    objects = knative.objects(load_products(REPO / "functions"), REPO)
    return [obj for obj in objects if (obj["apiVersion"], obj["kind"]) in SUPPORTED]


def first(kind: str) -> dict[str, Any]:
    """The first generated object of ``kind`` that belongs to a data product (not the platform's)."""
    ranked = sorted(  # ticket-sales' objects first: the edits below name them
        generated(), key=lambda o: o["metadata"].get("labels", {}).get("culturemesh.be/dataproduct") != "ticket-sales"
    )
    return copy.deepcopy(next(obj for obj in ranked if obj["kind"] == kind))


def problems_of(obj: Any) -> list[str]:
    with pytest.raises(AdmissionError) as caught:
        admit(obj)
    return caught.value.problems


def edited(kind: str, edit: Edit) -> dict[str, Any]:
    obj = first(kind)
    edit(obj)
    return obj


def at(*keys: str | int) -> Callable[[Any], Edit]:
    """An edit that sets ``obj[k1][k2]...`` to a value (creating maps on the way)."""

    def with_value(value: Any) -> Edit:
        def edit(obj: dict[str, Any]) -> None:
            node: Any = obj
            for key in keys[:-1]:
                node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
            node[keys[-1]] = value

        return edit

    return with_value


def drop(*keys: str | int) -> Edit:
    def edit(obj: dict[str, Any]) -> None:
        node: Any = obj
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return edit


def filters(*items: Any) -> Edit:
    return at("spec", "filters")(list(items))


def both(*edits: Edit) -> Edit:
    def edit(obj: dict[str, Any]) -> None:
        for one in edits:
            one(obj)

    return edit


def template_annotation(key: str, value: str) -> Edit:
    return at("spec", "template", "metadata", "annotations", f"autoscaling.knative.dev/{key}")(value)


def container(key: str, value: Any) -> Edit:
    return at("spec", "template", "spec", "containers", 0, key)(value)


def revision(key: str, value: Any) -> Edit:
    return at("spec", "template", "spec", key)(value)


# -- what the project generates is admitted ---------------------------------------------------


def test_the_project_generates_every_supported_kind() -> None:
    assert {(obj["apiVersion"], obj["kind"]) for obj in generated()} == SUPPORTED


@pytest.mark.parametrize("obj", generated(), ids=lambda obj: f"{obj['kind']}-{obj['metadata']['name']}")
def test_generated_knative_objects_are_admitted(obj: dict[str, Any]) -> None:
    admit(obj)


VALID_VARIANTS: list[tuple[str, Edit]] = [
    ("Broker", drop("metadata", "annotations")),  # the class is defaulted before validation
    ("Broker", drop("spec")),
    ("Broker", at("spec", "delivery", "deadLetterSink")({"uri": "http://dlq.example.com/events"})),
    ("Broker", at("spec", "delivery", "backoffDelay")("PT0S")),
    ("Trigger", at("spec", "subscriber")({"uri": "https://consumer.example.com/events"})),
    ("Trigger", at("spec", "subscriber", "uri")("/relative/to/the/ref")),
    ("Trigger", at("spec", "filter")({"attributes": {"type": "x", "source": ""}})),
    ("Trigger", filters({})),  # no dialect set is allowed by Knative
    ("Trigger", filters({"all": [{"exact": {"type": "a"}}, {"not": {"suffix": {"subject": ".csv"}}}]})),
    ("Trigger", filters({"any": []})),
    ("Trigger", drop("spec", "delivery")),
    (
        "Trigger",
        at("metadata", "annotations")(
            {"knative.dev/dependency": '{"kind":"PingSource","name":"p","apiVersion":"sources.knative.dev/v1"}'}
        ),
    ),
    (
        "Service",
        both(template_annotation("class", "hpa.autoscaling.knative.dev"), template_annotation("metric", "cpu")),
    ),
    ("Service", template_annotation("window", "1m30s")),
    ("Service", template_annotation("max-scale", "0")),  # 0 means no upper bound, min-scale may exceed it
    ("Service", template_annotation("scale-to-zero-pod-retention-period", "0")),
    ("Service", at("spec", "template", "metadata", "name")("ticket-sales-ingest-v2")),
    ("Service", container("ports", [{"containerPort": 8080, "name": "h2c"}])),
    ("Service", revision("timeoutSeconds", 600)),
    ("Service", revision("containerConcurrency", 0)),
    (
        "Service",
        revision(
            "containers",
            [
                {"image": "ghcr.io/culturemesh/function:0.1.0", "ports": [{"containerPort": 8080}]},
                {"image": "docker.io/library/envoy@sha256:" + "a" * 64, "env": [{"name": "PORT", "value": "9"}]},
            ],
        ),
    ),
]


@pytest.mark.parametrize(("kind", "edit"), VALID_VARIANTS)
def test_objects_knative_accepts_are_admitted(kind: str, edit: Edit) -> None:
    admit(edited(kind, edit))


def test_trigger_with_a_parseable_cesql_filter_is_admitted() -> None:
    admit(edited("Trigger", filters({"cesql": "type = 'be.culturemesh.test' AND source LIKE 'x%'"})))


# -- refusals name the field ------------------------------------------------------------------

REFUSED: list[tuple[str, Edit, str]] = [
    # metadata (Kubernetes API server names, knative/pkg apis/metadata_validation.go)
    ("Broker", at("metadata", "name")("Default_Broker"), "metadata.name"),
    ("Trigger", drop("metadata", "name"), "metadata.name"),
    ("Trigger", at("metadata", "namespace")("Culture.Mesh"), "metadata.namespace"),
    ("Service", at("metadata", "name")("1-ticket-sales"), "metadata.name"),
    ("Service", at("metadata", "name")("a" * 64), "metadata.name"),
    ("Service", at("metadata", "name")("ticket.sales"), "metadata.name"),
    ("Service", at("metadata", "name")("ticket-sales\n"), "metadata.name"),
    ("Service", at("metadata", "generateName")("Ticket-"), "metadata.generateName"),
    ("Service", at("metadata", "labels", "team")(7), "metadata.labels[team]"),
    # Broker (broker_validation.go)
    ("Broker", at("metadata", "annotations", "eventing.knative.dev/broker.class")(""), "broker.class]"),
    ("Broker", drop("spec", "config", "name"), "spec.config.name"),
    ("Broker", at("spec", "config", "group")("v1"), "spec.config.group"),
    # DeliverySpec (eventing pkg/apis/duck/v1/delivery_types.go)
    ("Broker", at("spec", "delivery", "retry")(-1), "spec.delivery.retry"),
    ("Broker", at("spec", "delivery", "retry")("3"), "spec.delivery.retry"),
    ("Broker", at("spec", "delivery", "backoffPolicy")("fibonacci"), "spec.delivery.backoffPolicy"),
    ("Broker", at("spec", "delivery", "backoffDelay")("200ms"), "spec.delivery.backoffDelay"),
    ("Trigger", at("spec", "delivery", "timeout")("PT0S"), "spec.delivery.timeout"),
    ("Trigger", at("spec", "delivery", "timeout")("5m"), "spec.delivery.timeout"),
    ("Trigger", at("spec", "delivery", "retryAfterMax")("PT1M"), "spec.delivery.retryAfterMax"),
    ("Trigger", at("spec", "delivery", "format")("xml"), "spec.delivery.format"),
    ("Trigger", at("spec", "delivery", "deadLetterSink")({}), "spec.delivery.deadLetterSink.ref"),
    ("Trigger", at("spec", "delivery", "deadLetterSink")({"uri": "/dlq"}), "spec.delivery.deadLetterSink.uri"),
    # Trigger (trigger_validation.go) and Destination (knative/pkg apis/duck/v1/destination.go)
    ("Trigger", drop("spec", "broker"), "spec.broker"),
    ("Trigger", drop("spec", "subscriber"), "spec.subscriber.ref"),
    ("Trigger", at("spec", "subscriber", "uri")("http://elsewhere.example.com/"), "spec.subscriber.uri"),
    ("Trigger", at("spec", "subscriber")({"uri": "consumer/events"}), "spec.subscriber.uri"),
    ("Trigger", at("spec", "subscriber")({"uri": "http:///no-host"}), "spec.subscriber.uri"),
    ("Trigger", drop("spec", "subscriber", "ref", "kind"), "spec.subscriber.ref.kind"),
    ("Trigger", drop("spec", "subscriber", "ref", "apiVersion"), "spec.subscriber.ref.apiVersion"),
    ("Trigger", at("spec", "subscriber", "ref", "name")(None), "spec.subscriber.ref.name: required"),
    ("Trigger", at("spec", "filter")({"attributes": {"Type": "x"}}), "spec.filter.attributes[Type]"),
    ("Trigger", at("spec", "filter")({"attributes": {"1type": "x"}}), "spec.filter.attributes[1type]"),
    ("Trigger", at("spec", "filter")({"attributes": {"type": 3}}), "spec.filter.attributes[type]"),
    ("Trigger", filters({"exact": {"type": "a"}, "prefix": {"subject": "b"}}), "spec.filters[0]: multiple dialects"),
    ("Trigger", filters({"exact": {"type": "a", "source": "b"}}), "spec.filters[0].exact"),
    ("Trigger", filters({"prefix": {"Subject": "a"}}), "spec.filters[0].prefix[Subject]"),
    ("Trigger", filters({"suffix": {"sub-ject": "a"}}), "spec.filters[0].suffix[sub-ject]"),
    (
        "Trigger",
        filters({"exact": {"type": "a"}}, {"all": [{"exact": {"a": "1"}}, {"exact": {"B": "2"}}]}),
        "spec.filters[1].all[1].exact[B]",
    ),
    ("Trigger", filters({"any": [{"prefix": {"a": "1", "b": "2"}}]}), "spec.filters[0].any[0].prefix"),
    ("Trigger", filters({"not": {"exact": {"a": "1"}, "suffix": {"b": "2"}}}), "spec.filters[0].not"),
    ("Trigger", filters({"all": {"exact": {"a": "1"}}}), "spec.filters[0].all"),
    ("Trigger", at("spec", "filters")({"exact": {"a": "1"}}), "spec.filters"),
    ("Trigger", at("metadata", "annotations")({"knative.dev/dependency": "ping"}), "[knative.dev/dependency]"),
    (
        "Trigger",
        at("metadata", "annotations")({"knative.dev/dependency": '{"name": "p", "apiVersion": "v1"}'}),
        "[knative.dev/dependency].kind",
    ),
    (
        "Trigger",
        at("metadata", "annotations")(
            {"knative.dev/dependency": '{"kind": "K", "name": "p", "apiVersion": "v1", "namespace": "other"}'}
        ),
        "[knative.dev/dependency].namespace",
    ),
    (
        "Trigger",
        at("metadata", "annotations")({"eventing.knative.dev/injection": "on"}),
        "[eventing.knative.dev/injection]",
    ),
    (
        "Trigger",
        both(
            at("metadata", "annotations")({"eventing.knative.dev/injection": "enabled"}), at("spec", "broker")("kafka")
        ),
        "[eventing.knative.dev/injection]",
    ),
    # Service metadata (service_validation.go, metadata_validation.go)
    (
        "Service",
        at("metadata", "annotations")({"autoscaling.knative.dev/min-scale": "1"}),
        "metadata.annotations[autoscaling.knative.dev/min-scale]",
    ),
    (
        "Service",
        at("metadata", "labels", "networking.knative.dev/visibility")("public"),
        "metadata.labels[networking.knative.dev/visibility]",
    ),
    (
        "Service",
        at("metadata", "annotations")({"serving.knative.dev/rollout-duration": "1.5s"}),
        "[serving.knative.dev/rollout-duration]",
    ),
    (
        "Service",
        at("metadata", "annotations")({"serving.knative.dev/rollout-duration": "soon"}),
        "[serving.knative.dev/rollout-duration]",
    ),
    # autoscaling annotations on the revision template (autoscaling/annotation_validation.go)
    ("Service", template_annotation("min-scale", "-1"), "annotations[autoscaling.knative.dev/min-scale]"),
    ("Service", template_annotation("min-scale", "one"), "annotations[autoscaling.knative.dev/min-scale]"),
    ("Service", template_annotation("min-scale", "20"), "annotations[autoscaling.knative.dev/max-scale]: max-scale=10"),
    (
        "Service",
        both(
            drop("spec", "template", "metadata", "annotations", "autoscaling.knative.dev/max-scale"),
            template_annotation("maxScale", "1.5"),
        ),
        "annotations[autoscaling.knative.dev/maxScale]",
    ),
    ("Service", template_annotation("target", "0.001"), "annotations[autoscaling.knative.dev/target]"),
    ("Service", template_annotation("target", "ten"), "annotations[autoscaling.knative.dev/target]"),
    (
        "Service",
        template_annotation("target-utilization-percentage", "101"),
        "[autoscaling.knative.dev/target-utilization-percentage]",
    ),
    ("Service", template_annotation("target-burst-capacity", "-2"), "[autoscaling.knative.dev/target-burst-capacity]"),
    (
        "Service",
        template_annotation("panic-window-percentage", "0.5"),
        "[autoscaling.knative.dev/panic-window-percentage]",
    ),
    (
        "Service",
        template_annotation("panic-threshold-percentage", "100"),
        "[autoscaling.knative.dev/panic-threshold-percentage]",
    ),
    ("Service", template_annotation("window", "5s"), "annotations[autoscaling.knative.dev/window]"),
    ("Service", template_annotation("window", "2h"), "annotations[autoscaling.knative.dev/window]"),
    ("Service", template_annotation("window", "6.5s"), "annotations[autoscaling.knative.dev/window]"),
    ("Service", template_annotation("window", "PT1M"), "annotations[autoscaling.knative.dev/window]"),
    (
        "Service",
        template_annotation("scale-to-zero-pod-retention-period", "-1s"),
        "[autoscaling.knative.dev/scale-to-zero-pod-retention-period]",
    ),
    ("Service", template_annotation("scale-down-delay", "1.5s"), "[autoscaling.knative.dev/scale-down-delay]"),
    ("Service", template_annotation("initial-scale", "0"), "annotations[autoscaling.knative.dev/initial-scale]"),
    (
        "Service",
        template_annotation("class", "xpa.autoscaling.knative.dev"),
        "annotations[autoscaling.knative.dev/class]",
    ),
    ("Service", template_annotation("metric", "cpu"), "annotations[autoscaling.knative.dev/metric]"),
    (
        "Service",
        both(
            template_annotation("class", "kpa.autoscaling.knative.dev"),
            template_annotation("metric-aggregation-algorithm", "median"),
        ),
        "[autoscaling.knative.dev/metric-aggregation-algorithm]",
    ),
    # revision template (revision_validation.go, metadata_validation.go, k8s_validation.go)
    ("Service", at("spec", "template", "metadata", "name")("other-v1"), "spec.template.metadata.name"),
    ("Service", at("spec", "template", "metadata", "name")("Ticket-sales-ingest-v1"), "spec.template.metadata.name"),
    ("Service", revision("timeoutSeconds", 601), "spec.template.spec.timeoutSeconds"),
    ("Service", revision("timeoutSeconds", -1), "spec.template.spec.timeoutSeconds"),
    ("Service", revision("timeoutSeconds", "300"), "spec.template.spec.timeoutSeconds"),
    ("Service", revision("containerConcurrency", 1001), "spec.template.spec.containerConcurrency"),
    ("Service", revision("containerConcurrency", -1), "spec.template.spec.containerConcurrency"),
    ("Service", revision("serviceAccountName", "dp_ticketing"), "spec.template.spec.serviceAccountName"),
    ("Service", revision("containers", []), "spec.template.spec.containers"),
    ("Service", drop("spec", "template", "spec", "containers", 0, "image"), "spec.template.spec.containers[0].image"),
    ("Service", container("image", "ghcr.io/CultureMesh/function:0.1.0"), "spec.template.spec.containers[0].image"),
    ("Service", container("image", "ghcr.io/culturemesh/function:bad tag"), "spec.template.spec.containers[0].image"),
    ("Service", container("name", "queue-proxy"), "spec.template.spec.containers[0].name"),
    (
        "Service",
        container("env", [{"name": "K_SERVICE", "value": "x"}]),
        "spec.template.spec.containers[0].env[0].name",
    ),
    ("Service", container("env", [{"value": "x"}]), "spec.template.spec.containers[0].env[0].name"),
    (
        "Service",
        container("env", [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]),
        "containers[0].env[0].valueFrom.fieldRef",
    ),
    (
        "Service",
        container("ports", [{"containerPort": 8080}, {"containerPort": 8081}]),
        "spec.template.spec.containers[0].ports",
    ),
    (
        "Service",
        container("ports", [{"containerPort": 8012}]),
        "spec.template.spec.containers[0].ports[0].containerPort",
    ),
    (
        "Service",
        container("ports", [{"containerPort": 70000}]),
        "spec.template.spec.containers[0].ports[0].containerPort",
    ),
    (
        "Service",
        container("ports", [{"containerPort": 8080, "protocol": "UDP"}]),
        "spec.template.spec.containers[0].ports[0].protocol",
    ),
    (
        "Service",
        container("ports", [{"containerPort": 8080, "name": "grpc"}]),
        "spec.template.spec.containers[0].ports[0].name",
    ),
    ("Service", revision("containers", [{"image": "a:1"}, {"image": "b:1"}]), "spec.template.spec.containers.ports"),
]


@pytest.mark.parametrize(("kind", "edit", "path"), REFUSED, ids=[f"{kind}-{path}" for kind, _, path in REFUSED])
def test_object_knative_refuses_is_refused_naming_the_field(kind: str, edit: Edit, path: str) -> None:
    problems = problems_of(edited(kind, edit))
    assert any(path in problem for problem in problems), problems


def test_trigger_with_an_unparseable_cesql_filter_is_refused() -> None:
    problems = problems_of(edited("Trigger", filters({"cesql": "type = = 'x' AND ("})))
    assert any(problem.startswith("spec.filters[0].cesql: ") for problem in problems), problems


def test_every_problem_is_listed_at_once_with_kind_and_name() -> None:
    trigger = edited("Trigger", drop("spec", "broker"))
    trigger["spec"]["delivery"] = {"retry": -2, "backoffDelay": "1s"}
    trigger["spec"]["filters"] = [{"exact": {"Type": "x"}}]
    with pytest.raises(AdmissionError) as caught:
        admit(trigger)
    error = caught.value
    assert isinstance(error, MeshError)
    assert (error.kind, error.name) == ("Trigger", trigger["metadata"]["name"])
    assert [problem.split(":")[0] for problem in error.problems] == [
        "spec.broker",
        "spec.filters[0].exact[Type]",
        "spec.delivery.retry",
        "spec.delivery.backoffDelay",
    ]
    assert all(problem in str(error) for problem in error.problems)


def test_problems_say_what_was_expected_and_what_was_found() -> None:
    (problem,) = problems_of(edited("Trigger", at("spec", "delivery", "backoffPolicy")("fibonacci")))
    assert problem == "spec.delivery.backoffPolicy: expected one of linear, exponential, got 'fibonacci'"


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": "sources.knative.dev/v1", "kind": "ApiServerSource", "metadata": {"name": "a"}},
        {"apiVersion": "sources.knative.dev/v1beta2", "kind": "PingSource", "metadata": {"name": "p"}},
        {"apiVersion": "eventing.knative.dev/v1beta1", "kind": "Trigger", "metadata": {"name": "t"}},
        {"apiVersion": "serving.knative.dev/v1", "kind": "Route", "metadata": {"name": "r"}},
    ],
)
def test_unsupported_api_version_or_kind_is_refused(obj: dict[str, Any]) -> None:
    (problem,) = problems_of(obj)
    assert problem.startswith(f"apiVersion/kind: {obj['apiVersion']}/{obj['kind']} is not supported")


def test_something_that_is_not_a_map_is_refused() -> None:
    (problem,) = problems_of(["not", "an", "object"])
    assert problem.startswith("<root>: expected a Knative object")


# -- PingSource (generated for spec.transformer.schedule) ------------------------------------

FIXTURES = REPO / "tests" / "fixtures" / "functions"


def ping_source(edit: Edit | None = None) -> dict[str, Any]:
    """The PingSource generated for the scheduled fixture product, optionally edited."""
    (descriptor,) = [d for d in load_products(FIXTURES) if d.schedule]
    obj = next(o for o in knative.scheduled_run(descriptor) if o["kind"] == "PingSource")
    if edit is not None:
        edit(obj)
    return obj


def ping_spec(key: str, value: Any) -> Edit:
    return at("spec", key)(value)


def test_the_generated_ping_source_is_admitted() -> None:
    admit(ping_source())


VALID_PING_SOURCES: list[Edit] = [
    drop("spec", "schedule"),  # defaulted to * * * * * before validation
    ping_spec("schedule", "@daily"),
    ping_spec("schedule", "*/15 1-5/2 * * *"),
    ping_spec("schedule", "0 3 ? JAN,jul MON-FRI"),
    ping_spec("schedule", "5/10 * * * *"),
    both(drop("spec", "timezone"), ping_spec("schedule", "CRON_TZ=Europe/Brussels 0 3 * * *")),
    ping_spec("timezone", "Europe/Brussels"),
    ping_spec("sink", {"uri": "https://consumer.example.com/ticks"}),
    both(drop("spec", "data"), ping_spec("dataBase64", "eyJhIjogMX0=")),  # {"a": 1}
    both(ping_spec("contentType", "text/plain"), ping_spec("data", "not json, and fine")),
]


@pytest.mark.parametrize("edit", VALID_PING_SOURCES)
def test_valid_ping_source_variants_are_admitted(edit: Edit) -> None:
    admit(ping_source(edit))


INVALID_PING_SOURCES: list[tuple[Edit, str]] = [
    (ping_spec("schedule", "0 3 * *"), "spec.schedule: '0 3 * *' has 4 field(s); expected 5"),
    (ping_spec("schedule", "0 0 3 * * *"), "has 6 field(s)"),  # no seconds field in Knative
    (ping_spec("schedule", "61 * * * *"), "spec.schedule: minute '61': '61' is outside 0-59"),
    (ping_spec("schedule", "0 3 * * 7"), "spec.schedule: day of week '7'"),
    (ping_spec("schedule", "0 5-3 * * *"), "spec.schedule: hour '5-3'"),
    (ping_spec("schedule", "*/0 * * * *"), "step in '*/0' must be a positive integer"),
    (ping_spec("schedule", "0 3 L * *"), "spec.schedule: day of month 'L'"),
    (ping_spec("schedule", "@every 1h"), "the @every descriptor is not supported"),
    (ping_spec("schedule", "@fortnightly"), "'@fortnightly' is not a descriptor"),
    (ping_spec("schedule", 300), "spec.schedule: expected a string"),
    (ping_spec("timezone", "Mars/Olympus_Mons"), "spec.timezone: 'Mars/Olympus_Mons' is not a time zone"),
    (
        both(drop("spec", "timezone"), ping_spec("schedule", "CRON_TZ=Nowhere/Land 0 3 * * *")),
        "spec.schedule: 'Nowhere/Land' is not a time zone",
    ),
    (ping_spec("schedule", "CRON_TZ=Europe/Brussels 0 3 * * *"), "has 6 field(s)"),  # two zones: Knative refuses
    (drop("spec", "sink"), "spec.sink.ref, spec.sink.uri: expected at least one, got none"),
    (ping_spec("sink", {"uri": "/ticks"}), "spec.sink.uri: '/ticks' is relative"),
    (ping_spec("sink", {"ref": {"kind": "Broker", "name": "default"}}), "spec.sink.ref.apiVersion: required"),
    (ping_spec("dataBase64", "e30="), "spec.data, spec.dataBase64: expected exactly one of them, got both"),
    (both(drop("spec", "data"), ping_spec("dataBase64", "not base64!")), "spec.dataBase64: not standard base64"),
    (ping_spec("data", "[1, 2]"), "spec.data: contentType is application/json, so the data must be a JSON object"),
    (ping_spec("data", "{"), "spec.data: contentType is application/json but the data is not JSON"),
    (at("metadata", "name")("Visit_Counts"), "metadata.name: 'Visit_Counts' is not a DNS-1123 subdomain"),
]


@pytest.mark.parametrize(("edit", "expected"), INVALID_PING_SOURCES)
def test_ping_source_rules_refuse_what_knative_refuses(edit: Edit, expected: str) -> None:
    (problem,) = problems_of(ping_source(edit))
    assert expected in problem

"""Knative objects generated from the descriptors: one Broker, a Service and a SinkBinding per
product function, a Trigger per input port, and for a product with ``spec.transformer.schedule``
a PingSource with the Trigger that routes its ticks to the product's ``scheduled`` function. The
embedded mesh applies exactly these objects, and ``culturemesh build knative`` writes them to
``knative/`` for ``kubectl apply`` (with the cluster-only objects: the S3 adapter, the catalog's
freshness check, EventTypes and the IRSA ServiceAccounts, under ``knative/cluster/``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from culturemesh import __version__, events
from culturemesh.deploy import irsa, platform
from culturemesh.descriptor import Descriptor, InputPort
from culturemesh.errors import ConfigError
from culturemesh.settings import DEFAULT_BROKER, DEFAULT_NAMESPACE

IMAGE = f"ghcr.io/culturemesh/function:{__version__}"
LABEL = "culturemesh.be"


def service_name(descriptor: Descriptor, function: str) -> str:
    return f"{descriptor.name}-{function}"[:63].rstrip("-")


DEAD_LETTERS = "culturemesh-dead-letters"


def dead_letter_sink(namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    """The platform's dead-letter sink Service (``culturemesh dead-letters``), one process."""
    annotations = {"autoscaling.knative.dev/min-scale": "0", "autoscaling.knative.dev/max-scale": "1"}
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": DEAD_LETTERS, "namespace": namespace},
        "spec": {
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {
                    "serviceAccountName": irsa.DEAD_LETTERS_ACCOUNT,  # a cluster's IRSA role; the mesh ignores it
                    "containers": [
                        {
                            "image": IMAGE,
                            "command": ["culturemesh"],
                            "args": ["dead-letters"],
                            "envFrom": platform.ENV_FROM,
                        }
                    ],
                },
            }
        },
    }


def broker(namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {
            "name": DEFAULT_BROKER,
            "namespace": namespace,
            "annotations": {"eventing.knative.dev/broker.class": "Kafka"},
        },
        "spec": {
            "config": {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": "kafka-broker-config",
                "namespace": "knative-eventing",
            },
            "delivery": {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"},
        },
    }


def _labels(descriptor: Descriptor) -> dict[str, str]:
    return {f"{LABEL}/dataproduct": descriptor.name, f"{LABEL}/domain": descriptor.domain}


def services(descriptor: Descriptor, project: Path, namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    folder = (descriptor.base_dir or project).resolve()
    relative = (
        folder.relative_to(project.resolve()).as_posix() if folder.is_relative_to(project.resolve()) else str(folder)
    )
    result = []
    for name, function in sorted(descriptor.functions.items()):
        result.append(
            {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "metadata": {
                    "name": service_name(descriptor, name),
                    "namespace": namespace,
                    "labels": _labels(descriptor),
                },
                "spec": {
                    "template": {
                        "metadata": {
                            "annotations": {
                                "autoscaling.knative.dev/min-scale": "0",
                                "autoscaling.knative.dev/max-scale": "10",
                                "autoscaling.knative.dev/target": "10",
                            }
                        },
                        "spec": {
                            "containerConcurrency": 10,
                            "timeoutSeconds": function.timeout_seconds,
                            "serviceAccountName": irsa.function_service_account(descriptor),
                            "containers": [
                                {
                                    "image": IMAGE,
                                    "command": ["functions-framework"],
                                    "args": [
                                        f"--target={function.target}",
                                        f"--source={relative}/{function.source}",
                                        "--signature-type=http",
                                    ],
                                    "env": _env(descriptor),
                                    "envFrom": platform.ENV_FROM,
                                }
                            ],
                        },
                    }
                },
            }
        )
    return result


def sink_bindings(descriptor: Descriptor, namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    """A SinkBinding per function: it injects ``K_SINK`` (the broker) so the function can publish."""
    return [
        {
            "apiVersion": "sources.knative.dev/v1",
            "kind": "SinkBinding",
            "metadata": {"name": service_name(descriptor, name), "namespace": namespace, "labels": _labels(descriptor)},
            "spec": {
                "subject": {
                    "apiVersion": "serving.knative.dev/v1",
                    "kind": "Service",
                    "name": service_name(descriptor, name),
                },
                "sink": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": DEFAULT_BROKER}},
            },
        }
        for name in sorted(descriptor.functions)
    ]


def _env(descriptor: Descriptor) -> list[dict[str, Any]]:
    """The input ports' environment variables; secret ones as references to Kubernetes Secrets."""
    env: list[dict[str, Any]] = [{"name": "CULTUREMESH_DATAPRODUCT", "value": descriptor.qualified_name}]
    for port in descriptor.input_ports:
        env.extend({"name": key, "value": str(value)} for key, value in sorted(port.environment_variables.items()))
        env.extend(
            {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
            for key, secret in sorted(port.secret_environment_variables.items())
        )
    return env


def _filters(descriptor: Descriptor, port: InputPort) -> list[dict[str, Any]] | None:
    if port.output_port_ref is not None:
        ref = port.output_port_ref
        return [
            {"exact": {"type": events.PUBLISHED}},
            {"exact": {"dataproduct": ref.qualified_name}},
            {"exact": {"outputport": ref.output_port}},
        ]
    settings = descriptor.extension.inputs.get(port.name)
    if settings is not None and settings.upload:
        return [
            {"exact": {"type": events.OBJECT_CREATED}},
            {"prefix": {"subject": f"{descriptor.qualified_name}/{port.name}/"}},
        ]
    return None


def triggers(descriptor: Descriptor, namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    result = []
    for port in descriptor.input_ports:
        filters = _filters(descriptor, port)
        if filters is None:
            continue
        settings = descriptor.extension.inputs.get(port.name)
        function = settings.function if settings else "ingest"
        result.append(
            {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Trigger",
                "metadata": {
                    "name": f"{descriptor.name}-{port.name}"[:63].rstrip("-"),
                    "namespace": namespace,
                    "labels": _labels(descriptor),
                },
                "spec": {
                    "broker": DEFAULT_BROKER,
                    "filters": filters,
                    "subscriber": {
                        "ref": {
                            "apiVersion": "serving.knative.dev/v1",
                            "kind": "Service",
                            "name": service_name(descriptor, function),
                        }
                    },
                    "delivery": delivery(),
                },
            }
        )
    return result


def delivery() -> dict[str, Any]:
    return {
        "retry": 5,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.5S",
        "timeout": "PT5M",
        "deadLetterSink": {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": DEAD_LETTERS}},
    }


SCHEDULED_FUNCTION = "scheduled"
PING_TYPE = "dev.knative.sources.ping"
PING_TIMEZONE = "UTC"  # the descriptor's schedule is in UTC (docs/product-developer.md)


def ping_source_name(descriptor: Descriptor) -> str:
    return f"{descriptor.name}-schedule"[:63].rstrip("-")


def ping_source_uri(namespace: str, name: str) -> str:
    """The ``source`` of a PingSource's events, as Knative sets it."""
    return f"/apis/v1/namespaces/{namespace}/pingsources/{name}"


def scheduled_run(descriptor: Descriptor, namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    """For ``spec.transformer.schedule``: a PingSource that sends its tick to the Broker, and a
    Trigger that hands exactly that PingSource's events to the product's ``scheduled`` function."""
    if descriptor.schedule is None:
        return []
    if SCHEDULED_FUNCTION not in descriptor.functions:
        where = f"{descriptor.path or descriptor.qualified_name}: spec.transformer.schedule"
        raise ConfigError(
            f"{where}: {descriptor.schedule!r} is set but culturemesh.functions has no {SCHEDULED_FUNCTION!r} "
            f"function to run on it; add one (see docs/product-developer.md, 'Scheduled runs') or remove the schedule"
        )
    name = ping_source_name(descriptor)
    data = {"dataproduct": descriptor.qualified_name, "schedule": descriptor.schedule}
    ping = {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(descriptor)},
        "spec": {
            "schedule": descriptor.schedule,
            "timezone": PING_TIMEZONE,
            "contentType": "application/json",
            "data": json.dumps(data, sort_keys=True),
            "ceOverrides": {"extensions": {"dataproduct": descriptor.qualified_name}},
            "sink": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": DEFAULT_BROKER}},
        },
    }
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(descriptor)},
        "spec": {
            "broker": DEFAULT_BROKER,
            "filters": [{"exact": {"type": PING_TYPE}}, {"exact": {"source": ping_source_uri(namespace, name)}}],
            "subscriber": {
                "ref": {
                    "apiVersion": "serving.knative.dev/v1",
                    "kind": "Service",
                    "name": service_name(descriptor, SCHEDULED_FUNCTION),
                }
            },
            "delivery": delivery(),
        },
    }
    return [ping, trigger]


# What carries a product's source: its functions' events, and the catalog's stale events about it.
EMITTED = (events.UPLOAD_ACCEPTED, events.UPLOAD_REJECTED, events.PUBLISHED, events.FAILED, events.STALE)
SCHEMA_BASE = "https://culturemesh.be/events/"


def event_types(descriptor: Descriptor, namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    """EventType objects: what the product emits, so a cluster's event registry lists it."""
    return [
        {
            "apiVersion": "eventing.knative.dev/v1beta2",
            "kind": "EventType",
            "metadata": {
                "name": f"{descriptor.name}-{event_type.rsplit('.', 2)[-2]}-{event_type.rsplit('.', 1)[-1]}"[:63],
                "namespace": namespace,
                "labels": _labels(descriptor),
            },
            "spec": {
                "type": event_type,
                "source": events.product_source(descriptor.qualified_name),
                "schema": f"{SCHEMA_BASE}{event_type}.schema.json",
                "description": f"{event_type} events of data product {descriptor.qualified_name}",
                "reference": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": DEFAULT_BROKER},
            },
        }
        for event_type in EMITTED
    ]


def s3_adapter(namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    """The cluster-only adapter from S3 notifications (SQS) to the broker, always one process."""
    name = "culturemesh-s3-adapter"
    annotations = {"autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "1"}
    container = {
        "image": IMAGE,
        "command": ["culturemesh"],
        "args": ["s3-adapter", "--queue-url=$(CULTUREMESH_QUEUE_URL)"],
        "env": [
            {
                "name": "CULTUREMESH_QUEUE_URL",
                "valueFrom": {"configMapKeyRef": {"name": "culturemesh", "key": "landing-queue-url"}},
            }
        ],
        "envFrom": platform.ENV_FROM,
    }
    return [
        {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "template": {
                    "metadata": {"annotations": annotations},
                    "spec": {"serviceAccountName": irsa.ADAPTER_ACCOUNT, "containers": [container]},
                }
            },
        },
        {
            "apiVersion": "sources.knative.dev/v1",
            "kind": "SinkBinding",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "subject": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name},
                "sink": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": DEFAULT_BROKER}},
            },
        },
    ]


def objects(descriptors: Sequence[Descriptor], project: Path) -> list[dict[str, Any]]:
    """Every Knative object the products need, Broker first."""
    result = [broker(), dead_letter_sink()]
    for descriptor in descriptors:
        result.extend(services(descriptor, project))
        result.extend(sink_bindings(descriptor))
        result.extend(triggers(descriptor))
        result.extend(scheduled_run(descriptor))
    return result


def write(
    descriptors: Sequence[Descriptor], project: Path, out: Path, aws_account_id: str = irsa.PLACEHOLDER_ACCOUNT
) -> list[Path]:
    """Write ``knative/broker.yaml``, ``knative/<product>.yaml`` (what the embedded mesh runs too)
    and ``knative/cluster/`` (what only a cluster runs: the S3 adapter, the catalog's freshness
    check, EventTypes, the platform's settings ConfigMap, and the ServiceAccounts annotated with
    the IAM roles of ``aws_account_id``)."""
    from culturemesh.deploy import catalog  # built from this module's pieces, so imported here

    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster").mkdir(exist_ok=True)
    written = [
        _dump(out / "broker.yaml", [broker(), dead_letter_sink()]),
        _dump(out / "cluster" / "s3-adapter.yaml", s3_adapter()),
        _dump(out / "cluster" / "catalog-check.yaml", catalog.freshness_check()),
        _dump(out / "cluster" / "platform-config.yaml", [platform.config_map()]),
    ]
    types = [obj for descriptor in descriptors for obj in event_types(descriptor)]
    written.append(_dump(out / "cluster" / "event-types.yaml", types))
    accounts = irsa.service_accounts(descriptors, aws_account_id, _labels)
    written.append(_dump(out / "cluster" / "service-accounts.yaml", accounts))
    for descriptor in descriptors:
        docs = [
            *services(descriptor, project),
            *sink_bindings(descriptor),
            *triggers(descriptor),
            *scheduled_run(descriptor),
        ]
        written.append(_dump(out / f"{descriptor.name}.yaml", docs))
    return written


def _dump(path: Path, docs: Iterable[dict[str, Any]]) -> Path:
    header = "# Generated by `culturemesh build knative` from functions/*/data-product.yaml. Do not edit.\n"
    path.write_text(header + yaml.safe_dump_all(list(docs), sort_keys=False))
    return path

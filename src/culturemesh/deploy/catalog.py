"""The catalog's freshness check in a cluster (``knative/cluster/catalog-check.yaml``).

On the embedded mesh a task inside ``culturemesh up`` checks freshness every
``CULTUREMESH_CATALOG_INTERVAL`` seconds (``culturemesh.catalog.sync.watch_mesh``). A cluster has
no such process, so it gets four objects instead:

- a **PingSource** ``culturemesh-catalog-check`` that sends a tick into the Broker every
  :data:`SCHEDULE`;
- a **Trigger** of the same name that hands exactly that PingSource's ticks to
- the **Service** ``culturemesh-catalog`` (``culturemesh catalog serve-check``, one process, one
  request at a time), which runs :func:`culturemesh.catalog.freshness.check` on each tick as the
  ServiceAccount ``culturemesh-catalog`` (its IRSA role may read the registry and write only
  stale marks: ``infra/terraform/modules/iam``);
- a **SinkBinding** that gives it ``K_SINK`` (the Broker), where it publishes the stale events.

A lateness is claimed in the registry before its event goes out, so overlapping or redelivered
ticks announce it once. The embedded mesh does not apply these objects (it runs its own task).
"""

from __future__ import annotations

import json
from typing import Any

from culturemesh.deploy import irsa, knative, platform
from culturemesh.settings import DEFAULT_BROKER, DEFAULT_NAMESPACE

NAME = "culturemesh-catalog-check"  # the PingSource and its Trigger
SERVICE = "culturemesh-catalog"
SCHEDULE = "*/5 * * * *"
TIMEOUT_SECONDS = 300  # one check over the whole registry; the Trigger's delivery timeout is PT5M too
_BROKER = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": DEFAULT_BROKER}
_LABELS = {"app.kubernetes.io/part-of": "culturemesh", "app.kubernetes.io/component": "catalog"}


def _metadata(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(_LABELS)}


def ping_source(namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": _metadata(NAME, namespace),
        "spec": {
            "schedule": SCHEDULE,
            "timezone": knative.PING_TIMEZONE,
            "contentType": "application/json",
            "data": json.dumps({"check": "freshness"}),
            "sink": {"ref": dict(_BROKER)},
        },
    }


def trigger(namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    source = knative.ping_source_uri(namespace, NAME)
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": _metadata(NAME, namespace),
        "spec": {
            "broker": DEFAULT_BROKER,
            "filters": [{"exact": {"type": knative.PING_TYPE}}, {"exact": {"source": source}}],
            "subscriber": {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": SERVICE}},
            "delivery": knative.delivery(),  # the delivery every generated Trigger has, dead-letter sink included
        },
    }


def service(namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    annotations = {"autoscaling.knative.dev/min-scale": "0", "autoscaling.knative.dev/max-scale": "1"}
    container = {
        "image": knative.IMAGE,
        "command": ["culturemesh"],
        "args": ["catalog", "serve-check"],
        "envFrom": platform.ENV_FROM,
    }
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": _metadata(SERVICE, namespace),
        "spec": {
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {
                    "containerConcurrency": 1,  # one check at a time; a tick arriving meanwhile waits
                    "timeoutSeconds": TIMEOUT_SECONDS,
                    "serviceAccountName": irsa.CATALOG_ACCOUNT,
                    "containers": [container],
                },
            }
        },
    }


def sink_binding(namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "SinkBinding",
        "metadata": _metadata(SERVICE, namespace),
        "spec": {
            "subject": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": SERVICE},
            "sink": {"ref": dict(_BROKER)},
        },
    }


def freshness_check(namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    """The four objects, Service first (the Trigger and the SinkBinding name it)."""
    return [service(namespace), sink_binding(namespace), ping_source(namespace), trigger(namespace)]

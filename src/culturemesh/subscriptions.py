"""Consumer subscriptions: Knative Triggers on the platform broker whose subscriber is the
consumer's URL."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from culturemesh.errors import ConfigError
from culturemesh.settings import DEFAULT_BROKER, DEFAULT_NAMESPACE


def parse_pairs(pairs: Sequence[str], flag: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(
                f"{flag} {pair!r}: expected ATTRIBUTE=VALUE, for example type=be.culturemesh.dataproduct.published"
            )
        result[name.strip()] = value.strip()
    return result


SUBSCRIPTION_LABEL = "culturemesh.be/subscription"


def subscription(
    name: str,
    sink: str,
    exact: dict[str, str],
    prefix: dict[str, str] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    durable: bool = True,
) -> dict[str, Any]:
    """The Trigger for a consumer subscription: one ``exact``/``prefix`` filter per attribute (Knative
    allows one attribute per filter), ANDed. A durable one is labelled :data:`SUBSCRIPTION_LABEL`,
    which is how the catalog tells subscriptions from the temporary Triggers of ``culturemesh tail``."""
    filters: list[dict[str, Any]] = [{"exact": {name: value}} for name, value in sorted(exact.items())]
    filters += [{"prefix": {name: value}} for name, value in sorted((prefix or {}).items())]
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if durable:
        metadata["labels"] = {SUBSCRIPTION_LABEL: "true"}
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": metadata,
        "spec": {"broker": DEFAULT_BROKER, "filters": filters, "subscriber": {"uri": sink}},
    }


def subscription_name(sink: str, exact: dict[str, str], prefix: dict[str, str] | None) -> str:
    digest = hashlib.sha256(repr((sink, sorted(exact.items()), sorted((prefix or {}).items()))).encode())
    return f"sub-{digest.hexdigest()[:10]}"

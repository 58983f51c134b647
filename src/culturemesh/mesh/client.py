"""A small synchronous client for a running mesh: its admin API and its broker ingress."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from culturemesh.envelope import Envelope, to_binary
from culturemesh.errors import MeshError, MeshUnavailable


class MeshClient:
    def __init__(self, mesh_url: str, ingress_url: str, timeout: float = 30.0) -> None:
        self.mesh_url = mesh_url.rstrip("/")
        self.ingress_url = ingress_url
        self.timeout = timeout

    def _call(
        self, method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise MeshUnavailable(self.mesh_url, str(getattr(exc, "reason", exc))) from None

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        status, payload = self._call(method, self.mesh_url + path, data, {"content-type": "application/json"})
        result = json.loads(payload) if payload else {}
        if status >= 400:
            raise MeshError(f"mesh refused {method} {path}: {result.get('error', status)}")
        return result

    def health(self) -> bool:
        try:
            return self._call("GET", self.mesh_url + "/-/health")[0] == 200
        except MeshUnavailable:
            return False

    def status(self) -> dict[str, Any]:
        return dict(self._json("GET", "/-/status"))

    def apply(self, objects: Sequence[Mapping[str, Any]]) -> list[str]:
        return list(self._json("POST", "/-/apply", list(objects))["applied"])

    def ping(self, namespace: str, name: str) -> dict[str, Any]:
        """Have a PingSource send its event now; returns the event's ``id`` and ``source``."""
        return dict(self._json("POST", f"/-/pingsources/{namespace}/{name}", {}))

    def delete(self, kind: str, namespace: str, name: str) -> bool:
        status, _ = self._call("DELETE", f"{self.mesh_url}/-/objects/{kind}/{namespace}/{name}")
        return status == 200

    def send(self, event: Envelope) -> None:
        headers, body = to_binary(event)
        status, payload = self._call("POST", self.ingress_url, body, headers)
        if status != 202:
            raise MeshError(
                f"broker at {self.ingress_url} refused event {event.id} with HTTP {status}: {payload[:300]!r}"
            )


def publish(events: Sequence[Envelope], sink: str, timeout: float = 30.0) -> None:
    """POST each event to the sink in binary mode; raises :class:`MeshUnavailable` when it refuses."""
    for event in events:
        headers, body = to_binary(event)
        request = urllib.request.Request(sink, data=body, headers=headers, method="POST")  # noqa: S310 - sink is configured
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise MeshUnavailable(sink, str(exc)) from None

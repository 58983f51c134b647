"""The platform's dead-letter sink: every event a subscriber still refused after all its retries
is kept, sealed, in the ``dead-letters`` bucket (``<UTC date>/<event id>.json``, the structured
event with Knative's ``knativeerror*`` attributes), for an operator to inspect or replay.

``culturemesh dead-letters`` serves it on ``$PORT``; the generated Triggers name it as their
``deadLetterSink``. Nothing else reads the bucket, and its key grants only the sink itself and
the ``operator`` principal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from culturemesh.envelope import Envelope
from culturemesh.kms import Kms, Operation
from culturemesh.sealing import seal_bytes
from culturemesh.store import ObjectInfo, ObjectStore

BUCKET = "dead-letters"
KEY = "alias/culturemesh/platform/dead-letters"
PRINCIPAL = "platform:dead-letters"
SERVICE = "culturemesh-dead-letters"


def provision(kms: Kms) -> None:
    everything: frozenset[Operation] = frozenset({"encrypt", "decrypt", "generate"})
    kms.create_key(KEY, "culturemesh dead letters")
    kms.allow(KEY, PRINCIPAL, everything)
    kms.allow(KEY, "operator", frozenset({"decrypt"}))


def context(key: str) -> dict[str, str]:
    return {"bucket": BUCKET, "object": key}


def keep(event: Envelope, store: ObjectStore, kms: Kms) -> ObjectInfo:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    key = f"{day}/{event.id.replace('/', '_')}.json"
    body = json.dumps(event.to_dict(), indent=2, sort_keys=True).encode()
    sealed = seal_bytes(kms, KEY, context(key), PRINCIPAL, body)
    return store.put(BUCKET, key, sealed, content_type="application/vnd.culturemesh.sealed", notify=False)


def serve(port: int, store: ObjectStore, kms: Kms) -> None:
    """Receive dead letters over HTTP until stopped (one small aiohttp server)."""
    from aiohttp import web

    from culturemesh.envelope import from_http
    from culturemesh.errors import EventError

    async def receive(request: web.Request) -> web.Response:
        try:
            event = from_http(dict(request.headers), await request.read())
        except EventError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        keep(event, store, kms)
        return web.Response(status=200)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes([web.post("/", receive)])
    web.run_app(app, host="0.0.0.0", port=port, print=None, access_log=None)  # noqa: S104 - a container's port

"""The runtime adapter: the one module that speaks functions-framework's HTTP signature, and the
one place where the framework's requests become culturemesh events.

A product's ``main.py`` decorates its handlers with :func:`product_function`::

    @product_function
    def ingest(event: Envelope, product: Product) -> list[Envelope]:
        return product.ingest(event)

The decorated function is an HTTP function (``--signature-type http``), so it runs unchanged in a
Knative Service and on the embedded mesh. Per request it parses the CloudEvent (binary or
structured), binds ``ce_id``/``ce_type``/``dataproduct`` to the logs, calls the handler with the
product (built once per process from the settings), and answers as a Knative broker expects:

- no event returned: an empty ``200``;
- events returned: the last one is the reply, in binary mode, and re-enters the broker; any
  earlier ones are first POSTed to ``K_SINK`` (the broker, as a SinkBinding injects it) — without
  ``K_SINK`` they could not be delivered, so that is a failure;
- a malformed or misrouted event: ``400`` (the broker does not retry it);
- any other failure: ``500``, so the broker retries and finally dead-letters the event.

functions-framework's own ``cloud_event`` signature answers ``200 OK`` with a body (a broker
reads a non-CloudEvent body as a failure) and cannot reply, hence the HTTP signature here.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from culturemesh.backends import open_kms, open_registry, open_store
from culturemesh.envelope import Envelope, from_http, to_binary
from culturemesh.errors import ConfigError, EventError
from culturemesh.logs import bind_event, clear_event, configure, get_logger
from culturemesh.mesh.client import publish
from culturemesh.product import Product
from culturemesh.settings import Settings

if TYPE_CHECKING:
    import flask

Handler = Callable[[Envelope, Product], Sequence[Envelope]]
log = get_logger("culturemesh.runtime")


@functools.cache
def _start(folder: str, function: str) -> tuple[Product, Settings]:
    """Read the settings and load the product once per process, on the first request."""
    settings = Settings.from_env()
    configure(settings.log_format, settings.log_level)
    registry = open_registry(settings)  # published versions are registered in the catalog
    return Product.load(Path(folder), open_store(settings), open_kms(settings), function, registry), settings


def product_function(handler: Handler) -> Callable[[flask.Request], Any]:
    """Make ``handler`` a functions-framework HTTP function that speaks CloudEvents."""
    folder = str(Path(inspect.getfile(handler)).resolve().parent)

    # No ``@functions_framework.http``: every command line that serves a product function passes
    # ``--signature-type=http`` (host, Knative Service, Dockerfile, Procfile), and not importing the
    # framework and flask here keeps ``culturemesh run`` (which calls handlers directly) fast.
    @functools.wraps(handler)
    def entry(request: flask.Request) -> Any:
        import flask  # already loaded in a functions-framework process

        product, settings = _start(folder, handler.__name__)
        try:
            event = from_http(dict(request.headers), request.get_data())
        except EventError as exc:
            return flask.Response(json.dumps({"error": str(exc)}), status=400, mimetype="application/json")
        bind_event(event.id, event.type, product.descriptor.qualified_name)
        try:
            outcome = list(handler(event, product))
            log.info("event handled", emitted=[e.type for e in outcome])
            if not outcome:
                return flask.Response(status=200)
            if len(outcome) > 1:
                if not settings.sink:
                    raise ConfigError("the handler returned several events but K_SINK is not set; bind a sink")
                publish(outcome[:-1], settings.sink)
            headers, body = to_binary(outcome[-1])
            return flask.Response(body, status=200, headers=headers)
        except EventError as exc:
            log.warning("event refused", error=str(exc))
            return flask.Response(json.dumps({"error": str(exc)}), status=400, mimetype="application/json")
        except Exception as exc:
            log.exception("event failed", error_type=type(exc).__name__)
            return flask.Response(json.dumps({"error": type(exc).__name__}), status=500, mimetype="application/json")
        finally:
            clear_event()

    entry.culturemesh_handler = handler  # type: ignore[attr-defined]
    return entry

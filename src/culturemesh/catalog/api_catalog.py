"""The catalog a request talks to: one mesh's registry (opened on first use) and tokens, kept on
the aiohttp app; the request's product and port; blocking registry calls run in a worker thread,
so the broker on the same event loop never waits on them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from culturemesh.auth import TokenStore
from culturemesh.catalog.api_requests import ApiError
from culturemesh.catalog.freshness import PortFreshness, port_freshness
from culturemesh.catalog.registry import PortRecord, ProductRecord, Registry
from culturemesh.settings import Settings


@dataclass
class Catalog:
    """The registry, object store, KMS and tokens of one mesh, opened on first use."""

    settings: Settings
    opener: Callable[[Settings], Registry] | None = None
    _registry: Registry | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _tokens: TokenStore | None = field(default=None, init=False)  # one: the file is parsed when it changes

    @property
    def registry(self) -> Registry:
        with self._lock:
            if self._registry is None:
                if self.opener is None:
                    from culturemesh.backends import open_registry

                    self._registry = open_registry(self.settings)
                else:
                    self._registry = self.opener(self.settings)
            return self._registry

    def principal(self, authorization: str | None) -> str:
        """The principal of an ``Authorization`` header; :class:`ApiError` 401 when it is not valid."""
        if self._tokens is None:
            self._tokens = TokenStore(self.settings.home)
        principal = self._tokens.authenticate(authorization)
        if principal is None:
            raise ApiError(
                401,
                "invalid_token",
                "the bearer token is not valid; issue one with `culturemesh tokens issue PRINCIPAL`",
                {"WWW-Authenticate": 'Bearer realm="culturemesh"'},
            )
        return principal

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()


CATALOG = web.AppKey("catalog", Catalog)


def port_of(registry: Registry, product_id: str, port: str) -> tuple[ProductRecord, PortRecord, PortFreshness]:
    product = registry.product(product_id)
    record = product.port(port)
    found = port_freshness(product, record, registry.latest_version(product_id, port), datetime.now(UTC))
    return product, record, found


async def blocking(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


def product_id_of(request: web.Request) -> str:
    return f"{request.match_info['domain']}/{request.match_info['name']}"


def catalog_of(request: web.Request) -> Catalog:
    return request.app[CATALOG]

"""Request parsing and errors of the catalog's JSON API: bodies (size-capped JSON or text), media
types, whole-number query parameters, bodies checked against ``openapi.yaml``'s schemas, and every
refusal as ``{"error": CODE, "detail": MESSAGE}`` with a 4xx status."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

import yaml
from aiohttp import web

from culturemesh.access import AccessDenied
from culturemesh.catalog.registry import InvalidDescriptor, InvalidQuery, RegistryError
from culturemesh.errors import CultureMeshError

MAX_BODY = 1024 * 1024


class ApiError(CultureMeshError):
    """A request the API refuses: ``status`` (4xx), a stable ``code`` and what was expected."""

    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        self.status, self.code, self.detail, self.headers = status, code, detail, dict(headers or {})
        super().__init__(f"{status} {code}: {detail}")


@functools.cache
def openapi_text() -> str:
    return resources.files("culturemesh.catalog").joinpath("openapi.yaml").read_text(encoding="utf-8")


@functools.cache
def body_validator(component: str) -> Any:
    import jsonschema

    document = yaml.safe_load(openapi_text())
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def query_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_query", f"{name} {raw[:50]!r}: expected a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_query", f"{name} {value}: expected {low} to {high}")
    return value


def error_response(exc: Exception) -> web.Response:
    if isinstance(exc, ApiError):
        return _error(exc.status, exc.code, exc.detail, exc.headers)
    if isinstance(exc, AccessDenied):
        return _error(403, "access_denied", str(exc))
    if isinstance(exc, InvalidDescriptor):
        issues = [{"path": i.path or "<root>", "message": i.message, "line": i.line} for i in exc.issues]
        return _error(400, "invalid_descriptor", str(exc), issues=issues)
    if isinstance(exc, InvalidQuery):
        return _error(400, "invalid_query", str(exc))
    if isinstance(exc, RegistryError):
        code = {400: "invalid_request", 404: "not_found", 409: "conflict", 503: "unavailable"}.get(exc.status, "error")
        return _error(exc.status, code, str(exc))
    raise exc


def _error(status: int, code: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "detail": detail, **extra}, status=status, headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    """Every refusal as a JSON error, aiohttp's own (404, 405, 413) included."""
    try:
        return await handler(request)
    except (ApiError, AccessDenied, RegistryError) as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate")}
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason, headers)


async def read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "body_too_large", f"{request.content_length} bytes; at most {MAX_BODY}")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "body_too_large", f"more than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not JSON: {str(exc)[:200]}") from None


def media_type(request: web.Request, accepted: tuple[str, ...]) -> str:
    kind = request.content_type.lower()
    if kind not in accepted:
        raise ApiError(415, "unsupported_media_type", f"content type {kind[:100]!r}; expected {', '.join(accepted)}")
    return kind

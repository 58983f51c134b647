"""Structured logging: JSON when not on a terminal (clusters, CI), readable on a console.

Bind ``ce_id``, ``ce_type`` and ``dataproduct`` once per event with :func:`bind_event`.
Never log secrets, keys, tokens or personal data: log identifiers, counts and places instead.

structlog is imported when the first event at or above the configured level is logged, not when
a module asks for a logger: a CLI call that logs nothing (``culturemesh run`` at level warning,
``--help``) does not pay for importing it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_config: dict[str, Any] = {"format": "auto", "level": logging.INFO, "structlog": None}


def configure(log_format: str = "auto", level: str = "info") -> None:
    """Configure logging once per process; output goes to stderr so stdout stays for results."""
    _config.update(format=log_format, level=_LEVELS.get(level, logging.INFO))
    if _config["structlog"] is not None:  # already in use: apply the new settings now
        _setup(_config["structlog"])


def _structlog() -> Any:
    if _config["structlog"] is None:
        import structlog

        _setup(structlog)
        _config["structlog"] = structlog
    return _config["structlog"]


def _setup(structlog: Any) -> None:
    log_format = _config["format"]
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_config["level"]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


class Logger:
    """A named structlog logger, created on the first event that passes the level."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: Any = None

    def _emit(self, level: int, method: str, event: str, **fields: Any) -> None:
        if level < _config["level"]:
            return
        if self._logger is None:
            self._logger = _structlog().get_logger(self.name)
        getattr(self._logger, method)(event, **fields)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, "debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(logging.INFO, "info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(logging.WARNING, "warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit(logging.ERROR, "error", event, **fields)

    def exception(self, event: str, **fields: Any) -> None:
        self._emit(logging.ERROR, "exception", event, **fields)


def get_logger(name: str) -> Logger:
    return Logger(name)


def bind_event(ce_id: str, ce_type: str, dataproduct: str = "") -> None:
    """Bind the event's identity to every log line until :func:`clear_event`."""
    _structlog().contextvars.bind_contextvars(ce_id=ce_id, ce_type=ce_type, dataproduct=dataproduct)


def clear_event() -> None:
    _structlog().contextvars.clear_contextvars()

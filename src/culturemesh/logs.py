"""Structured logging: JSON when not on a terminal (clusters, CI), readable on a console.

Bind ``ce_id``, ``ce_type`` and ``dataproduct`` once per event with :func:`bind_event`.
Never log secrets, keys, tokens or personal data: log identifiers, counts and places instead.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure(log_format: str = "auto", level: str = "info") -> None:
    """Configure structlog once per process; output goes to stderr so stdout stays for results."""
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
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


def bind_event(ce_id: str, ce_type: str, dataproduct: str = "") -> None:
    """Bind the event's identity to every log line until :func:`clear_event`."""
    structlog.contextvars.bind_contextvars(ce_id=ce_id, ce_type=ce_type, dataproduct=dataproduct)


def clear_event() -> None:
    structlog.contextvars.clear_contextvars()

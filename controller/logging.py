"""structlog setup: one structured line per pass and per action, JSON unless on a terminal.

Log lines are events with fields (function, alias, from, to, revision, outcome, duration), so
that they can be searched and counted. Nothing secret is ever passed to the logger: credentials
live only in the Git source and the botocore session, and URLs are redacted before they are
logged; a last processor still masks any field whose name says it holds a secret.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO, cast

import structlog
from structlog.typing import FilteringBoundLogger

LogFormat = Literal["auto", "json", "console"]

_SECRET_WORDS = ("token", "secret", "password", "authorization", "credential")


def _mask_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in event:
        if any(word in key.lower() for word in _SECRET_WORDS):
            event[key] = "***"
    return event


def configure(
    log_format: LogFormat = "auto", *, stream: TextIO | None = None, level: int = logging.INFO
) -> None:
    """Route structlog to ``stream`` (stderr), as JSON or, on a terminal, as readable lines."""
    stream = stream or sys.stderr
    use_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "lambda-gitops") -> FilteringBoundLogger:
    """A logger bound to ``name``; the module asks for it where it logs, never at import."""
    return cast(FilteringBoundLogger, structlog.get_logger(name))

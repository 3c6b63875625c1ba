"""structlog setup: one structured line per pass and per action, JSON unless on a terminal.

Log lines are events with fields (function, alias, from, to, revision, outcome, duration), so
that they can be searched and counted. Nothing secret is meant to reach the logger: credentials
live only in the Git source and the botocore session, and URLs are redacted before they are
logged. Meaning is not enough, though, since an error message or a traceback can quote anything,
so the last processors before the renderer mask every line: a field whose name says it holds a
secret is masked whole, and every string in the event (the message, nested values, the rendered
traceback) goes through a ``Redactor`` that knows the secrets ``configure`` was given.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal, TextIO, cast

import structlog
from structlog.typing import FilteringBoundLogger

from controller.redaction import MASK, Redactor, is_secret_field

LogFormat = Literal["auto", "json", "console"]


@dataclass(frozen=True)
class _MaskSecrets:
    """The processor that masks an event's fields: by name, then by content."""

    redactor: Redactor

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event.items():
            event[key] = MASK if is_secret_field(key) else self.redactor.mask(value)
        return event


def configure(
    log_format: LogFormat = "auto",
    *,
    stream: TextIO | None = None,
    level: int = logging.INFO,
    secrets: Iterable[str] = (),
) -> None:
    """Route structlog to ``stream`` (stderr), as JSON or, on a terminal, as readable lines.

    ``secrets`` are values never to be shown (the Git token, the webhook secret): they are
    masked wherever they appear in a line, as are credentials in anything that looks like a URL.
    """
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
            # The traceback becomes text here, before the masking, so that a secret quoted in an
            # exception's message or a frame is masked too. (The console renderer would format
            # it itself, after every processor has run, and show it as it is.)
            structlog.processors.format_exc_info,
            _MaskSecrets(Redactor(secrets)),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "lambda-gitops") -> FilteringBoundLogger:
    """A logger bound to ``name``; the module asks for it where it logs, never at import."""
    return cast(FilteringBoundLogger, structlog.get_logger(name))

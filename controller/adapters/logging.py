"""structlog setup: one structured line per pass and per action, JSON unless on a terminal.

Every line goes to stderr, never to stdout, where the commands print their results: a
``plan --output json`` piped into ``jq`` must not meet a log line. The level and the format are
settings (``LogSettings``); colour is used only on a terminal and never when ``NO_COLOR`` is set
(https://no-color.org), which the caller reads and passes as ``colour``. Standard-library loggers
named in ``stdlib_loggers`` (the emulated registry's, when it runs in this process) are routed
through the same renderer, level and masking, so that a process writes one kind of line.

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
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal, TextIO, cast, get_args

import structlog
from structlog.typing import FilteringBoundLogger

from controller.redaction import MASK, Redactor, is_secret_field

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]
LOG_LEVELS: tuple[LogLevel, ...] = get_args(LogLevel)

_LEVEL_NUMBERS: dict[LogLevel, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


@dataclass(frozen=True, slots=True)
class LogSettings:
    """How to log: the least severe level shown, and the format; ``Settings.logging`` builds it."""

    level: LogLevel = "info"
    format: LogFormat = "auto"

    @property
    def level_number(self) -> int:
        """The level as the ``logging`` module numbers it."""
        return _LEVEL_NUMBERS[self.level]

    @property
    def chatty(self) -> bool:
        """Whether informational output (a progress bar) is wanted: not under ``-q``."""
        return self.level_number <= logging.INFO


def no_color(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` asks for no colour: ``NO_COLOR`` set and not empty (no-color.org)."""
    return bool(environ.get("NO_COLOR"))


class _Stderr:
    """``sys.stderr`` as it is when a line is written, not when logging was configured.

    A command run in-process (click's test runner, an embedding program) swaps ``sys.stderr``
    for the length of the command; a logger holding the stream of that moment would write to a
    closed one afterwards.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


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
    level: int | LogLevel = logging.INFO,
    secrets: Iterable[str] = (),
    colour: bool = True,
    stdlib_loggers: Iterable[str] = (),
) -> None:
    """Route structlog to ``stream`` (stderr), as JSON or, on a terminal, as readable lines.

    ``secrets`` are values never to be shown (the Git token, the webhook secret): they are
    masked wherever they appear in a line, as are credentials in anything that looks like a URL.
    ``colour`` False keeps the readable lines free of ANSI codes even on a terminal (NO_COLOR);
    they have none off a terminal anyway. The standard-library loggers in ``stdlib_loggers`` get
    the same level, masking and renderer.
    """
    target: Any = stream if stream is not None else _Stderr()
    on_terminal = bool(target.isatty())
    number = level if isinstance(level, int) else _LEVEL_NUMBERS[level]
    use_json = log_format == "json" or (log_format == "auto" and not on_terminal)
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=colour and on_terminal)
    )
    common: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # The traceback becomes text here, before the masking, so that a secret quoted in an
        # exception's message or a frame is masked too. (The console renderer would format
        # it itself, after every processor has run, and show it as it is.)
        structlog.processors.format_exc_info,
    ]
    masking = _MaskSecrets(Redactor(secrets))
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *common, masking, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(file=target),
        cache_logger_on_first_use=False,
    )
    for name in stdlib_loggers:
        _route_stdlib(name, target, number, [*common, masking, renderer])


class _StructlogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure`` puts on a standard-library logger; one per logger."""


def _route_stdlib(name: str, stream: Any, level: int, processors: list[Any]) -> None:
    """Render the records of the standard-library logger ``name`` as structlog's own lines.

    The logger keeps propagating, so that whatever else listens at the root (a test's capture)
    still hears it; the root has no handler of its own in a command, so nothing is doubled.
    """
    pre_chain, finishing = processors[:-2], processors[-2:]
    handler = _StructlogHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *pre_chain],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finishing],
        )
    )
    logger = logging.getLogger(name)
    for previous in [h for h in logger.handlers if isinstance(h, _StructlogHandler)]:
        logger.removeHandler(previous)
    logger.addHandler(handler)
    logger.setLevel(level)


def get_logger(name: str = "lambda-gitops") -> FilteringBoundLogger:
    """A logger bound to ``name``; the module asks for it where it logs, never at import."""
    return cast(FilteringBoundLogger, structlog.get_logger(name))

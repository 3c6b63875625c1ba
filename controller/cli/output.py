"""What a person sees of a command besides its result: log flags, colour and progress.

Every command, groups and the mounted ``emulator`` commands included, takes ``--log-level
LEVEL``, ``-q/--quiet`` (warnings and errors), ``-v/--verbose`` (debug) and ``--log-format``,
before or after its name: ``lambda-gitops -v plan`` and ``lambda-gitops plan -v`` are the same.
The flags only record what was asked, in the root context; the command then configures the log
once, from its settings, which these flags beat as any flag beats the environment and the
file. Two flags that ask for different levels (``-q -v``, or ``--log-level error -v``) are a
usage error rather than a guess at which one was meant.

The result goes to stdout and everything else (the log, the progress bar) to stderr, so that a
result piped into another program meets nothing else. Colour: when ``NO_COLOR`` is set and not
empty (https://no-color.org) the root context's ``color`` is off, which ``click.echo`` obeys for
every styled line, and no progress bar is drawn; the log's renderer is told the same by
``controller.bootstrap.configure_logging``.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import click

from controller.adapters.logging import LOG_LEVELS, LogSettings, no_color
from controller.engine.reconciler import Progress

PROGRESS_MINIMUM = 20
"""Below this many functions a pass is over before a bar would tell anyone anything."""

_REQUESTED = "lambda_gitops.logging"
"""Where, in the root context's ``meta``, the log flags given so far are kept."""
_QUIET, _VERBOSE = "-q/--quiet", "-v/--verbose"


def logging_parameters() -> list[click.Parameter]:
    """The log flags, made anew for each command (click parameters belong to one command)."""
    return [
        click.Option(
            ["--log-level"],
            type=click.Choice(LOG_LEVELS, case_sensitive=False),
            expose_value=False,
            callback=_record,
            help="The least severe log lines shown (info).",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_record,
            help="Log warnings and errors only; no progress bar.",
        ),
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            callback=_record,
            help="Log at debug level.",
        ),
        click.Option(
            ["--log-format"],
            type=click.Choice(["auto", "json", "console"]),
            expose_value=False,
            callback=_record,
            help="auto: JSON unless stderr is a terminal.",
        ),
    ]


def _record(context: click.Context, parameter: click.Parameter, value: Any) -> Any:
    """Keep a log flag that was given, refusing one that contradicts a flag given before."""
    if value is None or value is False:
        return value
    setting, chosen, spelled = _meaning(parameter, value)
    requested: dict[str, list[tuple[str, str]]] = context.find_root().meta.setdefault(
        _REQUESTED, {}
    )
    given = requested.setdefault(setting, [])
    given.append((spelled, chosen))
    spellings = {spelling for spelling, _ in given}
    if {_QUIET, _VERBOSE} <= spellings:
        raise click.UsageError(f"{_QUIET} and {_VERBOSE} cannot be used together", ctx=context)
    if len({value for _, value in given}) > 1:
        shown = " and ".join(dict.fromkeys(spelling for spelling, _ in given))
        raise click.UsageError(f"{shown} ask for different {setting}s; give one", ctx=context)
    return value


def _meaning(parameter: click.Parameter, value: Any) -> tuple[str, str, str]:
    """(the setting, its value, how the flag is spelled in messages) of a given log flag."""
    if parameter.name == "quiet":
        return "log level", "warning", _QUIET
    if parameter.name == "verbose":
        return "log level", "debug", _VERBOSE
    if parameter.name == "log_level":
        return "log level", str(value).lower(), f"--log-level {str(value).lower()}"
    return "log format", str(value), f"--log-format {value}"


def requested_logging() -> dict[str, str]:
    """The log settings the flags of this invocation ask for, as ``load_settings`` names them:
    ``log_level`` and ``log_format``, each only when given."""
    context = click.get_current_context(silent=True)
    if context is None:
        return {}
    requested: Mapping[str, list[tuple[str, str]]] = context.find_root().meta.get(_REQUESTED, {})
    names = {"log level": "log_level", "log format": "log_format"}
    return {names[setting]: given[-1][1] for setting, given in requested.items() if given}


def verbose_requested() -> bool:
    """Whether this invocation asked for debug detail (``-v`` or ``--log-level debug``): the
    commands that can say more on stdout (``validate`` lists what it ignored) say it then."""
    return requested_logging().get("log_level") == "debug"


def add_logging_parameters(command: click.Command) -> None:
    """Give ``command``, and every command under it when it is a group, the log flags, unless
    it has them already."""
    if not any(parameter.name == "log_level" for parameter in command.params):
        command.params.extend(logging_parameters())
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            add_logging_parameters(subcommand)


def switch_off_colour(context: click.Context, environ: Mapping[str, str]) -> None:
    """Make every styled line of this invocation plain when ``environ`` sets ``NO_COLOR``.

    Called from the root group before its subcommand's context exists, which inherits it.
    """
    if no_color(environ):
        context.color = False


def colour_allowed() -> bool:
    """Whether this invocation may colour its output at all (it still needs a terminal)."""
    context = click.get_current_context(silent=True)
    return context is None or context.color is not False


@contextmanager
def progress(
    total: int, log: LogSettings, *, shown: bool = True, stream: TextIO | None = None
) -> Iterator[Progress | None]:
    """A progress bar on stderr for a pass over ``total`` functions, drawn only when a person
    is watching and wants it: at least ``PROGRESS_MINIMUM`` functions, stderr a terminal, not
    ``-q``, no ``NO_COLOR``, and ``shown`` (False for ``--output json``)."""
    stream = stream if stream is not None else sys.stderr
    wanted = shown and log.chatty and colour_allowed() and total >= PROGRESS_MINIMUM
    if not wanted or not stream.isatty():
        yield None
        return
    with click.progressbar(length=total, label="observing", file=stream) as bar:
        yield lambda _name: bar.update(1)


def printable(text: Any) -> str:
    """``text`` with every control and format character (ANSI escapes, bidirectional
    overrides) replaced, so that it prints as the characters it holds: what a command shows of
    another program's data (a controller's status, a registry's names) cannot move the cursor
    or recolour the terminal of whoever reads it."""
    return "".join(
        "\N{REPLACEMENT CHARACTER}"
        if unicodedata.category(character) in _UNPRINTABLE
        else character
        for character in str(text)
    )


_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs"})
"""Control characters, format characters (bidirectional overrides) and lone surrogates, which
JSON can carry and stdout cannot encode."""

"""``lambda-gitops status``: what a running controller reports, read from its ``/status``.

It reads like ``argocd app get``: a header (the repository, ref and revision, the mode, the last
pass and how it went, the source's and the last pass's error, how many declarations are
invalid; who leads, which shard this is and how its change events' queues stand, when the
controller says), then one row per function, sorted by name: its region, status, drifted
aliases, the revision last applied and the last error, cut to one line. A column of the aliases
changed out of band is added when the controller reports them, one of the shard that owns each
function with sharding, and one of each alias's rollout (step, weight, target, phase) when any
function has one. Statuses are coloured on a terminal, and never with ``NO_COLOR``
or in a pipe (``click.echo`` strips the styles there).
``--output json`` prints the document as received, indented.

Every text the controller sent is printed with its control characters replaced, so that a
status cannot move the cursor or recolour the terminal of whoever reads it.

Exit 0 when the controller answered with its status, whatever the status says; 1 when it could
not be reached, answered other than 200, or answered something that is not a status document,
with one ``error:`` line saying which; 2 for a usage error, such as a URL that is not http(s).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC

import click

from controller.adapters.http.status_client import (
    ElectionReport,
    EventsReport,
    FunctionReport,
    Moment,
    QueueReport,
    RolloutReport,
    ShardReport,
    StatusReport,
    read_status,
    status_url,
)
from controller.cli.common import configure_logging_from_flags, reported_errors
from controller.cli.output import printable
from controller.errors import ConfigurationError
from controller.review.plans import counted

ERROR_WIDTH = 60
"""A last error is cut to this many characters in the table; ``--output json`` has it whole."""
ALIASES_WIDTH = 30
ROLLOUT_WIDTH = 60
REVISION_WIDTH = 7
NONE = "-"

STATUS_COLOURS = {
    "synced": "green",
    "drifted": "yellow",
    "progressing": "cyan",
    "error": "red",
    "suspended": "magenta",
}
OUTCOME_COLOURS = {"success": "green", "failure": "red"}
ROLLOUT_COLOURS = {"failed": "red", "paused": "yellow", "progressing": "cyan"}
"""A rollout cell's colour, from the first of these phases among its aliases'."""


def _checked_url(context: click.Context, parameter: click.Parameter, url: str) -> str:
    try:
        status_url(url)
    except ConfigurationError as error:
        raise click.BadParameter(str(error), ctx=context, param=parameter) from None
    return url


@click.command("status", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    required=True,
    callback=_checked_url,
    help="The controller's address, such as http://127.0.0.1:8080 (/status is added).",
)
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the whole answer.",
)
def status_command(url: str, output: str, timeout: float) -> None:
    """Show what a running controller reports: its revision, last pass and every function.

    Exit 0 when the controller answered, 1 when it could not be reached or did not answer with
    its status.
    """
    with reported_errors():
        configure_logging_from_flags()
        document = read_status(url, timeout=timeout)
    if output == "json":
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(status_text(StatusReport.from_document(document), now=time.time()), nl=False)


# -- the text -------------------------------------------------------------------------------------


def status_text(report: StatusReport, *, now: float) -> str:
    """The header and the table of functions, with ANSI styles that ``click.echo`` keeps only
    where colour is wanted."""
    lines = _header(report, now)
    lines.append("")
    if report.functions:
        lines += _table(report)
    else:
        lines.append("No functions reported.")
    return "\n".join(lines) + "\n"


def _header(report: StatusReport, now: float) -> list[str]:
    invalid = len(report.declaration_errors)
    fields: list[tuple[str, str]] = [
        ("Repository", _shown(report.repository)),
        ("Ref", _shown(report.ref)),
        ("Revision", _shown(report.revision)),
        ("Mode", _shown(report.mode)),
        ("Last pass", _last_pass(report, now)),
        ("Last fetch", _when(report.last_fetch_at, now)),
        ("Source error", _error_text(report.source_error)),
        ("Last pass error", _error_text(report.last_pass_error)),
        (
            "Declaration errors",
            click.style(str(invalid), fg="red") if invalid else str(invalid),
        ),
    ]
    if report.election is not None:
        fields.append(("Leader", _leader(report.election, now)))
    if report.sharding is not None:
        fields.append(("Shard", _shard(report.sharding)))
    if report.events is not None:
        fields.append(("Change events", _events(report.events)))
        fields += [("Events queue", _queue(queue, now)) for queue in report.events.queues]
    width = max(len(label) for label, _ in fields) + 2
    return [f"{label + ':':<{width}}{value}" for label, value in fields]


def _leader(election: ElectionReport, now: float) -> str:
    """``pod-a since 2024-05-01T12:00:00Z (3m ago), this replica``; a follower says so, since
    its own header is then empty of passes."""
    if election.waiting_for is not None and not election.leading:
        waiting = printable(election.waiting_for)
        return f"none: waiting for another topology's shards to stop ({waiting})"
    if election.leader is None:
        return "none"
    since = f" since {_when(election.leader_since, now)}" if election.leader_since else ""
    who = (
        "this replica"
        if election.leading
        else f"this replica ({_shown(election.identity)}) follows"
    )
    return f"{election.leader}{since}, {who}"


def _shard(sharding: ShardReport) -> str:
    """``1 of 3, 10 functions``."""
    owned = f", {printable(sharding.functions)} functions" if sharding.functions else ""
    return f"{_shown(sharding.shard)} of {_shown(sharding.shards)}{owned}"


def _events(events: EventsReport) -> str:
    """``1 queue; 2 functions in the merge window, 1 reconcile requested``, or ``1 queue; none
    pending``."""
    pending = [
        f"{counted(number, noun)} {what}"
        for number, noun, what in (
            (events.waiting, "function", "in the merge window"),
            (events.requested, "reconcile", "requested"),
        )
        if number
    ]
    return f"{counted(len(events.queues), 'queue')}; {', '.join(pending) or 'none pending'}"


def _queue(queue: QueueReport, now: float) -> str:
    """``URL: receiving since T, last message T``, or, in red, ``URL: unavailable since T:
    ERROR``."""
    since = f" since {_when(queue.since, now)}" if queue.since is not None else ""
    text = f"{_shown(queue.url)}: {_shown(queue.state)}{since}"
    if queue.state == "unavailable" or queue.error:
        return click.style(f"{text}: {_cut(queue.error or NONE, ERROR_WIDTH)}", fg="red")
    if queue.last_received_at is not None:
        text += f", last message {_when(queue.last_received_at, now)}"
    return text


def _last_pass(report: StatusReport, now: float) -> str:
    outcome = report.last_pass_outcome
    if outcome is None:
        return "none yet"
    parts = [_when(report.last_pass_at, now)]
    if report.last_pass_seconds is not None:
        parts.append(f"took {report.last_pass_seconds:.2f} s")
    parts.append(click.style(outcome, fg=OUTCOME_COLOURS[outcome]))
    if report.last_pass_reasons:
        parts.append(f"triggered by {printable(', '.join(report.last_pass_reasons))}")
    return ", ".join(parts)


def _when(moment: Moment | None, now: float) -> str:
    """``2024-05-01T12:00:00Z (3m ago)``; a time of a form not understood, as it was sent."""
    if moment is None:
        return NONE
    if isinstance(moment, str):
        return printable(moment)
    try:
        stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        seconds = now - moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return printable(moment.isoformat())
    return f"{stamp} ({_ago(seconds)})"


def _ago(seconds: float) -> str:
    if seconds < 0:
        return f"{_duration(-seconds)} from now"
    if seconds < 1:
        return "just now"
    return f"{_duration(seconds)} ago"


def _duration(seconds: float) -> str:
    whole = int(seconds)
    for size, unit, smaller, smaller_unit in (
        (86400, "d", 3600, "h"),
        (3600, "h", 60, "m"),
        (60, "m", 1, "s"),
    ):
        if whole >= size:
            rest = (whole % size) // smaller
            return f"{whole // size}{unit}" + (f"{rest}{smaller_unit}" if rest else "")
    return f"{whole}s"


def _error_text(error: str | None) -> str:
    return click.style(printable(error), fg="red") if error else NONE


def _table(report: StatusReport) -> list[str]:
    sharded = any(function.shard is not None for function in report.functions)
    headings = ["NAME", "REGION", *(["SHARD"] if sharded else []), "STATUS", "DRIFTED", "APPLIED"]
    if report.reports_aliases:
        headings.append("OUT OF BAND")
    rolling = any(function.rollouts for function in report.functions)
    if rolling:
        headings.append("ROLLOUT")
    headings.append("LAST ERROR")
    rows = [
        _row(function, aliases=report.reports_aliases, sharded=sharded, rolling=rolling)
        for function in report.functions
    ]
    widths = [
        max(len(heading), *(len(row[column][0]) for row in rows))
        for column, heading in enumerate(headings)
    ]
    lines = [_line([(heading, None) for heading in headings], widths)]
    lines += [_line(row, widths) for row in rows]
    return lines


Cell = tuple[str, str | None]
"""A cell's text and its colour."""


def _row(
    function: FunctionReport, *, aliases: bool, sharded: bool = False, rolling: bool = False
) -> list[Cell]:
    status = function.status
    revision = function.last_applied_revision
    cells: list[Cell] = [
        (printable(function.key), None),
        (_shown(function.region), None),
        *([(_shown(function.shard), None)] if sharded else []),
        (_shown(status), STATUS_COLOURS.get(status or "")),
        (_cut(", ".join(function.drifted_aliases), ALIASES_WIDTH) or NONE, None),
        (printable(revision[:REVISION_WIDTH]) if revision else NONE, None),
    ]
    if aliases:
        changed = ", ".join(function.out_of_band_aliases or ())
        cells.append((_cut(changed, ALIASES_WIDTH) or NONE, "yellow" if changed else None))
    if rolling:
        cells.append(_rollout_cell(function.rollouts))
    error = function.last_error
    cells.append((_cut(error, ERROR_WIDTH) if error else NONE, "red" if error else None))
    return cells


def _rollout_cell(rollouts: Sequence[RolloutReport]) -> Cell:
    """``live 2/4 25% to 7 progressing``, one an alias, coloured by the worst phase: red when
    one failed, yellow when one is paused."""
    if not rollouts:
        return NONE, None
    shown = []
    for rollout in rollouts:
        step = f"{_shown(_text_of(rollout.step))}/{_shown(_text_of(rollout.steps))}"
        weight = f"{rollout.weight * 100:.4g}%" if rollout.weight is not None else NONE
        shown.append(
            f"{rollout.alias} {step} {weight} to {_shown(rollout.target)} {_shown(rollout.phase)}"
        )
    phases = {rollout.phase for rollout in rollouts}
    colour = next((ROLLOUT_COLOURS[phase] for phase in ROLLOUT_COLOURS if phase in phases), None)
    return _cut("; ".join(shown), ROLLOUT_WIDTH), colour


def _text_of(number: int | None) -> str | None:
    return None if number is None else str(number)


def _line(cells: Sequence[Cell], widths: Sequence[int]) -> str:
    """The cells coloured, then padded to their columns, so that styles do not count as width."""
    shown = []
    for (text, colour), width in zip(cells, widths, strict=True):
        styled = click.style(text, fg=colour) if colour else text
        shown.append(styled + " " * (width - len(text)))
    return "  ".join(shown).rstrip()


def _shown(value: str | None) -> str:
    return printable(value) if value else NONE


def _cut(text: str, width: int) -> str:
    """``text`` on one line and printable, cut to ``width`` characters."""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= width else flat[: width - 1] + "…"

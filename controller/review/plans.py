"""Plans and pass results for people (a ``terraform plan``-like text) and for programs (JSON).

The text groups actions by function with ``+ ~ -`` marks and ends with a summary line. Colour is
added with ANSI styles that ``click.echo`` strips when the output is not a terminal.

With sharding (``PlanShards``), each function shown says which shard owns it, a line before the
summary counts the functions of each shard, and the JSON has each function's ``shard``; without
it the plan says nothing of shards at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import click

from controller.core.configuration import as_document, describe
from controller.core.model import RepoZip
from controller.core.plan import (
    ADOPT_DRIFT,
    Action,
    AliasDrift,
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    FunctionPlan,
    Plan,
    PublishVersion,
    RetentionView,
    RolloutView,
    Target,
    UpdateAlias,
    action_kind,
)
from controller.core.sharding import Sharding
from controller.engine.applier import FunctionOutcome

_MARKS = {
    "publish": ("+", "green"),
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "delete": ("-", "red"),
    "delete_version": ("-", "red"),
}


# -- text -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanSource:
    """Where a plan's declarations were read: a commit that a ref named, or the files on disk.

    A plan of the working tree includes edits nobody has committed, which the controller would
    never apply as they are; its heading says so, so that the output cannot be taken for a
    plan of what is in Git.
    """

    ref: str | None = None
    """The ref the commit was read at (``HEAD``, ``main``); ``None`` for the working tree."""
    folder: str | None = None
    """The folder read from disk, for a plan of the working tree."""

    @property
    def worktree(self) -> bool:
        return self.folder is not None

    def heading(self, revision: str) -> str:
        if self.folder is not None:
            return (
                f"Plan of the working tree at {self.folder}: files as they are on disk, "
                "uncommitted edits included; not a commit"
            )
        at = f" (commit of {self.ref})" if self.ref and self.ref != revision else ""
        return f"Plan at revision {revision[:12] or '(folder)'}{at}"

    def as_json(self, revision: str) -> dict[str, str | None]:
        if self.folder is not None:
            return {"kind": "worktree", "folder": self.folder, "revision": None, "ref": None}
        return {"kind": "commit", "folder": None, "revision": revision, "ref": self.ref}


@dataclass(frozen=True, slots=True)
class PlanShards:
    """How the fleet is sharded, for a plan that says which shard owns each function."""

    sharding: Sharding
    shard: int | None = None
    """The one shard the plan was restricted to; ``None``: every shard's functions."""

    def owner(self, function_plan: FunctionPlan) -> int:
        return self.sharding.owner_of(function_plan.ref.identity)

    def line(self, plan: Plan) -> str:
        """``Shards: 4; shard 0 owns 8 functions, shard 1 owns 7 functions, ...``, or for a plan
        of one shard ``Shard 2 of 4: 9 functions; the other shards' are left out.``"""
        count = Counter(self.owner(function_plan) for function_plan in plan.functions)
        if self.shard is not None:
            return (
                f"Shard {self.shard} of {self.sharding.shards}: "
                f"{counted(count[self.shard], 'function')}; the other shards' are left out."
            )
        owned = ", ".join(
            f"shard {shard} owns {counted(count[shard], 'function')}"
            for shard in range(self.sharding.shards)
        )
        return f"Shards: {self.sharding.shards}; {owned}."


def counted(number: int, noun: str) -> str:
    """``1 version``, ``3 versions``, ``2 aliases``: a number and its noun, in the plural unless
    the number is 1; the words every command's output counts things in."""
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{number} {noun if number == 1 else plural}"


def plan_text(
    plan: Plan,
    declaration_errors: Sequence[str] = (),
    source: PlanSource | None = None,
    shards: PlanShards | None = None,
) -> str:
    """The plan as a person reads it: where it was read, per function what changes, then a
    summary line; with ``shards``, the shard of each function and of the fleet's functions."""
    heading = (source or PlanSource()).heading(plan.revision)
    lines = [click.style(heading, bold=True), ""]
    for function_plan in plan.functions:
        lines += _function_text(function_plan, shards)
    if declaration_errors:
        lines.append(click.style("Invalid declarations (those functions are left as they are):"))
        lines += [click.style(f"  ! {error}", fg="red") for error in declaration_errors]
        lines.append("")
    if shards is not None:
        lines.append(shards.line(plan))
    lines.append(summary_line(plan, len(declaration_errors)))
    return "\n".join(lines) + "\n"


def summary_line(plan: Plan, invalid: int = 0) -> str:
    counts = Counter(
        action_kind(action) for function in plan.functions for action in function.actions
    )
    errors = sum(1 for function in plan.functions if function.error is not None) + invalid
    if not counts and not errors and plan.in_sync:
        return click.style("No changes: every alias matches its declaration.", fg="green")
    parts = [
        f"{counts['publish']} to publish",
        f"{counts['create']} to create",
        f"{counts['update']} to update",
        f"{counts['delete']} to delete",
    ]
    if counts["delete_version"]:
        parts.append(counted(counts["delete_version"], "version") + " to delete")
    suffix = f"; {errors} in error" if errors else ""
    return click.style(f"Plan: {', '.join(parts)}{suffix}.", bold=True)


def _function_text(function_plan: FunctionPlan, shards: PlanShards | None = None) -> list[str]:
    under_way = [view for view in function_plan.rollouts if view.under_way]
    retention = function_plan.retention
    held = retention is not None and bool(retention.held)
    if function_plan.in_sync and not under_way and not held:
        return []
    function = function_plan.function
    ref = function_plan.ref
    where = ref.region if ref.name == function.name else f"{ref.name}, {ref.region}"
    header = f"{function.name} ({where})"
    if shards is not None:
        header += click.style(f"  [shard {shards.owner(function_plan)}]", fg="blue")
    if function_plan.suspended:
        header += click.style("  [suspended: drift reported, nothing written]", fg="cyan")
    lines = [click.style(header, bold=True)]
    if function_plan.error is not None:
        lines.append(click.style(f"  ! {function_plan.error}", fg="red"))
    drift = {entry.alias: entry for entry in function_plan.drift}
    for action in function_plan.actions:
        lines.append(_action_text(action, drift))
    if function_plan.suspended or not function_plan.actions:
        lines += [_drift_text(entry) for entry in function_plan.drift]
    lines += [_rollout_text(view) for view in function_plan.rollouts if view.phase != "succeeded"]
    if retention is not None and retention.held:
        lines.append(_retention_text(retention))
    return [*lines, ""]


_LISTED = 10
"""Version numbers a retention note lists before it says how many more."""


def _retention_text(view: RetentionView) -> str:
    """``· 3 versions beyond retainVersions 5 kept: scope.delete_versions is off (1, 2, 3)``."""
    numbers = ", ".join(str(number) for number in view.held[:_LISTED])
    if len(view.held) > _LISTED:
        numbers += f" and {len(view.held) - _LISTED} more"
    return click.style(
        f"  · {counted(len(view.held), 'version')} beyond retainVersions {view.keep} kept: "
        f"{view.reason} ({numbers})",
        fg="cyan",
    )


def _rollout_text(view: RolloutView) -> str:
    """``» rollout live to 7: step 1 of 3, 10% of traffic: step 1 at 0.1, 240 s left``."""
    where = f"step {view.step} of {len(view.rollout.steps)}" if view.state else "not started"
    phase = f" ({view.phase})" if view.phase not in (None, "progressing") else ""
    share = f"{float(view.weight) * 100:g}% of traffic"
    return click.style(
        f"  » rollout {view.alias} to {view.target}: {where}{phase}, {share}: {view.reason}",
        fg="magenta",
    )


def _action_text(action: Action, drift: Mapping[str, AliasDrift]) -> str:
    mark, colour = _MARKS[action_kind(action)]
    match action:
        case PublishVersion():
            published = [action.code_sha256, *describe(action.configuration, action.secrets)]
            text = f"publish {action.label} ({', '.join(published)})"
            if action.update_code is not None:
                text += f" after updating $LATEST from {_code_text(action)}"
        case CreateAlias():
            text = f"alias {action.name} -> {_target_text(action.version, action.routing)}"
        case UpdateAlias():
            entry = drift.get(action.name)
            changes = entry.changes if entry is not None else ()
            details = "; ".join(f"{c.field} {c.live} -> {c.desired}" for c in changes)
            if entry is not None and entry.kind == ADOPT_DRIFT:
                details = "ownership marker added (adopt)"
            text = f"alias {action.name}: {details or 'rewrite'}"
        case DeleteAlias():
            text = f"alias {action.name} (pruned: managed here, no longer declared)"
        case DeleteVersion():
            text = f"version {action.number} ({action.reason})"
    return click.style(f"  {mark} {text}", fg=colour)


def _drift_text(entry: AliasDrift) -> str:
    if entry.kind == ADOPT_DRIFT:
        return click.style(f"  ? alias {entry.alias}: ownership marker to add (adopt)", fg="cyan")
    details = "; ".join(f"{c.field} {c.live} -> {c.desired}" for c in entry.changes)
    return click.style(f"  ? alias {entry.alias} {entry.kind}: {details}".rstrip(": "), fg="cyan")


def _code_text(action: PublishVersion) -> str:
    code = action.update_code
    if isinstance(code, RepoZip):
        return code.path
    assert code is not None
    return f"s3://{code.bucket}/{code.key}"


def _target_text(version: Target, routing: Mapping[Target, Decimal]) -> str:
    shares = "".join(f" + {float(share) * 100:g}% to {target}" for target, share in routing.items())
    return f"{version}{shares}"


_OUTCOME_COLOURS = {"applied": "green", "failed": "red", "skipped": "yellow"}


def outcomes_text(outcomes: Iterable[FunctionOutcome]) -> str:
    """What a reconcile did, per function: each action's outcome, then errors."""
    lines = []
    for outcome in outcomes:
        if not outcome.actions and outcome.converged:
            continue
        status = (
            click.style("converged", fg="green")
            if outcome.converged
            else click.style("failed", fg="red")
        )
        lines.append(click.style(f"{outcome.function.name}: ", bold=True) + status)
        for done in outcome.actions:
            colour = _OUTCOME_COLOURS[done.outcome]
            lines.append(click.style(f"  {done.outcome}: {done.detail}", fg=colour))
        if outcome.error is not None:
            lines.append(click.style(f"  ! {outcome.error}", fg="red"))
    return "\n".join(lines) + ("\n" if lines else "")


# -- JSON -----------------------------------------------------------------------------------------


def plan_json(
    plan: Plan,
    declaration_errors: Sequence[str] = (),
    source: PlanSource | None = None,
    shards: PlanShards | None = None,
) -> dict[str, Any]:
    read_from = source or PlanSource()
    functions = [_function_json(function_plan) for function_plan in plan.functions]
    document: dict[str, Any] = {
        "revision": None if read_from.worktree else plan.revision,
        "source": read_from.as_json(plan.revision),
        "inSync": plan.in_sync and not declaration_errors,
        "functions": functions,
        "declarationErrors": list(declaration_errors),
    }
    if shards is not None:
        for entry, function_plan in zip(functions, plan.functions, strict=True):
            entry["shard"] = shards.owner(function_plan)
        document["sharding"] = {"shards": shards.sharding.shards, "shard": shards.shard}
    return document


def _function_json(function_plan: FunctionPlan) -> dict[str, Any]:
    return {
        "name": function_plan.function.name,
        "function": function_plan.ref.name,
        "region": function_plan.ref.region,
        "suspended": function_plan.suspended,
        "inSync": function_plan.in_sync,
        "error": function_plan.error,
        "actions": [_action_json(action) for action in function_plan.actions],
        "drift": [
            {
                "alias": entry.alias,
                "kind": entry.kind,
                "changes": [
                    {"field": c.field, "live": c.live, "desired": c.desired} for c in entry.changes
                ],
            }
            for entry in function_plan.drift
        ],
        "rollouts": [_rollout_json(view) for view in function_plan.rollouts],
        "retention": _retention_json(function_plan.retention),
    }


def _retention_json(view: RetentionView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "keep": view.keep,
        "versions": view.versions,
        "protected": [str(number) for number in view.protected],
        "deleted": [str(number) for number in view.deleted],
        "held": [str(number) for number in view.held],
        "reason": view.reason or None,
    }


def _rollout_json(view: RolloutView) -> dict[str, Any]:
    state = view.state
    return {
        "alias": view.alias,
        "target": view.target,
        "stable": view.stable,
        "phase": view.phase or "waiting",
        "step": view.step,
        "steps": len(view.rollout.steps),
        "weight": float(view.weight),
        "reason": view.reason,
        "stepStartedAt": state.started if state is not None else None,
        "stepEndsAt": view.step_ends,
        "failedChecks": state.failures if state is not None else 0,
    }


def _action_json(action: Action) -> dict[str, Any]:
    kind = action_kind(action)
    match action:
        case PublishVersion():
            return {
                "action": kind,
                "label": action.label,
                "codeSha256": action.code_sha256,
                "updateCode": None if action.update_code is None else _code_text(action),
                "configuration": as_document(action.configuration, action.secrets),
                "secrets": sorted(action.secrets),
            }
        case CreateAlias() | UpdateAlias():
            return {
                "action": kind,
                "alias": action.name,
                "version": str(action.version),
                "routing": {str(target): float(w) for target, w in action.routing.items()},
            }
        case DeleteAlias():
            return {"action": kind, "alias": action.name}
        case DeleteVersion():
            return {"action": kind, "version": str(action.number), "reason": action.reason}

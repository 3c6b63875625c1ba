"""What a change to the declarations does, in words: Markdown, JSON and text.

``review.compare`` says what changes as data; this module says it to people. Markdown is for a
pull-request comment (a summary table first, details per function after, long lists folded),
JSON for programs, and plain text for a terminal. The plans of a ``LiveView`` are shown with
the same words ``plan`` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import click

from controller.core import configuration
from controller.core.model import DeclaredCode, DesiredVersion, RepoZip, RetainVersions
from controller.core.plan import Plan
from controller.review import plans
from controller.review.compare import (
    AliasChange,
    AliasState,
    DeclarationsDiff,
    FunctionDiff,
    LiveView,
    RetentionChange,
    Target,
    VersionChange,
    percent,
)

MARKER = "<!-- lambda-gitops diff -->"
"""The first line of the Markdown: a workflow finds its earlier comment by it and edits it."""

FOLD_AFTER = 6
"""A Markdown list longer than this is folded into ``<details>``, so that a comment about a
large change still opens on the summary table."""


# -- words shared by the renderers ---------------------------------------------------------------


def summary(diff: FunctionDiff, arrow: str = "→") -> str:
    """One line for the summary table: ``live r41 → r42; +1 version``."""
    versions, aliases = diff.declared
    declared = f"{plans.counted(versions, 'version')}, {plans.counted(aliases, 'alias')}"
    match diff.status:
        case "added":
            return f"{'valid again' if diff.was_invalid else 'new function'}: {declared}"
        case "removed":
            return "no longer declared: the controller stops managing it, deletes nothing"
        case "invalid":
            return f"invalid at head ({plans.counted(len(diff.errors), 'error')}): left as it is"
        case "unreadable":
            return f"{diff.head_file or diff.base_file} does not parse at head: left as it is"
    parts = [_alias_summary(change, arrow) for change in diff.aliases]
    parts += _versions_summary(diff.versions)
    parts += [f"{s.field} {'on' if s.after else 'off'}" for s in diff.settings]
    if diff.retention is not None:
        parts.append(_retention_text(diff.retention, arrow))
    if diff.previous_name is not None:
        parts.append(f"renamed from {diff.previous_name}")
    if diff.moved:
        parts.append(f"moved to {diff.head_file}")
    if parts == [f"moved to {diff.head_file}"]:
        parts.append("no change to the function")
    return "; ".join(parts)


def _retention_text(change: RetentionChange, arrow: str) -> str:
    """``retainVersions 10 → 3``; ``default`` for none declared (the controller's setting)."""
    return f"retainVersions {_retained(change.before)} {arrow} {_retained(change.after)}"


def _retained(value: RetainVersions) -> str:
    return "default" if value is None else str(value)


def _detailed(target: Target) -> str:
    return (
        f"{target.version} ({_short(target.code_sha256)})" if target.code_sha256 else target.version
    )


def _alias_summary(change: AliasChange, arrow: str) -> str:
    if change.after is None:
        return f"-{change.name}" + (" (pruned)" if change.pruned else "")
    if change.before is None:
        return f"+{change.name} {arrow} {_state_text(change.after, detailed=False)}"
    return f"{change.name} " + ", ".join(_alias_parts(change, arrow, detailed=False))


def _alias_parts(change: AliasChange, arrow: str, *, detailed: bool) -> list[str]:
    """What changed in an alias present at both revisions, one phrase per field."""
    assert change.before is not None
    assert change.after is not None
    before, after = change.before, change.after
    show: Callable[[Target], str] = _detailed if detailed else str
    parts = []
    if "version" in change.fields:
        if before.target.version == after.target.version:
            other = "code" if before.target.code_sha256 != after.target.code_sha256 else None
            parts.append(f"{after.target} now declares other {other or 'configuration'}")
            if detailed:
                parts[-1] += f" ({show(before.target)} {arrow} {show(after.target)})"
        else:
            parts.append(f"{show(before.target)} {arrow} {show(after.target)}")
    if "routing" in change.fields:
        parts.append(_routing_change(before.routing, after.routing, arrow))
    if "rollout" in change.fields:
        parts.append(
            f"rollout {after.rollout or 'removed'}"
            if not before.rollout or not after.rollout or not detailed
            else f"rollout {before.rollout} {arrow} {after.rollout}"
        )
    if "approve" in change.fields:
        parts.append(f"approve {before.approve} {arrow} {after.approve}")
    if "skip" in change.fields:
        parts.append("skips its rollout" if after.skip else "no longer skips its rollout")
    if "description" in change.fields:
        parts.append(
            f"description {_quoted(before.description)} {arrow} {_quoted(after.description)}"
            if detailed
            else "description"
        )
    return parts


def _routing_change(
    before: Mapping[Target, Decimal], after: Mapping[Target, Decimal], arrow: str
) -> str:
    if not before:
        return _routes(after, sign="+")
    if not after:
        return f"routing cleared (was {_routes(before)})"
    if before.keys() == after.keys() and len(after) == 1:
        (target,) = after
        return f"{percent(before[target])} {arrow} {percent(after[target])} to {target}"
    return f"routing {_routes(before)} {arrow} {_routes(after)}"


def _routes(routing: Mapping[Target, Decimal], sign: str = "") -> str:
    return ", ".join(f"{sign}{percent(share)} to {target}" for target, share in routing.items())


def _state_text(state: AliasState, *, detailed: bool) -> str:
    text = _detailed(state.target) if detailed else str(state.target)
    if state.routing:
        text += " + " + _routes(state.routing)
    if state.rollout:
        text += f" by rollout ({state.rollout})"
    return text


def _versions_summary(versions: Sequence[VersionChange]) -> list[str]:
    added = sum(1 for v in versions if v.change == "added")
    removed = sum(1 for v in versions if v.change == "removed")
    parts = []
    if added:
        parts.append(f"+{plans.counted(added, 'version')}")
    if removed:
        parts.append(f"-{plans.counted(removed, 'version')}")
    for version in versions:
        if version.change == "changed":
            what = "code" if "codeSha256" in version.fields else ", ".join(version.fields)
            parts.append(f"{version.label} {what} changed")
    return parts


def _version_text(change: VersionChange, arrow: str) -> str:
    if change.change != "changed":
        declared = change.after or change.before
        assert declared is not None
        mark = "+" if change.change == "added" else "-"
        text = f"{mark} {change.label} {declared.code_sha256}"
        if declared.description:
            text += f" {_quoted(declared.description)}"
        if declared.code is not None:
            text += f" from {_code_text(declared.code)}"
        configured = configuration.describe(declared.configuration, declared.secrets)
        if configured:
            text += f" with {', '.join(configured)}"
        return text
    assert change.before is not None
    assert change.after is not None
    before, after = change.before, change.after
    parts = []
    if "codeSha256" in change.fields:
        parts.append(f"codeSha256 {before.code_sha256} {arrow} {after.code_sha256}")
    if "description" in change.fields:
        old, new = _quoted(before.description or ""), _quoted(after.description or "")
        parts.append(f"description {old} {arrow} {new}")
    if "code" in change.fields:
        parts.append(f"code {_code_text(before.code)} {arrow} {_code_text(after.code)}")
    if "configuration" in change.fields:
        parts += _configuration_changes(before, after, arrow)
    return f"~ {change.label}: " + "; ".join(parts)


def _configuration_changes(before: DesiredVersion, after: DesiredVersion, arrow: str) -> list[str]:
    """Each configuration field that changed; a variable secret at either revision shows no
    value, and one that only became secret or not says so."""
    secrets = before.secrets | after.secrets
    phrases = configuration.changes(before.configuration, after.configuration, secrets, arrow)
    for variable in sorted(before.secrets ^ after.secrets):
        marked = "marked secret" if variable in after.secrets else "no longer secret"
        phrases.append(f"environment.{variable} {marked}")
    return phrases


def _alias_text(change: AliasChange, arrow: str) -> str:
    if change.before is None:
        assert change.after is not None
        text = f"+ {change.name} {arrow} {_state_text(change.after, detailed=True)}"
        if change.after.description:
            text += f" {_quoted(change.after.description)}"
        return text
    if change.after is None:
        outcome = (
            "deleted by the controller (prune: true) if it created the alias"
            if change.pruned
            else "stays live, no longer managed (prune is off)"
        )
        return f"- {change.name} (was {_state_text(change.before, detailed=False)}): {outcome}"
    return f"~ {change.name}: " + "; ".join(_alias_parts(change, arrow, detailed=True))


def _function_lines(diff: FunctionDiff, arrow: str) -> tuple[list[str], list[str], list[str]]:
    """General notes, alias lines and version lines of one function's details."""
    notes = []
    if diff.moved:
        notes.append(f"Moved from {diff.base_file} to {diff.head_file}.")
    if diff.previous_name is not None:
        notes.append(f"metadata.name {diff.previous_name} {arrow} {diff.name}.")
    notes += [
        f"{s.field}: {str(s.before).lower()} {arrow} {str(s.after).lower()}" for s in diff.settings
    ]
    if diff.retention is not None:
        notes.append(
            f"{_retention_text(diff.retention, arrow)}: the controller keeps the newest "
            f"{_kept(diff.retention.after)} published versions, and deletes older ones no alias "
            "or declaration names when its scope.delete_versions allows"
        )
    if diff.status == "invalid":
        notes.append("Invalid at head: the controller leaves it as it is until this is fixed.")
        notes += diff.errors
    elif diff.status == "unreadable":
        notes.append(
            f"{diff.head_file} does not parse at head: the controller keeps this function as it "
            "was and does not read it as removed."
        )
    elif diff.status == "removed":
        notes.append(
            f"No longer declared (was in {diff.base_file}): the controller stops managing it; "
            "its versions and aliases stay live."
        )
    aliases = [_alias_text(change, arrow) for change in diff.aliases]
    versions = [_version_text(change, arrow) for change in diff.versions]
    return notes, aliases, versions


def _kept(value: RetainVersions) -> str:
    if value is None:
        return "N (its retain_versions setting, if set; else all)"
    return "all" if isinstance(value, str) else str(value)


def _short(code_sha256: str | None) -> str:
    return f"{code_sha256[:8]}…" if code_sha256 else ""


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _code_text(code: DeclaredCode | None) -> str:
    if code is None:
        return "(none)"
    if isinstance(code, RepoZip):
        return code.path
    version = f"?versionId={code.object_version}" if code.object_version else ""
    return f"s3://{code.bucket}/{code.key}{version}"


def _title(diff: FunctionDiff) -> str:
    where = (
        diff.region
        if diff.function_name in ("", diff.name)
        else f"{diff.function_name}, {diff.region}"
    )
    return f"{diff.name} ({where})" if where else diff.name


def _headline(diff: DeclarationsDiff) -> str:
    changed = plans.counted(len(diff.functions), "function")
    return f"{changed} changed, {diff.unchanged} unchanged"


# -- Markdown ----------------------------------------------------------------------------------


def to_markdown(diff: DeclarationsDiff, live: LiveView | None = None) -> str:
    """A pull-request comment: the marker, a summary table, errors, then details per function."""
    lines = [
        MARKER,
        "## lambda-gitops diff",
        "",
        f"Declarations at `{diff.base[:12]}` → `{diff.head[:12]}`: {_headline(diff)}.",
        "",
    ]
    if diff.functions:
        lines += ["| Function | Change |", "| --- | --- |"]
        lines += [f"| {_md_title(d)} | {_md(summary(d))} |" for d in diff.functions]
        lines.append("")
    else:
        lines += ["No declared function changes.", ""]
    if diff.errors:
        lines += [
            f"### :x: {plans.counted(len(diff.errors), 'error')} at head",
            "",
            "The functions they concern are left as they are until they are fixed; "
            "`lambda-gitops validate` fails on them.",
            "",
        ]
        lines += _md_list([f"`{_md_code(error)}`" for error in diff.errors], "Errors")
    for function in diff.functions:
        lines += _md_function(function)
    if live is not None:
        lines += _md_live(live)
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_function(diff: FunctionDiff) -> list[str]:
    notes, aliases, versions = _function_lines(diff, "→")
    lines = [f"### {_md_title(diff)}", ""]
    if diff.status == "invalid":
        # The errors are listed once, above, with their FILE:LINE; here they would repeat.
        notes = [note for note in notes if note not in diff.errors]
        notes.append(f"{plans.counted(len(diff.errors), 'error')}, listed above.")
    for note in notes:
        lines += [_md(note), ""]
    if aliases:
        lines += ["**Aliases**", ""]
        lines += _md_list([_md_change(text) for text in aliases], "Aliases")
    if versions:
        lines += ["**Versions**", ""]
        lines += _md_list([_md_change(text) for text in versions], "Versions")
    return lines


def _md_list(items: Sequence[str], title: str) -> list[str]:
    """A bullet list, folded into ``<details>`` when it is long."""
    bullets = [f"- {item}" for item in items]
    if len(items) <= FOLD_AFTER:
        return [*bullets, ""]
    return [
        f"<details><summary>{title} ({len(items)})</summary>",
        "",
        *bullets,
        "",
        "</details>",
        "",
    ]


def _md_live(live: LiveView) -> list[str]:
    head_summary = click.unstyle(plans.summary_line(live.head, len(live.head_errors)))
    lines = [
        "### Live registry",
        "",
        f"What reconciling the head revision would write now: {_md(head_summary)}",
        "",
        *_md_plan("Plan at head", live.head, live.head_errors),
    ]
    drift = live.drift_at_base
    if drift.functions:
        names = ", ".join(_md(plan.function.name) for plan in drift.functions)
        lines += [
            f"Drift already present (the registry differs from the base revision): {names}.",
            "",
            *_md_plan("Drift at base", drift, ()),
        ]
    else:
        lines += ["No drift already present: the registry matches the base revision.", ""]
    return lines


def _md_plan(title: str, plan: Plan, errors: Sequence[str]) -> list[str]:
    text = click.unstyle(plans.plan_text(plan, errors)).rstrip("\n")
    fence = "````" if "```" in text else "```"
    return [
        f"<details><summary>{title}</summary>",
        "",
        f"{fence}text",
        text,
        fence,
        "",
        "</details>",
        "",
    ]


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|~"})


def _md(text: str) -> str:
    """Text from the declarations (descriptions, names, messages) shown literally in Markdown
    and in a table cell; a description could otherwise open an HTML tag or end the cell. The
    characters that matter only at the start of a line are safe: no line starts with this text."""
    return text.translate(_MD_SPECIAL)


def _md_change(text: str) -> str:
    """A ``+ ~ -`` line as a bullet: the mark in code, since ``- + beta`` would nest a list."""
    mark, _, rest = text.partition(" ")
    return f"`{mark}` {_md(rest)}"


def _md_title(diff: FunctionDiff) -> str:
    """``orders-api`` in code, then where it lives."""
    title = _title(diff)
    rest = title[len(diff.name) :]
    return f"`{_md_code(diff.name)}`{_md(rest)}"


def _md_code(text: str) -> str:
    """Text for an inline code span: only a backtick could end it early."""
    return text.replace("`", "'")


# -- JSON ----------------------------------------------------------------------------------------


def to_json(diff: DeclarationsDiff, live: LiveView | None = None) -> dict[str, Any]:
    """The diff for programs: every value a reviewer sees, none of the wording."""
    return {
        "base": diff.base,
        "head": diff.head,
        "functions": [_function_json(function) for function in diff.functions],
        "unchanged": diff.unchanged,
        "errors": list(diff.errors),
        "brokenFiles": list(diff.broken_files),
        "live": None if live is None else _live_json(live),
    }


def _function_json(diff: FunctionDiff) -> dict[str, Any]:
    return {
        "name": diff.name,
        "functionName": diff.function_name,
        "region": diff.region,
        "account": diff.account,
        "status": diff.status,
        "summary": summary(diff, "->"),
        "files": {"base": diff.base_file, "head": diff.head_file},
        "previousName": diff.previous_name,
        "versions": [
            {
                "label": change.label,
                "change": change.change,
                "fields": list(change.fields),
                "before": _version_json(change.before),
                "after": _version_json(change.after),
            }
            for change in diff.versions
        ],
        "aliases": [
            {
                "name": change.name,
                "change": change.change,
                "fields": list(change.fields),
                "before": _alias_json(change.before),
                "after": _alias_json(change.after),
                "pruned": change.pruned if change.change == "removed" else False,
            }
            for change in diff.aliases
        ],
        "settings": [
            {"field": change.field, "before": change.before, "after": change.after}
            for change in diff.settings
        ]
        + (
            [
                {
                    "field": "retainVersions",
                    "before": diff.retention.before,
                    "after": diff.retention.after,
                }
            ]
            if diff.retention is not None
            else []
        ),
        "errors": list(diff.errors),
    }


def _version_json(version: DesiredVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "codeSha256": version.code_sha256,
        "description": version.description,
        "code": None if version.code is None else _code_text(version.code),
        "configuration": configuration.as_document(version.configuration, version.secrets),
        "secrets": sorted(version.secrets),
    }


def _alias_json(state: AliasState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "version": state.target.version,
        "codeSha256": state.target.code_sha256,
        "routing": {target.version: float(share) for target, share in state.routing.items()},
        "description": state.description,
    }


def _live_json(live: LiveView) -> dict[str, Any]:
    return {
        "plan": plans.plan_json(live.head, live.head_errors),
        "driftAtBase": plans.plan_json(live.drift_at_base)["functions"],
    }


# -- text ----------------------------------------------------------------------------------------


def to_text(diff: DeclarationsDiff, live: LiveView | None = None) -> str:
    """The diff for a terminal: one block per function, errors, then the live plan."""
    lines = [f"Declarations {diff.base[:12]}..{diff.head[:12]}: {_headline(diff)}", ""]
    for function in diff.functions:
        notes, aliases, versions = _function_lines(function, "->")
        lines.append(f"{_title(function)}: {summary(function, '->')}")
        lines += [f"  {note}" for note in notes]
        lines += [_text_change("alias", text) for text in aliases]
        lines += [_text_change("version", text) for text in versions]
        lines.append("")
    if diff.errors:
        lines.append("Errors at head (those functions are left as they are):")
        lines += [f"  ! {error}" for error in diff.errors]
        lines.append("")
    if live is not None:
        lines += ["Live registry: what reconciling the head revision would write now", ""]
        lines.append(click.unstyle(plans.plan_text(live.head, live.head_errors)).rstrip("\n"))
        drift = live.drift_at_base
        if drift.functions:
            lines += ["", "Drift already present against the base revision:", ""]
            lines.append(click.unstyle(plans.plan_text(drift)).rstrip("\n"))
        else:
            lines += ["", "No drift already present: the registry matches the base revision."]
    return "\n".join(lines).rstrip("\n") + "\n"


def _text_change(noun: str, text: str) -> str:
    mark, _, rest = text.partition(" ")
    return f"  {mark} {noun} {rest}"

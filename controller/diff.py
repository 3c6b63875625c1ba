"""What a change to the declarations does, for the people who review it.

Promotion is a pull request that moves an alias and rollback is a revert, so the review of that
pull request is where a bad promotion is stopped. A line diff of YAML shows which bytes changed;
a reviewer needs to know which traffic moves: ``live r41 → r42``, ``canary +10% to r42``, a new
version, a function that is no longer declared, an error that keeps a function where it is.

``compare`` takes the declarations at two revisions and returns that, per function, as data.
Functions are matched by what they are in Lambda (account, region and function name), not by the
file that declares them: moving a declaration to another file, or splitting a file in two, does
not remove a function and add another. A file that does not parse at the head revision hides
which functions it declares, and the controller keeps those functions as they were; the diff
says so instead of reporting them removed.

The renderers turn the result into Markdown for a pull-request comment (a summary table first,
details per function after, long lists folded), JSON for programs, and plain text for a terminal.
With ``--live`` the command adds a ``LiveView``: the plan the head revision would carry out now,
and any drift the registry already shows against the base revision.

This module reads nothing and writes nothing; it imports no Git, boto3 or file-system code, so it
can be tested on plain values and cannot disagree with the loader about what a file means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import click

from controller import render
from controller.model import (
    DeclaredCode,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    RepoZip,
)
from controller.plan import Plan

if TYPE_CHECKING:
    # Only for annotations: importing the declarations package at run time would load its Git
    # loader, and this module promises to stay free of I/O libraries.
    from controller.declarations.parser import Declarations, InvalidFunction

MARKER = "<!-- lambda-gitops diff -->"
"""The first line of the Markdown: a workflow finds its earlier comment by it and edits it."""

FOLD_AFTER = 6
"""A Markdown list longer than this is folded into ``<details>``, so that a comment about a
large change still opens on the summary table."""

Identity = tuple[str | None, str, str]
"""A function as Lambda knows it: account (``None``: the default credentials), region, name."""

FunctionStatus = Literal["added", "removed", "changed", "invalid", "unreadable"]
"""``invalid``: the head declares it wrongly; ``unreadable``: its file does not parse at head.
Either way the controller leaves the function as it was."""


# -- the value --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A version an alias or a route names at one revision, with the code the label declares.

    Two targets with the same label but different code are different: re-declaring ``r42`` with
    another ``codeSha256`` moves every alias on ``r42`` to other code.
    """

    version: str
    """A label, a published number (``"17"``) or ``$LATEST``, as declared."""
    code_sha256: str | None = None
    """The label's declared code; ``None`` for a number or ``$LATEST``, known only live."""

    def __str__(self) -> str:
        return self.version

    def detailed(self) -> str:
        return f"{self.version} ({_short(self.code_sha256)})" if self.code_sha256 else self.version


@dataclass(frozen=True, slots=True)
class AliasState:
    """Where one alias points at one revision."""

    target: Target
    routing: Mapping[Target, Decimal] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True, slots=True)
class AliasChange:
    """One alias whose declaration differs between the revisions."""

    name: str
    before: AliasState | None
    after: AliasState | None
    pruned: bool = False
    """For a removed alias: the head function has ``prune: true``, so the controller deletes
    the live alias (when it created it); otherwise the alias stays live, unmanaged."""

    @property
    def change(self) -> Literal["created", "removed", "changed"]:
        if self.before is None:
            return "created"
        return "removed" if self.after is None else "changed"

    @property
    def fields(self) -> tuple[str, ...]:
        """Which parts changed: ``version``, ``routing``, ``description``."""
        if self.before is None or self.after is None:
            return ()
        before, after = self.before, self.after
        changed = {
            "version": before.target != after.target,
            "routing": dict(before.routing) != dict(after.routing),
            "description": before.description != after.description,
        }
        return tuple(name for name, differs in changed.items() if differs)


@dataclass(frozen=True, slots=True)
class VersionChange:
    """One declared version added, removed, or re-declared with other content."""

    label: str
    before: DesiredVersion | None
    after: DesiredVersion | None

    @property
    def change(self) -> Literal["added", "removed", "changed"]:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"

    @property
    def fields(self) -> tuple[str, ...]:
        """Which parts changed: ``codeSha256``, ``description``, ``code``."""
        if self.before is None or self.after is None:
            return ()
        before, after = self.before, self.after
        changed = {
            "codeSha256": before.code_sha256 != after.code_sha256,
            "description": before.description != after.description,
            "code": before.code != after.code,
        }
        return tuple(name for name, differs in changed.items() if differs)


@dataclass(frozen=True, slots=True)
class SettingChange:
    """``prune`` or ``suspend`` switched on or off."""

    field: Literal["prune", "suspend"]
    before: bool
    after: bool


@dataclass(frozen=True, slots=True)
class FunctionDiff:
    """What the change does to one function."""

    name: str
    """``metadata.name`` at head (at base for a function no longer declared)."""
    function_name: str
    region: str
    account: str | None
    status: FunctionStatus
    base_file: str | None = None
    head_file: str | None = None
    previous_name: str | None = None
    """``metadata.name`` at base, when it was renamed while declaring the same function."""
    was_invalid: bool = False
    """Added at head, but declared (wrongly) at base: a fix, not a new function."""
    versions: tuple[VersionChange, ...] = ()
    aliases: tuple[AliasChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()
    errors: tuple[str, ...] = ()
    """``FILE:LINE: message``, for an invalid function."""
    declared: tuple[int, int] = (0, 0)
    """Versions and aliases declared, for a function added or removed."""

    @property
    def moved(self) -> bool:
        return (
            self.base_file is not None
            and self.head_file is not None
            and self.base_file != self.head_file
        )

    def summary(self, arrow: str = "→") -> str:
        """One line for the summary table: ``live r41 → r42; +1 version``."""
        versions, aliases = self.declared
        declared = f"{_count(versions, 'version')}, {_count(aliases, 'alias')}"
        match self.status:
            case "added":
                return f"{'valid again' if self.was_invalid else 'new function'}: {declared}"
            case "removed":
                return "no longer declared: the controller stops managing it, deletes nothing"
            case "invalid":
                return f"invalid at head ({_count(len(self.errors), 'error')}): left as it is"
            case "unreadable":
                return f"{self.head_file or self.base_file} does not parse at head: left as it is"
        parts = [_alias_summary(change, arrow) for change in self.aliases]
        parts += _versions_summary(self.versions)
        parts += [f"{s.field} {'on' if s.after else 'off'}" for s in self.settings]
        if self.previous_name is not None:
            parts.append(f"renamed from {self.previous_name}")
        if self.moved:
            parts.append(f"moved to {self.head_file}")
        if parts == [f"moved to {self.head_file}"]:
            parts.append("no change to the function")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class DeclarationsDiff:
    """Every function the change touches, sorted by name, region and function name."""

    base: str
    head: str
    """The revisions compared (commit SHAs)."""
    functions: tuple[FunctionDiff, ...]
    unchanged: int
    """Functions declared identically at both revisions."""
    errors: tuple[str, ...] = ()
    """Every error at head, ``FILE:LINE: message``, sorted by file and line."""
    broken_files: tuple[str, ...] = ()
    """The head's files that do not parse (each also in ``errors``)."""


@dataclass(frozen=True, slots=True)
class LiveView:
    """The registry now, against both revisions (``diff --live``)."""

    head: Plan
    """What reconciling the head revision would write now."""
    base: Plan
    """The base revision against the registry: what is not in sync is drift already present,
    which merging the change does not cause."""
    head_errors: tuple[str, ...] = ()

    @property
    def drift_at_base(self) -> Plan:
        return Plan(self.base.revision, tuple(f for f in self.base.functions if not f.in_sync))


# -- comparing --------------------------------------------------------------------------------


def compare(base: Declarations, head: Declarations) -> DeclarationsDiff:
    """What changes from ``base`` to ``head``, per function, matched by Lambda identity."""
    base_functions = {identity(f.ref): f for f in base.functions}
    head_functions = {identity(f.ref): f for f in head.functions}
    diffs: list[FunctionDiff] = []
    matched: set[Identity] = set()
    unchanged = 0
    for key, after in head_functions.items():
        before = base_functions.get(key)
        if before is None:
            diffs.append(_added(after, was_invalid=_declared_in(base.invalid, after)))
            continue
        matched.add(key)
        change = _changed(before, after)
        if change is None:
            unchanged += 1
        else:
            diffs.append(change)
    for bad in head.invalid:
        before = _base_of_invalid(bad, base_functions)
        if before is not None:
            matched.add(identity(before.ref))
        diffs.append(_invalid(bad, before))
    broken = {error.location.file for error in head.broken_files}
    for key, before in base_functions.items():
        if key not in matched:
            diffs.append(_gone(before, broken))
    return DeclarationsDiff(
        base=base.revision,
        head=head.revision,
        functions=tuple(sorted(diffs, key=lambda d: (d.name, d.region, d.function_name))),
        unchanged=unchanged,
        errors=tuple(str(error) for error in head.errors),
        broken_files=tuple(str(error) for error in head.broken_files),
    )


def identity(ref: FunctionRef) -> Identity:
    """The function a reference names: a function ARN and its bare name are the same function,
    as the declarations' own duplicate check has it."""
    name = ref.name
    if name.startswith("arn:") and ":function:" in name:
        name = name.split(":function:", 1)[1].split(":", 1)[0]
    return (ref.account, ref.region, name)


def _added(function: DesiredFunction, *, was_invalid: bool) -> FunctionDiff:
    return FunctionDiff(
        **_naming(function),
        status="added",
        head_file=_file(function),
        was_invalid=was_invalid,
        versions=tuple(
            VersionChange(label, None, v) for label, v in sorted(function.versions.items())
        ),
        aliases=tuple(
            AliasChange(name, None, _alias_state(function, alias))
            for name, alias in sorted(function.aliases.items())
        ),
        settings=_setting_changes(None, function),
        declared=(len(function.versions), len(function.aliases)),
    )


def _gone(function: DesiredFunction, broken_files: set[str]) -> FunctionDiff:
    file = _file(function)
    status: FunctionStatus = "unreadable" if file in broken_files else "removed"
    return FunctionDiff(
        **_naming(function),
        status=status,
        base_file=file,
        head_file=file if status == "unreadable" else None,
        declared=(len(function.versions), len(function.aliases)),
    )


def _changed(before: DesiredFunction, after: DesiredFunction) -> FunctionDiff | None:
    versions = tuple(
        VersionChange(label, before.versions.get(label), after.versions.get(label))
        for label in sorted(before.versions.keys() | after.versions.keys())
        if before.versions.get(label) != after.versions.get(label)
    )
    aliases = []
    for name in sorted(before.aliases.keys() | after.aliases.keys()):
        old, new = before.aliases.get(name), after.aliases.get(name)
        old_state = _alias_state(before, old) if old is not None else None
        new_state = _alias_state(after, new) if new is not None else None
        if old_state != new_state:
            aliases.append(AliasChange(name, old_state, new_state, pruned=after.prune))
    settings = _setting_changes(before, after)
    diff = FunctionDiff(
        **_naming(after),
        status="changed",
        base_file=_file(before),
        head_file=_file(after),
        previous_name=before.name if before.name != after.name else None,
        versions=versions,
        aliases=tuple(aliases),
        settings=settings,
    )
    if not (versions or aliases or settings or diff.moved or diff.previous_name):
        return None
    return diff


def _setting_changes(
    before: DesiredFunction | None, after: DesiredFunction
) -> tuple[SettingChange, ...]:
    """``prune`` and ``suspend`` switched; a new function counts from the defaults (off)."""
    changes = []
    if (before is not None and before.prune) != after.prune:
        changes.append(SettingChange("prune", not after.prune, after.prune))
    if (before is not None and before.suspend) != after.suspend:
        changes.append(SettingChange("suspend", not after.suspend, after.suspend))
    return tuple(changes)


def _invalid(bad: InvalidFunction, before: DesiredFunction | None) -> FunctionDiff:
    ref = bad.ref if bad.ref is not None else (before.ref if before is not None else None)
    return FunctionDiff(
        name=bad.name or (before.name if before is not None else bad.key),
        function_name=identity(ref)[2] if ref is not None else "",
        region=ref.region if ref is not None else "",
        account=ref.account if ref is not None else None,
        status="invalid",
        base_file=_file(before) if before is not None else None,
        head_file=bad.location.file,
        errors=tuple(str(error) for error in bad.errors),
    )


def _base_of_invalid(
    bad: InvalidFunction, base: Mapping[Identity, DesiredFunction]
) -> DesiredFunction | None:
    """The base function an invalid head declaration stands for: by identity when the
    declaration gets that far, else by ``metadata.name``."""
    if bad.ref is not None and identity(bad.ref) in base:
        return base[identity(bad.ref)]
    return next((f for f in base.values() if bad.name is not None and f.name == bad.name), None)


def _declared_in(invalid: Iterable[InvalidFunction], function: DesiredFunction) -> bool:
    return any(
        (bad.ref is not None and identity(bad.ref) == identity(function.ref))
        or bad.name == function.name
        for bad in invalid
    )


def _naming(function: DesiredFunction) -> dict[str, Any]:
    _, region, name = identity(function.ref)
    return {
        "name": function.name,
        "function_name": name,
        "region": region,
        "account": function.ref.account,
    }


def _file(function: DesiredFunction) -> str | None:
    return function.location.file if function.location is not None else None


def _alias_state(function: DesiredFunction, alias: DesiredAlias) -> AliasState:
    def target(version: str) -> Target:
        declared = function.versions.get(version)
        return Target(version, declared.code_sha256 if declared is not None else None)

    routing = {target(version): share for version, share in sorted(alias.routing.items())}
    return AliasState(target(alias.version), routing, alias.description)


# -- words shared by the renderers ---------------------------------------------------------------


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
    show: Callable[[Target], str] = Target.detailed if detailed else str
    parts = []
    if "version" in change.fields:
        if before.target.version == after.target.version:
            parts.append(f"{after.target} now declares other code")
            if detailed:
                parts[-1] += f" ({show(before.target)} {arrow} {show(after.target)})"
        else:
            parts.append(f"{show(before.target)} {arrow} {show(after.target)}")
    if "routing" in change.fields:
        parts.append(_routing_change(before.routing, after.routing, arrow))
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
    text = state.target.detailed() if detailed else str(state.target)
    if state.routing:
        text += " + " + _routes(state.routing)
    return text


def _versions_summary(versions: Sequence[VersionChange]) -> list[str]:
    added = sum(1 for v in versions if v.change == "added")
    removed = sum(1 for v in versions if v.change == "removed")
    parts = []
    if added:
        parts.append(f"+{_count(added, 'version')}")
    if removed:
        parts.append(f"-{_count(removed, 'version')}")
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
    return f"~ {change.label}: " + "; ".join(parts)


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


def percent(share: Decimal) -> str:
    """A weight as a percentage, exactly: ``Decimal("0.1")`` is ``10%``, ``0.255`` is ``25.5%``."""
    return f"{(share * 100).normalize():f}%"


def _short(code_sha256: str | None) -> str:
    return f"{code_sha256[:8]}…" if code_sha256 else ""


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{number} {noun if number == 1 else plural}"


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
    changed = _count(len(diff.functions), "function")
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
        lines += [f"| {_md_title(d)} | {_md(d.summary())} |" for d in diff.functions]
        lines.append("")
    else:
        lines += ["No declared function changes.", ""]
    if diff.errors:
        lines += [
            f"### :x: {_count(len(diff.errors), 'error')} at head",
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
        notes.append(f"{_count(len(diff.errors), 'error')}, listed above.")
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
    head_summary = click.unstyle(render.summary_line(live.head, len(live.head_errors)))
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
    text = click.unstyle(render.plan_text(plan, errors)).rstrip("\n")
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
        "summary": diff.summary("->"),
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
        ],
        "errors": list(diff.errors),
    }


def _version_json(version: DesiredVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "codeSha256": version.code_sha256,
        "description": version.description,
        "code": None if version.code is None else _code_text(version.code),
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
        "plan": render.plan_json(live.head, live.head_errors),
        "driftAtBase": render.plan_json(live.drift_at_base)["functions"],
    }


# -- text ----------------------------------------------------------------------------------------


def to_text(diff: DeclarationsDiff, live: LiveView | None = None) -> str:
    """The diff for a terminal: one block per function, errors, then the live plan."""
    lines = [f"Declarations {diff.base[:12]}..{diff.head[:12]}: {_headline(diff)}", ""]
    for function in diff.functions:
        notes, aliases, versions = _function_lines(function, "->")
        lines.append(f"{_title(function)}: {function.summary('->')}")
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
        lines.append(click.unstyle(render.plan_text(live.head, live.head_errors)).rstrip("\n"))
        drift = live.drift_at_base
        if drift.functions:
            lines += ["", "Drift already present against the base revision:", ""]
            lines.append(click.unstyle(render.plan_text(drift)).rstrip("\n"))
        else:
            lines += ["", "No drift already present: the registry matches the base revision."]
    return "\n".join(lines).rstrip("\n") + "\n"


def _text_change(noun: str, text: str) -> str:
    mark, _, rest = text.partition(" ")
    return f"  {mark} {noun} {rest}"

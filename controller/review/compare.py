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

``review.report`` turns the result into Markdown, JSON or text. With ``--live`` the command
adds a ``LiveView``: the plan the head revision would carry out now, and any drift the registry
already shows against the base revision.

This module reads nothing, writes nothing and renders nothing; it imports no Git, boto3, click
or file-system code, so it can be tested on plain values and cannot disagree with the loader
about what a file means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from controller.core.configuration import NOTHING, Configuration
from controller.core.declarations import Declarations, InvalidFunction
from controller.core.model import (
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionId,
    RetainVersions,
)
from controller.core.plan import Plan
from controller.core.rollout import Rollout

FunctionStatus = Literal["added", "removed", "changed", "invalid", "unreadable"]
"""``invalid``: the head declares it wrongly; ``unreadable``: its file does not parse at head.
Either way the controller leaves the function as it was."""


# -- the value --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A version an alias or a route names at one revision, with the code the label declares.

    Two targets with the same label but different code or configuration are different:
    re-declaring ``r42`` with another ``codeSha256`` or ``memorySize`` moves every alias on
    ``r42`` to another version.
    """

    version: str
    """A label, a published number (``"17"``) or ``$LATEST``, as declared."""
    code_sha256: str | None = None
    """The label's declared code; ``None`` for a number or ``$LATEST``, known only live."""
    configuration: Configuration = NOTHING
    """The label's declared configuration: another one is another version, as other code is."""

    def __str__(self) -> str:
        return self.version


@dataclass(frozen=True, slots=True)
class AliasState:
    """Where one alias points at one revision."""

    target: Target
    routing: Mapping[Target, Decimal] = field(default_factory=dict)
    description: str = ""
    rollout: str = ""
    """The rollout in words (``10% for 1m, 50% for 2m; 1 check``), or empty without one."""
    approve: int = 0
    skip: bool = False


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
        return "created" if self.before is None else _gone_or_changed(self.after)

    @property
    def fields(self) -> tuple[str, ...]:
        """Which parts changed: ``version``, ``routing``, ``description``, ``rollout``,
        ``approve``, ``skip``."""
        if self.before is None or self.after is None:
            return ()
        before, after = self.before, self.after
        changed = {
            "version": before.target != after.target,
            "routing": dict(before.routing) != dict(after.routing),
            "description": before.description != after.description,
            "rollout": before.rollout != after.rollout,
            "approve": before.approve != after.approve,
            "skip": before.skip != after.skip,
        }
        return _changed_fields(changed)


def _gone_or_changed(after: object | None) -> Literal["removed", "changed"]:
    return "removed" if after is None else "changed"


def _changed_fields(changed: Mapping[str, bool]) -> tuple[str, ...]:
    return tuple(name for name, differs in changed.items() if differs)


@dataclass(frozen=True, slots=True)
class VersionChange:
    """One declared version added, removed, or re-declared with other content."""

    label: str
    before: DesiredVersion | None
    after: DesiredVersion | None

    @property
    def change(self) -> Literal["added", "removed", "changed"]:
        return "added" if self.before is None else _gone_or_changed(self.after)

    @property
    def fields(self) -> tuple[str, ...]:
        """Which parts changed: ``codeSha256``, ``description``, ``code``, ``configuration``
        (a field, or which variables are secret)."""
        if self.before is None or self.after is None:
            return ()
        before, after = self.before, self.after
        changed = {
            "codeSha256": before.code_sha256 != after.code_sha256,
            "description": before.description != after.description,
            "code": before.code != after.code,
            "configuration": (before.configuration, before.secrets)
            != (after.configuration, after.secrets),
        }
        return _changed_fields(changed)


@dataclass(frozen=True, slots=True)
class SettingChange:
    """``prune``, ``suspend`` or ``adopt`` switched on or off."""

    field: Literal["prune", "suspend", "adopt"]
    before: bool
    after: bool


@dataclass(frozen=True, slots=True)
class RetentionChange:
    """``retainVersions`` changed: a number, ``all``, or ``None`` (the controller's default).

    It says how many published versions the controller keeps, so a reviewer sees that a
    change lets it delete versions (or more of them) before it is merged."""

    before: RetainVersions
    after: RetainVersions


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
    retention: RetentionChange | None = None

    @property
    def moved(self) -> bool:
        return (
            self.base_file is not None
            and self.head_file is not None
            and self.base_file != self.head_file
        )


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
    base_functions = {f.ref.identity: f for f in base.functions}
    head_functions = {f.ref.identity: f for f in head.functions}
    diffs: list[FunctionDiff] = []
    matched: set[FunctionId] = set()
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
            matched.add(before.ref.identity)
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
        retention=_retention_change(None, function),
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
        retention=_retention_change(before, after),
    )
    if not (versions or aliases or settings or diff.moved or diff.previous_name):
        return None if diff.retention is None else diff
    return diff


def _setting_changes(
    before: DesiredFunction | None, after: DesiredFunction
) -> tuple[SettingChange, ...]:
    """``prune``, ``suspend`` and ``adopt`` switched; a new function counts from the defaults
    (off)."""
    changes = []
    if (before is not None and before.prune) != after.prune:
        changes.append(SettingChange("prune", not after.prune, after.prune))
    if (before is not None and before.suspend) != after.suspend:
        changes.append(SettingChange("suspend", not after.suspend, after.suspend))
    if (before is not None and before.adopt) != after.adopt:
        changes.append(SettingChange("adopt", not after.adopt, after.adopt))
    return tuple(changes)


def _retention_change(
    before: DesiredFunction | None, after: DesiredFunction
) -> RetentionChange | None:
    """``retainVersions`` changed; a new function counts from the default (none declared)."""
    old = before.retain_versions if before is not None else None
    return RetentionChange(old, after.retain_versions) if old != after.retain_versions else None


def _invalid(bad: InvalidFunction, before: DesiredFunction | None) -> FunctionDiff:
    ref = bad.ref if bad.ref is not None else (before.ref if before is not None else None)
    return FunctionDiff(
        name=bad.name or (before.name if before is not None else bad.key),
        function_name=ref.identity.name if ref is not None else "",
        region=ref.region if ref is not None else "",
        account=ref.account if ref is not None else None,
        status="invalid",
        base_file=_file(before) if before is not None else None,
        head_file=bad.location.file,
        errors=tuple(str(error) for error in bad.errors),
    )


def _base_of_invalid(
    bad: InvalidFunction, base: Mapping[FunctionId, DesiredFunction]
) -> DesiredFunction | None:
    """The base function an invalid head declaration stands for: by identity when the
    declaration gets that far, else by ``metadata.name``."""
    if bad.ref is not None and bad.ref.identity in base:
        return base[bad.ref.identity]
    return next((f for f in base.values() if bad.name is not None and f.name == bad.name), None)


def _declared_in(invalid: Iterable[InvalidFunction], function: DesiredFunction) -> bool:
    return any(
        (bad.ref is not None and bad.ref.identity == function.ref.identity)
        or bad.name == function.name
        for bad in invalid
    )


def _naming(function: DesiredFunction) -> dict[str, Any]:
    identity = function.ref.identity
    return {
        "name": function.name,
        "function_name": identity.name,
        "region": identity.region,
        "account": function.ref.account,
    }


def _file(function: DesiredFunction) -> str | None:
    return function.location.file if function.location is not None else None


def _alias_state(function: DesiredFunction, alias: DesiredAlias) -> AliasState:
    def target(version: str) -> Target:
        declared = function.versions.get(version)
        if declared is None:
            return Target(version)
        return Target(version, declared.code_sha256, declared.configuration)

    routing = {target(version): share for version, share in sorted(alias.routing.items())}
    rollout = rollout_text(alias.rollout) if alias.rollout is not None else ""
    return AliasState(
        target(alias.version),
        routing,
        alias.description,
        rollout,
        alias.approve,
        alias.rollout is not None and alias.rollout.skip,
    )


def rollout_text(rollout: Rollout) -> str:
    """A rollout in a few words: its steps, then how many checks judge them."""
    steps = ", ".join(
        f"{percent(step.weight)} "
        + ("until approved" if step.pause else f"for {_duration(step.hold)}")
        for step in rollout.steps
    )
    checks = len(rollout.analysis.checks) if rollout.analysis is not None else 0
    return f"{steps}; {checks} check{'s' if checks != 1 else ''}"


def percent(share: Decimal) -> str:
    """A weight as a percentage, exactly: ``Decimal("0.1")`` is ``10%``, ``0.255`` is ``25.5%``."""
    return f"{(share * 100).normalize():f}%"


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")

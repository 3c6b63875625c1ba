"""What the controller reports of each declared function, as a pure fold over passes.

A pass says what it saw and did; what ``/status`` and the metrics show is that, folded into what
was shown before: a function that failed keeps its last applied revision, a declaration that
became invalid keeps the function's series (in ``error``), a file that stopped parsing holds back
every function it declared at the last good revision, and only a function removed from Git
disappears. ``fold`` is that rule and nothing else, ``(previous, pass, revision) -> next``, so it
is tested with tables; the loop only schedules passes and stores what ``fold`` returns.

It also keeps what the controller remembers of each alias (``core.outofband.AliasMemory``: the
``RevisionId`` it last wrote or saw in sync) and what it shows of out-of-band changes: how many
each alias has had since the process started, and the last one, healed or not; and, per
function, what retention did: how many versions it has, which were deleted last and when, which
deletions Lambda refused because an alias points at the version now, and what is held back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from controller.adapters.metrics import FunctionStatus, RolloutSeries
from controller.core.declarations import Declarations
from controller.core.model import (
    Alias,
    DesiredFunction,
    FunctionId,
    FunctionRef,
    RetainVersions,
    SyncStatus,
)
from controller.core.outofband import AliasMemory
from controller.core.plan import DeleteVersion, PublishVersion, RolloutView
from controller.engine.analyst import CheckReport
from controller.engine.reconciler import FunctionResult, PassResult

RecordKey = FunctionId | str
"""A function's identity, or, for a declaration too broken to name one, its ``FILE:LINE``."""


@dataclass(frozen=True, slots=True)
class OutOfBandEvent:
    """The last out-of-band change of one alias, as ``/status`` shows it."""

    at: float
    """When it was seen, in seconds since the epoch."""
    git: str
    live: str
    healed: bool
    """Reverted to Git by the same pass (enforce mode); False in detect mode or if the write
    failed."""

    def as_json(self) -> dict[str, Any]:
        return {
            "at": rfc3339(self.at),
            "git": self.git,
            "live": self.live,
            "healed": self.healed,
        }


@dataclass(frozen=True, slots=True)
class AliasRecord:
    """What ``/status`` says of one declared alias beyond its drift."""

    out_of_band_changes: int = 0
    last_out_of_band_change: OutOfBandEvent | None = None

    def as_json(self) -> dict[str, Any]:
        last = self.last_out_of_band_change
        return {
            "outOfBandChanges": self.out_of_band_changes,
            "lastOutOfBandChange": last.as_json() if last is not None else None,
        }


@dataclass(frozen=True, slots=True)
class RolloutRecord:
    """Where one alias's rollout stands, as ``/status`` shows it."""

    target: str
    stable: str
    phase: str | None
    step: int
    steps: int
    weight: Decimal
    reason: str
    step_started: float | None
    step_ends: float | None
    failures: int
    checks: tuple[CheckReport, ...] = ()

    @classmethod
    def of(cls, view: RolloutView, checks: tuple[CheckReport, ...]) -> RolloutRecord:
        state = view.state
        return cls(
            target=view.target,
            stable=view.stable,
            phase=view.phase,
            step=view.step,
            steps=len(view.rollout.steps),
            weight=view.weight,
            reason=view.reason,
            step_started=float(state.started) if state is not None else None,
            step_ends=view.step_ends,
            failures=state.failures if state is not None else 0,
            checks=checks,
        )

    def as_json(self, now: float | None = None) -> dict[str, Any]:
        left = None
        if self.step_ends is not None and now is not None:
            left = round(max(self.step_ends - now, 0.0), 1)
        return {
            "target": self.target,
            "stable": self.stable,
            "phase": self.phase or "waiting",
            "step": self.step,
            "steps": self.steps,
            "weight": float(self.weight),
            "reason": self.reason,
            "stepStartedAt": rfc3339(self.step_started) if self.step_started else None,
            "stepEndsAt": rfc3339(self.step_ends) if self.step_ends else None,
            "secondsLeftInStep": left,
            "failedChecks": self.failures,
            "lastChecks": [check.as_json() for check in self.checks],
        }


@dataclass(frozen=True, slots=True)
class SkippedDeletion:
    """A version retention meant to delete and kept, because Lambda refused (an alias points
    at it now, rule L35)."""

    version: int
    at: float
    why: str

    def as_json(self) -> dict[str, Any]:
        return {"version": str(self.version), "at": rfc3339(self.at), "why": self.why}


@dataclass(frozen=True, slots=True)
class RetentionRecord:
    """What ``/status`` says of one function's published versions and their retention."""

    declared: RetainVersions = None
    """``retainVersions`` as declared: a number, ``all``, or ``None`` for the default."""
    keep: int | None = None
    """The newest versions kept, the controller's default applied; ``None``: every version."""
    versions: int | None = None
    """Published versions once the last pass's publishes and deletions are done; ``None``
    until the function has been read."""
    deleted: int = 0
    """Versions retention deleted since the controller started."""
    last_deleted: tuple[int, ...] = ()
    last_deleted_at: float | None = None
    skipped: tuple[SkippedDeletion, ...] = ()
    """The deletions the last pass that had any refusal kept."""
    held: tuple[int, ...] = ()
    """Versions the last pass would have deleted but did not, for ``reason``."""
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "retainVersions": self.declared,
            "keep": self.keep,
            "deletedVersions": self.deleted,
            "lastDeleted": [str(number) for number in self.last_deleted],
            "lastDeletedAt": optional_rfc3339(self.last_deleted_at),
            "skipped": [skipped.as_json() for skipped in self.skipped],
            "held": [str(number) for number in self.held],
            "heldBecause": self.reason or None,
        }


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    """What ``/status`` says of one declared function."""

    name: str
    function: str
    region: str
    status: SyncStatus
    account: str | None = None
    last_attempted_revision: str | None = None
    last_applied_revision: str | None = None
    drifted_aliases: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    last_error: str | None = None
    alias_records: Mapping[str, AliasRecord] = field(default_factory=dict)
    rollouts: Mapping[str, RolloutRecord] = field(default_factory=dict)
    retention: RetentionRecord = field(default_factory=RetentionRecord)

    def as_json(self, now: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "function": self.function,
            "region": self.region,
            "account": self.account,
            "status": self.status,
            "lastAttemptedRevision": self.last_attempted_revision,
            "lastAppliedRevision": self.last_applied_revision,
            "driftedAliases": list(self.drifted_aliases),
            "lastError": self.last_error,
            "aliases": {alias: self._alias_json(alias, now) for alias in self.aliases},
            "versions": self.retention.versions,
            "retention": self.retention.as_json(),
        }

    def _alias_json(self, alias: str, now: float | None) -> dict[str, Any]:
        shown = self.alias_records.get(alias, AliasRecord()).as_json()
        rollout = self.rollouts.get(alias)
        if rollout is not None:
            shown["rollout"] = rollout.as_json(now)
        return shown


AliasKey = tuple[FunctionId, str]


@dataclass(frozen=True, slots=True)
class FleetStatus:
    """Every declared function's record, the last valid declaration of each (which is what a
    function whose declaration broke is held back at), and what is remembered of each alias."""

    records: Mapping[RecordKey, FunctionRecord] = field(default_factory=dict)
    last_good: Mapping[FunctionId, DesiredFunction] = field(default_factory=dict)
    memory: Mapping[AliasKey, AliasMemory] = field(default_factory=dict)


def rfc3339(at: float) -> str:
    """A Unix time as RFC 3339 in UTC, to the microsecond: ``2026-12-02T07:00:26.123456Z``.

    Microseconds, so that two events of one second (two fetches) still read as two."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def optional_rfc3339(at: float | None) -> str | None:
    """``rfc3339``, or ``None`` for a moment that has not come (nothing fetched yet)."""
    return rfc3339(at) if at is not None else None


@dataclass(frozen=True, slots=True)
class Defaults:
    """Where a declaration that is too broken to say is taken to be: the controller's own."""

    region: str
    account: str | None = None


def fold(
    previous: FleetStatus,
    result: PassResult,
    revision: str,
    defaults: Defaults,
    *,
    now: float = 0.0,
) -> FleetStatus:
    """The fleet's status after ``result``, a pass at ``revision`` that ended at ``now``."""
    before = previous.records
    records: dict[RecordKey, FunctionRecord] = {}
    memory: dict[AliasKey, AliasMemory] = dict(previous.memory)
    for function_result in result.results:
        identity = function_result.function.ref.identity
        prior = before.get(identity)
        alias_records = _alias_records(function_result, prior, now)
        retention = _retention(function_result, prior, now, applying=result.applying)
        records[identity] = _reconciled(function_result, prior, revision, alias_records, retention)
        memory.update(remembered(function_result, previous.memory))
    held = _held_back(result.declarations, previous, revision, defaults)
    records.update(held)
    last_good = dict(previous.last_good)
    for desired in result.declarations.functions:
        last_good[desired.ref.identity] = desired
    last_good = {identity: f for identity, f in last_good.items() if identity in records}
    if len(result.results) < len(result.declarations.functions):
        # A pass over part of the fleet (targeted, or a full pass that yielded or was stopped):
        # what it did not reach stays as it was, as long as it is still declared.
        declared = {f.ref.identity for f in result.declarations.functions}
        for key, record in before.items():
            if key in declared:
                records.setdefault(key, record)
    memory = {
        (identity, alias): m
        for (identity, alias), m in memory.items()
        if identity in records and alias in records[identity].aliases
    }
    return FleetStatus(records, last_good, memory)


def _written(result: FunctionResult) -> dict[str, Alias]:
    """The aliases the pass wrote, as Lambda answered the last successful write of each."""
    written: dict[str, Alias] = {}
    if result.outcome is not None:
        for done in result.outcome.actions:
            if done.outcome == "applied" and done.written is not None:
                written[done.written.name] = done.written
    return written


def remembered(
    result: FunctionResult, previous: Mapping[AliasKey, AliasMemory]
) -> dict[AliasKey, AliasMemory]:
    """What to remember of the function's aliases after this pass."""
    live = result.observation.live
    if live is None or result.plan.error is not None:
        return {}
    identity = result.function.ref.identity
    written = _written(result)
    differing = {d.alias for d in result.plan.drift if d.kind in ("missing", "differs")}
    changed = {change.alias: change for change in result.out_of_band}
    live_aliases = {alias.name: alias for alias in live.aliases}
    remembered: dict[AliasKey, AliasMemory] = {}
    for name in result.function.aliases:
        key = (identity, name)
        if name in written:
            remembered[key] = AliasMemory(written[name].revision_id)
        elif name in live_aliases and name not in differing:
            remembered[key] = AliasMemory(live_aliases[name].revision_id)
        elif name in changed:
            last = previous.get(key, AliasMemory())
            remembered[key] = AliasMemory(last.revision_id, changed[name].live_revision_id)
    return remembered


def _alias_records(
    result: FunctionResult, prior: FunctionRecord | None, now: float
) -> dict[str, AliasRecord]:
    before = prior.alias_records if prior is not None else {}
    written = _written(result)
    declared = set(result.function.aliases)
    records = {name: record for name, record in before.items() if name in declared}
    for change in result.out_of_band:
        count = records.get(change.alias, AliasRecord()).out_of_band_changes + 1
        event = OutOfBandEvent(now, change.git, change.live, healed=change.alias in written)
        records[change.alias] = AliasRecord(count, event)
    return records


NOT_APPLYING = "this pass only observes (detect mode)"
"""Why the versions a plan deletes are kept when the pass applies nothing."""


def _retention(
    result: FunctionResult, prior: FunctionRecord | None, now: float, *, applying: bool
) -> RetentionRecord:
    """The function's versions after the pass, and what retention did to them. A pass that
    applies nothing (detect mode) shows the versions its plan would delete as held."""
    before = prior.retention if prior is not None else RetentionRecord()
    done = result.outcome.actions if result.outcome is not None else ()
    deleted = tuple(
        d.action.number
        for d in done
        if isinstance(d.action, DeleteVersion) and d.outcome == "applied"
    )
    skipped = tuple(
        SkippedDeletion(d.action.number, now, d.detail)
        for d in done
        if isinstance(d.action, DeleteVersion) and d.outcome == "skipped"
    )
    published = sum(
        1 for d in done if isinstance(d.action, PublishVersion) and d.outcome == "applied"
    )
    live = result.observation.live
    versions = before.versions
    if live is not None:
        versions = max(len(live.versions) + published - len(deleted), 0)
    view = result.plan.retention
    held, reason = (view.held, view.reason) if view is not None else ((), "")
    if view is not None and view.deleted and not applying:
        held, reason = (*view.deleted, *view.held), NOT_APPLYING
    return RetentionRecord(
        declared=result.function.retain_versions,
        keep=view.keep if view is not None else None,
        versions=versions,
        deleted=before.deleted + len(deleted),
        last_deleted=deleted or before.last_deleted,
        last_deleted_at=now if deleted else before.last_deleted_at,
        skipped=skipped or before.skipped,
        held=held,
        reason=reason,
    )


def passed(status: FleetStatus, declarations: Declarations) -> bool:
    """Whether the pass succeeded: every declaration valid and no function in error."""
    return not declarations.errors and all(
        record.status != "error" for record in status.records.values()
    )


def _reconciled(
    result: FunctionResult,
    previous: FunctionRecord | None,
    revision: str,
    alias_records: Mapping[str, AliasRecord],
    retention: RetentionRecord,
) -> FunctionRecord:
    function = result.function
    if result.status in ("synced", "progressing", "suspended"):
        last_applied: str | None = revision
    else:
        last_applied = previous.last_applied_revision if previous is not None else None
    drifted = result.drifted_aliases()
    identity = function.ref.identity
    return FunctionRecord(
        name=function.name,
        function=identity.name,
        region=identity.region,
        account=identity.account,
        status=result.status,
        last_attempted_revision=revision,
        last_applied_revision=last_applied,
        drifted_aliases=tuple(name for name, is_drifted in drifted.items() if is_drifted),
        aliases=tuple(function.aliases),
        last_error=result.error,
        alias_records=alias_records,
        rollouts={
            view.alias: RolloutRecord.of(view, result.checks.get(view.alias, ()))
            for view in result.plan.rollouts
        },
        retention=retention,
    )


def _held_back(
    declarations: Declarations, previous: FleetStatus, revision: str, defaults: Defaults
) -> dict[RecordKey, FunctionRecord]:
    """Functions the revision cannot speak for: invalid declarations, and those declared at
    the last good revision in a file that no longer parses. They are not touched."""
    held: dict[RecordKey, FunctionRecord] = {}
    for invalid in declarations.invalid:
        ref = invalid.ref or _last_good_named(previous, invalid.name)
        if ref is None and invalid.name is None:
            continue
        key: RecordKey = ref.identity if ref is not None else str(invalid.location)
        error = "; ".join(str(e) for e in invalid.errors)
        before = previous.records.get(key)
        held[key] = _held(invalid.key, ref, before, error, revision=revision, defaults=defaults)
    broken = {error.location.file: error for error in declarations.broken_files}
    for identity, desired in previous.last_good.items():
        location = desired.location
        if location is not None and location.file in broken and identity not in held:
            error = f"{broken[location.file]} (left as it was at the last good revision)"
            before = previous.records.get(identity)
            held[identity] = _held(
                desired.name, desired.ref, before, error, revision=revision, defaults=defaults
            )
    return held


def _last_good_named(previous: FleetStatus, name: str | None) -> FunctionRef | None:
    """The function last declared under ``name``, when exactly one was."""
    found = [desired.ref for desired in previous.last_good.values() if desired.name == name]
    return found[0] if len(found) == 1 else None


def _held(
    name: str,
    ref: FunctionRef | None,
    before: FunctionRecord | None,
    error: str,
    *,
    revision: str,
    defaults: Defaults,
) -> FunctionRecord:
    identity = (ref or FunctionRef(name, defaults.region, defaults.account)).identity
    return FunctionRecord(
        name=name,
        function=identity.name,
        region=identity.region,
        account=identity.account,
        status="error",
        last_attempted_revision=revision,
        last_applied_revision=before.last_applied_revision if before else None,
        drifted_aliases=before.drifted_aliases if before else (),
        aliases=before.aliases if before else (),
        last_error=error,
        alias_records=before.alias_records if before else {},
        rollouts=before.rollouts if before else {},
        retention=before.retention if before else RetentionRecord(),
    )


# -- how the records are shown ---------------------------------------------------------------------


def status_keys(records: Iterable[FunctionRecord]) -> dict[str, FunctionRecord]:
    """``/status`` names each function by its ``metadata.name``; a name declared in several
    regions or accounts is told apart by them, so that no record hides another."""
    listed = list(records)
    names = Counter(record.name for record in listed)
    in_region = Counter((record.name, record.region) for record in listed)
    keyed: dict[str, FunctionRecord] = {}
    for record in listed:
        key = record.name
        if names[key] > 1:
            key = f"{record.name} ({record.region})"
            if in_region[(record.name, record.region)] > 1:
                key = f"{record.name} ({record.account or '-'}, {record.region})"
        keyed[key] = record
    return keyed


def metric_statuses(records: Iterable[FunctionRecord]) -> list[FunctionStatus]:
    """The metrics' view of the records. A function's label is its bare name, or its ARN when
    functions of two accounts share a name in one region, so that no two series collide."""
    listed = list(records)
    shared = Counter((record.function, record.region) for record in listed)
    statuses = []
    for record in listed:
        label = record.function
        if shared[(record.function, record.region)] > 1 and record.account is not None:
            label = FunctionId(record.account, record.region, record.function).arn
        drifted = set(record.drifted_aliases)
        statuses.append(
            FunctionStatus(
                function=label,
                region=record.region,
                status=record.status,
                drifted_aliases={alias: alias in drifted for alias in record.aliases},
                out_of_band_changes={
                    alias: record.alias_records.get(alias, AliasRecord()).out_of_band_changes
                    for alias in record.aliases
                },
                rollouts={
                    alias: RolloutSeries(rollout.phase, rollout.step, float(rollout.weight))
                    for alias, rollout in record.rollouts.items()
                    if rollout.phase is not None
                },
                versions=record.retention.versions,
                versions_deleted=record.retention.deleted,
            )
        )
    return statuses

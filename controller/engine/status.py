"""What the controller reports of each declared function, as a pure fold over passes.

A pass says what it saw and did; what ``/status`` and the metrics show is that, folded into what
was shown before: a function that failed keeps its last applied revision, a declaration that
became invalid keeps the function's series (in ``error``), a file that stopped parsing holds back
every function it declared at the last good revision, and only a function removed from Git
disappears. ``fold`` is that rule and nothing else, ``(previous, pass, revision) -> next``, so it
is tested with tables; the loop only schedules passes and stores what ``fold`` returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.adapters.metrics import FunctionStatus
from controller.core.declarations import Declarations
from controller.core.model import DesiredFunction, FunctionId, FunctionRef, SyncStatus
from controller.engine.reconciler import FunctionResult, PassResult

RecordKey = FunctionId | str
"""A function's identity, or, for a declaration too broken to name one, its ``FILE:LINE``."""


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

    def as_json(self) -> dict[str, Any]:
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
        }


@dataclass(frozen=True, slots=True)
class FleetStatus:
    """Every declared function's record, and the last valid declaration of each, which is
    what a function whose declaration broke is held back at."""

    records: Mapping[RecordKey, FunctionRecord] = field(default_factory=dict)
    last_good: Mapping[FunctionId, DesiredFunction] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Defaults:
    """Where a declaration that is too broken to say is taken to be: the controller's own."""

    region: str
    account: str | None = None


def fold(
    previous: FleetStatus, result: PassResult, revision: str, defaults: Defaults
) -> FleetStatus:
    """The fleet's status after ``result``, a pass at ``revision``."""
    before = previous.records
    records: dict[RecordKey, FunctionRecord] = {}
    for function_result in result.results:
        identity = function_result.function.ref.identity
        records[identity] = _reconciled(function_result, before.get(identity), revision)
    held = _held_back(result.declarations, previous, revision, defaults)
    records.update(held)
    last_good = dict(previous.last_good)
    for desired in result.declarations.functions:
        last_good[desired.ref.identity] = desired
    last_good = {identity: f for identity, f in last_good.items() if identity in records}
    if len(result.results) < len(result.declarations.functions):
        # The pass stopped part-way (a shutdown): what it did not reach stays as it was.
        for key, record in before.items():
            records.setdefault(key, record)
    return FleetStatus(records, last_good)


def passed(status: FleetStatus, declarations: Declarations) -> bool:
    """Whether the pass succeeded: every declaration valid and no function in error."""
    return not declarations.errors and all(
        record.status != "error" for record in status.records.values()
    )


def _reconciled(
    result: FunctionResult, previous: FunctionRecord | None, revision: str
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
            )
        )
    return statuses

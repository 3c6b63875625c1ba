"""One level-triggered pass: read the declarations, observe the registry, plan, apply.

Each pass recomputes everything from the declarations at one Git revision and the live registry,
so it is idempotent and a crash at any point is repaired by the next pass. Functions are
independent transactions, reconciled concurrently up to a bound: an invalid declaration, a
failed observation, a function outside the configured scope or a failed write stops that
function alone, and the result says which and why.

A pass of ``plan`` or ``reconcile --once`` starts with nothing cached, so it first reads the
version listings it will need the cheaper way per region (``prime_listings``): a region's
ListFunctions pages, or one ListVersionsByFunction per function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

from controller.adapters.logging import get_logger
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import Registry, observe
from controller.adapters.registry.priming import PrimingReport, log_field
from controller.core import priority
from controller.core.declarations import Declarations
from controller.core.model import (
    DesiredFunction,
    FunctionId,
    ObservedFunction,
    PublishedVersion,
    SyncStatus,
)
from controller.core.outofband import AliasMemory, OutOfBandChange, out_of_band_changes
from controller.core.plan import DeleteVersion, FunctionPlan, Plan
from controller.core.planner import any_version_missing, plan_function
from controller.core.retention import Retention
from controller.core.rollout import Verdict
from controller.engine.analyst import Analyst, CheckReport, reports_by_alias
from controller.engine.applier import (
    ActionOutcome,
    Applier,
    CodeReader,
    FunctionOutcome,
    InScope,
    function_arn,
    out_of_scope,
)
from controller.errors import NotFound, RegistryError

Progress = Callable[[str], None]
"""Called with a function's name as each one is handled, for a progress display."""

MAX_REPLANS = 3
"""How often one function is re-observed and re-planned after a precondition failure or a
conflict before the pass gives up on it."""


@dataclass(frozen=True, slots=True)
class Observation:
    """The live side of a function, or why it could not be read (``None`` and no error means
    the function does not exist)."""

    function: DesiredFunction
    live: ObservedFunction | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FunctionResult:
    """One function in one pass: what was seen, planned and, when applying, done."""

    observation: Observation
    plan: FunctionPlan
    outcome: FunctionOutcome | None = None
    """``None`` when nothing was applied: planning only, or nothing could be."""
    out_of_band: tuple[OutOfBandChange, ...] = ()
    """Declared aliases another writer changed since the controller last wrote or saw them."""
    checks: Mapping[str, tuple[CheckReport, ...]] = field(default_factory=dict)
    """The latest results of each rollout's checks, by alias."""

    @property
    def function(self) -> DesiredFunction:
        return self.observation.function

    @property
    def error(self) -> str | None:
        if self.plan.error is not None:
            return self.plan.error
        return self.outcome.error if self.outcome is not None else None

    @property
    def applied(self) -> bool:
        """Every planned action was carried out."""
        return self.outcome is not None and self.outcome.converged and bool(self.plan.actions)

    @property
    def status(self) -> SyncStatus:
        if self.error is not None:
            return "error"
        if self.function.suspend:
            return "suspended"
        if self.plan.matches_declarations:  # retention's and adoption's writes: housekeeping
            under_way = any(view.under_way for view in self.plan.rollouts)
            return "progressing" if under_way else "synced"
        return "progressing" if self.applied else "drifted"

    def drifted_aliases(self) -> dict[str, bool]:
        """Every declared alias, and whether it still differs from its declaration."""
        drifted = {entry.alias for entry in self.plan.drift if entry.kind in ("missing", "differs")}
        if self.applied:
            drifted = set()
        return {name: name in drifted for name in self.function.aliases}


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass planned and, unless it only planned, what became of each function."""

    declarations: Declarations
    results: tuple[FunctionResult, ...]
    applying: bool = False
    """True for a pass that applies; a planning pass has no outcomes."""
    version_listing: tuple[PrimingReport, ...] = ()
    """How each region's version listings were read before the pass, when they were primed."""

    @property
    def plan(self) -> Plan:
        return Plan(self.declarations.revision, tuple(result.plan for result in self.results))

    @property
    def observations(self) -> tuple[Observation, ...]:
        return tuple(result.observation for result in self.results)

    @property
    def outcomes(self) -> tuple[FunctionOutcome, ...]:
        if not self.applying:
            return ()
        return tuple(
            result.outcome
            if result.outcome is not None
            else FunctionOutcome(result.function, error=result.error)
            for result in self.results
        )

    @property
    def declaration_errors(self) -> list[str]:
        return [str(error) for error in self.declarations.errors]

    @property
    def converged(self) -> bool:
        """Every function converged and every declaration was valid."""
        return not self.declaration_errors and all(r.error is None for r in self.results)


def reconcile_function(
    registry: Registry,
    function: DesiredFunction,
    revision: str,
    *,
    in_scope: InScope,
    code: CodeReader | None = None,
    memory: Mapping[str, AliasMemory] | None = None,
    now: float | None = None,
    analyst: Analyst | None = None,
    observed: ObservedFunction | None = None,
    retention: Retention | None = None,
) -> FunctionResult:
    """Observe, plan and, when ``code`` is given, apply one function. Never raises a registry
    error: it becomes the function's error. A function outside the scope is an error whether
    the pass applies or only plans, so that ``plan`` says what ``reconcile`` would refuse.
    ``memory`` is what earlier passes know of its aliases, to tell out-of-band changes.

    ``now`` is the time a rollout's steps are measured at, and ``analyst`` runs the checks of
    those under way. ``observed``, when given, is taken as the live state instead of reading
    it: a rollout's next step is planned from what the last reconcile left, and every write's
    precondition (the alias's ``RevisionId``) makes a stale observation cost a re-read, never a
    wrong write. No version is deleted on such an observation: ``retention`` (the default N and
    whether versions may be deleted) deletes only on facts read now."""
    observation = (
        Observation(function, observed) if observed else observe_function(registry, function)
    )
    if observed is not None and retention is not None:
        retention = replace(retention, fresh=False)
    verdicts: Mapping[str, Verdict] = {}
    if analyst is not None and observation.live is not None and now is not None:
        verdicts = analyst.verdicts(function, observation.live, now)
    plan = _plan(observation, revision, now=now, verdicts=verdicts, retention=retention)
    checks = reports_by_alias(analyst, function.ref.identity, verdicts)
    if observation.live is None or plan.error is not None:
        return FunctionResult(observation, plan, checks=checks)
    if not in_scope(arn := function_arn(observation.live)):
        # Planned as an error with no actions, so that plan and /status show it as one.
        refused = FunctionPlan(function, drift=plan.drift, error=out_of_scope(arn))
        return FunctionResult(observation, refused)
    live_aliases = {alias.name: alias for alias in observation.live.aliases}
    changed = out_of_band_changes(plan, live_aliases, memory or {})
    if code is None:
        return FunctionResult(observation, plan, out_of_band=changed, checks=checks)
    deletes = retention is not None and retention.may_delete
    applier = Applier(registry, code, in_scope=in_scope, delete_versions=deletes)
    outcome = converge(
        registry,
        applier,
        plan,
        observation.live,
        revision,
        now=now,
        verdicts=verdicts,
        retention=retention,
    )
    return FunctionResult(observation, plan, outcome, changed, checks)


def converge(
    registry: Registry,
    applier: Applier,
    function_plan: FunctionPlan,
    observed: ObservedFunction,
    revision: str,
    *,
    max_replans: int = MAX_REPLANS,
    now: float | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
    retention: Retention | None = None,
) -> FunctionOutcome:
    """Apply a function's plan; when the function changed under it, wait for any update to
    finish, observe again, plan again and apply that, up to ``max_replans`` times. A plan whose
    alias writes wait for its publishes (a rollout needs its target's number) is observed and
    planned again once they are done. A plan that deletes versions (``retention``) is carried
    out only once the versions were listed afresh, so that what it deletes is decided on what
    Lambda holds now rather than on a cached listing.

    This is the one observe, plan, apply loop: the applier runs a single plan and says when it
    met a change it had not seen, and the planner is asked again here, never by the writer.
    """
    actions: list[ActionOutcome] = []
    replans = 0
    current, live = function_plan, observed
    listed_afresh: tuple[PublishedVersion, ...] | None = None
    # Every plan made here is made on what was just read from Lambda.
    fresh = replace(retention, fresh=True) if retention is not None else None

    def replan(live: ObservedFunction) -> FunctionPlan:
        return plan_function(
            current.function, live, revision, now=now, verdicts=verdicts, retention=fresh
        )

    while True:
        if current.error is not None or current.suspended:
            return FunctionOutcome(current.function, tuple(actions), current.error, replans)
        if _deletes_versions(current) and live.versions is not listed_afresh:
            try:
                listed_afresh = tuple(registry.list_versions(current.ref, fresh=True))
            except RegistryError as unread:
                return FunctionOutcome(current.function, tuple(actions), str(unread), replans)
            if listed_afresh != live.versions:
                # The listing came from the version cache, and a version it holds was deleted,
                # or one published, out of band: N is counted on what Lambda holds now.
                live = replace(live, versions=listed_afresh)
                current = replan(live)
                continue
        applied = applier.apply(current, live)
        actions.extend(applied.actions)
        conflict = applied.conflict
        if conflict is None and not (current.deferred and applied.error is None):
            return FunctionOutcome(current.function, tuple(actions), applied.error, replans)
        if replans >= max_replans:
            error = f"gave up after {replans} re-plans: {conflict or 'a rollout waits'}"
            return FunctionOutcome(current.function, tuple(actions), error, replans)
        replans += 1
        try:
            registry.wait_until_settled(current.ref)
            live = observe(registry, current.ref)
        except RegistryError as error:
            return FunctionOutcome(current.function, tuple(actions), str(error), replans)
        current = replan(live)


def _deletes_versions(function_plan: FunctionPlan) -> bool:
    return any(isinstance(action, DeleteVersion) for action in function_plan.actions)


def observe_function(registry: Registry, function: DesiredFunction) -> Observation:
    """The function's live state; ``$LATEST`` is read only when a declared version is missing
    (no published version has its code and declared configuration), since only a publish
    needs it."""

    def need_latest(versions: Sequence[PublishedVersion]) -> bool:
        return any_version_missing(function, versions)

    try:
        return Observation(function, observe(registry, function.ref, need_latest=need_latest))
    except NotFound:
        return Observation(function, None)
    except RegistryError as error:
        return Observation(function, None, f"cannot read it: {error}")


Guard = Callable[[DesiredFunction], AbstractContextManager[bool]]
"""Entered around one function's reconcile; its value says whether to reconcile it."""


def run_pass(
    registry: Registry,
    declarations: Declarations,
    *,
    in_scope: InScope,
    code: CodeReader | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_result: Callable[[FunctionResult], None] | None = None,
    memory: Callable[[FunctionId], Mapping[str, AliasMemory]] | None = None,
    guard: Guard | None = None,
    urgent: bool = False,
    clock: Callable[[], float] | None = None,
    analyst: Analyst | None = None,
    remembered: Callable[[FunctionId], ObservedFunction | None] | None = None,
    retention: Retention | None = None,
) -> PassResult:
    """Every declared function, ``workers`` at a time, results in declaration order.

    Once ``should_stop`` says so, functions not yet started are skipped (and left out of the
    result) while those in flight finish: that is how a shutdown lets in-flight calls end.
    ``guard`` is entered around each function (``on_result`` included) and says whether to
    reconcile it at all: a loop running two passes at once uses it so that no function is
    reconciled by both at the same time. ``urgent`` requests go ahead of other passes' in the
    rate limiter (``core.priority``). ``clock`` (seconds since the epoch) times rollouts, whose
    checks ``analyst`` runs; ``remembered`` gives the live state a function may be planned
    from without reading it again (``reconcile_function``'s ``observed``). ``retention`` is the
    controller's ``retain_versions`` default and ``scope.delete_versions``.
    """

    def one(function: DesiredFunction) -> FunctionResult | None:
        if should_stop is not None and should_stop():
            return None
        with guard(function) if guard is not None else nullcontext(True) as admitted:
            if not admitted or (should_stop is not None and should_stop()):
                return None
            with priority.urgent() if urgent else nullcontext():
                result = reconcile_function(
                    registry,
                    function,
                    declarations.revision,
                    code=code,
                    in_scope=in_scope,
                    memory=memory(function.ref.identity) if memory is not None else None,
                    now=clock() if clock is not None else None,
                    analyst=analyst,
                    observed=remembered(function.ref.identity) if remembered else None,
                    retention=retention,
                )
            if progress is not None:
                progress(function.name)
            if on_result is not None:
                on_result(result)
            return result

    if workers <= 1 or len(declarations.functions) <= 1:
        results = [one(function) for function in declarations.functions]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile") as pool:
            results = list(pool.map(one, declarations.functions))
    done = tuple(result for result in results if result is not None)
    return PassResult(declarations, done, applying=code is not None)


def plan_pass(
    registry: Registry,
    declarations: Declarations,
    progress: Progress | None = None,
    *,
    in_scope: InScope,
    workers: int = 1,
    prime: bool = True,
    retention: Retention | None = None,
) -> PassResult:
    """Observe every declared function and plan it; nothing is written. Rollouts are planned
    at the present time, with no analysis run; the versions retention would delete are shown.
    With ``prime``, the version listings are read first, the cheaper way per region
    (``primed``)."""
    return _command_pass(
        registry,
        declarations,
        None,
        progress,
        in_scope=in_scope,
        workers=workers,
        prime=prime,
        retention=retention,
    )


def reconcile_pass(
    registry: Registry,
    declarations: Declarations,
    code: CodeReader,
    progress: Progress | None = None,
    *,
    in_scope: InScope,
    workers: int = 1,
    prime: bool = True,
    retention: Retention | None = None,
) -> PassResult:
    """Observe, plan and apply every declared function, each on its own. Rollouts move on
    as the present time says; their checks run only under ``run`` (a step with checks waits
    for its first analysis). With ``prime``, the version listings are read first, the
    cheaper way per region (``primed``)."""
    return _command_pass(
        registry,
        declarations,
        code,
        progress,
        in_scope=in_scope,
        workers=workers,
        prime=prime,
        retention=retention,
    )


def _command_pass(
    registry: Registry,
    declarations: Declarations,
    code: CodeReader | None,
    progress: Progress | None,
    *,
    in_scope: InScope,
    workers: int,
    prime: bool,
    retention: Retention | None,
) -> PassResult:
    """One pass of a command (``plan``, ``reconcile --once``), timed by the present time."""
    cached, listing = primed(registry, declarations) if prime else (registry, ())
    result = run_pass(
        cached,
        declarations,
        code=code,
        in_scope=in_scope,
        workers=workers,
        progress=progress,
        clock=time.time,
        retention=retention,
    )
    return replace(result, version_listing=listing)


def primed(
    registry: Registry, declarations: Declarations
) -> tuple[CachingRegistry, tuple[PrimingReport, ...]]:
    """``registry`` behind a version cache (itself, when it is one), with the listings of the
    declared functions read ahead, and how; the way taken per region is logged."""
    cached = registry if isinstance(registry, CachingRegistry) else CachingRegistry(registry)
    listing = prime_listings(cached, declarations.functions)
    get_logger("controller.engine.reconciler").info(
        "version listing", version_listing=log_field(listing)
    )
    return cached, listing


def prime_listings(
    cache: CachingRegistry,
    functions: Sequence[DesiredFunction],
    *,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[PrimingReport, ...]:
    """Read ahead the version listings the functions' observations will need; never raises.

    Priming is an optimisation: a function whose listing it did not read is read on its own
    during the pass, so not even a bug here may fail a pass or a command.
    """
    try:
        return cache.prime([function.ref for function in functions], should_stop=should_stop)
    except Exception as error:  # noqa: BLE001 - an optimisation must never fail a pass
        get_logger("controller.engine.reconciler").exception(
            "version listing failed unexpectedly; versions are listed per function",
            error=f"{type(error).__name__}: {error}",
        )
        return ()


def _plan(
    observation: Observation,
    revision: str,
    *,
    now: float | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
    retention: Retention | None = None,
) -> FunctionPlan:
    if observation.error is not None:
        return FunctionPlan(observation.function, error=observation.error)
    return plan_function(
        observation.function,
        observation.live,
        revision,
        now=now,
        verdicts=verdicts,
        retention=retention,
    )

"""The long-running controller: triggers, passes, what it reports, and a clean shutdown.

The loop is level-triggered. A **full pass** reconciles every declared function: at start-up,
when the resync timer runs out (to catch changes made outside Git), and after a fetch the
webhook asked for finds nothing new. A new revision gets a **targeted pass** first: the
functions whose declarations the commit changed, and only those, so that a promotion reaches
Lambda in a fraction of a second whatever the fleet's size. A full pass in progress yields to
it: it stops starting functions (those in flight finish), the targeted pass runs, and the full
pass resumes, at the new revision, with the functions it had not reached, so it never undoes the
promotion with the declarations it started from. Other requests for single functions (a change
event, later) take the same path, merged while they wait.

Every pass recomputes desired and observed state for the functions it covers, so the loop keeps
no state that a crash could corrupt: what it keeps (the status fold of ``engine.status``) is
reported, and what it remembers of aliases only tells out-of-band changes from deployments.

Declarations that cannot be used never turn into writes: a function whose declaration is
invalid, or whose file does not parse, is left as it is and reported in error, and it keeps its
metric series; only a function removed from Git loses them.
"""

from __future__ import annotations

import functools
import gc
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from controller.adapters.git import GitSource, Revision, SourceError
from controller.adapters.git.reader import CommitCodeReader, load_commit
from controller.adapters.logging import get_logger
from controller.adapters.metrics import Metrics
from controller.adapters.registry.port import Registry
from controller.core.declarations import Declarations
from controller.core.declarations.parser import ParseCache
from controller.core.model import DesiredFunction, FunctionId
from controller.core.plan import CreateAlias, DeleteAlias, PublishVersion, UpdateAlias, action_kind
from controller.engine.applier import ActionOutcome, InScope
from controller.engine.reconciler import FunctionResult, PassResult, run_pass
from controller.engine.status import (
    Defaults,
    FleetStatus,
    FunctionRecord,
    RecordKey,
    fold,
    metric_statuses,
    passed,
    rfc3339,
    status_keys,
)

_FULL_PASS_REASONS = frozenset({"start-up", "resync", "webhook"})
"""Triggers that ask for every function: a full pass starts (or restarts) for them."""

_FREEZE_AFTER_PARSING = 1000
"""A read that parsed more files than this (a cold start, a large change) freezes the heap."""

JITTER = 0.1
"""The resync timer runs out at its interval plus or minus this fraction, so that many
controllers started together do not call Lambda in step."""


class Trigger:
    """Reasons for a pass; those that arrive during a pass are kept for one next pass."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._reasons: set[str] = set()

    def fire(self, reason: str) -> None:
        with self._condition:
            self._reasons.add(reason)
            self._condition.notify_all()

    def wait(self, timeout: float) -> set[str]:
        """The reasons fired since the last call, waiting up to ``timeout`` for one."""
        with self._condition:
            if not self._reasons:
                self._condition.wait(timeout=max(timeout, 0.0))
            reasons, self._reasons = self._reasons, set()
            return reasons


@dataclass
class ControllerState:
    """Everything the HTTP endpoints show; written by the loop, read by the server's threads."""

    ref: str
    mode: str
    repository: str
    revision: Revision | None = None
    source_error: str | None = None
    last_fetch_at: float | None = None
    last_pass_at: float | None = None
    last_pass_seconds: float | None = None
    last_pass_reasons: tuple[str, ...] = ()
    last_pass_error: str | None = None
    """Why the last pass failed unexpectedly (``Type: message``); ``None`` when it did not."""
    declaration_errors: tuple[str, ...] = ()
    records: dict[RecordKey, FunctionRecord] = field(default_factory=dict)
    registry_reached: bool = False
    heartbeat: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "repository": self.repository,
                "ref": self.ref,
                "revision": self.revision.sha if self.revision else None,
                "mode": self.mode,
                "sourceError": self.source_error,
                "lastFetchAt": _rfc3339(self.last_fetch_at),
                "lastPassAt": _rfc3339(self.last_pass_at),
                "lastPassSeconds": self.last_pass_seconds,
                "lastPassReasons": list(self.last_pass_reasons),
                "lastPassError": self.last_pass_error,
                "declarationErrors": list(self.declaration_errors),
                "functions": {
                    key: record.as_json()
                    for key, record in sorted(status_keys(self.records.values()).items())
                },
            }


def _rfc3339(moment: float | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


@dataclass(frozen=True, slots=True)
class LoopSettings:
    """What the long-running loop needs of the configuration; ``Settings.loop`` builds it."""

    ref: str
    """The followed ref, as configured (shown in ``/status``)."""
    path: str
    """The folder of the repository holding declarations."""
    region: str
    """The region of declarations that name none."""
    mode: Literal["enforce", "detect"]
    resync_interval: float
    concurrency: int
    shutdown_grace: float
    in_scope: InScope
    """Whether a function ARN may be written to."""
    account: str | None = None
    """The account a bare function name means, when configured."""
    extra_regions: tuple[str, ...] = ()
    """Regions Lambda is in that the core's list does not know yet."""


class Controller:
    """Follows a Git source and keeps the registry converged (``enforce``) or watched
    (``detect``), reporting through metrics, logs and ``ControllerState``."""

    def __init__(
        self,
        settings: LoopSettings,
        source: GitSource,
        registry: Registry,
        metrics: Metrics,
        *,
        account: str | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._account = account or settings.account
        self._source = source
        self._registry = registry
        self._metrics = metrics
        self._clock = clock
        self._monotonic = monotonic
        self._random = rng or random.Random()
        self._log = get_logger("controller.engine.loop")
        self.trigger = Trigger()
        self.state = ControllerState(
            ref=settings.ref, mode=settings.mode, repository=source.display_url
        )
        self._declarations: tuple[str, Declarations] | None = None
        self._parse_cache = ParseCache()
        """Each declaration file parsed once per version (blob), across revisions."""
        self._fleet = FleetStatus()
        self._targets_lock = threading.Lock()
        self._targets: set[FunctionId] = set()
        self._target_reasons: set[str] = set()
        self._targeted_sha: str | None = None
        """The revision whose changes have been asked for, targeted."""
        self._full_pending = False
        """A full pass is due or in progress."""
        self._remaining: set[FunctionId] | None = None
        """The functions the full pass in progress has not reached; ``None``: all of them."""
        self._drift_lock = threading.Lock()
        self._drift_logged: dict[tuple[FunctionId, str], str] = {}

    # -- what the HTTP endpoints ask ------------------------------------------------------------

    def healthy(self) -> bool:
        """The loop is alive: it woke up, or finished a function, recently enough."""
        limit = max(3 * self._settings.resync_interval, 600.0)
        return self._monotonic() - self.state.heartbeat < limit

    def ready(self) -> bool:
        """The first source sync is done and the registry has been reached."""
        return self.state.revision is not None and self.state.registry_reached

    def webhook(self) -> None:
        """A push notification: fetch at once; a new revision then triggers a pass."""
        self._log.info("webhook received; fetching")
        self._source.poke()

    # -- the loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Follow the source and reconcile until ``stop`` is set."""
        watcher = threading.Thread(
            target=self._source.run,
            args=(self._on_revision, self._on_fetch, stop),
            name="git-source",
            daemon=True,
        )
        watcher.start()
        self.trigger.fire("start-up")
        next_resync = self._monotonic() + self._resync_interval()
        try:
            while not stop.is_set():
                idle = not self._full_pending and not self._has_targets()
                wait = min(next_resync - self._monotonic(), 5.0) if idle else 0.0
                reasons = self.trigger.wait(timeout=wait)
                self.state.heartbeat = self._monotonic()
                if stop.is_set():
                    break
                if self._monotonic() >= next_resync:
                    reasons.add("resync")
                if self.state.revision is None:
                    if reasons:  # no revision yet: keep the reasons for when it comes
                        for reason in reasons:
                            self.trigger.fire(reason)
                        stop.wait(0.2)
                    continue
                if self._step(reasons, stop):
                    next_resync = self._monotonic() + self._resync_interval()
        finally:
            stop.set()
            self.trigger.fire("stop")
            watcher.join(timeout=self._settings.shutdown_grace)

    def _step(self, reasons: set[str], stop: threading.Event | None) -> bool:
        """Do the most urgent work: a new revision's changes, then requested functions, then
        the rest of a full pass. True when a full pass has just completed."""
        revision = self.state.revision
        if revision is None:
            return False
        self._target_changes(revision)
        if not self._full_pending and (reasons & _FULL_PASS_REASONS):
            self._start_full_pass()
        if self._has_targets():
            self._run_targeted(revision, reasons, stop)
            return False
        if self._full_pending:
            return self._run_full(revision, reasons, stop)
        return False

    def run_pass(self, reasons: Iterable[str], stop: threading.Event | None = None) -> None:
        """One whole full pass now, with any targeted work that comes up first: for callers that
        drive the controller pass by pass (tests, benchmarks) rather than through ``run``."""
        self._start_full_pass()
        while (self._full_pending or self._has_targets()) and not (stop and stop.is_set()):
            self._step(set(reasons), stop)

    def request(self, functions: Iterable[FunctionId], reason: str) -> None:
        """Reconcile these functions soon, ahead of a full pass; repeats merge while they wait."""
        with self._targets_lock:
            self._targets.update(functions)
            self._target_reasons.add(reason)
        self.trigger.fire(reason)

    def _resync_interval(self) -> float:
        spread = self._settings.resync_interval * JITTER
        return self._settings.resync_interval + self._random.uniform(-spread, spread)

    def _on_revision(self, revision: Revision) -> None:
        with self.state.lock:
            self.state.revision = revision
            self.state.source_error = None
        self._metrics.source_revision(revision.sha, revision.ref)
        self._log.info("new revision", revision=revision.sha, ref=revision.ref)
        self.trigger.fire("git")

    def _on_fetch(self, ok: bool, at: float) -> None:
        self._metrics.source_fetch(ok=ok, at=at)
        with self.state.lock:
            if ok:
                self.state.last_fetch_at = at
                self.state.source_error = None
                self.state.revision = self._source.revision or self.state.revision
            else:
                self.state.source_error = "the last fetch failed; see the logs"

    # -- one pass -------------------------------------------------------------------------------

    def _has_targets(self) -> bool:
        with self._targets_lock:
            return bool(self._targets)

    def _take_targets(self) -> tuple[set[FunctionId], set[str]]:
        with self._targets_lock:
            targets, self._targets = self._targets, set()
            reasons, self._target_reasons = self._target_reasons, set()
            return targets, reasons

    def _start_full_pass(self) -> None:
        """Begin a full pass (or restart the one in progress from the top)."""
        self._full_pending = True
        self._remaining = None  # every declared function, decided at its first segment

    def _target_changes(self, revision: Revision) -> None:
        """When the source has moved on, ask for the functions the new revision changed."""
        if self._targeted_sha == revision.sha:
            return
        before = self._declarations
        try:
            after = self._read(revision)
        except SourceError:
            return  # reported by the pass that tries to read it
        self._targeted_sha = revision.sha
        if before is None:
            return  # the first revision: the start-up full pass covers everything
        changed = changed_functions(before[1], after)
        if changed:
            with self._targets_lock:
                self._targets.update(changed)
                self._target_reasons.add("git")

    def _run_targeted(
        self, revision: Revision, reasons: set[str], stop: threading.Event | None
    ) -> None:
        targets, target_reasons = self._take_targets()
        done = self._pass(
            revision,
            reasons | target_reasons,
            stop,
            kind="targeted",
            select=lambda function: function.ref.identity in targets,
            yield_to_targets=False,
        )
        if done is not None and self._remaining is not None:
            # Reconciled at the revision the full pass resumes at: it need not read them again.
            self._remaining -= done[1]

    def _run_full(
        self, revision: Revision, reasons: set[str], stop: threading.Event | None
    ) -> bool:
        remaining = self._remaining
        done = self._pass(
            revision,
            reasons or {"resync"},
            stop,
            kind="full",
            select=(lambda f: f.ref.identity in remaining) if remaining is not None else None,
            yield_to_targets=True,
        )
        if done is None:
            return False
        declared = done[0]
        finished = done[1]
        if self._remaining is None:
            self._remaining = set(declared)
        self._remaining -= finished
        self._remaining &= set(declared)
        if self._remaining:
            if not (stop is not None and stop.is_set()):
                self._log.info(
                    "full pass yields", revision=revision.sha, remaining=len(self._remaining)
                )
            return False  # preempted: the rest follows the targeted work
        self._log.info("full pass complete", revision=revision.sha, functions=len(declared))
        self._remaining = None
        self._full_pending = False
        return True

    def _pass(
        self,
        revision: Revision,
        reasons: set[str],
        stop: threading.Event | None,
        *,
        kind: str,
        select: Callable[[DesiredFunction], bool] | None,
        yield_to_targets: bool,
    ) -> tuple[set[FunctionId], set[FunctionId]] | None:
        """One pass over the selected functions at ``revision``; every outcome is recorded,
        always. Returns the identities declared and those reconciled, or ``None`` when the
        declarations could not be read."""
        started, wall = self._monotonic(), self._clock()
        requests_before = self._metrics.requests_made()
        success = False
        summary: dict[str, int] = {}
        reconciled: tuple[set[FunctionId], set[FunctionId]] | None = None
        failure: str | None = None

        def should_stop() -> bool:
            if stop is not None and stop.is_set():
                return True
            return yield_to_targets and (self._has_targets() or self._revision_moved(revision))

        try:
            declarations = self._read(revision)
            chosen = declarations if select is None else _selected(declarations, select)
            result = run_pass(
                self._registry,
                chosen,
                in_scope=self._settings.in_scope,
                code=CommitCodeReader(self._source.path, revision.sha)
                if self._settings.mode == "enforce"
                else None,
                workers=self._settings.concurrency,
                should_stop=should_stop,
                on_result=functools.partial(self._function_done, revision=revision),
                memory=self._fleet.memory_of,
            )
            success = self._record(result, declarations, revision)
            summary = _summary(result)
            reconciled = (
                {f.ref.identity for f in declarations.functions},
                {r.function.ref.identity for r in result.results},
            )
        except SourceError as error:
            failure = str(error)
            self._log.error("cannot read the declarations", revision=revision.sha, error=failure)
            with self.state.lock:
                self.state.source_error = failure
        except Exception as error:  # noqa: BLE001 - a bug in one pass must not stop the controller
            # The next pass recomputes everything, so the loop carries on; the failure is
            # counted, shown in /status and logged with its traceback for whoever fixes the bug.
            failure = f"{type(error).__name__}: {error}"
            self._log.exception("pass failed unexpectedly", revision=revision.sha, error=failure)
        finally:
            seconds = self._monotonic() - started
            self._metrics.pass_finished(success=success, seconds=seconds, finished_at=self._clock())
            with self.state.lock:
                self.state.last_pass_at = wall
                self.state.last_pass_seconds = seconds
                self.state.last_pass_reasons = tuple(sorted(reasons))
                self.state.last_pass_error = None if success else failure
            self._log.info(
                "pass",
                kind=kind,
                revision=revision.sha,
                reasons=sorted(reasons),
                outcome="success" if success else "failure",
                duration=round(seconds, 3),
                functions=len(self.state.records),
                requests=self._metrics.requests_made() - requests_before,
                **summary,
            )
        return reconciled

    def _revision_moved(self, revision: Revision) -> bool:
        current = self.state.revision
        return current is not None and current.sha != revision.sha

    def _function_done(self, result: FunctionResult, revision: Revision) -> None:
        """As each function finishes (on a worker thread): its log lines and action counts go
        out at once, so a crash later in the pass loses none of them."""
        self.state.heartbeat = self._monotonic()
        self._log_actions(result, revision)

    def _read(self, revision: Revision) -> Declarations:
        """The declarations at ``revision``, parsed once per revision."""
        if self._declarations is not None and self._declarations[0] == revision.sha:
            return self._declarations[1]
        parsed_before = self._parse_cache.parsed
        declarations = load_commit(
            self._source.path,
            revision.sha,
            self._settings.path,
            default_region=self._settings.region,
            default_account=self._account,
            extra_regions=self._settings.extra_regions,
            cache=self._parse_cache,
        )
        if self._parse_cache.parsed - parsed_before > _FREEZE_AFTER_PARSING:
            # The cache now holds many long-lived objects, which every full collection would
            # walk again (some 150 ms at ten thousand files, on every new revision): they are
            # moved out of the collector's sight, as a server does after loading.
            gc.freeze()
        had_errors = self._declarations is not None and bool(self._declarations[1].errors)
        self._declarations = (revision.sha, declarations)
        # Once per revision, not per pass: an error stays until a commit fixes it.
        for problem in declarations.errors:
            self._log.warning("invalid declaration", revision=revision.sha, error=str(problem))
        if had_errors and not declarations.errors:
            self._log.info("declarations valid again", revision=revision.sha)
        return declarations

    def _record(self, result: PassResult, declarations: Declarations, revision: Revision) -> bool:
        """Fold a pass into the state, the metrics and the logs; True when nothing failed.

        ``declarations`` is the whole revision; ``result`` may cover only some of it (a
        targeted pass, or a full pass that yielded): the others keep their records."""
        defaults = Defaults(self._settings.region, self._account)
        whole = PassResult(declarations, result.results, applying=result.applying)
        self._fleet = fleet = fold(self._fleet, whole, revision.sha, defaults, now=self._clock())
        errors = tuple(str(error) for error in declarations.errors)
        with self.state.lock:
            self.state.records = dict(fleet.records)
            self.state.declaration_errors = errors
            if any(r.observation.error is None for r in result.results) or not result.results:
                self.state.registry_reached = True
        self._metrics.declaration_errors(len(errors))
        self._metrics.functions(metric_statuses(fleet.records.values()))
        return passed(fleet, result.declarations)

    def _log_actions(self, result: FunctionResult, revision: Revision) -> None:
        function = result.function.name
        healed = _written_aliases(result)
        for change in result.out_of_band:
            self._log.warning(
                "alias changed out of band",
                function=function,
                region=result.function.ref.region,
                alias=change.alias,
                git=change.git,
                live=change.live,
                reverted=change.alias in healed,
                mode=self._settings.mode,
                revision=revision.sha,
            )
        if self._settings.mode == "detect":
            self._log_drift(result, revision)
        if result.outcome is None:
            if result.error is not None:
                self._log.warning("function not reconciled", function=function, error=result.error)
            return
        for done in result.outcome.actions:
            kind = action_kind(done.action)
            self._metrics.action_finished(kind, done.outcome)
            self._log.info(
                "action",
                function=function,
                action=kind,
                revision=revision.sha,
                outcome=done.outcome,
                duration=round(done.seconds, 3),
                **_action_fields(done),
            )
        if result.outcome.error is not None:
            self._log.warning("function failed", function=function, error=result.outcome.error)

    def _log_drift(self, result: FunctionResult, revision: Revision) -> None:
        """In detect mode, each alias that differs from Git, once per change of either side."""
        identity = result.function.ref.identity
        out_of_band = {change.alias for change in result.out_of_band}
        for drift in result.plan.drift:
            if drift.kind == "extraneous":
                continue
            key = (identity, drift.alias)
            seen = "; ".join(f"{c.field} {c.live} -> {c.desired}" for c in drift.changes)
            with self._drift_lock:
                if self._drift_logged.get(key) == seen:
                    continue
                self._drift_logged[key] = seen
            if drift.alias in out_of_band:
                continue  # already said, as an out-of-band change
            self._log.warning(
                "alias differs from git",
                function=result.function.name,
                region=identity.region,
                alias=drift.alias,
                changes=seen,
                revision=revision.sha,
            )


def _written_aliases(result: FunctionResult) -> set[str]:
    if result.outcome is None:
        return set()
    return {
        done.written.name
        for done in result.outcome.actions
        if done.outcome == "applied" and done.written is not None
    }


def _action_fields(done: ActionOutcome) -> dict[str, str]:
    """What an action's log line says of it, with no empty fields: the alias or version, where
    it was and where it went, and Lambda's answer or error."""
    action = done.action
    fields: dict[str, str] = {"detail": done.detail}
    match action:
        case PublishVersion():
            fields["version"] = action.label
        case CreateAlias():
            fields |= {"alias": action.name, "to": _target_text(action.version, action.routing)}
        case UpdateAlias():
            fields |= {
                "alias": action.name,
                "from": _target_text(action.live.function_version, action.live.effective_routing),
                "to": _target_text(action.version, action.routing),
            }
        case DeleteAlias():
            fields |= {
                "alias": action.name,
                "from": _target_text(action.live.function_version, action.live.effective_routing),
            }
    if done.written is not None and "to" in fields:
        fields["to"] = _target_text(done.written.function_version, done.written.routing)
    return fields


def _target_text(version: object, routing: Mapping[Any, Decimal]) -> str:
    routes = "".join(f" + {share} to {target}" for target, share in routing.items())
    return f"{version}{routes}"


def _summary(result: PassResult) -> dict[str, int]:
    """A pass in numbers, for its log line."""
    outcomes = [r.outcome for r in result.results if r.outcome is not None]
    drifted = sum(sum(r.drifted_aliases().values()) for r in result.results)
    return {
        "observed": len(result.results),
        "actions_applied": sum(
            1 for outcome in outcomes for done in outcome.actions if done.outcome == "applied"
        ),
        "actions_failed": sum(
            1 for outcome in outcomes for done in outcome.actions if done.outcome == "failed"
        ),
        "drifted_aliases": drifted,
        "out_of_band_changes": sum(len(r.out_of_band) for r in result.results),
        "errors": sum(1 for r in result.results if r.error is not None)
        + len(result.declarations.errors),
    }


def _selected(
    declarations: Declarations, select: Callable[[DesiredFunction], bool]
) -> Declarations:
    """The declarations with only the selected valid functions, for a partial pass."""
    return replace(declarations, functions=tuple(f for f in declarations.functions if select(f)))


def changed_functions(before: Declarations, after: Declarations) -> set[FunctionId]:
    """The functions whose declaration differs between two revisions: changed, added, or now
    valid again. A function that became invalid or was removed needs no reconcile (it is left
    as it is), and one whose declaration only moved to another file or line is unchanged."""
    previous = {f.ref.identity: replace(f, location=None) for f in before.functions}
    return {
        f.ref.identity
        for f in after.functions
        if previous.get(f.ref.identity) != replace(f, location=None)
    }

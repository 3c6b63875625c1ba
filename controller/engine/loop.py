"""The long-running controller: triggers, passes, what it reports, and a clean shutdown.

The loop is level-triggered. A **full pass** reconciles every declared function: at start-up,
when the resync timer runs out (to catch changes made outside Git), and after a fetch the
webhook asked for finds nothing new. A new revision gets a **targeted pass** first: the
functions whose declarations the commit changed, and only those, so that a promotion reaches
Lambda in a fraction of a second whatever the fleet's size. Under ``run`` targeted passes run on
a thread of their own, beside the full pass: their requests go ahead of the full pass's in the
shared rate limiter (``core.priority``), and no function is ever reconciled by both passes at
once (each is claimed for the time of its reconcile). A full pass never reconciles a function
that a targeted pass reconciled since it began, and it stops starting functions when the
revision moves on, then resumes at the new revision with those it had not reached: it never
undoes a promotion with the declarations it started from. Other requests for single functions
(a change event, ``engine.events``) take the same path, merged while they wait; each request
gives a ticket, by which its caller learns when a reconcile begun after it has finished.
Driven pass by pass (``run_pass``, for tests), the two kinds take turns instead: the full pass
yields to targets.

A full pass over a registry with a version cache (``run``'s) first reads the version listings
that are missing or expired (the first pass, and the wave of expiries
``version_resync_interval`` after it) the cheaper way per region, and its log line says which
way was taken (``version_listing``). Targeted passes never do: they read a few functions, now.

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from controller.adapters.git import GitSource, Revision, SourceError
from controller.adapters.git.reader import CommitCodeReader, load_commit
from controller.adapters.logging import get_logger
from controller.adapters.metrics import Metrics
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import Registry
from controller.adapters.registry.priming import PrimingReport, log_field
from controller.core.declarations import Declarations
from controller.core.declarations.parser import ParseCache
from controller.core.events import ManagedFunctions
from controller.core.model import DesiredFunction, FunctionId, ObservedFunction
from controller.core.outofband import AliasMemory
from controller.core.plan import (
    ADOPT_DRIFT,
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    PublishVersion,
    RolloutView,
    UpdateAlias,
    action_kind,
)
from controller.core.retention import Retention
from controller.engine.analyst import Analyst
from controller.engine.applier import ActionOutcome, InScope
from controller.engine.reconciler import FunctionResult, PassResult, prime_listings, run_pass
from controller.engine.status import (
    Defaults,
    FleetStatus,
    FunctionRecord,
    RecordKey,
    fold,
    metric_statuses,
    optional_rfc3339,
    passed,
    remembered,
    status_keys,
)
from controller.errors import NotLeader

_FULL_PASS_REASONS = frozenset({"start-up", "resync", "webhook"})
"""Triggers that ask for every function: a full pass starts (or restarts) for them."""

_FREEZE_AFTER_PARSING = 1000
"""A read that parsed more files than this (a cold start, a large change) freezes the heap."""

RETRY_ROLLOUT = 5.0
"""Seconds before a rollout whose step should have moved on, and has not, is looked at again."""

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
                "lastFetchAt": optional_rfc3339(self.last_fetch_at),
                "lastPassAt": optional_rfc3339(self.last_pass_at),
                "lastPassSeconds": self.last_pass_seconds,
                "lastPassReasons": list(self.last_pass_reasons),
                "lastPassError": self.last_pass_error,
                "declarationErrors": list(self.declaration_errors),
                "functions": {
                    key: record.as_json(now=time.time())
                    for key, record in sorted(status_keys(self.records.values()).items())
                },
            }


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
    retention: Retention = field(default_factory=Retention)
    """The ``retain_versions`` default and whether versions may be deleted at all."""
    owned: Callable[[Declarations], Declarations] | None = None
    """With sharding, this shard's part of each revision (``engine.sharding``); the loop knows
    no other function. ``None``: every function."""


class Controller:
    """Follows a Git source and keeps the registry converged (``enforce``) or watched
    (``detect``), reporting through metrics, logs and ``ControllerState``."""

    _managed: tuple[str, ManagedFunctions] | None = None
    """The valid declared functions of the revision last read, for change events (set on
    first use, per revision)."""

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
        analyst: Analyst | None = None,
    ) -> None:
        self._settings = settings
        self._account = account or settings.account
        self._source = source
        self._registry = registry
        self._metrics = metrics
        self._clock = clock
        self._monotonic = monotonic
        self._random = rng or random.Random()
        self._analyst = analyst
        self._rollouts_lock = threading.Lock()
        self._rollout_due: dict[FunctionId, float] = {}
        """When each function with a rollout under way next needs a look: a hold ends, or its
        checks are due again."""
        self._last_seen: dict[FunctionId, ObservedFunction] = {}
        """Each such function's live state as its last reconcile left it (its writes applied):
        a rollout's next step is planned from it, at no read (``_tick``)."""
        self._ticks: set[FunctionId] = set()
        """Functions queued only because their rollout is due, not for a change."""
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
        self._read_lock = threading.RLock()
        """One reader of a revision at a time: the two passes' threads share the parse cache."""
        self._record_lock = threading.Lock()
        """One fold of a pass into the status at a time."""
        self._targeted_declarations: Declarations | None = None
        """What the targeted passes last compared a new revision with."""
        self._wake_targets = threading.Event()
        self._claims = threading.Condition()
        self._busy: set[FunctionId] = set()
        """Functions being reconciled right now, by either pass."""
        self._claims_made = 0
        """The number of the last claim made, on any function."""
        self._latest_claim: dict[FunctionId, int] = {}
        """The number of the last claim on each function: a pass's result for a function is
        folded only if no later pass reconciled it since (claims are numbered in order)."""
        self._alias_memory: dict[FunctionId, dict[str, AliasMemory]] = {}
        """What is remembered of each function's aliases, updated as soon as its reconcile
        ends (not when its pass is folded): the other pass reads it, so that the first one's
        writes are not taken for out-of-band changes."""

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
        targeted = threading.Thread(
            target=self._serve_targets, args=(stop,), name="targeted-passes", daemon=True
        )
        targeted.start()
        self.trigger.fire("start-up")
        next_resync = self._monotonic() + self._resync_interval()
        try:
            while not stop.is_set():
                idle = not self._full_pending
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
                if self._step(reasons, stop, beside=True):
                    next_resync = self._monotonic() + self._resync_interval()
        finally:
            stop.set()
            self.trigger.fire("stop")
            self._wake_targets.set()
            targeted.join(timeout=self._settings.shutdown_grace)
            watcher.join(timeout=self._settings.shutdown_grace)

    def _serve_targets(self, stop: threading.Event) -> None:
        """The targeted passes' thread: each new revision's changes, and each request, as soon
        as they come, beside whatever full pass is running."""
        while not stop.is_set():
            self._wake_targets.wait(timeout=1.0)
            self._wake_targets.clear()
            try:
                self._serve_waiting_targets(stop)
            except Exception as error:  # noqa: BLE001 - the thread must outlive a bug
                failure = f"{type(error).__name__}: {error}"
                self._log.exception("targeted pass failed unexpectedly", error=failure)
                with self.state.lock:
                    self.state.last_pass_error = failure
                stop.wait(1.0)  # not a busy loop if the bug repeats

    def _serve_waiting_targets(self, stop: threading.Event) -> None:
        while not stop.is_set():
            revision = self.state.revision
            if revision is None:
                return
            self._target_changes(revision)
            self._queue_due_rollouts()
            if not self._has_targets():
                return
            self.state.heartbeat = self._monotonic()
            self._run_targeted(revision, set(), stop, urgent=True)

    def _step(
        self, reasons: set[str], stop: threading.Event | None, *, beside: bool = False
    ) -> bool:
        """Do the most urgent work: a new revision's changes, then requested functions, then
        the rest of a full pass; or, ``beside`` a targeted passes' thread, the full pass alone.
        True when a full pass has just completed."""
        revision = self.state.revision
        if revision is None:
            return False
        if not beside:
            self._target_changes(revision)
        if not self._full_pending and (reasons & _FULL_PASS_REASONS):
            self._start_full_pass()
        if not beside and self._has_targets():
            self._run_targeted(revision, reasons, stop)
            return False
        if self._full_pending:
            return self._run_full(revision, reasons, stop, yield_to_targets=not beside)
        return False

    def run_pass(self, reasons: Iterable[str], stop: threading.Event | None = None) -> None:
        """One whole full pass now, with any targeted work that comes up first: for callers that
        drive the controller pass by pass (tests, benchmarks) rather than through ``run``."""
        self._start_full_pass()
        while (self._full_pending or self._has_targets()) and not (stop and stop.is_set()):
            self._step(set(reasons), stop)

    def serve_targets(self, stop: threading.Event | None = None) -> None:
        """Serve what the targeted passes' thread would now: the new revision's changes, the
        requests, and the rollouts due (for callers that drive the loop step by step)."""
        self._serve_waiting_targets(stop or threading.Event())

    def request(self, functions: Iterable[FunctionId], reason: str) -> int:
        """Reconcile these functions soon, ahead of a full pass; repeats merge while they wait.

        Returns a ticket for ``reconciled_since``: every reconcile of these functions that
        begins after the request reads them from Lambda (none is planned from what an earlier
        one left), and its claim comes after the ticket."""
        with self._targets_lock:
            asked = set(functions)
            self._targets.update(asked)
            self._ticks -= asked  # read again: something may have changed
            self._target_reasons.add(reason)
            ticket = self._last_claim()
        self._wake_targets.set()
        self.trigger.fire(reason)
        return ticket

    def reconciled_since(self, function: FunctionId, ticket: int) -> bool:
        """Whether a reconcile of ``function`` that began after ``ticket`` (``request``'s) has
        finished, by either pass, whatever its outcome."""
        with self._claims:
            return self._latest_claim.get(function, 0) > ticket and function not in self._busy

    def claimed_since(self, function: FunctionId, ticket: int) -> bool:
        """Whether a reconcile of ``function`` has begun since ``ticket``: one that has not yet
        begun reads Lambda after whatever happened before now."""
        with self._claims:
            return self._latest_claim.get(function, 0) > ticket

    def managed_functions(self) -> ManagedFunctions | None:
        """The valid declared functions of the revision last read, found by what a change event
        names; ``None`` until a revision has been read."""
        read = self._declarations
        if read is None:
            return None
        managed = self._managed
        if managed is None or managed[0] != read[0]:
            managed = (read[0], ManagedFunctions(f.ref.identity for f in read[1].functions))
            self._managed = managed
        return managed[1]

    def _resync_interval(self) -> float:
        spread = self._settings.resync_interval * JITTER
        return self._settings.resync_interval + self._random.uniform(-spread, spread)

    def _on_revision(self, revision: Revision) -> None:
        with self.state.lock:
            self.state.revision = revision
            self.state.source_error = None
        self._metrics.source_revision(revision.sha, revision.ref)
        self._log.info("new revision", revision=revision.sha, ref=revision.ref)
        self._wake_targets.set()
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
        before = self._targeted_declarations
        try:
            after = self._read(revision)
        except SourceError:
            return  # reported by the pass that tries to read it
        self._targeted_sha, self._targeted_declarations = revision.sha, after
        if before is None:
            return  # the first revision: the start-up full pass covers everything
        changed = changed_functions(before, after)
        if changed:
            with self._targets_lock:
                self._targets.update(changed)
                self._ticks -= changed
                self._target_reasons.add("git")

    def _queue_due_rollouts(self) -> None:
        """Queue the functions whose rollout is due (a hold ended, checks to run again), to be
        planned from what their last reconcile left, with no read (enforce mode only: in detect
        mode a rollout never moves)."""
        if self._settings.mode != "enforce":
            return
        now = self._clock()
        with self._rollouts_lock:
            due = {identity for identity, at in self._rollout_due.items() if at <= now}
            for identity in due:
                del self._rollout_due[identity]
        if not due:
            return
        with self._targets_lock:
            fresh = due - self._targets
            self._targets.update(due)
            self._ticks.update(fresh)
            self._target_reasons.add("rollout")

    def _remembered(self, identity: FunctionId) -> ObservedFunction | None:
        """The live state to plan a rollout's tick from; ``None``: read it."""
        with self._targets_lock:
            if identity not in self._ticks:
                return None
            self._ticks.discard(identity)
        with self._rollouts_lock:
            return self._last_seen.get(identity)

    def _run_targeted(
        self,
        revision: Revision,
        reasons: set[str],
        stop: threading.Event | None,
        *,
        urgent: bool = False,
    ) -> None:
        targets, target_reasons = self._take_targets()
        done = self._pass(
            revision,
            reasons | target_reasons,
            stop,
            kind="targeted",
            select=lambda function: function.ref.identity in targets,
            yield_to_targets=False,
            urgent=urgent,
        )
        if done is not None:
            with self._targets_lock:
                if self._remaining is not None:
                    # Reconciled at the revision the full pass resumes at: it need not read
                    # them again.
                    self._remaining = self._remaining - done[1]

    def _run_full(
        self,
        revision: Revision,
        reasons: set[str],
        stop: threading.Event | None,
        *,
        yield_to_targets: bool = True,
    ) -> bool:
        with self._targets_lock:
            remaining = self._remaining
        done = self._pass(
            revision,
            reasons or {"resync"},
            stop,
            kind="full",
            select=(lambda f: f.ref.identity in remaining) if remaining is not None else None,
            yield_to_targets=yield_to_targets,
        )
        if done is None:
            return False
        declared = done[0]
        finished = done[1]
        with self._targets_lock:
            left = set(declared) if self._remaining is None else self._remaining & declared
            self._remaining = left - finished
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
        urgent: bool = False,
    ) -> tuple[set[FunctionId], set[FunctionId]] | None:
        """One pass over the selected functions at ``revision``; every outcome is recorded,
        always. Returns the identities declared and those reconciled, or ``None`` when the
        declarations could not be read."""
        started, wall = self._monotonic(), self._clock()
        claimed: dict[FunctionId, int] = {}
        skipped: set[FunctionId] = set()
        guard = functools.partial(
            self._claim,
            claimed=claimed,
            skipped=skipped,
            since=self._last_claim(),
            full=kind == "full",
        )
        requests_before = self._metrics.requests_made()
        success = False
        summary: dict[str, int] = {}
        reconciled: tuple[set[FunctionId], set[FunctionId]] | None = None
        failure: str | None = None
        cache = self._registry if isinstance(self._registry, CachingRegistry) else None
        primer = cache if kind == "full" else None  # targeted passes read a few functions, now
        listing: tuple[PrimingReport, ...] = ()

        def should_stop() -> bool:
            if stop is not None and stop.is_set():
                return True
            return yield_to_targets and (self._has_targets() or self._revision_moved(revision))

        try:
            declarations = self._read(revision)
            chosen = declarations if select is None else _selected(declarations, select)
            if primer is not None:
                # Only a shutdown cuts the listing short: a full pass that yields to targeted
                # work resumes with the listings read, rather than read them again.
                listing = prime_listings(
                    primer,
                    chosen.functions,
                    should_stop=lambda: stop is not None and stop.is_set(),
                )
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
                memory=self._memory_of,
                guard=guard,
                urgent=urgent,
                clock=self._clock,
                analyst=self._analyst,
                remembered=self._remembered if kind == "targeted" else None,
                retention=self._settings.retention,
            )
            success = self._record(result, declarations, revision, claimed)
            summary = _summary(result)
            reconciled = (
                {f.ref.identity for f in declarations.functions},
                {r.function.ref.identity for r in result.results} | skipped,
            )
        except SourceError as error:
            failure = str(error)
            self._log.error("cannot read the declarations", revision=revision.sha, error=failure)
            with self.state.lock:
                self.state.source_error = failure
        except NotLeader as error:
            # The lease ran out or was given up mid-pass (engine.leader): the write was not
            # sent, nothing failed in Lambda, and the next leader reconciles from scratch. A
            # replica that may not write has nothing left to do: the loop stops.
            failure = str(error)
            self._log.warning("pass stopped: not the leader", revision=revision.sha, error=failure)
            if stop is not None:
                stop.set()
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
                **({"version_listing": log_field(listing)} if primer is not None else {}),
            )
        return reconciled

    @contextmanager
    def _claim(
        self,
        function: DesiredFunction,
        *,
        claimed: dict[FunctionId, int],
        skipped: set[FunctionId],
        since: int,
        full: bool,
    ) -> Iterator[bool]:
        """Hold ``function`` for one pass's reconcile, waiting while the other pass has it.

        Says (as the context's value) whether to reconcile it: a full pass skips a function
        that another pass reconciled since it began (``since`` is the last claim number then),
        at its revision or a newer one, rather than read it again or undo a newer revision,
        and counts it (in ``skipped``) as reconciled.
        """
        identity = function.ref.identity
        with self._claims:
            while identity in self._busy:
                self._claims.wait()
            skip = full and self._latest_claim.get(identity, 0) > since
            if not skip:
                self._busy.add(identity)
                self._claims_made += 1
                claimed[identity] = self._latest_claim[identity] = self._claims_made
        if skip:
            skipped.add(identity)
            yield False
            return
        try:
            yield True
        finally:
            with self._claims:
                self._busy.discard(identity)
                self._claims.notify_all()

    def _last_claim(self) -> int:
        with self._claims:
            return self._claims_made

    def _memory_of(self, function: FunctionId) -> Mapping[str, AliasMemory]:
        with self._claims:
            return self._alias_memory.get(function, {})

    def _revision_moved(self, revision: Revision) -> bool:
        current = self.state.revision
        return current is not None and current.sha != revision.sha

    def _function_done(self, result: FunctionResult, revision: Revision) -> None:
        """As each function finishes (on a worker thread): its log lines and action counts go
        out at once, so a crash later in the pass loses none of them."""
        self.state.heartbeat = self._monotonic()
        identity = result.function.ref.identity
        before = self._memory_of(identity)
        after = remembered(result, {(identity, alias): m for alias, m in before.items()})
        merged = {**before, **{alias: m for (_, alias), m in after.items()}}
        with self._claims:
            self._alias_memory[identity] = {
                alias: m for alias, m in merged.items() if alias in result.function.aliases
            }
        self._schedule_rollouts(result)
        self._log_actions(result, revision)

    def _schedule_rollouts(self, result: FunctionResult) -> None:
        """When the function's rollouts under way next need a look, and the live state to plan
        that look from."""
        identity = result.function.ref.identity
        due = [
            at
            for view in result.plan.rollouts
            if view.under_way
            for at in _rollout_times(view, self._analyst, identity, self._clock())
        ]
        seen = _seen_after(result) if due else None
        with self._rollouts_lock:
            if due:
                self._rollout_due[identity] = min(due)
            else:
                self._rollout_due.pop(identity, None)
            if seen is not None:
                self._last_seen[identity] = seen
            else:
                self._last_seen.pop(identity, None)

    def _read(self, revision: Revision) -> Declarations:
        """The declarations at ``revision``, parsed once per revision."""
        with self._read_lock:
            return self._read_unlocked(revision)

    def _read_unlocked(self, revision: Revision) -> Declarations:
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
        if self._settings.owned is not None:
            declarations = self._settings.owned(declarations)
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

    def _record(
        self,
        result: PassResult,
        declarations: Declarations,
        revision: Revision,
        claimed: Mapping[FunctionId, int],
    ) -> bool:
        """Fold a pass into the state, the metrics and the logs; True when nothing failed.

        ``declarations`` is the whole revision; ``result`` may cover only some of it (a
        targeted pass, or a full pass that yielded): the others keep their records. A
        function that another pass reconciled after this one (its claim is not the latest)
        keeps that pass's record, which is newer."""
        with self._record_lock:
            defaults = Defaults(self._settings.region, self._account)
            with self._claims:
                latest = [
                    r
                    for r in result.results
                    if self._latest_claim.get(r.function.ref.identity)
                    == claimed.get(r.function.ref.identity)
                ]
                declared = {f.ref.identity for f in declarations.functions}
                self._alias_memory = {
                    identity: memory
                    for identity, memory in self._alias_memory.items()
                    if identity in declared
                }
            with self._rollouts_lock:
                for gone in (set(self._rollout_due) | set(self._last_seen)) - declared:
                    self._rollout_due.pop(gone, None)
                    self._last_seen.pop(gone, None)
            if self._analyst is not None:
                self._analyst.forget(declared)
            whole = PassResult(declarations, tuple(latest), applying=result.applying)
            self._fleet = fleet = fold(
                self._fleet, whole, revision.sha, defaults, now=self._clock()
            )
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
            if drift.kind in ("extraneous", ADOPT_DRIFT):
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


def _rollout_times(
    view: RolloutView, analyst: Analyst | None, identity: FunctionId, now: float
) -> list[float]:
    """When a rollout under way needs its next look: its hold ends, or its checks are due.
    A step whose hold is over and that still has not moved on (held by its checks, or a write
    that failed) is looked at again after ``RETRY_ROLLOUT`` seconds at most."""
    times = []
    if view.step_ends is not None and view.step_ends > now:
        times.append(view.step_ends)
    analysis = view.rollout.analysis
    if analysis is not None and analysis.checks:
        due = analyst.due(identity, view.alias, analysis.interval) if analyst else None
        times.append(max(due if due is not None else now + analysis.interval, now))
    if view.phase == "progressing" and not times:
        times.append(now + RETRY_ROLLOUT)
    return times


def _seen_after(result: FunctionResult) -> ObservedFunction | None:
    """The function's live state once the reconcile's writes are applied, as Lambda answered
    them; ``None`` when it is not known for sure (an error, a re-plan, a publish)."""
    live = result.observation.live
    if live is None or result.error is not None:
        return None
    outcome = result.outcome
    if outcome is None:
        return live
    if outcome.replans or any(isinstance(d.action, PublishVersion) for d in outcome.actions):
        return None
    aliases = {alias.name: alias for alias in live.aliases}
    versions = {version.number: version for version in live.versions}
    for done in outcome.actions:
        if done.outcome != "applied":
            return None
        if isinstance(done.action, DeleteAlias):
            aliases.pop(done.action.name, None)
        elif isinstance(done.action, DeleteVersion):
            versions.pop(done.action.number, None)
        elif done.written is not None:
            aliases[done.written.name] = done.written
        else:
            return None
    return replace(live, versions=tuple(versions.values()), aliases=tuple(aliases.values()))


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
        case DeleteVersion():
            fields |= {"version": str(action.number), "reason": action.reason}
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
        "actions_skipped": sum(
            1 for outcome in outcomes for done in outcome.actions if done.outcome == "skipped"
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
    previous = {f.ref.identity: f for f in before.functions}
    changed = set()
    for function in after.functions:
        prior = previous.get(function.ref.identity)
        if prior is function:  # the same file's parse, kept by the cache: unchanged
            continue
        if prior is None or replace(prior, location=None) != replace(function, location=None):
            changed.add(function.ref.identity)
    return changed

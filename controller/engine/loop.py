"""The long-running controller: triggers, passes, what it reports, and a clean shutdown.

The loop is level-triggered. A pass starts at start-up, when the Git source reports a new
revision, when the resync timer runs out (to catch changes made outside Git), and when the
webhook makes the source fetch. Triggers that arrive while a pass runs are coalesced into one
next pass. Every pass recomputes the whole desired and observed state, so the loop keeps no
state that a crash could corrupt: what it keeps (per function the last attempted and applied
revision and the last error) is only reported.

Declarations that cannot be used never turn into writes: a function whose declaration is
invalid, or whose file does not parse, is left as it is and reported in error, and it keeps its
metric series; only a function removed from Git loses them.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from controller.adapters.git import GitSource, Revision, SourceError
from controller.adapters.git.reader import CommitCodeReader, load_commit
from controller.adapters.logging import get_logger
from controller.adapters.metrics import Metrics
from controller.adapters.registry.port import Registry
from controller.core.declarations import Declarations
from controller.core.plan import action_kind
from controller.engine.applier import InScope
from controller.engine.reconciler import FunctionResult, PassResult, run_pass
from controller.engine.status import (
    Defaults,
    FleetStatus,
    FunctionRecord,
    RecordKey,
    fold,
    metric_statuses,
    passed,
    status_keys,
)

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
                "lastFetchAt": self.last_fetch_at,
                "lastPassAt": self.last_pass_at,
                "lastPassSeconds": self.last_pass_seconds,
                "lastPassReasons": list(self.last_pass_reasons),
                "lastPassError": self.last_pass_error,
                "declarationErrors": list(self.declaration_errors),
                "functions": {
                    key: record.as_json()
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
        self._fleet = FleetStatus()

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
                reasons = self.trigger.wait(timeout=min(next_resync - self._monotonic(), 5.0))
                self.state.heartbeat = self._monotonic()
                if stop.is_set():
                    break
                if self._monotonic() >= next_resync:
                    reasons.add("resync")
                if not reasons or self.state.revision is None:
                    if reasons:  # no revision yet: keep the reasons for when it comes
                        for reason in reasons:
                            self.trigger.fire(reason)
                        stop.wait(0.2)
                    continue
                self.run_pass(reasons, stop)
                next_resync = self._monotonic() + self._resync_interval()
        finally:
            stop.set()
            self.trigger.fire("stop")
            watcher.join(timeout=self._settings.shutdown_grace)

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

    def run_pass(self, reasons: Iterable[str], stop: threading.Event | None = None) -> None:
        """One pass at the source's last good revision; every outcome is recorded, always."""
        revision = self.state.revision
        if revision is None:
            return
        started, wall = self._monotonic(), self._clock()
        success = False
        try:
            declarations = self._read(revision)
            result = run_pass(
                self._registry,
                declarations,
                in_scope=self._settings.in_scope,
                code=CommitCodeReader(self._source.path, revision.sha)
                if self._settings.mode == "enforce"
                else None,
                workers=self._settings.concurrency,
                should_stop=stop.is_set if stop is not None else None,
                on_result=functools.partial(self._function_done, revision=revision),
            )
            success = self._record(result, revision)
            failure = None
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
                revision=revision.sha,
                reasons=sorted(reasons),
                outcome="success" if success else "failure",
                duration=round(seconds, 3),
                functions=len(self.state.records),
            )

    def _function_done(self, result: FunctionResult, revision: Revision) -> None:
        """As each function finishes (on a worker thread): its log lines and action counts go
        out at once, so a crash later in the pass loses none of them."""
        self.state.heartbeat = self._monotonic()
        self._log_actions(result, revision)

    def _read(self, revision: Revision) -> Declarations:
        """The declarations at ``revision``, parsed once per revision."""
        if self._declarations is not None and self._declarations[0] == revision.sha:
            return self._declarations[1]
        declarations = load_commit(
            self._source.path,
            revision.sha,
            self._settings.path,
            default_region=self._settings.region,
            default_account=self._account,
            extra_regions=self._settings.extra_regions,
        )
        had_errors = self._declarations is not None and bool(self._declarations[1].errors)
        self._declarations = (revision.sha, declarations)
        # Once per revision, not per pass: an error stays until a commit fixes it.
        for problem in declarations.errors:
            self._log.warning("invalid declaration", revision=revision.sha, error=str(problem))
        if had_errors and not declarations.errors:
            self._log.info("declarations valid again", revision=revision.sha)
        return declarations

    def _record(self, result: PassResult, revision: Revision) -> bool:
        """Fold a pass into the state, the metrics and the logs; True when nothing failed."""
        defaults = Defaults(self._settings.region, self._account)
        self._fleet = fleet = fold(self._fleet, result, revision.sha, defaults)
        errors = tuple(str(error) for error in result.declarations.errors)
        with self.state.lock:
            self.state.records = dict(fleet.records)
            self.state.declaration_errors = errors
            if any(r.observation.error is None for r in result.results) or not result.results:
                self.state.registry_reached = True
        self._metrics.declaration_errors(len(errors))
        self._metrics.functions(metric_statuses(fleet.records.values()))
        return passed(fleet, result.declarations)

    def _log_actions(self, result: FunctionResult, revision: Revision) -> None:
        if result.outcome is None:
            if result.error is not None:
                self._log.warning(
                    "function not reconciled", function=result.function.name, error=result.error
                )
            return
        for done in result.outcome.actions:
            kind = action_kind(done.action)
            self._metrics.action_finished(kind, done.outcome)
            live = getattr(done.action, "live", None)
            self._log.info(
                "action",
                function=result.function.name,
                action=kind,
                alias=getattr(done.action, "name", None),
                version=getattr(done.action, "label", None),
                **{"from": live.function_version if live is not None else None},
                to=done.detail,
                revision=revision.sha,
                outcome=done.outcome,
                duration=round(done.seconds, 3),
            )
        if result.outcome.error is not None:
            self._log.warning(
                "function failed", function=result.function.name, error=result.outcome.error
            )

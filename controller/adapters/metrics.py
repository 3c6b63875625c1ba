"""The Prometheus recorder: what the controller tells Prometheus, under DESIGN.md's names.

Drift is only useful if it raises an alert, so every fact an alert rule needs is a series here:
whether each alias matches Git, how each function's reconciliation stands, whether passes succeed
and when one last did, how the registry and the Git source behave. The loop, the reconciler and the
registry adapter call the methods of ``Metrics``; none of them touches prometheus_client.

Three choices shape the module:

- **One injected registry.** ``Metrics`` registers into the ``CollectorRegistry`` it is given (a
  fresh one when none is), never into prometheus_client's process-wide default, so that two
  controllers in one process, or two tests, never share a series.
- **Per-function series come from an immutable snapshot.** ``functions()`` replaces the whole
  fleet's sync status and alias drift at once: it builds new sample lists and swaps one reference,
  and a scrape reads that reference once. A concurrent scrape therefore sees either the old fleet
  or the new one, never half of each, and a function or alias that is gone from Git simply is not
  in the new snapshot, so its series disappear without any bookkeeping of what to remove.
  ``source_revision()`` works the same way, so that exactly one revision series exists at a time.
- **Exactly DESIGN.md's names.** prometheus_client adds a ``<name>_created`` gauge next to every
  counter and histogram; turning that off is a process-wide switch, so instead the instruments are
  kept out of the registry and exposed through one collector that drops those samples.

Label values are bounded by what is declared or by fixed sets; none carries a timestamp, an error
text or a request id, because each distinct value is a new series that Prometheus keeps for weeks.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric

from controller import __version__
from controller.core.analysis import OUTCOMES
from controller.core.events import EVENT_RESULTS
from controller.core.model import SYNC_STATUSES, SyncStatus

ACTIONS = ("publish", "create", "update", "delete", "delete_version")
"""The applier's actions: publish a version; create, update or delete an alias; delete a
version (retention)."""
ACTION_OUTCOMES = ("applied", "failed", "skipped")
"""``skipped``: a version deletion Lambda refused because an alias points at the version now."""
SKIPPABLE = ("delete_version",)
"""The only actions that can be skipped, so the only ones with a ``skipped`` series."""
CHECK_KINDS = ("cloudwatch", "prometheus", "alarm")
"""The sources of a rollout's analysis checks."""
ROLLOUT_PHASES = ("progressing", "paused", "succeeded", "failed")
RECONCILE_OUTCOMES = ("success", "failure")

RECONCILE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
"""From a pass over a few converged functions (tens of milliseconds) to a pass over thousands
under Lambda's request quota (minutes)."""
EVENT_LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
"""From a change event's call to its receipt: a fraction of a second on a test queue, seconds to
a minute through CloudTrail and EventBridge, and up to five minutes on a bad day."""
REGISTRY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
"""One Lambda call: milliseconds on the emulator, tens to hundreds on AWS, and up to a minute when
the adapter's retries and waiters are inside the call."""


@dataclass(frozen=True)
class RolloutSeries:
    """One alias's rollout as its series show it."""

    phase: str
    """One of ``ROLLOUT_PHASES``."""
    step: int
    """The current step's number, 1-based; 0 before the first."""
    weight: float
    """The target's share of traffic: 0 after a rollback, 1 once complete."""

    def __post_init__(self) -> None:
        if self.phase not in ROLLOUT_PHASES:
            raise ValueError(f"unknown rollout phase {self.phase!r}")


@dataclass(frozen=True)
class FunctionStatus:
    """One declared function as the last pass left it, as far as metrics are concerned.

    ``drifted_aliases`` names every declared alias of the function, each with whether it differs
    from Git, so that an alias in sync shows as 0 rather than as no series at all.
    """

    function: str
    region: str
    status: SyncStatus
    drifted_aliases: Mapping[str, bool]
    out_of_band_changes: Mapping[str, int] = field(default_factory=dict)
    """Per declared alias, the out-of-band changes seen since the process started."""
    rollouts: Mapping[str, RolloutSeries] = field(default_factory=dict)
    """Per declared alias with a rollout, where it stands."""
    versions: int | None = None
    """Published versions after the last pass's deletions; ``None`` (no series) until read."""
    versions_deleted: int = 0
    """Versions retention deleted since the process started."""

    def __post_init__(self) -> None:
        # The Literal holds only for type-checked callers; a status from elsewhere must not
        # become an unbounded label value.
        if self.status not in SYNC_STATUSES:
            raise ValueError(
                f"unknown sync status {self.status!r} for {self.function}; "
                f"expected one of {', '.join(SYNC_STATUSES)}"
            )


class Metrics:
    """Records the controller's metrics into one ``CollectorRegistry``.

    Every method is safe to call from any thread, concurrently with a scrape.
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, version: str = __version__
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._fleet = _FleetSeries()
        self._tally_lock = threading.Lock()
        self._requests_made = 0
        self._reconciles = Counter(
            "lambda_gitops_reconcile_total",
            "Reconcile passes finished, by whether every function in the pass succeeded.",
            ["outcome"],
            registry=None,
        )
        self._reconcile_seconds = Histogram(
            "lambda_gitops_reconcile_duration_seconds",
            "How long a reconcile pass took, from observing the registry to the last action.",
            buckets=RECONCILE_BUCKETS,
            registry=None,
        )
        self._last_success = Gauge(
            "lambda_gitops_last_successful_reconcile_timestamp_seconds",
            "Unix time at which the last successful reconcile pass finished; 0 until one has.",
            registry=None,
        )
        self._actions = Counter(
            "lambda_gitops_actions_total",
            "Registry writes the applier attempted, by action and by whether Lambda accepted it.",
            ["action", "outcome"],
            registry=None,
        )
        self._requests = Counter(
            "lambda_gitops_registry_requests_total",
            "Lambda API calls made, by operation and outcome.",
            ["operation", "outcome"],
            registry=None,
        )
        self._request_seconds = Histogram(
            "lambda_gitops_registry_request_duration_seconds",
            "How long a Lambda API call took, retries included, by operation.",
            ["operation"],
            buckets=REGISTRY_BUCKETS,
            registry=None,
        )
        self._throttles = Counter(
            "lambda_gitops_registry_throttles_total",
            "Lambda API calls refused for exceeding the request-rate quota (HTTP 429).",
            ["operation"],
            registry=None,
        )
        self._fetch_failures = Counter(
            "lambda_gitops_source_fetch_failures_total",
            "Failed attempts to fetch or read the Git source; the last good revision stays.",
            registry=None,
        )
        self._last_fetch = Gauge(
            "lambda_gitops_source_last_fetch_timestamp_seconds",
            "Unix time of the last successful fetch or read of the Git source; 0 until one.",
            registry=None,
        )
        self._checks = Counter(
            "lambda_gitops_analysis_checks_total",
            "Rollout analysis checks run, by source and result: pass, fail, inconclusive (no "
            "data, too few invocations) or error (the source could not be asked).",
            ["kind", "result"],
            registry=None,
        )
        self._declaration_errors = Gauge(
            "lambda_gitops_declaration_errors",
            "Errors in the declarations at the current revision; 0 when every file is valid.",
            registry=None,
        )
        self._leader = Gauge(
            "lambda_gitops_leader",
            "1 while this replica leads the shard (holds its Lease, or runs without leader "
            "election) and so may write to Lambda; 0 while it follows.",
            ["shard"],
            registry=None,
        )
        self._leader_transitions = Counter(
            "lambda_gitops_leader_transitions",
            "Times this replica became the leader of the shard.",
            ["shard"],
            registry=None,
        )
        self._shard_functions = Gauge(
            "lambda_gitops_shard_functions",
            "Functions declared at the revision in force that this shard owns (its leader's "
            "count; 0 on a follower, which reads no revision), valid or not.",
            ["shard"],
            registry=None,
        )
        self._events = Counter(
            "lambda_gitops_events",
            "Change events received from the SQS queues, by what became of them: matched (a "
            "managed function to reconcile), unmanaged (nothing declared, or no change), self "
            "(the controller's own write) or malformed (left for the dead-letter queue; counted "
            "at each receipt).",
            ["result"],
            registry=None,
        )
        self._event_lag = Histogram(
            "lambda_gitops_event_lag_seconds",
            "Seconds from a change event's call (CloudTrail's eventTime, whole seconds) to its "
            "receipt from the queue.",
            buckets=EVENT_LAG_BUCKETS,
            registry=None,
        )
        build_info = Gauge(
            "lambda_gitops_build_info",
            "Always 1; the version label says which lambda-gitops is running.",
            ["version"],
            registry=None,
        )
        build_info.labels(version=version).set(1)
        # Series that exist from the first scrape, so that rate() has a starting point and an
        # absent()-based alert does not fire merely because nothing has happened yet.
        for outcome in RECONCILE_OUTCOMES:
            self._reconciles.labels(outcome=outcome)
        for action in ACTIONS:
            for action_outcome in ACTION_OUTCOMES:
                if action_outcome != "skipped" or action in SKIPPABLE:
                    self._actions.labels(action=action, outcome=action_outcome)
        for kind in CHECK_KINDS:
            for result in OUTCOMES:
                self._checks.labels(kind=kind, result=result)
        for event_result in EVENT_RESULTS:
            self._events.labels(result=event_result)
        instruments: list[MetricWrapperBase] = [
            self._checks,
            self._reconciles,
            self._reconcile_seconds,
            self._last_success,
            self._actions,
            self._requests,
            self._request_seconds,
            self._throttles,
            self._fetch_failures,
            self._last_fetch,
            self._declaration_errors,
            self._leader,
            self._leader_transitions,
            self._shard_functions,
            self._events,
            self._event_lag,
            build_info,
        ]
        self.registry.register(_Exposition(instruments, self._fleet))

    def pass_finished(self, *, success: bool, seconds: float, finished_at: float) -> None:
        """Count one reconcile pass and its duration; a success also moves the timestamp."""
        self._reconciles.labels(outcome="success" if success else "failure").inc()
        self._reconcile_seconds.observe(seconds)
        if success:
            self._last_success.set(finished_at)

    def action_finished(self, action: str, outcome: str) -> None:
        """Count one action of the applier: ``publish``/``create``/``update``/``delete``/
        ``delete_version``, ``applied``/``failed``/``skipped``."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        if outcome not in ACTION_OUTCOMES:
            raise ValueError(
                f"unknown action outcome {outcome!r}; expected one of {', '.join(ACTION_OUTCOMES)}"
            )
        self._actions.labels(action=action, outcome=outcome).inc()

    def registry_request(self, operation: str, outcome: str, seconds: float) -> None:
        """Count one Lambda API call and its duration.

        ``operation`` is the API operation (``ListAliases``) and ``outcome`` a class from a small
        fixed set (``success``, or an error class such as ``throttled``), never an error message.
        """
        self._requests.labels(operation=operation, outcome=outcome).inc()
        self._request_seconds.labels(operation=operation).observe(seconds)
        with self._tally_lock:
            self._requests_made += 1

    def requests_made(self) -> int:
        """Lambda API calls made since start, every operation and outcome: a pass's log line
        says how many it cost."""
        with self._tally_lock:
            return self._requests_made

    def registry_throttled(self, operation: str) -> None:
        """Count one HTTP 429 from Lambda, whether or not a retry then absorbed it."""
        self._throttles.labels(operation=operation).inc()

    def source_revision(self, revision: str, ref: str) -> None:
        """Name the Git revision now in force; the series of the previous one disappears."""
        self._fleet.set_revision(revision, ref)

    def source_fetch(self, *, ok: bool, at: float) -> None:
        """Record one fetch or read of the Git source, made at Unix time ``at``."""
        if ok:
            self._last_fetch.set(at)
        else:
            self._fetch_failures.inc()

    def declaration_errors(self, count: int) -> None:
        """Set how many declaration errors the current revision has."""
        self._declaration_errors.set(count)

    def analysis_check(self, kind: str, result: str) -> None:
        """Count one analysis check run by a rollout."""
        if kind in CHECK_KINDS and result in OUTCOMES:
            self._checks.labels(kind=kind, result=result).inc()

    def leadership(self, shard: str, *, leading: bool) -> None:
        """Whether this replica leads ``shard`` now; both series of the shard exist from the
        first call, so that a replica that has never led shows 0 rather than nothing."""
        self._leader_transitions.labels(shard=shard)
        self._leader.labels(shard=shard).set(1 if leading else 0)

    def leadership_acquired(self, shard: str) -> None:
        """Count one acquisition of ``shard``'s lease by this replica."""
        self._leader_transitions.labels(shard=shard).inc()

    def shard_functions(self, shard: str, count: int) -> None:
        """How many declared functions ``shard`` owns at the revision in force; a controller
        without sharding never calls it, and has no such series."""
        self._shard_functions.labels(shard=shard).set(count)

    def event_received(self, result: str, *, lag: float | None = None) -> None:
        """Count one change event by its result (``core.events.EVENT_RESULTS``), and how long
        after its call it was received, when it says when (never less than 0: the clocks of
        CloudTrail and of this host may differ by a little); a lag that is not a finite number
        is not observed, since one NaN or infinity would spoil the histogram's sum for good."""
        if result not in EVENT_RESULTS:
            raise ValueError(
                f"unknown event result {result!r}; expected one of {', '.join(EVENT_RESULTS)}"
            )
        self._events.labels(result=result).inc()
        if lag is not None and math.isfinite(lag):
            self._event_lag.observe(max(lag, 0.0))

    def functions(self, statuses: Sequence[FunctionStatus]) -> None:
        """Replace every per-function and per-alias series with those of ``statuses``.

        A function or alias missing from ``statuses`` loses its series: pass every declared
        function each time, not only those a pass touched.
        """
        self._fleet.set_functions(statuses)


@dataclass(frozen=True)
class _FleetSnapshot:
    """The samples of the per-function families, built once per ``functions()`` call."""

    sync_status: tuple[tuple[tuple[str, str, str], float], ...] = ()
    alias_drift: tuple[tuple[tuple[str, str, str], float], ...] = ()
    out_of_band: tuple[tuple[tuple[str, str, str], float], ...] = ()
    aliases_drifted: int = 0
    rollout_phase: tuple[tuple[tuple[str, str, str, str], float], ...] = ()
    rollout_step: tuple[tuple[tuple[str, str, str], float], ...] = ()
    rollout_weight: tuple[tuple[tuple[str, str, str], float], ...] = ()
    function_versions: tuple[tuple[tuple[str, str], float], ...] = ()
    versions_deleted: tuple[tuple[tuple[str, str], float], ...] = ()


class _FleetSeries:
    """The series whose set of label values changes: per function, per alias, per revision.

    Each is held as an immutable value behind one reference. Writers build a new value and swap
    the reference under a lock; a scrape reads each reference once, without the lock, and so
    always sees a whole snapshot.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = _FleetSnapshot()
        self._revision: tuple[str, str] | None = None

    def set_functions(self, statuses: Sequence[FunctionStatus]) -> None:
        seen: set[tuple[str, str]] = set()
        sync_status: list[tuple[tuple[str, str, str], float]] = []
        alias_drift: list[tuple[tuple[str, str, str], float]] = []
        out_of_band: list[tuple[tuple[str, str, str], float]] = []
        rollout_phase: list[tuple[tuple[str, str, str, str], float]] = []
        rollout_step: list[tuple[tuple[str, str, str], float]] = []
        rollout_weight: list[tuple[tuple[str, str, str], float]] = []
        function_versions: list[tuple[tuple[str, str], float]] = []
        versions_deleted: list[tuple[tuple[str, str], float]] = []
        for entry in sorted(statuses, key=lambda entry: (entry.function, entry.region)):
            key = (entry.function, entry.region)
            if key in seen:
                # Two entries would expose the same series twice, which Prometheus rejects
                # for the whole scrape.
                raise ValueError(f"function {entry.function} in {entry.region} is listed twice")
            seen.add(key)
            # One series per possible status, exactly one of them 1 (the kube-state-metrics
            # pattern): an alert can match status="error" and a dashboard can sum by status.
            for status in SYNC_STATUSES:
                labels = (entry.function, entry.region, status)
                sync_status.append((labels, 1.0 if status == entry.status else 0.0))
            for alias, drifted in sorted(entry.drifted_aliases.items()):
                alias_drift.append(((entry.function, entry.region, alias), 1.0 if drifted else 0.0))
                # Every declared alias has its series from the start, at 0, so that the first
                # change is an increase Prometheus can see.
                changes = float(entry.out_of_band_changes.get(alias, 0))
                out_of_band.append(((entry.function, entry.region, alias), changes))
            for alias, rollout in sorted(entry.rollouts.items()):
                series = (entry.function, entry.region, alias)
                for phase in ROLLOUT_PHASES:
                    value = 1.0 if phase == rollout.phase else 0.0
                    rollout_phase.append(((*series, phase), value))
                rollout_step.append((series, float(rollout.step)))
                rollout_weight.append((series, rollout.weight))
            # Every declared function from 0, so that the first deletion is an increase.
            versions_deleted.append((key, float(entry.versions_deleted)))
            if entry.versions is not None:
                function_versions.append((key, float(entry.versions)))
        snapshot = _FleetSnapshot(
            sync_status=tuple(sync_status),
            alias_drift=tuple(alias_drift),
            out_of_band=tuple(out_of_band),
            aliases_drifted=sum(1 for _, value in alias_drift if value),
            rollout_phase=tuple(rollout_phase),
            rollout_step=tuple(rollout_step),
            rollout_weight=tuple(rollout_weight),
            function_versions=tuple(function_versions),
            versions_deleted=tuple(versions_deleted),
        )
        with self._lock:
            self._snapshot = snapshot

    def set_revision(self, revision: str, ref: str) -> None:
        with self._lock:
            self._revision = (revision, ref)

    def families(self) -> Iterator[Metric]:
        """The families as of one snapshot; empty families when ``describe`` calls this."""
        snapshot, revision = self._snapshot, self._revision
        alias_drift = GaugeMetricFamily(
            "lambda_gitops_alias_drift",
            "1 when the alias differs from Git (version or routing), 0 when it matches.",
            labels=["function", "region", "alias"],
        )
        for labels, value in snapshot.alias_drift:
            alias_drift.add_metric(labels, value)
        yield alias_drift
        out_of_band = CounterMetricFamily(
            "lambda_gitops_out_of_band_changes",
            "Changes to a declared alias made outside the controller (its RevisionId moved "
            "without the controller writing it, or its seal no longer matches), since start.",
            labels=["function", "region", "alias"],
        )
        for labels, value in snapshot.out_of_band:
            out_of_band.add_metric(labels, value)
        yield out_of_band
        yield GaugeMetricFamily(
            "lambda_gitops_aliases_drifted",
            "How many declared aliases differ from Git, over every function.",
            value=snapshot.aliases_drifted,
        )
        sync_status = GaugeMetricFamily(
            "lambda_gitops_function_sync_status",
            "1 for the function's current sync status, 0 for each of the others.",
            labels=["function", "region", "status"],
        )
        for labels, value in snapshot.sync_status:
            sync_status.add_metric(labels, value)
        yield sync_status
        phase = GaugeMetricFamily(
            "lambda_gitops_rollout_phase",
            "1 for the phase an alias's rollout is in (progressing, paused, succeeded, failed), "
            "0 for each of the others.",
            labels=["function", "region", "alias", "phase"],
        )
        for phase_labels, value in snapshot.rollout_phase:
            phase.add_metric(phase_labels, value)
        yield phase
        step = GaugeMetricFamily(
            "lambda_gitops_rollout_step",
            "The step an alias's rollout is at, from 1; 0 before the first.",
            labels=["function", "region", "alias"],
        )
        for labels, value in snapshot.rollout_step:
            step.add_metric(labels, value)
        yield step
        weight = GaugeMetricFamily(
            "lambda_gitops_rollout_weight",
            "The share of an alias's traffic its rollout's target gets: 0 after a rollback, "
            "1 once complete.",
            labels=["function", "region", "alias"],
        )
        for labels, value in snapshot.rollout_weight:
            weight.add_metric(labels, value)
        yield weight
        versions = GaugeMetricFamily(
            "lambda_gitops_function_versions",
            "Published versions of the function (not $LATEST) once the last pass's publishes "
            "and retention's deletions are done.",
            labels=["function", "region"],
        )
        for function_labels, value in snapshot.function_versions:
            versions.add_metric(function_labels, value)
        yield versions
        deleted = CounterMetricFamily(
            "lambda_gitops_versions_deleted",
            "Published versions retention deleted (retainVersions), since start.",
            labels=["function", "region"],
        )
        for function_labels, value in snapshot.versions_deleted:
            deleted.add_metric(function_labels, value)
        yield deleted
        revision_info = GaugeMetricFamily(
            "lambda_gitops_source_revision_info",
            "Always 1; the labels name the Git revision in force and the ref it was read from.",
            labels=["revision", "ref"],
        )
        if revision is not None:
            revision_info.add_metric(list(revision), 1)
        yield revision_info


class _Exposition:
    """The one collector ``Metrics`` registers: its instruments, then the fleet's snapshot.

    The instruments are prometheus_client's own (thread-safe counters, gauges, histograms), kept
    out of any registry so that their ``_created`` samples can be dropped here; ``describe``
    gives the registry every name up front, so that a clash with another collector fails at
    registration instead of at a scrape.
    """

    def __init__(self, instruments: Sequence[MetricWrapperBase], fleet: _FleetSeries) -> None:
        self._instruments = tuple(instruments)
        self._fleet = fleet

    def describe(self) -> Iterable[Metric]:
        for instrument in self._instruments:
            yield from instrument.describe()
        for family in self._fleet.families():
            family.samples = []
            yield family

    def collect(self) -> Iterable[Metric]:
        for instrument in self._instruments:
            for family in instrument.collect():
                created = f"{family.name}_created"
                family.samples = [sample for sample in family.samples if sample.name != created]
                yield family
        yield from self._fleet.families()

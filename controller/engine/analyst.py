"""The analysis of rollouts under way: each step's checks, run every ``interval``, remembered.

A rollout's state lives in its alias (``core.rollout``); what is kept here is only the latest
run of each step's checks, so that the checks run once per interval however many passes come
by, and a verdict is counted towards the step's failures once. Losing it (a restart) costs one
early run of the checks, never a wrong decision: a step does not go on before a run of its own
(``core.rollout``), and a verdict names the step it judged.

Each check goes to its source: CloudWatch metrics and alarms to ``CloudWatchAnalysis``,
Prometheus queries to ``PrometheusAnalysis``. A source that is not configured, or that fails,
is an ``error`` outcome: counted apart, it holds the step and never rolls it back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from controller.core.analysis import (
    AlarmCheck,
    Check,
    CheckResult,
    CloudWatchCheck,
    Outcome,
    PrometheusCheck,
    Window,
)
from controller.core.model import DesiredFunction, FunctionId, ObservedFunction
from controller.core.planner import rollouts_under_way
from controller.core.rollout import StepKey, Verdict, step_key

MAX_DETAIL = 300
"""Characters of a check's detail kept for ``/status``."""


class CloudWatchSource(Protocol):
    def evaluate(self, check: CloudWatchCheck | AlarmCheck, window: Window) -> CheckResult: ...


class PrometheusSource(Protocol):
    def evaluate(self, check: PrometheusCheck, window: Window) -> CheckResult: ...


def check_kind(check: Check) -> str:
    """``cloudwatch``, ``prometheus`` or ``alarm``: the check's source, as metrics label it."""
    match check:
        case CloudWatchCheck():
            return "cloudwatch"
        case PrometheusCheck():
            return "prometheus"
        case AlarmCheck():
            return "alarm"


def check_name(check: Check) -> str:
    """How ``/status`` names a check."""
    match check:
        case CloudWatchCheck():
            ratio = f" / {check.ratio_to}" if check.ratio_to else ""
            return f"cloudwatch {check.metric} ({check.stat}){ratio} {check.bounds.describe()}"
        case PrometheusCheck():
            query = check.query if len(check.query) <= 80 else check.query[:77] + "..."
            return f"prometheus {query} {check.bounds.describe()}"
        case AlarmCheck():
            return f"alarm {check.name}"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One check's latest result in a step, as ``/status`` shows it."""

    check: str
    kind: str
    outcome: Outcome
    value: float | None
    detail: str

    def as_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "kind": self.kind,
            "outcome": self.outcome,
            "value": self.value,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Run:
    """The latest run of one step's checks."""

    step: StepKey
    at: float
    verdict: Verdict
    reports: tuple[CheckReport, ...]


class Analyst:
    """Runs the checks of the rollouts under way when their interval has passed.

    Thread-safe: passes reconcile many functions at once. ``on_check`` is told the kind and
    outcome of every check run, for the metrics.
    """

    def __init__(
        self,
        *,
        cloudwatch: CloudWatchSource | None = None,
        prometheus: PrometheusSource | None = None,
        on_check: Callable[[str, str], None] | None = None,
    ) -> None:
        self._cloudwatch = cloudwatch
        self._prometheus = prometheus
        self._on_check = on_check
        self._lock = threading.Lock()
        self._runs: dict[tuple[FunctionId, str], Run] = {}

    def verdicts(
        self, function: DesiredFunction, live: ObservedFunction, now: float
    ) -> dict[str, Verdict]:
        """The latest verdict of each of ``function``'s rollouts under way, by alias: a fresh
        run when the step has none yet or its interval has passed, else the last one (marked
        counted)."""
        identity = function.ref.identity
        under_way = rollouts_under_way(function, live)
        verdicts: dict[str, Verdict] = {}
        with self._lock:
            for alias in [a for (i, a) in self._runs if i == identity and a not in under_way]:
                del self._runs[(identity, alias)]
        for alias, (rollout, state) in under_way.items():
            analysis = rollout.analysis
            if analysis is None or not analysis.checks:
                continue
            key = step_key(state)
            with self._lock:
                last = self._runs.get((identity, alias))
            if last is not None and last.step == key and now - last.at < analysis.interval:
                verdicts[alias] = last.verdict
                continue
            window = Window(
                function=identity.name,
                region=identity.region,
                alias=alias,
                version=state.target,
                start=float(state.started),
                end=now,
                min_invocations=analysis.min_invocations,
                account=identity.account,
            )
            reports = tuple(self._run(check, window) for check in analysis.checks)
            fresh = Verdict(tuple(_outcome(r) for r in reports), step=key)
            with self._lock:
                self._runs[(identity, alias)] = Run(
                    key, now, Verdict(fresh.outcomes, step=key, counted=True), reports
                )
            verdicts[alias] = fresh
        return verdicts

    def due(self, function: FunctionId, alias: str, interval: float) -> float | None:
        """When the checks of ``alias``'s current step are next due; ``None`` if none ran."""
        with self._lock:
            last = self._runs.get((function, alias))
        return None if last is None else last.at + interval

    def reports(self, function: FunctionId, alias: str) -> tuple[CheckReport, ...]:
        """The latest results of ``alias``'s checks, for ``/status``."""
        with self._lock:
            last = self._runs.get((function, alias))
        return last.reports if last is not None else ()

    def forget(self, keep: Iterable[FunctionId]) -> None:
        """Drop what is kept of functions no longer declared."""
        kept = set(keep)
        with self._lock:
            self._runs = {key: run for key, run in self._runs.items() if key[0] in kept}

    def _run(self, check: Check, window: Window) -> CheckReport:
        result = self._evaluate(check, window)
        kind = check_kind(check)
        if self._on_check is not None:
            self._on_check(kind, result.outcome)
        detail = result.detail if len(result.detail) <= MAX_DETAIL else result.detail[:297] + "..."
        return CheckReport(check_name(check), kind, result.outcome, result.value, detail)

    def _evaluate(self, check: Check, window: Window) -> CheckResult:
        try:
            if isinstance(check, PrometheusCheck):
                if self._prometheus is None:
                    return _unconfigured("Prometheus", "analysis.prometheusUrl")
                return self._prometheus.evaluate(check, window)
            if self._cloudwatch is None:
                return _unconfigured("CloudWatch", "analysis.cloudwatch")
            return self._cloudwatch.evaluate(check, window)
        except Exception as error:  # noqa: BLE001 - a check that breaks holds, never crashes
            return CheckResult("error", None, f"the check failed: {type(error).__name__}")


def _outcome(report: CheckReport) -> Outcome:
    return report.outcome


def _unconfigured(source: str, setting: str) -> CheckResult:
    return CheckResult("error", None, f"no {source} is configured for analysis; set {setting}")


def reports_by_alias(
    analyst: Analyst | None, function: FunctionId, aliases: Iterable[str]
) -> Mapping[str, tuple[CheckReport, ...]]:
    """The latest check results of each alias, for the status of one function."""
    if analyst is None:
        return {}
    return {alias: reports for alias in aliases if (reports := analyst.reports(function, alias))}

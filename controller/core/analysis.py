"""The checks of a rollout's analysis, and what a check can conclude.

A rollout (issue 13) holds each step while its checks run, every ``interval``, against the
**target version only**: CloudWatch metrics with the ``ExecutedVersion`` dimension, Prometheus
queries templated with the version, and CloudWatch alarms counted only when they went to ALARM
after the step began (an alarm already firing for the old version must not block a hotfix).

The checks are plain data; the adapters that run them (``adapters.analysis``) take a check and
a ``Window`` and answer a ``CheckResult``. Four outcomes, kept apart because they lead to
different decisions:

- ``pass``: the value is within its bounds;
- ``fail``: it is not (counted towards the step's ``failureLimit``, then a rollback);
- ``inconclusive``: nothing to judge yet: no data, NaN, or fewer invocations than the
  analysis's ``minInvocations`` (low traffic holds a step, it never fails it);
- ``error``: the metrics source could not be asked (throttled, down, access denied): counted
  apart from failures, and never a reason to roll back by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["pass", "fail", "inconclusive", "error"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "inconclusive", "error")


@dataclass(frozen=True, slots=True)
class Bounds:
    """Where a check's value must be: at most ``max`` and at least ``min`` (either may be
    absent, not both)."""

    max: float | None = None
    min: float | None = None

    def judge(self, value: float) -> Outcome:
        """``pass`` or ``fail`` for a number; ``inconclusive`` for NaN or an infinity."""
        if math.isnan(value) or math.isinf(value):
            return "inconclusive"
        if self.max is not None and value > self.max:
            return "fail"
        if self.min is not None and value < self.min:
            return "fail"
        return "pass"

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class CloudWatchCheck:
    """A Lambda metric of the target version (namespace ``AWS/Lambda``, dimensions
    ``FunctionName``, ``Resource`` = ``function:alias`` and ``ExecutedVersion``), summed (or
    averaged, ...) over the window; with ``ratio_to``, divided by that metric's ``Sum`` over the
    same window, for an error rate (``Errors`` / ``Invocations``)."""

    metric: str
    stat: str
    bounds: Bounds
    ratio_to: str | None = None


@dataclass(frozen=True, slots=True)
class PrometheusCheck:
    """An instant query whose ``{{version}}``, ``{{function}}`` and ``{{alias}}`` are replaced
    before it is sent; its result must be one sample (an empty result is inconclusive)."""

    query: str
    bounds: Bounds


@dataclass(frozen=True, slots=True)
class AlarmCheck:
    """A CloudWatch alarm that fails the step only by going to ALARM after the step began."""

    name: str


Check = CloudWatchCheck | PrometheusCheck | AlarmCheck


@dataclass(frozen=True, slots=True)
class Window:
    """What one evaluation looks at: one function's alias and target version, from ``start``
    to ``end`` (seconds since the epoch; ``start`` is also when the step began, for alarms),
    and the invocations below which a ratio is inconclusive."""

    function: str
    """The function's name (what CloudWatch's ``FunctionName`` dimension holds)."""
    region: str
    alias: str
    version: str
    """The target version's number, as Lambda reports it in ``ExecutedVersion``."""
    start: float
    end: float
    min_invocations: int = 0
    account: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check concluded, the value it judged (when it got one) and why, in words an
    operator reads in ``/status``."""

    outcome: Outcome
    value: float | None
    detail: str


def template(query: str, window: Window) -> str:
    """``query`` with ``{{version}}``, ``{{function}}`` and ``{{alias}}`` replaced."""
    return (
        query.replace("{{version}}", window.version)
        .replace("{{function}}", window.function)
        .replace("{{alias}}", window.alias)
    )

"""Progressive delivery: where a rollout stands, kept in the alias, and what it does next.

A rollout moves an alias from its **stable** version (the one it points to when the rollout
begins) to a **target** one step at a time: each step sends the step's weight of traffic to the
target (``AdditionalVersionWeights``) while the stable version stays the alias's
``FunctionVersion``, holds for a while or waits for an approval in Git, and meanwhile the
analysis's checks run; after the last step the alias points to the target alone.

The state of a rollout lives in the alias itself, in the ownership marker of its description
(``encode``: target, step, when the step began, failed checks, phase, some 30 characters), so a
restart, a second replica or a new machine resumes exactly where the last one was, and nothing
else is kept anywhere. ``decide`` is the whole logic: from the declared rollout, the state read
from the alias, the time and the latest analysis, the alias to have and the state to write. It
is pure, and time is a parameter, so every step and hold is tested without waiting.

What makes this rollout one operators can trust, against the complaints about others':

- a failed check rolls back at once, to the stable version with no routing, and the rollout
  stays ``failed`` (no retry loop) until Git changes the target;
- too little traffic or no data is inconclusive: it holds a step (or, as ``onNoData`` says,
  passes or fails it), it never fails it by itself; a metrics source that cannot be asked holds
  too, and is counted apart;
- a new target in the middle of a rollout restarts it at step 0 from the stable version; a
  revert in Git to the stable version ends it at once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from controller.core.analysis import Check, Outcome

Phase = Literal["progressing", "paused", "succeeded", "failed"]
NoData = Literal["hold", "pass", "fail"]

_PHASE_CODES: dict[Phase, str] = {
    "progressing": "P",
    "paused": "W",
    "succeeded": "S",
    "failed": "F",
}
_PHASES: dict[str, Phase] = {code: phase for phase, code in _PHASE_CODES.items()}
_STATE = re.compile(
    r"ro=(?P<target>[1-9][0-9]{0,9})/(?P<stable>[1-9][0-9]{0,9})/(?P<step>[0-9]{1,2})"
    r"/(?P<started>[0-9]{1,11})"
    r"/(?P<failures>[0-9]{1,3})/(?P<phase>[PWSF])/(?P<plan>[0-9a-f]{6})"
)

PLAN_LENGTH = 6
"""Hex digits of the digest of the rollout block a state was written under."""

STATE_LENGTH = len("ro=") + 10 + 1 + 10 + 1 + 2 + 1 + 11 + 1 + 3 + 1 + 1 + 1 + PLAN_LENGTH
"""The longest ``encode`` can write, for the description's budget (Lambda allows 256)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step: the target's share of traffic, then a hold (seconds) or a pause for approval."""

    weight: Decimal
    hold: float = 0.0
    pause: bool = False


@dataclass(frozen=True, slots=True)
class Analysis:
    """The checks that judge each step, run every ``interval`` seconds."""

    checks: tuple[Check, ...]
    interval: float = 60.0
    min_invocations: int = 0
    failure_limit: int = 1
    """Failed checks in one step that roll the rollout back."""
    on_no_data: NoData = "hold"


@dataclass(frozen=True, slots=True)
class Rollout:
    """A declared rollout: its steps, in order of increasing weight, and its analysis."""

    steps: tuple[Step, ...]
    analysis: Analysis | None = None
    skip: bool = False
    """Go straight to the target (an emergency fix), as if every step had passed."""

    @property
    def digest(self) -> str:
        """A short digest of the steps and the analysis: a rollback is retried when it changes
        (a fixed threshold, a gentler first step), not only when the target does."""
        text = repr((self.steps, self.analysis))
        return hashlib.sha256(text.encode()).hexdigest()[:PLAN_LENGTH]


@dataclass(frozen=True, slots=True)
class RolloutState:
    """Where a rollout stands, as the alias's marker keeps it."""

    target: str
    """The target's version number."""
    stable: str
    """The version the alias pointed to when the rollout began: what it keeps as its
    ``FunctionVersion`` and rolls back to, even if someone moves the alias by hand meanwhile."""
    step: int
    """The index of the current step (0-based); after the last one while ``succeeded``."""
    started: int
    """When the current step began, in whole seconds since the epoch."""
    failures: int
    """Failed checks in the current step."""
    phase: Phase
    plan: str = "0" * PLAN_LENGTH
    """``Rollout.digest`` of the rollout block this state was written under."""


StepKey = tuple[str, int, int]
"""What names one step of one rollout: the target, the step's index and when it began."""


def step_key(state: RolloutState) -> StepKey:
    return (state.target, state.step, state.started)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcomes of one run of a step's checks.

    ``step`` is the step they judged: a verdict for another step (one a second replica moved
    on from meanwhile) is not used. ``counted`` says that an earlier decision has already
    added its failures to the state, so that a verdict shown again (to let a step go on, or
    hold it, until the next run) is not counted twice.
    """

    outcomes: tuple[Outcome, ...]
    step: StepKey | None = None
    counted: bool = False

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o == outcome)

    def judges(self, state: RolloutState) -> bool:
        return self.step is None or self.step == step_key(state)


@dataclass(frozen=True, slots=True)
class Decision:
    """The alias to have (``version`` plus ``routing``), the state to write with it (``None``
    when no rollout is under way) and why, in words for the log and ``/status``."""

    version: str
    routing: Mapping[str, Decimal]
    state: RolloutState | None
    reason: str


def encode(state: RolloutState) -> str:
    """The state as the marker keeps it, e.g. ``ro=17/16/1/1733140000/0/P/3fa2c1``."""
    return (
        f"ro={state.target}/{state.stable}/{state.step}/{state.started}/{state.failures}/"
        f"{_PHASE_CODES[state.phase]}/{state.plan}"
    )


def decode(text: str) -> RolloutState | None:
    """The state ``encode`` wrote somewhere in ``text``, or ``None`` if there is none (or it is
    damaged: then the rollout starts afresh from the stable version, which is always safe)."""
    match = _STATE.search(text)
    if match is None:
        return None
    return RolloutState(
        target=match["target"],
        stable=match["stable"],
        step=int(match["step"]),
        started=int(match["started"]),
        failures=int(match["failures"]),
        phase=_PHASES[match["phase"]],
        plan=match["plan"],
    )


def decide(
    rollout: Rollout,
    *,
    stable: str,
    target: str,
    state: RolloutState | None,
    now: float,
    approved: int = 0,
    verdict: Verdict | None = None,
) -> Decision:
    """What to do with an alias whose declaration moves it to ``target`` with ``rollout``.

    ``stable`` is the alias's live ``FunctionVersion``, which a new rollout starts from (one
    under way keeps the stable version its state recorded); ``state`` what its marker says;
    ``approved`` the declaration's ``approve`` (the number of the last pause step a person let
    through, 1-based); ``verdict`` the latest run of the current step's checks, if one ran
    since the last decision.
    """
    if target == stable and (state is None or state.target != target):
        return Decision(target, {}, None, f"on {target}: no rollout to run")
    if state is not None and state.target == target and state.phase != "succeeded":
        stable = state.stable  # not the live one: a hand move during the rollout is healed
    retry = state is not None and state.phase == "failed" and state.plan != rollout.digest
    if state is None or state.target != target or retry:
        if rollout.skip:
            return _succeeded(rollout, target, now, "skipped to the target")
        started = (
            "started"
            if state is None
            else "retried with a changed rollout"
            if retry
            else "restarted for a new target"
        )
        reason = f"rollout to {target} {started}"
        return _at_step(
            rollout,
            stable=stable,
            target=target,
            index=0,
            now=now,
            approved=approved,
            reason=reason,
        )
    if state.phase == "failed":
        return Decision(
            stable,
            {},
            state,
            f"rolled back from {target}; change the target or the rollout to retry",
        )
    if state.phase == "succeeded" or rollout.skip or state.step >= len(rollout.steps):
        # Done (or the steps were shortened under it): the time of the end is kept, so that
        # nothing is written again.
        at = state.started if state.phase == "succeeded" else now
        return _succeeded(rollout, target, at, "rollout complete")
    return _progress(
        rollout,
        stable=stable,
        target=target,
        state=state,
        now=now,
        approved=approved,
        verdict=verdict,
    )


def _progress(
    rollout: Rollout,
    *,
    stable: str,
    target: str,
    state: RolloutState,
    now: float,
    approved: int,
    verdict: Verdict | None,
) -> Decision:
    step = rollout.steps[state.step]
    analysis = rollout.analysis
    failures = state.failures
    blocked = ""
    if verdict is not None and not verdict.judges(state):
        verdict = None
    if analysis is not None and analysis.checks:
        failed, blocked = _judged(analysis, verdict)
        failures += failed
        if failures >= analysis.failure_limit and failed:
            rolled_back = replace(state, failures=failures, phase="failed", plan=rollout.digest)
            return Decision(
                stable,
                {},
                rolled_back,
                f"rolled back from {target} at step {state.step + 1}: {failures} failed check(s)",
            )
    current = replace(state, failures=failures, plan=rollout.digest)
    if step.pause:
        if approved < state.step + 1:
            paused = replace(current, phase="paused")
            return Decision(
                stable,
                {target: step.weight},
                paused,
                f"paused at step {state.step + 1}: set approve to {state.step + 1} to go on",
            )
    elif now - state.started < step.hold:
        left = step.hold - (now - state.started)
        return Decision(
            stable,
            {target: step.weight},
            replace(current, phase="progressing"),
            f"step {state.step + 1} at {step.weight}, {left:.0f} s left",
        )
    if blocked:
        return Decision(
            stable,
            {target: step.weight},
            replace(current, phase="progressing"),
            f"step {state.step + 1} held: {blocked}",
        )
    following = state.step + 1
    if following >= len(rollout.steps):
        return _succeeded(rollout, target, now, "rollout complete")
    reason = f"step {following + 1} of {len(rollout.steps)}"
    return _at_step(
        rollout,
        stable=stable,
        target=target,
        index=following,
        now=now,
        approved=approved,
        reason=reason,
    )


def _judged(analysis: Analysis, verdict: Verdict | None) -> tuple[int, str]:
    """The failures a verdict adds to its step (none if already counted) and, when it keeps
    the step from going on, why."""
    if verdict is None:
        return 0, "waiting for the step's first analysis"
    failed = verdict.count("fail")
    inconclusive = verdict.count("inconclusive")
    blocked = ""
    if analysis.on_no_data == "fail":
        failed += inconclusive
    elif analysis.on_no_data == "hold" and inconclusive:
        blocked = f"{inconclusive} check(s) inconclusive"
    if verdict.count("error"):
        blocked = f"{verdict.count('error')} check(s) could not be run"
    return (0 if verdict.counted else failed), blocked


def _at_step(
    rollout: Rollout,
    *,
    stable: str,
    target: str,
    index: int,
    now: float,
    approved: int,
    reason: str,
) -> Decision:
    """The first decision of step ``index``: a pause step not yet approved is paused at once,
    so that entering it and pausing is one write."""
    step = rollout.steps[index]
    waiting = step.pause and approved < index + 1
    phase: Phase = "paused" if waiting else "progressing"
    state = RolloutState(target, stable, index, int(now), 0, phase, rollout.digest)
    return Decision(stable, {target: step.weight}, state, reason)


def _succeeded(rollout: Rollout, target: str, now: float, reason: str) -> Decision:
    """Done: the alias on the target alone; the state records the target as its stable."""
    state = RolloutState(
        target, target, len(rollout.steps), int(now), 0, "succeeded", rollout.digest
    )
    return Decision(target, {}, state, reason)

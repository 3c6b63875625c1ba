"""The rollout's logic on an injected clock: every step, hold, pause, failure and retarget is
decided without waiting, and its state survives the trip through the alias's marker."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.analysis import Bounds, CloudWatchCheck
from controller.core.rollout import (
    STATE_LENGTH,
    Analysis,
    Decision,
    Rollout,
    RolloutState,
    Step,
    Verdict,
    decide,
    decode,
    encode,
)

T0 = 1_733_140_000
ERRORS = CloudWatchCheck("Errors", "Sum", Bounds(max=0.01), ratio_to="Invocations")
CANARY = Rollout(
    steps=(
        Step(Decimal("0.05"), hold=300),
        Step(Decimal("0.25"), hold=600),
        Step(Decimal("0.5"), pause=True),
    ),
    analysis=Analysis((ERRORS,), interval=60, min_invocations=100, failure_limit=2),
)


def step(decision: Decision, now: float, **kwargs: object) -> Decision:
    """The next decision, from the state the last one wrote (as the next pass reads it)."""
    return decide(CANARY, stable="1", target="2", state=decision.state, now=now, **kwargs)  # type: ignore[arg-type]


def passing() -> Verdict:
    return Verdict(("pass",))


def test_a_rollout_starts_at_the_first_weight_with_the_stable_version_kept() -> None:
    decision = decide(CANARY, stable="1", target="2", state=None, now=T0)

    assert (decision.version, dict(decision.routing)) == ("1", {"2": Decimal("0.05")})
    assert decision.state == RolloutState("2", "1", 0, T0, 0, "progressing", CANARY.digest)


def test_a_step_holds_then_the_next_begins_and_the_last_moves_the_alias() -> None:
    first = decide(CANARY, stable="1", target="2", state=None, now=T0)
    held = step(first, T0 + 299, verdict=passing())
    assert held.state == first.state  # nothing to write
    assert held.routing == first.routing
    assert "1 s left" in held.reason

    second = step(held, T0 + 300, verdict=passing())
    assert dict(second.routing) == {"2": Decimal("0.25")}
    assert second.state == RolloutState("2", "1", 1, T0 + 300, 0, "progressing", CANARY.digest)

    paused = step(second, T0 + 900, verdict=passing())
    assert dict(paused.routing) == {"2": Decimal("0.5")}
    assert paused.state is not None
    assert paused.state.phase == "paused"
    assert step(paused, T0 + 5000, approved=2).state == paused.state  # approve is for step 3

    done = step(paused, T0 + 5000, approved=3, verdict=passing())
    assert (done.version, dict(done.routing)) == ("2", {})
    assert done.state is not None
    assert done.state.phase == "succeeded"
    again = decide(CANARY, stable="2", target="2", state=done.state, now=T0 + 9999)
    assert again == done  # once done, nothing changes and nothing is written


def test_a_step_never_goes_on_before_the_analysis_has_judged_it() -> None:
    first = decide(CANARY, stable="1", target="2", state=None, now=T0)
    assert first.state is not None

    unjudged = step(first, T0 + 10_000)
    assert unjudged.state == first.state
    assert "first analysis" in unjudged.reason

    other_step = Verdict(("pass",), step=("2", 1, T0))  # a step another replica moved on from
    assert step(first, T0 + 10_000, verdict=other_step).state == first.state

    this_step = Verdict(("pass",), step=("2", 0, T0))
    assert step(first, T0 + 10_000, verdict=this_step).state.step == 1  # type: ignore[union-attr]


def test_a_verdict_already_counted_holds_or_lets_go_but_adds_no_failure() -> None:
    first = decide(CANARY, stable="1", target="2", state=None, now=T0)
    once = step(first, T0 + 60, verdict=Verdict(("fail",)))
    assert once.state is not None
    assert once.state.failures == 1

    shown_again = step(once, T0 + 90, verdict=Verdict(("fail",), counted=True))
    assert shown_again.state == once.state
    assert step(once, T0 + 120, verdict=Verdict(("fail",))).state.phase == "failed"  # type: ignore[union-attr]


def test_failed_checks_up_to_the_limit_roll_back_at_once_and_stay_rolled_back() -> None:
    started = decide(CANARY, stable="1", target="2", state=None, now=T0)
    once = step(started, T0 + 60, verdict=Verdict(("fail",)))
    assert once.state is not None
    assert once.state.failures == 1
    assert dict(once.routing) == {"2": Decimal("0.05")}

    twice = step(once, T0 + 120, verdict=Verdict(("fail",)))

    assert (twice.version, dict(twice.routing)) == ("1", {})
    assert twice.state is not None
    assert twice.state.phase == "failed"
    later = step(twice, T0 + 100_000, verdict=passing())
    assert (later.version, dict(later.routing), later.state) == ("1", {}, twice.state)
    assert "change the target or the rollout to retry" in later.reason


def test_a_new_target_restarts_at_step_one_from_the_stable_version() -> None:
    started = decide(CANARY, stable="1", target="2", state=None, now=T0)
    second = step(started, T0 + 300, verdict=passing())

    retargeted = decide(CANARY, stable="1", target="3", state=second.state, now=T0 + 400)

    assert dict(retargeted.routing) == {"3": Decimal("0.05")}
    assert retargeted.state == RolloutState("3", "1", 0, T0 + 400, 0, "progressing", CANARY.digest)


def test_a_revert_to_the_stable_version_ends_the_rollout_at_once() -> None:
    started = decide(CANARY, stable="1", target="2", state=None, now=T0)

    reverted = decide(CANARY, stable="1", target="1", state=started.state, now=T0 + 10)

    assert (reverted.version, dict(reverted.routing), reverted.state) == ("1", {}, None)


def test_a_hand_move_during_a_rollout_is_healed_back_to_the_recorded_stable_version() -> None:
    """The state keeps the stable version: live moved by hand (to the target itself, or
    elsewhere) does not become the new stable, and routing never points at its own version."""
    started = decide(CANARY, stable="1", target="2", state=None, now=T0)

    for moved_to in ("2", "5"):
        healed = decide(CANARY, stable=moved_to, target="2", state=started.state, now=T0 + 60)
        assert (healed.version, dict(healed.routing)) == ("1", {"2": Decimal("0.05")})
        assert healed.state == started.state


def test_a_retry_after_a_rollback_is_a_new_target() -> None:
    failed = RolloutState("2", "1", 0, T0, 2, "failed", CANARY.digest)
    fixed = decide(CANARY, stable="1", target="3", state=failed, now=T0 + 50)
    assert fixed.state == RolloutState("3", "1", 0, T0 + 50, 0, "progressing", CANARY.digest)


def test_a_rollback_is_retried_when_the_rollout_block_changes_and_only_then() -> None:
    failed = RolloutState("2", "1", 0, T0, 2, "failed", CANARY.digest)
    gentler = Rollout(steps=(Step(Decimal("0.01"), hold=600), *CANARY.steps), analysis=None)

    assert decide(CANARY, stable="1", target="2", state=failed, now=T0 + 50).state == failed
    retried = decide(gentler, stable="1", target="2", state=failed, now=T0 + 50)

    assert dict(retried.routing) == {"2": Decimal("0.01")}
    assert retried.state == RolloutState("2", "1", 0, T0 + 50, 0, "progressing", gentler.digest)
    assert "retried with a changed rollout" in retried.reason


@pytest.mark.parametrize(
    ("on_no_data", "expected"),
    [("hold", (0, "progressing")), ("pass", (1, "progressing")), ("fail", (0, "failed"))],
)
def test_no_data_holds_passes_or_fails_as_declared(
    on_no_data: str, expected: tuple[int, str]
) -> None:
    rollout = Rollout(
        steps=(Step(Decimal("0.1"), hold=60), Step(Decimal("0.5"), hold=60)),
        analysis=Analysis((ERRORS,), failure_limit=1, on_no_data=on_no_data),  # type: ignore[arg-type]
    )
    started = decide(rollout, stable="1", target="2", state=None, now=T0)

    after = decide(
        rollout,
        stable="1",
        target="2",
        state=started.state,
        now=T0 + 60,
        verdict=Verdict(("inconclusive",)),
    )

    assert after.state is not None
    assert (after.state.step, after.state.phase) == expected


def test_a_metrics_source_that_cannot_be_asked_holds_and_never_rolls_back() -> None:
    started = decide(CANARY, stable="1", target="2", state=None, now=T0)

    held = step(started, T0 + 10_000, verdict=Verdict(("error", "error")))

    assert held.state == started.state
    assert dict(held.routing) == {"2": Decimal("0.05")}
    assert "could not be run" in held.reason


def test_skip_goes_straight_to_the_target() -> None:
    rollout = Rollout(steps=CANARY.steps, analysis=CANARY.analysis, skip=True)
    decision = decide(rollout, stable="1", target="2", state=None, now=T0)
    assert (decision.version, dict(decision.routing)) == ("2", {})
    assert decision.state is not None
    assert decision.state.phase == "succeeded"


def test_a_rollout_is_resumed_from_the_marker_alone() -> None:
    """A restart reads the state back from the description: the same decision follows."""
    second = step(decide(CANARY, stable="1", target="2", state=None, now=T0), T0 + 300)
    description = f"release 2 [lambda-gitops 3f2c9a1b7d4e {encode(second.state)} #9c1e0f7a]"  # type: ignore[arg-type]

    resumed = decide(CANARY, stable="1", target="2", state=decode(description), now=T0 + 400)

    assert resumed == step(second, T0 + 400)


states = st.builds(
    RolloutState,
    target=st.integers(1, 9_999_999_999).map(str),
    stable=st.integers(1, 9_999_999_999).map(str),
    plan=st.text("0123456789abcdef", min_size=6, max_size=6),
    step=st.integers(0, 99),
    started=st.integers(0, 99_999_999_999),
    failures=st.integers(0, 999),
    phase=st.sampled_from(["progressing", "paused", "succeeded", "failed"]),
)


@given(states)
def test_the_marker_keeps_every_state_within_its_length(state: RolloutState) -> None:
    text = encode(state)
    assert len(text) <= STATE_LENGTH
    assert decode(f"x [lambda-gitops abc {text} #12345678]") == state


@given(st.text(max_size=300))
def test_a_damaged_marker_is_no_state_never_an_error(text: str) -> None:
    state = decode(text)
    assert state is None or encode(state) in text

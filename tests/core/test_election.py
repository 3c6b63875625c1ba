"""client-go's leader election decisions, on plain values and an injected clock: who takes an
empty, an expired or a released lease, who waits, what each write says, and when a leader's
renewal is overdue. Expiry is judged by when this candidate saw the record change, never by the
holder's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.election import (
    MAX_TRANSITIONS,
    ElectionTimings,
    LeaseRecord,
    Observed,
    Take,
    Wait,
    decide,
    expired,
    observe,
    released,
    renewal_overdue,
    renewed,
    timing_problem,
)

WALL = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
HELD_BY_B = LeaseRecord("b", 15, WALL, WALL, 3)


def test_an_absent_lease_is_created_with_this_candidate_as_holder() -> None:
    decision = decide("a", None, now=100.0, wall=WALL, lease_duration=15)
    assert decision == Take(LeaseRecord("a", 15, WALL, WALL, 0), renewal=False)


def test_a_lease_held_by_another_is_not_taken_before_its_duration_has_passed() -> None:
    seen = observe(None, HELD_BY_B, now=100.0)
    for now in (100.0, 107.5, 114.999):
        assert decide("a", seen, now=now, wall=WALL, lease_duration=15) == Wait("b")


def test_an_expired_lease_is_taken_over_counting_one_transition() -> None:
    seen = observe(None, HELD_BY_B, now=100.0)
    later = WALL + timedelta(seconds=15)
    decision = decide("a", seen, now=115.0, wall=later, lease_duration=15)
    assert decision == Take(LeaseRecord("a", 15, later, later, 4), renewal=False)


def test_expiry_is_judged_by_local_observation_even_when_the_holders_renew_time_is_ahead() -> None:
    """A holder whose clock runs a day ahead writes a renewTime in the future: it buys nothing.
    Only the time since this candidate saw the record change counts."""
    future = WALL + timedelta(days=1)
    seen = observe(None, LeaseRecord("b", 15, future, future, 0), now=100.0)
    assert decide("a", seen, now=114.0, wall=WALL, lease_duration=15) == Wait("b")
    taken = decide("a", seen, now=115.0, wall=WALL, lease_duration=15)
    assert isinstance(taken, Take)
    assert taken.record.holder == "a"


def test_a_renewal_seen_restarts_the_wait_and_an_unchanged_record_does_not() -> None:
    seen = observe(None, HELD_BY_B, now=100.0)
    again = observe(seen, HELD_BY_B, now=110.0)
    assert again is seen
    assert expired(again, 115.0)
    renewal = renewed(HELD_BY_B, WALL + timedelta(seconds=10))
    moved = observe(again, renewal, now=112.0)
    assert moved.at == 112.0
    assert not expired(moved, 115.0)
    assert decide("a", moved, now=126.9, wall=WALL, lease_duration=15) == Wait("b")


def test_the_holders_declared_duration_counts_not_the_candidates_own() -> None:
    seen = observe(None, LeaseRecord("b", 60, WALL, WALL, 0), now=0.0)
    assert decide("a", seen, now=30.0, wall=WALL, lease_duration=15) == Wait("b")
    assert isinstance(decide("a", seen, now=60.0, wall=WALL, lease_duration=15), Take)


def test_the_holder_renews_keeping_its_acquire_time_and_the_transitions() -> None:
    held = LeaseRecord("a", 15, WALL, WALL, 7)
    seen = observe(None, held, now=0.0)
    later = WALL + timedelta(seconds=2)
    decision = decide("a", seen, now=2.0, wall=later, lease_duration=15)
    assert decision == Take(LeaseRecord("a", 15, WALL, later, 7), renewal=True)
    assert renewed(held, later) == LeaseRecord("a", 15, WALL, later, 7)


def test_a_released_lease_is_free_at_once() -> None:
    """A leader that stops cleanly writes no holder and one second; a follower takes it at its
    next try, not after the whole duration, and the transition is counted."""
    release = released(LeaseRecord("b", 15, WALL, WALL, 2), WALL)
    assert release == LeaseRecord("", 1, WALL, WALL, 2)
    seen = observe(None, release, now=50.0)
    decision = decide("a", seen, now=50.0, wall=WALL, lease_duration=15)
    assert decision == Take(LeaseRecord("a", 15, WALL, WALL, 3), renewal=False)


def test_a_renewal_is_overdue_at_the_deadline_from_when_the_last_one_was_sent() -> None:
    assert not renewal_overdue(renewed_at=100.0, now=109.999, renew_deadline=10.0)
    assert renewal_overdue(renewed_at=100.0, now=110.0, renew_deadline=10.0)


def test_a_holder_that_declares_no_usable_duration_is_waited_out_by_the_candidates_own() -> None:
    """client-go reads a missing duration as run out at once: a follower would take the lease
    from a leader that still renews it. Here the candidate's own duration counts instead."""
    seen = observe(None, LeaseRecord("b", 0, WALL, WALL, 3), now=100.0)
    assert decide("a", seen, now=114.9, wall=WALL, lease_duration=15) == Wait("b")
    assert isinstance(decide("a", seen, now=115.0, wall=WALL, lease_duration=15), Take)
    assert not expired(seen, 114.9, undeclared=15)
    assert expired(seen, 115.0, undeclared=15)


def test_transitions_stop_at_the_largest_int32_rather_than_overflow_into_a_refused_write() -> None:
    for held in (MAX_TRANSITIONS - 1, MAX_TRANSITIONS):
        seen = observe(None, LeaseRecord("b", 15, WALL, WALL, held), now=0.0)
        decision = decide("a", seen, now=15.0, wall=WALL, lease_duration=15)
        assert isinstance(decision, Take)
        assert decision.record.transitions == MAX_TRANSITIONS


@pytest.mark.parametrize(
    ("timings", "problem"),
    [
        ((15, 10, 2), None),
        ((3, 2, 0.5), None),
        ((10, 10, 2), "lease_duration 10 must be greater than renew_deadline 10"),
        ((15, 2.4, 2), "renew_deadline 2.4 must be greater than 1.2 x retry_period 2"),
        ((0, 0, 0), "lease_duration 0 must be a whole number of seconds, 1 or more"),
        ((2.5, 2, 1), "lease_duration 2.5 must be a whole number of seconds"),
        ((15, 10, 0), "retry_period 0 must be above 0"),
    ],
)
def test_timings_are_checked_as_client_go_checks_them(
    timings: tuple[float, float, float], problem: str | None
) -> None:
    found = timing_problem(*timings)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


def test_the_defaults_are_controller_runtimes() -> None:
    assert ElectionTimings() == ElectionTimings(15, 10.0, 2.0)
    with pytest.raises(ValueError, match="renew_deadline"):
        ElectionTimings(10, 10.0, 2.0)


holders = st.sampled_from(["", "a", "b", "c"])
records = st.builds(
    LeaseRecord,
    holder=holders,
    lease_duration_seconds=st.integers(1, 60),
    acquire_time=st.just(WALL),
    renew_time=st.just(WALL),
    transitions=st.integers(0, 1000),
)


@settings(max_examples=300, deadline=None)
@given(record=records, seen_at=st.integers(0, 10_000), elapsed=st.integers(0, 120))
def test_another_holder_is_never_displaced_within_its_duration(
    record: LeaseRecord, seen_at: int, elapsed: int
) -> None:
    """Whatever the record, a candidate takes a lease another holds only once the holder's
    declared duration has passed since it saw the record; every take counts a transition."""
    # Whole seconds, so that the boundary compares exactly.
    decision = decide(
        "a", Observed(record, seen_at), now=seen_at + elapsed, wall=WALL, lease_duration=15
    )
    if record.holder == "a":
        assert decision == Take(renewed(record, WALL), renewal=True) or (
            isinstance(decision, Take)
            and decision.renewal
            and decision.record.transitions == record.transitions
            and decision.record.acquire_time == record.acquire_time
        )
    elif record.holder and elapsed < record.lease_duration_seconds:
        assert decision == Wait(record.holder)
    else:
        assert isinstance(decision, Take)
        assert not decision.renewal
        assert decision.record.holder == "a"
        assert decision.record.transitions == record.transitions + 1


hostile_records = st.builds(
    LeaseRecord,
    holder=holders,
    lease_duration_seconds=st.integers(0, 2**31 - 1),
    acquire_time=st.none() | st.datetimes(timezones=st.just(UTC)),
    renew_time=st.none() | st.datetimes(timezones=st.just(UTC)),
    transitions=st.integers(0, MAX_TRANSITIONS),
)


@settings(max_examples=300, deadline=None)
@given(
    record=hostile_records,
    own=st.integers(1, 60),
    seen_at=st.integers(0, 10_000),
    elapsed=st.integers(0, 120),
)
def test_whatever_a_record_says_a_take_waits_at_least_what_it_or_this_candidate_declares(
    record: LeaseRecord, own: int, seen_at: int, elapsed: int
) -> None:
    """Any record the adapter can read (no duration, the largest ones, any time or none): a
    held lease is taken no sooner than its declared duration, or this candidate's own when it
    declares none, after it was seen; and what is written is always a valid int32 count."""
    decision = decide(
        "a", Observed(record, seen_at), now=seen_at + elapsed, wall=WALL, lease_duration=own
    )
    waited = record.lease_duration_seconds or own
    if record.holder and record.holder != "a" and elapsed < waited:
        assert decision == Wait(record.holder)
    else:
        assert isinstance(decision, Take)
        assert 0 <= decision.record.transitions <= MAX_TRANSITIONS
        assert decision.record.lease_duration_seconds == own

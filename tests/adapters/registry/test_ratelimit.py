"""The client-side rate limit: its pacing on a fake clock, and against the emulator's quota.

The unit tests use a fake clock that the fake ``sleep`` advances, so the arithmetic is checked
exactly and nothing depends on the speed of the machine. The emulator tests check the promise
that matters, with real threads and real HTTP: paced below the quota, a burst is never refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.ratelimit import RateLimiter
from controller.core.model import FunctionRef
from controller.errors import ConfigurationError, Transient
from lambda_emulator import EmulatorServer, Faults
from tests.backends import Backend, make_zip

US = "us-east-1"
EU = "eu-west-1"
FUNCTION = FunctionRef("orders-api", US)


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(time: FakeTime, rate: float | None = 10.0, burst: float | None = None) -> RateLimiter:
    return RateLimiter(rate, burst, clock=time.clock, sleep=time.sleep)


# -- pacing, on a fake clock ----------------------------------------------------------------------


def test_a_full_bucket_lets_one_seconds_worth_through_at_once() -> None:
    time = FakeTime()
    pace = limiter(time, rate=10.0)
    waits = [pace.acquire("111111111111", US) for _ in range(10)]
    assert waits == [0.0] * 10
    assert time.sleeps == []
    assert pace.acquire("111111111111", US) == pytest.approx(0.1)


def test_an_urgent_request_goes_ahead_of_the_slots_reserved() -> None:
    """A full pass's threads sleep towards their reserved slots; a targeted pass's request
    goes first, and the next slot after them moves back by one."""
    time = FakeTime()
    pace = limiter(time, rate=10.0)
    for _ in range(10):
        pace.acquire("111111111111", US)  # the burst, spent
    reserved = [pace.reserve("111111111111", US) for _ in range(5)]

    assert reserved == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert pace.acquire("111111111111", US, urgent=True) == 0.0
    assert pace.reserve("111111111111", US) == pytest.approx(0.7)


def test_an_urgent_request_goes_ahead_by_one_burst_at_most() -> None:
    time = FakeTime()
    pace = limiter(time, rate=10.0)
    for _ in range(30):
        pace.reserve("111111111111", US)  # slots up to 2.0 s ahead

    assert pace.reserve("111111111111", US, urgent=True) == pytest.approx(2.1 - 1.0)


def test_urgent_and_other_requests_share_one_rate() -> None:
    time = FakeTime()
    pace = limiter(time, rate=10.0, burst=1.0)
    for index in range(20):
        pace.acquire("111111111111", US, urgent=index % 3 == 0)
    assert time.now == pytest.approx(1.9)  # twenty requests, one every 0.1 s


def test_past_the_burst_requests_go_out_at_the_rate() -> None:
    time = FakeTime()
    pace = limiter(time, rate=10.0, burst=1)
    waits = [pace.acquire(None, US) for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.1, 0.1, 0.1, 0.1])


def test_the_long_run_rate_is_the_configured_rate() -> None:
    time = FakeTime()
    pace = limiter(time, rate=10.0)
    for _ in range(110):
        pace.acquire(None, US)
    # Ten go out with the burst at 0 s; the other hundred follow, one every 0.1 s.
    assert time.now == pytest.approx(10.0)


def test_an_idle_bucket_refills_but_never_beyond_the_burst() -> None:
    time = FakeTime()
    pace = limiter(time, rate=10.0, burst=5)
    for _ in range(5):
        pace.acquire(None, US)
    time.now += 60.0
    assert [pace.acquire(None, US) for _ in range(5)] == [0.0] * 5
    assert pace.acquire(None, US) == pytest.approx(0.1)


def test_each_account_and_region_has_its_own_bucket() -> None:
    time = FakeTime()
    pace = limiter(time, rate=2.0, burst=1)
    assert pace.acquire("111111111111", US) == 0.0
    assert pace.acquire("111111111111", EU) == 0.0
    assert pace.acquire("222222222222", US) == 0.0
    assert pace.acquire(None, US) == 0.0
    assert pace.acquire("111111111111", US) == pytest.approx(0.5)


def test_no_rate_means_no_pacing() -> None:
    time = FakeTime()
    pace = limiter(time, rate=None)
    assert not pace.enabled
    assert {pace.acquire(None, US) for _ in range(1000)} == {0.0}
    assert time.sleeps == []


@pytest.mark.parametrize(
    ("rate", "burst"), [(0.0, None), (-1.0, None), (10.0, 0.5)], ids=["zero", "negative", "burst"]
)
def test_a_rate_or_burst_that_cannot_work_is_a_configuration_error(
    rate: float, burst: float | None
) -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(rate, burst)


# -- many threads ---------------------------------------------------------------------------------


def test_threads_that_contend_each_get_a_slot_of_their_own() -> None:
    # The clock stands still, so every reservation is decided by the lock alone: none may be
    # lost or handed out twice, whatever the interleaving.
    pace = RateLimiter(10.0, clock=lambda: 0.0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        per_thread = list(pool.map(lambda _: [pace.reserve(None, US) for _ in range(25)], range(8)))
    starts = sorted(round(wait, 6) for waits in per_thread for wait in waits)
    assert starts == [0.0] * 10 + [round(n / 10, 6) for n in range(1, 191)]
    # Slots are handed out in the order they are asked for, so each thread's own are increasing.
    assert all(waits == sorted(waits) for waits in per_thread)


def test_a_waiting_thread_blocks_no_one_else() -> None:
    asleep = threading.Event()
    wake = threading.Event()

    def sleep(seconds: float) -> None:
        asleep.set()
        wake.wait(10)

    pace = RateLimiter(1.0, burst=1, sleep=sleep)
    pace.acquire(None, US)
    waiting = threading.Thread(target=pace.acquire, args=(None, US))
    waiting.start()
    try:
        assert asleep.wait(10)
        # The waiting thread sleeps outside the lock: another region is served at once, and
        # even the same region hands out its next slot without waiting for the sleeper.
        assert pace.acquire(None, EU) == 0.0
        assert pace.reserve(None, US) > 1.0
    finally:
        wake.set()
        waiting.join(10)
    assert not waiting.is_alive()


# -- against the emulator's quota ----------------------------------------------------------------


def seeded(emulator: EmulatorServer) -> None:
    backend = Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)
    backend.create_function(FUNCTION.name, package=make_zip("r1"))


class Throttles:
    """Counts the throttled attempts the registry reports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: list[str] = []
        self.requests: list[tuple[str, str]] = []

    def request(self, operation: str, outcome: str, seconds: float) -> None:
        with self._lock:
            self.requests.append((operation, outcome))

    def throttled(self, operation: str) -> None:
        with self._lock:
            self.operations.append(operation)


def burst(registry: AwsRegistry, calls: int = 40, threads: int = 4) -> None:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = list(pool.map(lambda _: registry.list_aliases(FUNCTION), range(calls)))
    assert answers == [[]] * calls


def test_paced_below_the_quota_a_threaded_burst_is_never_throttled(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(rate_limit=15)
    observer = Throttles()
    registry = AwsRegistry(
        AwsSettings(endpoint_url=emulator.endpoint_url, max_attempts=1, requests_per_second=10),
        observer=observer,
    )
    burst(registry)
    assert emulator.throttled_counts() == {}
    assert observer.operations == []
    assert observer.requests == [("ListAliases", "success")] * 40


def test_unpaced_the_same_burst_is_throttled_and_every_429_is_reported(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(rate_limit=15)
    observer = Throttles()
    registry = AwsRegistry(
        AwsSettings(endpoint_url=emulator.endpoint_url, max_attempts=20, requests_per_second=None),
        observer=observer,
    )
    burst(registry, calls=60)
    throttled = emulator.throttled_counts().get("ListAliases", 0)
    assert throttled > 0
    # Retried throttles are reported too, one for each 429 the emulator sent.
    assert observer.operations == ["ListAliases"] * throttled
    assert observer.requests == [("ListAliases", "success")] * 60


def test_registries_that_share_a_limiter_share_its_pace(emulator: EmulatorServer) -> None:
    seeded(emulator)
    waits: list[float] = []
    shared = RateLimiter(0.1, burst=1, sleep=waits.append)
    settings = AwsSettings(endpoint_url=emulator.endpoint_url)
    AwsRegistry(settings, limiter=shared).get_function(FUNCTION)
    AwsRegistry(settings, limiter=shared).get_function(FUNCTION)
    assert len(waits) == 1
    # One request every ten seconds: the second registry waits for the first one's slot to pass.
    assert waits[0] > 5.0


def test_every_attempt_takes_a_token_retries_included(
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emulator = emulator_factory()
    seeded(emulator)
    emulator.faults = Faults(error_rate=1.0, seed=1)
    # The clock stands still, so the n-th attempt waits (n - 1) seconds and nothing sleeps.
    waits: list[float] = []
    pace = RateLimiter(1.0, burst=1, clock=lambda: 0.0, sleep=waits.append)
    registry = AwsRegistry(
        AwsSettings(endpoint_url=emulator.endpoint_url, max_attempts=3), limiter=pace
    )
    with pytest.raises(Transient):
        registry.get_function(FUNCTION)
    assert waits == [1.0, 2.0]

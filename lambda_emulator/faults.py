"""Fault injection for the emulated registry: latency, throttling and transient server errors.

The controller has to survive what Lambda does under load: slow calls, HTTP 429 past the
per-account, per-region request quota (rule L40), and the occasional 500 or 503. These faults are
all off by default; ``Faults`` sets them at start and may be replaced at runtime. The request
counters live here as well, because they count what the faults act on: every request received,
throttled ones included.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace

from controller.errors import ConfigurationError

MAX_COUNTED_FUNCTIONS = 100_000
"""Functions counted one by one at most: requests naming others are counted only by operation,
so that a client sending endless made-up names cannot grow the counters without bound."""


@dataclass(frozen=True)
class Faults:
    """The faults the emulated registry injects; the defaults inject none."""

    latency_ms: float = 0.0
    """Added to every call before it is answered."""
    rate_limit: float | None = None
    """Requests per second accepted per (account, region); ``None`` is unlimited."""
    update_seconds: float = 0.0
    """Length of the Pending (create) and InProgress (update) windows."""
    error_rate: float = 0.0
    """Probability per request of a transient 500 or 503."""
    seed: int | None = None
    """Seed of the PRNG that picks the transient errors, for repeatable runs."""

    def __post_init__(self) -> None:
        problems = []
        if self.latency_ms < 0:
            problems.append(f"latency_ms must be 0 or more, not {self.latency_ms}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            problems.append(f"rate_limit must be more than 0 requests/s, not {self.rate_limit}")
        if self.update_seconds < 0:
            problems.append(f"update_seconds must be 0 or more, not {self.update_seconds}")
        if not 0.0 <= self.error_rate <= 1.0:
            problems.append(f"error_rate is a probability from 0 to 1, not {self.error_rate}")
        if problems:
            raise ConfigurationError("invalid faults: " + "; ".join(problems))

    @classmethod
    def from_json(cls, body: object, base: Faults | None = None) -> Faults:
        """``base`` with the members of a ``PUT /_emulator/faults`` JSON object replaced.

        Members left out keep their values in ``base``; unknown members are refused.
        """
        if not isinstance(body, Mapping):
            raise ConfigurationError("the faults must be a JSON object")
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown faults: {', '.join(unknown)}; known: {sorted(known)}"
            )
        try:
            return replace(base or cls(), **body)
        except TypeError as error:
            raise ConfigurationError(f"invalid faults: {error}") from error


class TokenBucket:
    """A token bucket refilled at ``rate`` a second, holding one second's worth at most.

    Its long-run accepted rate is ``rate`` exactly, whatever the offered load, which is what
    makes a throttling test meaningful.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self._clock = clock
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take one token if there is one; ``False`` means the request is throttled."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


@dataclass(frozen=True, slots=True)
class TransientError:
    """A transient failure to answer instead of the real response."""

    status: int
    message: str


class FaultInjector:
    """Applies one ``Faults`` setting to requests and counts them per operation."""

    def __init__(self, faults: Faults, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()
        self._by_function: Counter[str] = Counter()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._faults = faults
        self._random = random.Random(faults.seed)

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        with self._lock:
            if faults.rate_limit != self._faults.rate_limit:
                self._buckets.clear()
            if faults.seed != self._faults.seed:
                self._random = random.Random(faults.seed)
            self._faults = faults

    def count(self, operation: str) -> None:
        """Count a request that no quota applies to, such as one for an unknown path."""
        with self._lock:
            self._requests[operation] += 1

    def admit(self, operation: str, account: str, region: str, function: str | None = None) -> bool:
        """Count a request (by operation, and by the ``function`` it names, if any), and say
        whether the rate quota of its account and region admits it."""
        with self._lock:
            self._requests[operation] += 1
            if function is not None and (
                function in self._by_function or len(self._by_function) < MAX_COUNTED_FUNCTIONS
            ):
                self._by_function[function] += 1
            rate = self._faults.rate_limit
            if rate is None:
                return True
            bucket = self._buckets.get((account, region))
            if bucket is None:
                bucket = self._buckets[(account, region)] = TokenBucket(rate)
        if bucket.take():
            return True
        with self._lock:
            self._throttled[operation] += 1
        return False

    def delay(self) -> None:
        """Wait the configured latency."""
        latency = self._faults.latency_ms
        if latency > 0:
            self._sleep(latency / 1000)

    def transient_error(self) -> TransientError | None:
        """A 500 or a 503, drawn with the configured probability, or ``None``."""
        with self._lock:
            rate = self._faults.error_rate
            if rate <= 0 or self._random.random() >= rate:
                return None
            unavailable = self._random.random() < 0.5
        if unavailable:
            return TransientError(503, "Service unavailable (injected fault).")
        return TransientError(500, "An internal error occurred (injected fault).")

    def faults_json(self) -> dict[str, object]:
        """The faults in force, as ``GET /_emulator/faults`` shows them."""
        return asdict(self._faults)

    def request_counts(self) -> dict[str, int]:
        """Requests received per operation, throttled ones included."""
        with self._lock:
            return dict(self._requests)

    def throttled_counts(self) -> dict[str, int]:
        """Requests answered with HTTP 429 per operation."""
        with self._lock:
            return dict(self._throttled)

    def function_request_counts(self) -> dict[str, int]:
        """Requests received per function named in their path, throttled ones included."""
        with self._lock:
            return dict(self._by_function)

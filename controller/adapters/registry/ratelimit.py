"""A client-side request-rate limit per account and region, shared by every thread.

Lambda's control-plane quota is 15 requests per second per account and region, and it cannot be
raised (rule L40). Retries absorb the occasional HTTP 429 (rule L42), but a controller that
relies on them wastes a share of the quota on refused requests and adds backoff delays to every
function in the region. Pacing the requests on our side, below the quota, keeps a pass fast and
leaves headroom for other clients of the same account.

The limiter follows the generic cell rate algorithm (GCRA): each (account, region) keeps the
theoretical time of its next free slot. A caller reserves its slot under a lock, which only
does arithmetic, then sleeps outside it; so slots are handed out in the order callers arrive,
and a thread waiting for one region's slot never delays another region. An urgent request
(``controller.core.priority``: a targeted pass's) goes ahead of the slots reserved by a full
pass's threads, so that a promotion does not queue behind their reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from controller.errors import ConfigurationError

DEFAULT_REQUESTS_PER_SECOND = 10.0
"""Two thirds of Lambda's 15 requests/s, so that the console and other tools still get through."""

_NEGLIGIBLE_SECONDS = 1e-9


class RateLimiter:
    """A token bucket per (account, region): ``rate`` requests a second, bursts of ``burst``.

    ``rate=None`` disables the limit: ``acquire`` then returns at once. ``burst`` defaults to one
    second's worth of requests (at least one), which is how much an idle region may send at once.
    """

    def __init__(
        self,
        rate: float | None = DEFAULT_REQUESTS_PER_SECOND,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ConfigurationError(
                f"the request rate must be more than 0 requests/s, or unset; not {rate}"
            )
        capacity = max(rate, 1.0) if rate is not None and burst is None else burst
        if capacity is not None and capacity < 1:
            raise ConfigurationError(f"the burst must be 1 request or more, not {burst}")
        self.rate = rate
        self.burst = capacity
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[tuple[str | None, str], float] = {}

    @property
    def enabled(self) -> bool:
        """Whether requests are paced at all."""
        return self.rate is not None

    def acquire(self, account: str | None, region: str, *, urgent: bool = False) -> float:
        """Wait until the account and region may send one more request; return the wait, in s.

        An ``urgent`` request may go up to one burst ahead of the slots already reserved (see
        ``reserve``).
        """
        wait = self.reserve(account, region, urgent=urgent)
        if wait > 0:
            self._sleep(wait)
        return wait

    def reserve(self, account: str | None, region: str, *, urgent: bool = False) -> float:
        """Take the next slot of the account and region without waiting for it.

        Returns how many seconds from now the slot starts; the caller must not send before then.
        An ``urgent`` slot starts up to one burst (a second's worth) earlier than its turn,
        ahead of the slots other threads are sleeping towards, and every later slot moves back
        by one: the long-run rate is unchanged, and for a moment the region may see one burst
        more than its rate, which Lambda's own bucket absorbs.
        """
        if self.rate is None or self.burst is None:
            return 0.0
        interval = 1.0 / self.rate
        # A full bucket lets ``burst`` requests through at once: the slot may start up to this
        # long before the theoretical arrival time.
        tolerance = (self.burst - 1.0) * interval
        key = (account, region)
        with self._lock:
            now = self._clock()
            # An idle bucket refills: a theoretical arrival time in the past counts as now.
            arrival = max(self._next_slot.get(key, now), now)
            lead = self.burst * interval if urgent else 0.0
            start = max(now, arrival - tolerance - lead)
            self._next_slot[key] = arrival + interval
        wait = start - now
        # Float rounding leaves waits of a few femtoseconds where the arithmetic says zero.
        return wait if wait > _NEGLIGIBLE_SECONDS else 0.0

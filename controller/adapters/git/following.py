"""The loop that both kinds of source run: sync, report, wait for a trigger or a timer.

What differs between a local clone and a remote is only what wakes the loop (file-system events,
a poll timer) and how long it waits after a failure; the reporting rules are shared, so that the
controller sees the same behaviour from both: ``on_fetch`` after every sync, ``on_revision`` only
when the revision changes, and a failure that never clears the last good revision.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from controller.adapters.git.port import GitSource, Revision, SourceError
from controller.adapters.logging import get_logger

_STOP_CHECK = 0.1
"""How often a waiting loop looks at the caller's stop event, in seconds."""


class Wakeup:
    """A coalescing trigger: any number of ``set()`` calls during a sync cause one more sync."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._pending = False

    def set(self) -> None:
        with self._condition:
            self._pending = True
            self._condition.notify_all()

    def take(self) -> bool:
        """Whether a trigger was pending; clears it."""
        with self._condition:
            pending, self._pending = self._pending, False
            return pending

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Return when triggered, after ``timeout`` seconds, or soon after ``stop`` is set."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not self._pending and not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._condition.wait(min(remaining, _STOP_CHECK))


class FollowedState:
    """What both kinds of source keep: the last good revision, a lock around syncs, and the
    wake-up that a ``poke`` (a webhook) sets."""

    def __init__(self) -> None:
        self._revision: Revision | None = None
        self._lock = threading.Lock()
        self._wakeup = Wakeup()

    @property
    def revision(self) -> Revision | None:
        return self._revision

    def poke(self) -> None:
        self._wakeup.set()


class Schedule:
    """The wait before the next sync: the interval after a success, a growing backoff after a
    failure, each with random jitter so that many controllers do not fetch in step."""

    def __init__(
        self,
        interval: float,
        *,
        jitter: float = 0.1,
        initial_backoff: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self._interval = interval
        self._jitter = jitter
        self._initial_backoff = initial_backoff
        self._rng = rng or random.Random()
        self._failures = 0

    def next_delay(self, ok: bool) -> float:
        if ok:
            self._failures = 0
            base = self._interval
        else:
            base = min(self._interval, self._initial_backoff * 2.0 ** min(self._failures, 32))
            self._failures += 1
        return base * (1.0 + self._rng.uniform(-self._jitter, self._jitter))


def follow(
    source: GitSource,
    wakeup: Wakeup,
    schedule: Schedule,
    *,
    on_revision: Callable[[Revision], None],
    on_fetch: Callable[[bool, float], None],
    stop: threading.Event,
) -> None:
    """Sync ``source`` until ``stop`` is set, reporting as ``GitSource.run`` promises."""
    log = get_logger()
    reported: Revision | None = None
    while not stop.is_set():
        # Cleared before the sync, so that a trigger arriving during it causes one more.
        wakeup.take()
        try:
            source.sync()
            ok = True
        except SourceError as error:
            ok = False
            log.warning("source sync failed", repo=source.display_url, error=str(error))
        on_fetch(ok, time.time())
        current = source.revision
        if current is not None and current != reported:
            reported = current
            log.info(
                "source revision", repo=source.display_url, ref=current.ref, revision=current.sha
            )
            on_revision(current)
        wakeup.wait(schedule.next_delay(ok), stop)

"""Which requests go first: the work a commit or an event asked for, ahead of a full pass.

A targeted pass (one function changed by a commit, or named by an event) and a full resync pass
share one request quota per account and region. Whatever runs under ``urgent()`` is urgent: the
rate limiter hands it the next free slot, while a full pass's requests wait until a slot is
free now, so that a promotion never queues behind the eight reads a full pass has in flight.
The flag is a context variable, set by the thread doing the work and read by the adapter that
paces the requests, so that neither knows the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_URGENT: ContextVar[bool] = ContextVar("lambda_gitops_urgent", default=False)


@contextmanager
def urgent() -> Iterator[None]:
    """Mark the requests made in this block (on this thread) as urgent."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def is_urgent() -> bool:
    """Whether the current request is made under ``urgent()``."""
    return _URGENT.get()

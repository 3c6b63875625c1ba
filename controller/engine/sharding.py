"""Sharding at run time: the topology rule over the Kubernetes API, a Git push passed on to every
shard, and what a shard shows of itself.

``core.sharding`` decides which shard owns a function and when a shard may lead; this module
does the I/O around those decisions, so that the loop, the reconciler and the applier need not
know that sharding exists:

- ``TopologyGate`` is the elector's ``LeadershipGate``: it lists the installation's Leases and
  says which of another topology may still be writing, by its own observation over time;
- ``OwnedDeclarations`` is the loop's view of each revision: only what this shard owns, so that
  a shard reads, plans, writes and reports (``/status``, the per-function series) its own
  functions and no other's, and says how many in ``lambda_gitops_shard_functions``;
- ``FetchRelay`` passes a Git push on to the other shards' leaders: the Service sends the
  webhook to any one pod, but every shard must fetch. It writes the fetch-request annotation
  into each other shard's Lease, as a follower does into its own (``engine.leader``), so that
  each leader fetches at its next renewal;
- ``sharded_status`` adds the shard to ``/status``: the document's ``sharding`` and each
  function's ``shard``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from controller.adapters.kube.port import LeaseDirectory, LeaseStore
from controller.adapters.logging import get_logger
from controller.core.declarations import Declarations
from controller.core.election import Observed
from controller.core.sharding import Sharding, blockers, observe_leases
from controller.engine.leader import utc_now
from controller.errors import LeaseConflict, LeaseError

RELAY_ATTEMPTS = 3
"""Tries to annotate one Lease: each 409 means its leader renewed in between; read it again."""


class TopologyGate:
    """The topology rule (``core.sharding``) as the elector asks it: whether a Lease of another
    topology is held by a holder whose lease has not run out, judged by this candidate's own
    observation of each record over successive listings (its monotonic clock)."""

    def __init__(
        self,
        directory: LeaseDirectory,
        shards: int,
        *,
        lease_duration: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._shards = shards
        self._lease_duration = lease_duration
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._observed: dict[str, Observed] = {}

    def blocked(self, *, timeout: float) -> str | None:
        """The Leases that keep this candidate from leading, as one line; ``None`` when none.

        The time of observation is taken after the answer, which can only make a Lease seem to
        run out later than it did: the safe side."""
        leases = self._directory.list(timeout=timeout)
        now = self._monotonic()
        with self._lock:
            self._observed = observe_leases(self._observed, leases, now)
            found = blockers(
                self._shards, leases, self._observed, now, lease_duration=self._lease_duration
            )
        return "; ".join(str(blocker) for blocker in found) or None


class ShardMetrics(Protocol):
    """What the shard tells the metrics (``adapters.metrics.Metrics`` has it)."""

    def shard_functions(self, shard: str, count: int) -> None: ...


class OwnedDeclarations:
    """The loop's view of a revision's declarations: shard ``shard``'s part of them."""

    def __init__(self, sharding: Sharding, shard: int, metrics: ShardMetrics) -> None:
        self.sharding = sharding
        self.shard = shard
        self._metrics = metrics
        metrics.shard_functions(str(shard), 0)

    def __call__(self, declarations: Declarations) -> Declarations:
        owned = self.sharding.owned(declarations, self.shard)
        self._metrics.shard_functions(str(self.shard), len(owned.functions) + len(owned.invalid))
        return owned


class FetchRelay:
    """Passes a Git push on to the leaders of the other shards, through their Leases.

    ``relay`` returns at once: the Leases are written on a thread of its own, each request
    bounded by ``timeout``, and pushes that arrive meanwhile are passed on together, once more.
    The record of each Lease is written back as read, so that no holder's lease is extended by
    it (``core.election`` counts only the record as a renewal).
    """

    def __init__(
        self,
        leases: Sequence[LeaseStore],
        *,
        timeout: float,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        self._leases = tuple(leases)
        self._timeout = timeout
        self._wall = wall
        self._log = get_logger("controller.engine.sharding")
        self._lock = threading.Lock()
        self._pending: str | None = None
        self._running: threading.Thread | None = None

    def relay(self) -> None:
        """Pass a push that arrived now on to every other shard."""
        with self._lock:
            self._pending = self._wall().isoformat()
            if self._running is not None and self._running.is_alive():
                return
            self._running = threading.Thread(target=self._drain, name="fetch-relay", daemon=True)
            self._running.start()

    def wait(self, timeout: float) -> None:
        """Return once the pushes received so far are passed on (for tests)."""
        with self._lock:
            running = self._running
        if running is not None:
            running.join(timeout=timeout)

    def _drain(self) -> None:
        while True:
            with self._lock:
                requested, self._pending = self._pending, None
                if requested is None:
                    self._running = None
                    return
            for lease in self._leases:
                self.pass_on(lease, requested)

    def pass_on(self, leases: LeaseStore, requested: str) -> bool:
        """Write ``requested`` into the fetch-request annotation of one Lease, record untouched;
        True once written. A Lease that does not exist has no leader to tell."""
        for _ in range(RELAY_ATTEMPTS):
            try:
                lease = leases.get(timeout=self._timeout)
                if lease is None:
                    return False
                leases.replace(
                    lease,
                    lease.record,
                    timeout=self._timeout,
                    annotations=lease.requesting_fetch(requested),
                )
            except LeaseConflict:
                continue  # its leader renewed in between: read it again
            except LeaseError as error:
                self._log.warning(
                    "could not pass a webhook on to a shard", lease=leases.where, error=str(error)
                )
                return False
            self._log.info("passed a webhook on to a shard", lease=leases.where)
            return True
        return False


def sharded_status(
    status: Callable[[], Mapping[str, Any]], sharding: Sharding, shard: int
) -> Callable[[], Mapping[str, Any]]:
    """``/status`` of a shard: the document, with ``sharding`` (how many shards, which this one
    is, how many functions it owns) and each function's ``shard``: every function a shard
    reports is its own."""

    def document() -> Mapping[str, Any]:
        shown = dict(status())
        functions = shown.get("functions")
        if isinstance(functions, Mapping):
            shown["functions"] = {
                key: {**entry, "shard": shard} if isinstance(entry, Mapping) else entry
                for key, entry in functions.items()
            }
        shown["sharding"] = {
            "shards": sharding.shards,
            "shard": shard,
            "functions": len(functions) if isinstance(functions, Mapping) else 0,
        }
        return shown

    return document

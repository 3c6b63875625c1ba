"""The ports of leader election: one Lease (read, create, and replace at the version read), and
the listing of an installation's Leases that sharding's topology rule reads.

``leases.KubeLeases`` and ``leases.KubeLeaseDirectory`` implement them over the Kubernetes API;
tests wrap them to race or time the requests. Every call fails within its ``timeout``, with a
``LeaseError`` (``LeaseConflict`` for an HTTP 409), so that the elector keeps its deadlines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from controller.core.election import Lease, LeaseRecord


class LeaseStore(Protocol):
    """The one Lease of an election; each call fails within ``timeout`` seconds."""

    @property
    def where(self) -> str:
        """``NAMESPACE/NAME``, for messages."""
        ...

    def get(self, *, timeout: float) -> Lease | None:
        """The Lease, or ``None`` when it does not exist."""
        ...

    def create(self, record: LeaseRecord, *, timeout: float) -> Lease:
        """Create the Lease holding ``record``; ``LeaseConflict`` when it exists already."""
        ...

    def replace(
        self,
        lease: Lease,
        record: LeaseRecord,
        *,
        timeout: float,
        annotations: Mapping[str, str] | None = None,
    ) -> Lease:
        """Write ``record`` over ``lease``, only if it is still at the version read
        (``LeaseConflict`` otherwise); ``annotations``, when given, replace its annotations."""
        ...


class LeaseDirectory(Protocol):
    """Every Lease of one installation, whatever its shard or topology (``core.sharding``)."""

    @property
    def where(self) -> str:
        """What is listed (``NAMESPACE``, the label selector), for messages."""
        ...

    def list(self, *, timeout: float) -> list[Lease]:
        """The Leases as they are now, each with its ``name``."""
        ...

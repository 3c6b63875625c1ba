"""What the controller needs from a Git source, whatever kind of repository stands behind it.

The loop codes against ``GitSource`` only: a local clone watched for ref moves and a remote
fetched into a cache clone look the same from outside. Both give a repository path and a commit
SHA, and the declarations are then read from that commit, so the loop never cares how the commit
arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from controller.errors import SourceError

__all__ = ["GitSource", "Revision", "SourceError"]


@dataclass(frozen=True)
class Revision:
    """The commit that ``ref`` resolved to: what the declarations are read from."""

    sha: str
    ref: str


class GitSource(Protocol):
    """A repository that a ref is followed in."""

    @property
    def path(self) -> Path:
        """The repository to read commits from: the local clone, or the controller's own clone
        of a remote."""
        ...

    @property
    def display_url(self) -> str:
        """The repository without any credential: safe for logs, metrics and ``/status``."""
        ...

    @property
    def revision(self) -> Revision | None:
        """The last good revision, or ``None`` before the first successful sync."""
        ...

    def sync(self) -> Revision:
        """Resolve the ref now (fetching first for a remote), blocking.

        On success ``revision`` is updated and returned; on failure ``SourceError`` is raised
        and ``revision`` keeps the last good one.
        """
        ...

    def run(
        self,
        on_revision: Callable[[Revision], None],
        on_fetch: Callable[[bool, float], None],
        stop: threading.Event,
    ) -> None:
        """Follow the ref until ``stop`` is set; meant for a thread of its own.

        After every sync ``on_fetch(ok, time.time())`` is called; ``on_revision`` is called with
        the first revision and then whenever it differs from the one last reported.
        """
        ...

    def poke(self) -> None:
        """Sync at once (the webhook): wakes ``run()`` from its wait."""
        ...

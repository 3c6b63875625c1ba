"""Git sources: where the declarations' commits come from, and when a new one arrives.

``open_source`` picks the kind from the ``--repo`` value: a path on this machine is watched
(``LocalSource``), a URL (``https://``, ``ssh://``, ``git://``, ``file://``) or Git's scp-like
``user@host:path`` is fetched into a cache clone (``RemoteSource``). Either way the loop gets a
repository path and a commit SHA to read the declarations from, a display URL that carries no
credential, and callbacks when the revision moves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from controller.adapters.git.credentials import NO_CREDENTIALS, GitCredentials, is_scp_like, redact
from controller.adapters.git.local import LocalSource
from controller.adapters.git.port import GitSource, Revision, SourceError
from controller.adapters.git.remote import RemoteSource

__all__ = [
    "GitCredentials",
    "GitSettings",
    "GitSource",
    "LocalSource",
    "RemoteSource",
    "Revision",
    "SourceError",
    "is_remote",
    "open_source",
    "redact",
]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class GitSettings:
    """Where the declarations repository is and how to reach it; ``Settings.git`` builds it."""

    repo: str
    ref: str
    cache_dir: Path
    poll_interval: float
    token_file: Path | None = None
    ssh_key_file: Path | None = None
    known_hosts_file: Path | None = None

    def credentials(self, environ: Mapping[str, str]) -> GitCredentials:
        """The credentials to present, from the environment and the configured files."""
        return GitCredentials.from_environment(
            environ,
            token_file=self.token_file,
            ssh_key_file=self.ssh_key_file,
            known_hosts_file=self.known_hosts_file,
        )

    def open(self, credentials: GitCredentials) -> GitSource:
        """The source these settings name (see ``open_source``)."""
        return open_source(
            self.repo,
            self.ref,
            cache_dir=self.cache_dir,
            poll_interval=self.poll_interval,
            credentials=credentials,
        )


def is_remote(repo: str) -> bool:
    """Whether a ``--repo`` value names a remote (a URL, or Git's scp-like ``user@host:path``
    that is not also a folder here) rather than a repository on this machine.

    Every command asks this one function, so that ``run`` follows, and ``plan`` refuses, the
    same values.
    """
    return bool(_URL.match(repo)) or (is_scp_like(repo) and not Path(repo).exists())


def open_source(
    repo: str,
    ref: str,
    *,
    cache_dir: Path,
    poll_interval: float = 60.0,
    credentials: GitCredentials = NO_CREDENTIALS,
    jitter: float = 0.1,
) -> GitSource:
    """The source for ``--repo``: local when ``repo`` is a folder here, remote otherwise.

    Opening does no network I/O; a local path that is not a Git repository is a
    ``ConfigurationError`` at once, since no amount of waiting will fix it. For a local clone,
    ``poll_interval`` is the safety resync behind the file-system watch.
    """
    if is_remote(repo):
        return RemoteSource(
            repo,
            ref,
            cache_dir=cache_dir,
            credentials=credentials,
            poll_interval=poll_interval,
            jitter=jitter,
        )
    return LocalSource(Path(repo), ref, resync_interval=poll_interval, jitter=jitter)

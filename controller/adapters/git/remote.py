"""A remote repository, fetched on a timer and on demand into the controller's own clone.

The clone is bare and holds one ref per followed ref (``refs/lambda-gitops/<ref>``), fetched with
a ``+`` refspec so that a force-push is followed. Fetches are shallow (``--depth 1``) unless the
server refuses them (dumb HTTP does), because the controller only ever reads the tip's tree.
The clone lives in a folder named by a hash of the *redacted* URL, so it is reused after a
restart, and a token rotation does not orphan it. A clone that git can no longer read is
removed and made again: it is a cache, the remote is the truth.

A failed fetch never clears the revision: it raises ``SourceError`` and ``revision`` keeps the
last good one; after a restart with the remote down, the revision last fetched into the cache is
that last good one. A ref that disappears from the remote is an error, never an empty state.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from controller.adapters.git.command import DEFAULT_TIMEOUT, GitResult, run_git, summary
from controller.adapters.git.credentials import REMOTE_NAME, GitCredentials, remote_access
from controller.adapters.git.following import FollowedState, Schedule, follow
from controller.adapters.git.port import Revision, SourceError
from controller.adapters.logging import get_logger

_MISSING_REF = "couldn't find remote ref"
_CACHE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class RemoteSource(FollowedState):
    """A remote followed through a bare cache clone under ``cache_dir``."""

    def __init__(
        self,
        url: str,
        ref: str,
        *,
        cache_dir: Path,
        credentials: GitCredentials,
        poll_interval: float = 60.0,
        jitter: float = 0.1,
        initial_backoff: float = 1.0,
        timeout: float = DEFAULT_TIMEOUT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._ref = ref
        self._access = remote_access(url, credentials, os.environ if environ is None else environ)
        self._local_ref = f"refs/lambda-gitops/{ref.removeprefix('refs/')}"
        self._cache = cache_dir / _cache_folder_name(self._access.display_url)
        self._poll_interval = poll_interval
        self._jitter = jitter
        self._initial_backoff = initial_backoff
        self._timeout = timeout
        self._shallow = True
        self._cache_checked = False

    @property
    def path(self) -> Path:
        return self._cache

    @property
    def display_url(self) -> str:
        return self._access.display_url

    def __repr__(self) -> str:
        return f"RemoteSource({self.display_url!r}, {self._ref!r})"

    def sync(self) -> Revision:
        with self._lock:
            try:
                sha = self._fetch_and_resolve()
            except SourceError:
                self._fall_back_to_cache()
                raise
            self._revision = Revision(sha=sha, ref=self._ref)
            return self._revision

    def run(
        self,
        on_revision: Callable[[Revision], None],
        on_fetch: Callable[[bool, float], None],
        stop: threading.Event,
    ) -> None:
        schedule = Schedule(
            self._poll_interval, jitter=self._jitter, initial_backoff=self._initial_backoff
        )
        follow(self, self._wakeup, schedule, on_revision=on_revision, on_fetch=on_fetch, stop=stop)

    def _fetch_and_resolve(self) -> str:
        self._prepare_cache()
        result = self._fetch()
        sha = self._resolved() if result.ok else None
        if sha is None and not self._cache_is_healthy():
            self._recreate_cache("it cannot be read")
            result = self._fetch()
            sha = self._resolved() if result.ok else None
        if not result.ok:
            raise self._fetch_error(result)
        if sha is None:
            raise SourceError(f"ref {self._ref} on {self.display_url} does not name a commit")
        return sha

    def _fetch(self) -> GitResult:
        refspec = f"+{self._ref}:{self._local_ref}"
        base = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
        if self._shallow:
            result = self._git([*base, "--depth=1", REMOTE_NAME, refspec])
            if result.ok or not _refuses_shallow(result.stderr):
                return result
            get_logger().info(
                "remote refuses shallow fetches; fetching in full", repo=self.display_url
            )
            self._shallow = False
        return self._git([*base, REMOTE_NAME, refspec])

    def _fetch_error(self, result: GitResult) -> SourceError:
        if result.timed_out:
            return SourceError(
                f"fetching {self._ref} from {self.display_url} timed out after {self._timeout:g} s"
            )
        if _MISSING_REF in result.stderr:
            if self._revision is not None:
                return SourceError(f"ref {self._ref} no longer exists on {self.display_url}")
            return SourceError(f"ref {self._ref} does not exist on {self.display_url}")
        detail = self._access.redactor(summary(result.stderr))
        return SourceError(f"fetching {self._ref} from {self.display_url} failed: {detail}")

    def _resolved(self) -> str | None:
        result = self._git(["rev-parse", "--verify", "--quiet", f"{self._local_ref}^{{commit}}"])
        return result.stdout.strip() if result.ok else None

    def _fall_back_to_cache(self) -> None:
        """After a restart with the remote down, the commit last fetched is the last good one."""
        if self._revision is None and self._cache_checked:
            sha = self._resolved()
            if sha is not None:
                self._revision = Revision(sha=sha, ref=self._ref)

    def _prepare_cache(self) -> None:
        if self._cache_checked:
            return
        if self._cache.exists() and not self._cache_is_healthy():
            self._recreate_cache("it cannot be read")
        elif not self._cache.exists():
            self._create_cache()
        self._cache_checked = True

    def _cache_is_healthy(self) -> bool:
        """Whether git can read the clone, and the followed ref, if present, names a commit."""
        if not self._git(["rev-parse", "--git-dir"]).ok:
            return False
        listed = self._git(["for-each-ref", "--format=%(objectname)", self._local_ref])
        if not listed.ok:
            return False
        return not listed.stdout.strip() or self._resolved() is not None

    def _recreate_cache(self, reason: str) -> None:
        get_logger().warning(
            "removing the cache clone", repo=self.display_url, path=str(self._cache), reason=reason
        )
        shutil.rmtree(self._cache, ignore_errors=True)
        self._create_cache()

    def _create_cache(self) -> None:
        """A new bare repository, made aside and renamed, so that a crash leaves no half."""
        self._cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".init-", dir=self._cache.parent))
        try:
            result = run_git(["init", "--quiet", "--bare", str(staging)], timeout=self._timeout)
            if not result.ok:
                raise SourceError(
                    f"cannot create a cache clone in {self._cache.parent}: {summary(result.stderr)}"
                )
            os.replace(staging, self._cache)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _git(self, args: list[str]) -> GitResult:
        # GIT_DIR is explicit so that git never walks up to some repository around the cache.
        environment = {**self._access.environment, "GIT_DIR": str(self._cache)}
        return run_git(args, cwd=self._cache.parent, environment=environment, timeout=self._timeout)


def _refuses_shallow(stderr: str) -> bool:
    return "shallow" in stderr.lower() and _MISSING_REF not in stderr


def _cache_folder_name(display_url: str) -> str:
    """A readable, collision-free folder name: the repository's last path part and a hash."""
    digest = hashlib.sha256(display_url.encode()).hexdigest()[:16]
    tail = display_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    stem = _CACHE_NAME.sub("-", tail.removesuffix(".git"))[:40].strip("-.") or "repository"
    return f"{stem}-{digest}"

"""A local clone, followed by watching its Git folder: no fetch, no polling delay.

A commit, a ``reset --hard``, a checkout or a ``gc`` shows as changes to ``HEAD``, to a file
under ``refs/`` or to ``packed-refs``. The event only says *that* something moved: the ref is
then resolved with git, because after a ``gc`` a branch lives in ``packed-refs`` and its loose
file is gone. One commit touches several files; watchfiles groups them, and the shared loop
reports a revision only when it differs from the last, so one commit gives one report.

A slow timer resyncs as well, in case an event was lost (an inotify queue overflow, a ``.git``
folder replaced wholesale); resolving a ref costs a few milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from controller.adapters.git.command import resolve_commit, run_git
from controller.adapters.git.following import FollowedState, Schedule, follow
from controller.adapters.git.port import Revision
from controller.adapters.logging import get_logger
from controller.errors import ConfigurationError

_WATCH_TIMEOUT_MS = 1000
"""How long watchfiles waits before yielding an empty batch; the first one means "watching"."""


class LocalSource(FollowedState):
    """A repository on this machine (a working clone or a bare repository)."""

    def __init__(
        self, path: Path, ref: str, *, resync_interval: float = 60.0, jitter: float = 0.1
    ) -> None:
        super().__init__()
        self._path = path
        self._ref = ref
        self._git_dirs = _git_folders(path)
        self._resync_interval = resync_interval
        self._jitter = jitter

    @property
    def path(self) -> Path:
        return self._path

    @property
    def display_url(self) -> str:
        return str(self._path)

    def sync(self) -> Revision:
        with self._lock:
            sha = resolve_commit(self._path, self._ref, where=str(self._path))
            self._revision = Revision(sha=sha, ref=self._ref)
            return self._revision

    def run(
        self,
        on_revision: Callable[[Revision], None],
        on_fetch: Callable[[bool, float], None],
        stop: threading.Event,
    ) -> None:
        halt = _EitherEvent(stop)
        watcher = threading.Thread(
            target=self._watch, args=(halt,), name="lambda-gitops-git-watch", daemon=True
        )
        watcher.start()
        try:
            schedule = Schedule(self._resync_interval, jitter=self._jitter)
            follow(
                self, self._wakeup, schedule, on_revision=on_revision, on_fetch=on_fetch, stop=stop
            )
        finally:
            halt.set()
            watcher.join()

    def _watch(self, halt: _EitherEvent) -> None:
        """Wake the loop on every change that can move the ref, until ``halt`` is set."""
        announced = False
        try:
            for changes in watchfiles.watch(
                *self._git_dirs,
                watch_filter=None,
                stop_event=halt,
                debounce=400,
                step=20,
                rust_timeout=_WATCH_TIMEOUT_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                # The first batch, even an empty one, means the watch is in place: a commit made
                # between the first sync and that moment would otherwise go unseen until the timer.
                if not announced or any(self._moves_ref(path) for _, path in changes):
                    announced = True
                    self._wakeup.set()
        except (OSError, RuntimeError) as error:
            # The resync timer still follows the ref, only more slowly.
            get_logger().error(
                "watching the repository failed; following it by timer only",
                repo=self.display_url,
                error=str(error),
            )

    def _moves_ref(self, changed: str) -> bool:
        path = Path(changed)
        for folder in self._git_dirs:
            if path.is_relative_to(folder):
                relative = path.relative_to(folder).as_posix()
                return relative in {"HEAD", "packed-refs"} or relative.startswith("refs/")
        return False


class _EitherEvent:
    """Set when the caller's stop event is, or when ``run`` ends for any other reason."""

    def __init__(self, outer: threading.Event) -> None:
        self._outer = outer
        self._own = threading.Event()

    def set(self) -> None:
        self._own.set()

    def is_set(self) -> bool:
        return self._own.is_set() or self._outer.is_set()


def _git_folders(path: Path) -> tuple[Path, ...]:
    """The folders whose changes can move a ref: the Git folder and, for a linked worktree,
    the common folder that holds the shared refs."""
    if not path.is_dir():
        raise ConfigurationError(f"{path} is not a folder")
    result = run_git(["rev-parse", "--absolute-git-dir", "--git-common-dir"], cwd=path)
    if not result.ok:
        raise ConfigurationError(f"{path} is not a Git repository")
    git_dir, common_dir = result.stdout.splitlines()[:2]
    folders = {Path(git_dir).resolve(), (path / common_dir).resolve()}
    return tuple(sorted(folders))

"""Running git as a child process, with a deadline and a locale we can read.

Every git command of the sources goes through ``run_git``. It runs git in a process group of its
own so that a timeout kills the helpers git started too (``git-remote-https``, ``ssh``): a hung
remote must never hang the loop. ``LC_ALL=C`` keeps git's messages in English, because the
sources recognise a few of them ("couldn't find remote ref"). ``GIT_TERMINAL_PROMPT=0`` and an
empty ``GIT_ASKPASS`` make git fail at once instead of waiting for a password nobody will type.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from controller.errors import ConfigurationError, RevisionUnreadable

DEFAULT_TIMEOUT = 60.0

_NEVER_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C", "LANGUAGE": "C"}


@dataclass(frozen=True)
class GitResult:
    """What a git command printed, and whether it succeeded within its deadline."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    environment: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> GitResult:
    """Run ``git ARGS``; never raises for git's own failures, which the caller interprets."""
    env = {**os.environ, **(environment or {}), **_NEVER_PROMPT}
    try:
        # git from PATH is the point: the machine's git, with arguments built by this package.
        process = subprocess.Popen(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except FileNotFoundError as error:
        if cwd is not None and not cwd.is_dir():
            # The repository folder went away under us: a failed sync, not a missing git.
            return GitResult(128, "", f"fatal: {cwd} does not exist")
        raise ConfigurationError("git is not installed or not on PATH") from error
    with process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, stderr = process.communicate()
            return GitResult(process.returncode, stdout, stderr, timed_out=True)
    return GitResult(process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def summary(stderr: str, *, lines: int = 4) -> str:
    """The last few non-empty lines of git's stderr, on one line, for an error message."""
    kept = [line.strip() for line in stderr.splitlines() if line.strip()]
    return "; ".join(kept[-lines:]) or "no message from git"


def resolve_commit(repository: Path, ref: str, *, where: str) -> str:
    """The SHA of the commit ``ref`` names in ``repository``; ``RevisionUnreadable`` when none.

    The one place a ref becomes a commit, for the sources and for the declarations reader
    alike, so that both read the same commit for the same ref (branches, tags, annotated
    tags, ``HEAD~1``, a SHA).
    """
    result = run_git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        cwd=repository,
    )
    if not result.ok:
        detail = f" ({summary(result.stderr)})" if result.stderr.strip() else ""
        raise RevisionUnreadable(
            f"the ref {ref!r} does not name a commit in {where}; check the branch, tag or SHA, "
            f"and fetch it first if it is remote{detail}"
        )
    return result.stdout.strip()

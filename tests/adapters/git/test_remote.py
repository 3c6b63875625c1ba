"""A remote is fetched into a cache clone: on a timer, on a poke, and through every failure."""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from controller.adapters.git import (
    GitCredentials,
    GitSource,
    RemoteSource,
    SourceError,
    open_source,
)
from controller.adapters.git.following import Schedule
from tests.adapters.git.conftest import Recorder, commit, git


def remote(
    url: str, cache: Path, *, poll_interval: float = 60.0, initial_backoff: float = 1.0
) -> RemoteSource:
    """A remote source without jitter, so that timings in the tests are the configured ones."""
    return RemoteSource(
        url,
        "main",
        cache_dir=cache,
        credentials=GitCredentials(),
        poll_interval=poll_interval,
        jitter=0.0,
        initial_backoff=initial_backoff,
    )


def push(work: Path, message: str) -> str:
    sha = commit(work, message)
    git(work, "push", "--quiet", "origin", "main")
    return sha


def test_the_first_sync_clones_shallow_into_a_bare_cache(origin: Path, tmp_path: Path) -> None:
    source = open_source(origin.as_uri(), "main", cache_dir=tmp_path / "cache")
    assert isinstance(source, RemoteSource)
    revision = source.sync()
    assert revision.sha == git(origin, "rev-parse", "main")
    assert source.path.parent == tmp_path / "cache"
    assert git(source.path, "rev-parse", "--is-bare-repository") == "true"
    assert (source.path / "shallow").exists()
    assert source.display_url == origin.as_uri()


def test_a_new_commit_is_picked_up_at_the_next_poll(
    origin: Path, work: Path, tmp_path: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    recorder = follow(remote(origin.as_uri(), tmp_path / "cache", poll_interval=0.2))
    recorder.wait_for_revision(git(origin, "rev-parse", "main"))
    second = push(work, "second")
    recorder.wait_for_revision(second)
    assert len(recorder.revisions) == 2


def test_poke_fetches_at_once(
    origin: Path, work: Path, tmp_path: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    source = remote(origin.as_uri(), tmp_path / "cache", poll_interval=60.0)
    recorder = follow(source)
    recorder.wait_for_revision(git(origin, "rev-parse", "main"))
    second = push(work, "second")
    source.poke()
    recorder.wait_for_revision(second, timeout=1.0)


def test_a_force_push_is_followed(origin: Path, work: Path, tmp_path: Path) -> None:
    source = remote(origin.as_uri(), tmp_path / "cache")
    first = git(work, "rev-parse", "HEAD")
    push(work, "second")
    source.sync()
    git(work, "reset", "--quiet", "--hard", first)
    replacement = commit(work, "rewritten")
    git(work, "push", "--quiet", "--force", "origin", "main")
    assert source.sync().sha == replacement


def test_a_ref_deleted_on_the_remote_is_an_error_and_the_last_revision_stays(
    origin: Path, tmp_path: Path
) -> None:
    source = remote(origin.as_uri(), tmp_path / "cache")
    good = source.sync()
    git(origin, "branch", "--quiet", "other", "main")
    git(origin, "symbolic-ref", "HEAD", "refs/heads/other")
    git(origin, "branch", "--quiet", "-D", "main")
    with pytest.raises(SourceError, match=f"ref main no longer exists on {origin.as_uri()}"):
        source.sync()
    assert source.revision == good


def test_an_unreachable_remote_backs_off_then_recovers(
    origin: Path, work: Path, tmp_path: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    """Failures are reported and the revision is kept; the fetch after the remote is back
    succeeds. (How the waits grow is the schedule's, tested without a clock below.)"""
    source = remote(origin.as_uri(), tmp_path / "cache", poll_interval=0.8, initial_backoff=0.05)
    recorder = follow(source)
    first = git(origin, "rev-parse", "main")
    recorder.wait_for_revision(first)
    moved = origin.with_name("moved.git")
    origin.rename(moved)
    recorder.wait_for(lambda: sum(not ok for ok, _ in recorder.fetches) >= 4)
    assert source.revision is not None
    assert source.revision.sha == first
    moved.rename(origin)
    second = push(work, "second")
    recorder.wait_for_revision(second)
    assert recorder.fetches[-1][0] is True
    assert recorder.shas == [first, second]


def test_the_wait_after_each_failure_doubles_up_to_the_poll_interval_and_a_success_resets_it() -> (
    None
):
    schedule = Schedule(60.0, jitter=0.0, initial_backoff=1.0)

    failures = [schedule.next_delay(ok=False) for _ in range(8)]

    assert failures == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert schedule.next_delay(ok=True) == 60.0
    assert schedule.next_delay(ok=False) == 1.0


def test_jitter_spreads_the_waits_within_its_fraction() -> None:
    schedule = Schedule(100.0, jitter=0.1, rng=random.Random(7))

    delays = [schedule.next_delay(ok=True) for _ in range(200)]

    assert all(90.0 <= delay <= 110.0 for delay in delays)
    assert len(set(delays)) > 100


def test_a_restart_reuses_the_cache_clone(origin: Path, work: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = remote(origin.as_uri(), cache)
    before.sync()
    marker = before.path / "description"
    marker.write_text("kept across restarts\n")
    second = push(work, "second")
    after = remote(origin.as_uri(), cache)
    assert after.path == before.path
    assert after.sync().sha == second
    assert marker.read_text() == "kept across restarts\n"


def test_after_a_restart_with_the_remote_down_the_cached_revision_is_the_last_good_one(
    origin: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    good = remote(origin.as_uri(), cache).sync()
    origin.rename(origin.with_name("gone.git"))
    restarted = remote(origin.as_uri(), cache)
    with pytest.raises(SourceError, match="fetching main from"):
        restarted.sync()
    assert restarted.revision == good


def test_a_corrupt_cache_is_made_again(origin: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    source = remote(origin.as_uri(), cache)
    source.sync()
    (source.path / "HEAD").write_text("garbage\n")
    assert remote(origin.as_uri(), cache).sync().sha == git(origin, "rev-parse", "main")


def test_a_cache_whose_commit_is_missing_is_made_again(origin: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    source = remote(origin.as_uri(), cache)
    source.sync()
    ref = source.path / "refs" / "lambda-gitops" / "main"
    ref.write_text("1" * 40 + "\n")
    assert remote(origin.as_uri(), cache).sync().sha == git(origin, "rev-parse", "main")


def test_clone_and_fetch_over_git_daemon(
    git_daemon: str, work: Path, tmp_path: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    source = open_source(git_daemon, "main", cache_dir=tmp_path / "cache", poll_interval=60.0)
    assert source.sync().sha == git(work, "rev-parse", "HEAD")
    recorder = follow(source)
    recorder.wait_for(lambda: len(recorder.revisions) == 1)
    second = push(work, "second")
    source.poke()
    recorder.wait_for_revision(second)


def test_a_dumb_http_server_that_refuses_shallow_gets_a_full_fetch(
    origin: Path, work: Path, tmp_path: Path
) -> None:
    """Plain file serving (Git's "dumb" HTTP) cannot do ``--depth``; the source fetches in full."""
    second = push(work, "second")
    git(origin, "update-server-info")
    handler = functools.partial(_QuietFiles, directory=str(origin.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{origin.name}"
        source = remote(url, tmp_path / "cache")
        assert source.sync().sha == second
        assert not (source.path / "shallow").exists()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

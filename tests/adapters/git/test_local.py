"""A local clone is followed by watching its Git folder: every way a ref moves is seen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from controller.adapters.git import GitSource, LocalSource, SourceError, open_source
from controller.errors import ConfigurationError
from tests.adapters.git.conftest import Recorder, commit, git


def local(path: Path, ref: str = "main") -> GitSource:
    source = open_source(str(path), ref, cache_dir=path / "unused-cache")
    assert isinstance(source, LocalSource)
    return source


def test_sync_resolves_the_ref_without_fetching(work: Path) -> None:
    assert local(work).revision is None
    source = local(work)
    revision = source.sync()
    assert revision.sha == git(work, "rev-parse", "HEAD")
    assert revision.ref == "main"
    assert source.revision == revision
    assert source.path == work
    assert source.display_url == str(work)


def test_each_commit_is_reported_once(work: Path, follow: Callable[[GitSource], Recorder]) -> None:
    """Several files change per commit; the reports are exactly one per commit, in order."""
    first = git(work, "rev-parse", "HEAD")
    recorder = follow(local(work))
    recorder.wait_for_revision(first)
    second = commit(work, "second")
    recorder.wait_for_revision(second)
    third = commit(work, "third")
    recorder.wait_for_revision(third)
    assert recorder.shas == [first, second, third]
    assert all(ok for ok, _ in recorder.fetches)


def test_a_branch_moved_back_by_reset_hard_is_followed(
    work: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    first = git(work, "rev-parse", "HEAD")
    second = commit(work, "second")
    recorder = follow(local(work))
    recorder.wait_for_revision(second)
    git(work, "reset", "--quiet", "--hard", first)
    recorder.wait_for(lambda: recorder.shas[-1:] == [first])
    assert recorder.shas == [second, first]


def test_a_commit_after_gc_packs_the_refs_is_followed(
    work: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    """After ``gc`` the branch lives in packed-refs; the next commit writes a loose ref again."""
    recorder = follow(local(work))
    recorder.wait_for_revision(git(work, "rev-parse", "HEAD"))
    git(work, "gc", "--quiet")
    assert not (work / ".git" / "refs" / "heads" / "main").exists()
    second = commit(work, "second")
    recorder.wait_for_revision(second)


def test_a_tag_and_a_detached_head_resolve_to_commits(work: Path) -> None:
    first = git(work, "rev-parse", "HEAD")
    git(work, "tag", "--annotate", "-m", "release", "v1")
    commit(work, "second")
    assert local(work, "v1").sync().sha == first
    git(work, "checkout", "--quiet", "--detach", first)
    assert local(work, "HEAD").sync().sha == first


def test_a_detached_head_moved_by_checkout_is_followed(
    work: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    first = git(work, "rev-parse", "HEAD")
    second = commit(work, "second")
    git(work, "checkout", "--quiet", "--detach", second)
    recorder = follow(local(work, "HEAD"))
    recorder.wait_for_revision(second)
    git(work, "checkout", "--quiet", "--detach", first)
    recorder.wait_for_revision(first)


def test_an_unknown_ref_is_an_error_not_an_empty_state(
    work: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    source = local(work, "no-such-branch")
    with pytest.raises(SourceError, match="the ref 'no-such-branch' does not name a commit"):
        source.sync()
    assert source.revision is None
    recorder = follow(source)
    recorder.wait_for(lambda: len(recorder.fetches) >= 1)
    assert recorder.fetches[0][0] is False
    assert recorder.revisions == []
    git(work, "branch", "no-such-branch")
    recorder.wait_for_revision(git(work, "rev-parse", "HEAD"))


def test_a_bare_repository_is_followed(
    origin: Path, work: Path, follow: Callable[[GitSource], Recorder]
) -> None:
    recorder = follow(local(origin))
    recorder.wait_for_revision(git(origin, "rev-parse", "main"))
    second = commit(work, "second")
    git(work, "push", "--quiet", "origin", "main")
    recorder.wait_for_revision(second)


def test_poke_syncs_at_once(work: Path, follow: Callable[[GitSource], Recorder]) -> None:
    source = local(work)
    recorder = follow(source)
    recorder.wait_for(lambda: len(recorder.fetches) >= 1)
    before = len(recorder.fetches)
    source.poke()
    recorder.wait_for(lambda: len(recorder.fetches) > before, timeout=1.0)


def test_a_folder_that_is_not_a_repository_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a Git repository"):
        open_source(str(tmp_path), "main", cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigurationError, match="not a folder"):
        open_source(str(tmp_path / "missing"), "main", cache_dir=tmp_path / "cache")

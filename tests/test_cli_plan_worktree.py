"""``plan --worktree``: an author sees the effect of an edit before committing it.

``plan`` reads the commit ``--ref`` names and says which; ``plan --worktree`` reads the files as
they are on disk, uncommitted edits included, and says at the top that it is not a commit. The
controller itself never applies a working tree: ``reconcile`` still reads the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import git

from tests.test_cli_reconcile import repo, run, source, state

__all__ = ["repo", "state"]  # the fixtures, shared with the reconcile tests


def _registry(state: Path) -> list[str]:
    return ["--registry", f"emulated:{state}"]


def test_plan_says_which_commit_it_read(repo: git.Repo, state: Path) -> None:
    head = repo.head.commit.hexsha
    result = run("plan", *source(repo), *_registry(state))
    assert result.exit_code == 2, result.output
    assert result.stdout.splitlines()[0] == f"Plan at revision {head[:12]} (commit of HEAD)"
    document = json.loads(run("plan", *source(repo), *_registry(state), "--output", "json").stdout)
    assert document["revision"] == head
    assert document["source"] == {"kind": "commit", "folder": None, "revision": head, "ref": "HEAD"}


def test_worktree_plan_includes_an_uncommitted_edit_and_says_it_is_not_a_commit(
    repo: git.Repo, state: Path
) -> None:
    assert run("reconcile", "--once", *source(repo), *_registry(state)).exit_code == 0
    assert run("plan", *source(repo), *_registry(state)).exit_code == 0
    declaration = Path(repo.working_dir) / "orders-api.yaml"
    declaration.write_text(declaration.read_text().replace("version: r42", "version: r41"))

    committed = run("plan", *source(repo), *_registry(state))
    assert committed.exit_code == 0, committed.output

    edited = run("plan", "--worktree", *source(repo), *_registry(state))
    assert edited.exit_code == 2, edited.output
    first = edited.stdout.splitlines()[0]
    assert first.startswith(f"Plan of the working tree at {repo.working_dir}")
    assert "uncommitted edits included; not a commit" in first
    assert "alias live: version 2 -> r41 (1)" in edited.output

    document = json.loads(
        run("plan", "--worktree", *source(repo), *_registry(state), "--output", "json").stdout
    )
    assert document["revision"] is None
    assert document["source"]["kind"] == "worktree"
    assert document["inSync"] is False


def test_worktree_plan_reports_an_invalid_edit_at_its_line(repo: git.Repo, state: Path) -> None:
    declaration = Path(repo.working_dir) / "billing-worker.yaml"
    declaration.write_text(declaration.read_text().replace("version: r8", "version: r9"))
    result = run("plan", "--worktree", *source(repo), *_registry(state))
    assert result.exit_code == 1
    assert "billing-worker.yaml:" in result.output
    assert "r9" in result.output


def test_worktree_and_ref_together_are_a_usage_error(repo: git.Repo, state: Path) -> None:
    result = run("plan", "--worktree", "--ref", "HEAD", *source(repo), *_registry(state))
    assert result.exit_code == 2
    assert "--worktree" in result.output

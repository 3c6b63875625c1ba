"""A declarations repository whose history is a promotion, written commit by commit.

Commits get fixed authors and dates, so their SHAs, and with them the Markdown snapshots that
show abbreviated SHAs, are the same on every run and every machine.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import git

ACTOR = git.Actor("release bot", "release@example.com")


def sha(content: str) -> str:
    """Lambda's CodeSha256 of a package holding ``content``."""
    return base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()


def function(
    name: str,
    versions: Mapping[str, str],
    aliases: Mapping[str, str],
    *,
    region: str = "",
    prune: bool = False,
    suspend: bool = False,
    adopt: bool = False,
) -> str:
    """A Function document. ``versions`` maps a label to its package content (hashed here);
    ``aliases`` maps an alias to the YAML of its flow mapping: ``"{version: r41}"``."""
    lines = [
        "apiVersion: lambda-gitops/v1",
        "kind: Function",
        "metadata:",
        f"  name: {name}",
        "spec:",
    ]
    if region:
        lines.append(f"  region: {region}")
    lines.append("  versions:")
    for label, content in versions.items():
        lines.append(f'    {label}: {{codeSha256: "{sha(content)}"}}')
    lines.append("  aliases:")
    lines += [f"    {alias}: {spec}" for alias, spec in aliases.items()]
    if prune:
        lines.append("  prune: true")
    if suspend:
        lines.append("  suspend: true")
    if adopt:
        lines.append("  adopt: true")
    return "\n".join(lines) + "\n"


def documents(*texts: str) -> str:
    return "---\n".join(texts)


class History:
    """A repository written one commit at a time; each commit replaces every file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.repo = git.Repo.init(folder)
        self.commits: list[str] = []

    def commit(self, message: str, files: Mapping[str, str]) -> str:
        """Make the tree hold exactly ``files`` and commit it; returns the SHA."""
        for tracked in self.repo.git.ls_files().splitlines():
            (self.folder / tracked).unlink()
        for path, text in files.items():
            target = self.folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.repo.git.add(A=True)
        date = f"{1714564800 + 86400 * len(self.commits)} +0000"  # 2024-05-01, a day apart
        commit = self.repo.index.commit(
            message, author=ACTOR, committer=ACTOR, author_date=date, commit_date=date
        )
        self.commits.append(commit.hexsha)
        return commit.hexsha


SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = "LAMBDA_GITOPS_UPDATE_SNAPSHOTS"


def assert_snapshot(name: str, actual: str) -> None:
    """``actual`` must equal the reviewed snapshot ``snapshots/NAME``.

    With ``LAMBDA_GITOPS_UPDATE_SNAPSHOTS=1`` the snapshot is rewritten instead; the rewritten
    file is then reviewed like any other change before it is committed.
    """
    path = SNAPSHOTS / name
    if os.environ.get(UPDATE) == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}; run with {UPDATE}=1 and review the file"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot"

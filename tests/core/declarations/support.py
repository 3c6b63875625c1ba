"""Helpers for the declaration tests: package digests, a repository made of a dict, a document."""

from __future__ import annotations

import base64
import hashlib
import textwrap
from dataclasses import dataclass, field

from controller.core.declarations import Declarations, parse_declarations
from controller.core.declarations.paths import EntryKind


def sha(content: bytes) -> str:
    """Lambda's CodeSha256 of a package with this content."""
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


SHA_A = sha(b"package a")
SHA_B = sha(b"package b")
SHA_C = sha(b"package c")

HEADER = "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata:\n  name: orders\nspec:\n"
"""Five lines; the first line of ``spec`` given to ``function()`` is line 6 of the file."""


def function(spec: str, header: str = HEADER) -> str:
    """A Function document whose spec is ``spec`` (written flush left, indented here)."""
    return header + textwrap.indent(textwrap.dedent(spec).strip("\n") + "\n", "  ")


@dataclass
class FakeTree:
    """A repository as a dict of path -> "file", "directory" or ("symlink", target)."""

    entries: dict[str, str | tuple[str, str]] = field(default_factory=dict)
    where: str = "folder test"

    def kind(self, path: str) -> EntryKind | None:
        entry = self.entries.get(path)
        if entry is None:
            return None
        if isinstance(entry, tuple):
            return "symlink"
        return "directory" if entry == "directory" else "file"

    def symlink_target(self, path: str) -> str:
        entry = self.entries[path]
        assert isinstance(entry, tuple)
        return entry[1]


def parse(
    *files: tuple[str, str],
    tree: FakeTree | None = None,
    region: str = "eu-west-1",
    account: str | None = None,
) -> Declarations:
    return parse_declarations(
        [(name, text.encode()) for name, text in files],
        default_region=region,
        default_account=account,
        tree=tree or FakeTree(),
    )

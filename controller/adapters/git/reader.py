"""Reading the declaration files: from a Git commit for the controller, from a folder for CI.

The controller applies what is committed, never what happens to be in a working tree, so
``load_commit`` reads blobs from the commit that a ref resolves to (bare repositories work the
same way). ``load_folder`` reads a plain folder, for ``lambda-gitops validate`` in pre-commit
hooks and CI, where the files to check are not committed yet. Both hand ``(path, bytes)`` pairs to
the same pure parser, so they cannot disagree about what a file means.

This module is the only part of the declarations that touches Git or the file system.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Collection, Iterator
from pathlib import Path, PurePosixPath
from typing import Protocol

import git

from controller.adapters.git.command import resolve_commit
from controller.core.declarations.parser import (
    DEFAULT_LIMITS,
    Declarations,
    FileContent,
    ParseLimits,
    Unread,
    parse_declarations,
)
from controller.core.declarations.paths import EntryKind
from controller.errors import ConfigurationError, RevisionUnreadable

DECLARATION_SUFFIXES = (".yaml", ".yml")


def load_commit(
    repo_path: Path,
    ref: str,
    subpath: str = "",
    *,
    default_region: str,
    default_account: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    extra_regions: Collection[str] = (),
) -> Declarations:
    """The declarations under ``subpath`` at the commit that ``ref`` resolves to.

    ``ref`` is anything Git resolves to a commit: a branch, a tag (annotated ones too), a remote
    branch or a SHA. ``subpath`` is relative to the repository's root; ``code.zipFile`` paths
    are relative to the folder of the file that declares them, and stay inside the repository.
    An unknown ref or a subpath that the commit lacks is ``RevisionUnreadable``, both a
    ``ConfigurationError`` and a ``SourceError``.
    A file larger than ``limits`` allows is never read (its size comes from the object's
    header), so a huge blob costs nothing but its error.
    """
    folder = _normalised_subpath(subpath)
    with _open_repository(repo_path) as repo:
        commit = _resolve_commit(repo, ref, repo_path)
        root = commit.tree
        scope = _subtree(root, folder, ref)
        budget = _ReadBudget(limits)
        files = [
            (str(blob.path), budget.read(blob.size, functools.partial(_blob_bytes, blob)))
            for blob in _declaration_blobs(scope)
        ]
        return parse_declarations(
            files,
            default_region=default_region,
            default_account=default_account,
            tree=_CommitTree(root, commit.hexsha),
            revision=commit.hexsha,
            limits=limits,
            extra_regions=extra_regions,
        )


def load_folder(
    path: Path,
    *,
    default_region: str,
    root: Path | None = None,
    default_account: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    extra_regions: Collection[str] = (),
) -> Declarations:
    """The declarations in the folder ``path`` (or the single file ``path``), as they are on disk.

    ``root`` is the repository's root, against which file names are shown and inside which
    ``code.zipFile`` paths (each relative to its file's folder) must stay; by default it is the
    nearest folder at or above ``path`` that holds a ``.git`` entry, or ``path`` itself outside
    a Git working tree.
    """
    if not path.exists():
        raise ConfigurationError(f"{path} does not exist")
    base = (root or _enclosing_repository(path)).resolve()
    target = path.resolve()
    if not target.is_relative_to(base):
        raise ConfigurationError(f"{path} is not inside the repository root {base}")
    budget = _ReadBudget(limits)
    files = [
        (_relative(file, base), budget.read(_size(file), file.read_bytes))
        for file in declaration_files(target)
    ]
    return parse_declarations(
        files,
        default_region=default_region,
        default_account=default_account,
        tree=FolderTree(base),
        revision="",
        limits=limits,
        extra_regions=extra_regions,
    )


class _ReadBudget:
    """Reads files while the revision's byte budget lasts; files too large, or past the
    budget, are left ``Unread`` and become errors of their own."""

    def __init__(self, limits: ParseLimits) -> None:
        self._limits = limits
        self._left = limits.revision_bytes

    def read(self, size: int, read: Callable[[], bytes]) -> FileContent:
        if size > self._limits.file_bytes:
            return Unread(size)
        if size > self._left:
            return Unread(size, past_revision_budget=True)
        self._left -= size
        return read()


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


class CodeReader(Protocol):
    """Reads a ``RepoZip`` package at the revision its declaration came from."""

    def read(self, path: str) -> bytes:
        """The bytes of the file at ``path`` (a ``RepoZip.path``); ``FileNotFoundError`` when
        it is not there."""
        ...


class CommitCodeReader:
    """Reads files from one commit of a repository, as ``load_commit`` saw them."""

    def __init__(self, repo_path: Path, revision: str) -> None:
        self._repo_path = repo_path
        self._revision = revision

    def read(self, path: str) -> bytes:
        return read_repo_file(self._repo_path, self._revision, path)


class FolderCodeReader:
    """Reads files from a folder, refusing any path that leads out of it."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def read(self, path: str) -> bytes:
        file = (self._root / path).resolve()
        if not file.is_relative_to(self._root) or not file.is_file():
            raise FileNotFoundError(f"{path} is not a file inside {self._root}")
        return file.read_bytes()


def read_repo_file(repo_path: Path, revision: str, path: str) -> bytes:
    """The bytes of the blob at ``path`` in the commit ``revision``."""
    with _open_repository(repo_path) as repo:
        tree = _resolve_commit(repo, revision, repo_path).tree
        try:
            blob = tree / path
        except KeyError:
            raise FileNotFoundError(f"{path} is not in commit {revision}") from None
        if blob.type != "blob" or stat.S_ISLNK(blob.mode):
            raise FileNotFoundError(f"{path} is not a file in commit {revision}")
        return bytes(blob.data_stream.read())


# -- Git ------------------------------------------------------------------------------------------


def _blob_bytes(blob: git.Blob) -> bytes:
    return bytes(blob.data_stream.read())


def _open_repository(repo_path: Path) -> git.Repo:
    try:
        return git.Repo(repo_path)
    except (git.NoSuchPathError, git.InvalidGitRepositoryError) as error:
        raise RevisionUnreadable(f"{repo_path} is not a Git repository") from error


def _resolve_commit(repo: git.Repo, ref: str, repo_path: Path) -> git.Commit:
    """The commit ``ref`` names, resolved by git itself as the sources resolve it; gitpython
    then reads its tree and blobs through one long-lived ``cat-file`` process."""
    return repo.commit(resolve_commit(repo_path, ref, where=str(repo_path)))


def _normalised_subpath(subpath: str) -> str:
    parts = [part for part in PurePosixPath(subpath).parts if part not in ("", ".", "/")]
    if ".." in parts or subpath.startswith("/"):
        raise ConfigurationError(
            f"the declarations path {subpath!r} must be a folder inside the repository"
        )
    return "/".join(parts)


def _subtree(root: git.Tree, folder: str, ref: str) -> git.Tree:
    if not folder:
        return root
    try:
        found = root / folder
    except KeyError:
        raise RevisionUnreadable(
            f"the declarations path {folder!r} does not exist at {ref!r}"
        ) from None
    if not isinstance(found, git.Tree):
        raise RevisionUnreadable(f"the declarations path {folder!r} is not a folder at {ref!r}")
    return found


def _declaration_blobs(tree: git.Tree) -> Iterator[git.Blob]:
    """The YAML files of ``tree`` and its subfolders; symbolic links and submodules are skipped,
    so that the folder reader and the commit reader see the same files."""
    for item in tree.traverse():
        if (
            isinstance(item, git.Blob)
            and not stat.S_ISLNK(item.mode)
            and item.name.endswith(DECLARATION_SUFFIXES)
        ):
            yield item


class _CommitTree:
    """The repository at one commit, as ``code.zipFile`` checks see it."""

    def __init__(self, tree: git.Tree, revision: str) -> None:
        self._tree = tree
        self.where = f"commit {revision[:12]}"

    def kind(self, path: str) -> EntryKind | None:
        try:
            entry = self._tree / path
        except KeyError:
            return None
        if isinstance(entry, git.Tree):
            return "directory"
        if isinstance(entry, git.Blob):
            return "symlink" if stat.S_ISLNK(entry.mode) else "file"
        return None

    def symlink_target(self, path: str) -> str:
        blob = self._tree / path
        return bytes(blob.data_stream.read()).decode("utf-8", "surrogateescape")


# -- folders --------------------------------------------------------------------------------------


def _enclosing_repository(path: Path) -> Path:
    start = path.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def declaration_files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    found = []
    for folder, subfolders, names in os.walk(target):
        subfolders[:] = [name for name in subfolders if name != ".git"]
        for name in names:
            file = Path(folder, name)
            if name.endswith(DECLARATION_SUFFIXES) and not file.is_symlink():
                found.append(file)
    return found


def _relative(file: Path, base: Path) -> str:
    return file.relative_to(base).as_posix()


class FolderTree:
    """A folder on disk, as ``code.zipFile`` checks see it."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self.where = f"folder {root}"

    def kind(self, path: str) -> EntryKind | None:
        entry = self._root / path
        if entry.is_symlink():
            return "symlink"
        if entry.is_file():
            return "file"
        if entry.is_dir():
            return "directory"
        return None

    def symlink_target(self, path: str) -> str:
        return os.readlink(self._root / path)

"""Reading the declaration files: from a Git commit for the controller, from a folder for CI.

The controller applies what is committed, never what happens to be in a working tree, so
``load_commit`` reads blobs from the commit that a ref resolves to (bare repositories work the
same way). ``load_folder`` reads a plain folder, for ``lambda-gitops validate`` in pre-commit
hooks and CI, where the files to check are not committed yet. Both hand ``(path, bytes)`` pairs to
the same pure parser, so they cannot disagree about what a file means.

This module is the only part of the declarations that touches Git or the file system.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import stat
from collections.abc import Callable, Collection, Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol

import git

from controller.adapters.git.command import resolve_commit, run_git, summary
from controller.core.declarations.parser import (
    DEFAULT_LIMITS,
    Declarations,
    FileContent,
    Listing,
    ParseCache,
    ParseLimits,
    SourceFile,
    Unread,
    parse_declarations,
    parse_sources,
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
    cache: ParseCache | None = None,
) -> Declarations:
    """The declarations under ``subpath`` at the commit that ``ref`` resolves to.

    ``ref`` is anything Git resolves to a commit: a branch, a tag (annotated ones too), a remote
    branch or a SHA. ``subpath`` is relative to the repository's root; ``code.zipFile`` paths
    are relative to the folder of the file that declares them, and stay inside the repository.
    An unknown ref or a subpath that the commit lacks is ``RevisionUnreadable``, both a
    ``ConfigurationError`` and a ``SourceError``.
    A file larger than ``limits`` allows is never read (its size comes from the object's
    header), so a huge blob costs nothing but its error. With ``cache``, a file whose blob was
    parsed before is neither read nor parsed again: a commit that changes one file of ten
    thousand costs one parse.
    """
    folder = _normalised_subpath(subpath)
    with _open_repository(repo_path) as repo:
        commit = _resolve_commit(repo, ref, repo_path)
        root = commit.tree
        _subtree(root, folder, ref)  # the folder must exist at this commit
        listed = _listing(repo_path, commit.hexsha, folder, cache)
        sizes = [_blob_size(repo, blob_id, cache) for _, blob_id in listed]
        if sum(sizes) <= limits.revision_bytes and max(sizes, default=0) <= limits.file_bytes:
            # Every file may be read, as nearly always: none is counted against the budget.
            sources = [
                SourceFile(path, functools.partial(_blob_bytes, repo, blob_id), blob_id, size)
                for (path, blob_id), size in zip(listed, sizes, strict=True)
            ]
        else:
            sources = _budgeted(repo, listed, sizes, limits)
        return parse_sources(
            sources,
            default_region=default_region,
            default_account=default_account,
            tree=_CommitTree(root, commit.hexsha),
            revision=commit.hexsha,
            limits=limits,
            extra_regions=extra_regions,
            cache=cache,
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
    base = (root or enclosing_repository(path)).resolve()
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
    """Admits files while the revision's byte budget lasts; files too large, or past the
    budget, are left ``Unread`` and become errors of their own."""

    def __init__(self, limits: ParseLimits) -> None:
        self._limits = limits
        self._left = limits.revision_bytes

    def admit(self, size: int) -> Unread | None:
        """``None`` when the file may be read (its size is counted), else why not."""
        if size > self._limits.file_bytes:
            return Unread(size)
        if size > self._left:
            return Unread(size, past_revision_budget=True)
        self._left -= size
        return None

    def read(self, size: int, read: Callable[[], bytes]) -> FileContent:
        refused = self.admit(size)
        return read() if refused is None else refused


def _budgeted(
    repo: git.Repo, listed: Sequence[tuple[str, str]], sizes: Sequence[int], limits: ParseLimits
) -> list[SourceFile]:
    """The files in order, each read while the revision's budget lasts and left unread after."""
    budget = _ReadBudget(limits)
    sources = []
    for (path, blob_id), size in zip(listed, sizes, strict=True):
        admitted = budget.admit(size)
        if admitted is None:
            sources.append(
                SourceFile(path, functools.partial(_blob_bytes, repo, blob_id), blob_id, size)
            )
        else:
            given = functools.partial(_as_given, admitted)
            sources.append(SourceFile(path, given, f"{blob_id} unread", size))
    return sources


def _as_given(content: FileContent) -> FileContent:
    return content


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


def _blob_bytes(repo: git.Repo, blob_id: str) -> bytes:
    return bytes(repo.odb.stream(bytes.fromhex(blob_id)).read())


def _blob_size(repo: git.Repo, blob_id: str, cache: ParseCache | None) -> int:
    """A blob's size from its header (nothing read), remembered: a blob never changes."""
    known = cache.sizes.get(blob_id) if cache is not None else None
    if known is not None:
        return known
    size = int(repo.odb.info(bytes.fromhex(blob_id)).size)
    if cache is not None:
        cache.remember_size(blob_id, size)
    return size


def _listing(
    repo_path: Path, commit: str, folder: str, cache: ParseCache | None
) -> list[tuple[str, str]]:
    """``_listed_blobs``, found from the last revision's listing and the difference between the
    two commits when ``cache`` holds one: a commit that changes one file of ten thousand makes
    Git compare a few trees instead of listing every file."""
    last = cache.listing if cache is not None else None
    if last is not None and last.folder == folder and last.revision != commit:
        listed = _patched(repo_path, last.revision, commit, folder, last.files)
    elif last is not None and last.folder == folder:
        listed = list(last.files)
    else:
        listed = None
    if listed is None:
        listed = _listed_blobs(repo_path, commit, folder)
    if cache is not None:
        cache.listing = Listing(commit, folder, tuple(listed))
    return listed


def _patched(
    repo_path: Path, before: str, after: str, folder: str, files: Sequence[tuple[str, str]]
) -> list[tuple[str, str]] | None:
    """``files``, listed at ``before``, as they are at ``after``; ``None`` when Git cannot
    compare the two (the earlier commit is gone after a force-push and a prune)."""
    result = run_git(
        ["diff-tree", "-r", "-z", "--no-renames", before, after, "--", folder or "."],
        cwd=repo_path,
    )
    if not result.ok:
        return None
    listed = list(files)
    for mode, blob_id, path in _DIFF_TREE_ENTRY.findall(result.stdout):
        index = bisect.bisect_left(listed, (path, ""))
        if index < len(listed) and listed[index][0] == path:
            del listed[index]
        if _is_declaration(mode, path):
            listed.insert(index, (path, blob_id))
    return listed


_DIFF_TREE_ENTRY = re.compile(r":\d+ (\d+) [0-9a-f]+ ([0-9a-f]+) [A-Z]\d*\0([^\0]*)\0")
"""A change in ``git diff-tree -r -z`` output: the new mode and object id (zeros when the
path was deleted), then the path."""


def _is_declaration(mode: str, path: str) -> bool:
    """Whether a tree entry is a file the readers parse: a regular file (not a symbolic link,
    mode 120000, nor a submodule, 160000, nor a deletion, 000000) named ``*.yaml`` or ``*.yml``."""
    return mode.startswith("100") and path.endswith(DECLARATION_SUFFIXES)


def _listed_blobs(repo_path: Path, commit: str, folder: str) -> list[tuple[str, str]]:
    """``(path, blob id)`` of every YAML file of the commit under ``folder``, sorted by path.

    ``git ls-tree`` lists ten thousand entries in milliseconds, where walking the tree object
    by object takes tens; symbolic links (mode 120000) and submodules are skipped, so that the
    folder reader and the commit reader see the same files.
    """
    result = run_git(
        ["ls-tree", "-r", "-z", "--full-tree", commit, "--", folder or "."], cwd=repo_path
    )
    if not result.ok:
        raise RevisionUnreadable(
            f"cannot list the files of commit {commit[:12]} in {repo_path}: "
            f"{summary(result.stderr)}"
        )
    listed = [
        (path, blob_id)
        for mode, blob_id, path in _LS_TREE_ENTRY.findall(result.stdout)
        if _is_declaration(mode, path)
    ]
    return sorted(listed)


_LS_TREE_ENTRY = re.compile(r"(\d+) \w+ ([0-9a-f]+)\t([^\0]*)\0")
"""An entry in ``git ls-tree -r -z`` output: mode, object id, path."""


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


def enclosing_repository(path: Path) -> Path:
    """The nearest folder at or above ``path`` that holds a ``.git`` entry (a repository's
    root, or a worktree's), or else the folder of ``path`` itself."""
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

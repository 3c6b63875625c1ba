"""Reading the declaration files to edit, and writing an edited one back, atomically.

The only I/O of ``promote``, ``add-version`` and ``import``: the files are read as
``load_folder`` and ``validate`` read them (the reader's own discovery and folder view), and a
file is replaced or created in one rename, so that a reader, or a crash, never sees half of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

# The loader's own file discovery and folder view are used, rather than copies of them, so that
# an edit is validated against exactly the files that ``load_folder`` and ``validate`` read.
from controller.adapters.git.reader import FolderTree, declaration_files, enclosing_repository
from controller.core.declarations import RepositoryTree
from controller.errors import ConfigurationError, EditRefused
from controller.review.edits import Edit, SourceFile
from controller.review.imports import Folder

# -- reading and writing --------------------------------------------------------------------------


def read_folder(root: Path, subpath: str) -> tuple[list[SourceFile], RepositoryTree]:
    """The declaration files under ``subpath`` of the repository at ``root``, as
    ``load_folder`` reads them, and the view of the repository its checks need."""
    base = root.resolve()
    if not base.is_dir():
        raise ConfigurationError(f"the repository {root} is not a folder")
    folder = (base / subpath).resolve()
    if not folder.is_relative_to(base) or not folder.exists():
        raise ConfigurationError(
            f"the declarations path {subpath!r} is not a folder inside the repository {root}"
        )
    files = [
        SourceFile(file.relative_to(base).as_posix(), file.read_bytes())
        for file in declaration_files(folder)
    ]
    return files, FolderTree(base)


def import_folder(folder: Path) -> tuple[Path, Folder]:
    """The folder ``import`` writes into, which need not exist yet, as the files under it and
    the repository around it: the nearest folder above it with ``.git`` is the root that file
    paths (and ``code.zipFile`` checks) start from, or the folder itself outside a repository.
    """
    target = folder.resolve()
    if target.exists() and not target.is_dir():
        raise ConfigurationError(f"--into {folder}: not a folder")
    enclosing = enclosing_repository(target)
    root = enclosing if (enclosing / ".git").exists() else target
    subpath = target.relative_to(root).as_posix()
    found = declaration_files(target) if target.is_dir() else []
    files = tuple(
        SourceFile(file.relative_to(root).as_posix(), file.read_bytes()) for file in found
    )

    def occupied(path: str) -> bool:
        entry = root / path
        return entry.exists() or entry.is_symlink()

    return root, Folder(files, FolderTree(root), "" if subpath == "." else subpath, occupied)


def write_all(root: Path, writes: Iterable[Edit]) -> None:
    """Write each file: an existing one replaced as ``write_atomically`` does, a new one (its
    folders made) created the same way, readable as a file made by hand would be."""
    for edit in writes:
        target = root.resolve() / edit.path
        if target.exists():
            write_atomically(root, edit)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EditRefused(f"could not make the folder of {edit.path}: {error}") from error
        _replace(target, edit, _new_file_mode())


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(root: Path, edit: Edit) -> None:
    """Replace the file in one rename, so that a reader (or a crash) never sees half of it."""
    target = root.resolve() / edit.path
    _replace(target, edit, target.stat().st_mode)


def _replace(target: Path, edit: Edit, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(edit.after)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise EditRefused(f"could not write {edit.path}: {error}") from error

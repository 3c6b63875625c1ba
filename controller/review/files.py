"""Reading the declaration files to edit, and writing an edited one back, atomically.

The only I/O of ``promote`` and ``add-version``: the files are read as ``load_folder`` and
``validate`` read them (the reader's own discovery and folder view), and a file is replaced in
one rename, so that a reader, or a crash, never sees half of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

# The loader's own file discovery and folder view are used, rather than copies of them, so that
# an edit is validated against exactly the files that ``load_folder`` and ``validate`` read.
from controller.adapters.git.reader import FolderTree, declaration_files
from controller.core.declarations import RepositoryTree
from controller.errors import ConfigurationError, EditRefused
from controller.review.edits import Edit, SourceFile

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


def write_atomically(root: Path, edit: Edit) -> None:
    """Replace the file in one rename, so that a reader (or a crash) never sees half of it."""
    target = root.resolve() / edit.path
    mode = target.stat().st_mode
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

"""Checking a ``code.zipFile`` path against the repository it must stay inside.

A declaration may name a zip file "inside this repository", relative to the folder of the file
that declares it, as kustomize, SAM's ``CodeUri`` and Compose resolve the paths they are given:
a declaration and its package can move together without the path changing. Whoever can change
the declarations must not be able to make the controller upload ``/etc/passwd`` or a file outside
the checkout, so the path is resolved here component by component from that folder, following
symbolic links as the operating system would, and refused as soon as it leaves the repository.
The repository is seen through the small ``RepositoryTree`` protocol, so that the same check runs
on a Git commit (where a symbolic link is a blob with mode 120000 whose content is the target)
and on a folder, and so that this module stays free of Git and of the file system.
"""

from __future__ import annotations

from collections import deque
from typing import Literal, Protocol

EntryKind = Literal["file", "directory", "symlink"]

MAX_SYMLINK_HOPS = 40
"""The limit Linux puts on symbolic links followed in one lookup, to stop loops."""


class RepositoryTree(Protocol):
    """What the parser may know about the repository that holds the declarations."""

    @property
    def where(self) -> str:
        """The repository as messages name it: ``commit 1a2b3c4`` or ``folder /srv/decl``."""
        ...

    def kind(self, path: str) -> EntryKind | None:
        """What ``path`` (relative to the root, ``/``-separated, no symlinks in its parents) is,
        without following a symbolic link at the end; ``None`` when nothing is there."""
        ...

    def symlink_target(self, path: str) -> str:
        """The target text of the symbolic link at ``path``."""
        ...


class PathOutsideRepository(ValueError):
    """The declared path is absolute, climbs out with ``..``, or a symbolic link leads out."""


class PathNotFound(ValueError):
    """The declared path does not name a file in the repository."""


def resolve_repository_path(declared: str, tree: RepositoryTree, *, folder: str = "") -> str:
    """The real, ``/``-separated path of the file that ``declared`` names, relative to the root.

    ``declared`` is read from ``folder``, the folder (relative to the root, ``/``-separated,
    ``""`` for the root itself) of the file that declares it; ``..`` may climb from there up to
    the root, never past it. The folder is taken as it is: the readers list only real folders,
    never symbolic links. Symbolic links inside the repository are followed, so the result names
    the file itself and a reader needs no link handling of its own. Raises
    ``PathOutsideRepository`` or ``PathNotFound`` with a message that says what to change.
    """
    if declared.startswith("/") or (len(declared) > 1 and declared[1] == ":"):
        raise PathOutsideRepository(
            f"{declared!r} is an absolute path; write a path relative to the folder of the "
            "declaration file"
        )
    if "\\" in declared:
        raise PathOutsideRepository(f"{declared!r} contains '\\'; separate folders with '/'")
    pending = deque(declared.split("/"))
    resolved: list[str] = [part for part in folder.split("/") if part not in ("", ".")]
    last_link = ""
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved:
                through = f"the symbolic link {last_link!r}" if last_link else "'..'"
                raise PathOutsideRepository(
                    f"{declared!r} leads outside the repository through {through}; the zip "
                    "file must be inside the repository"
                )
            resolved.pop()
            continue
        _refuse_git_folder(part, declared)
        candidate = "/".join([*resolved, part])
        kind = tree.kind(candidate)
        if kind is None:
            raise PathNotFound(
                f"{declared!r} does not exist in {tree.where} ({candidate!r} is absent); "
                "commit the zip file or correct the path"
            )
        if kind == "symlink":
            hops += 1
            last_link = candidate
            if hops > MAX_SYMLINK_HOPS:
                raise PathNotFound(f"{declared!r} goes through a loop of symbolic links")
            target = tree.symlink_target(candidate)
            if target.startswith("/"):
                raise PathOutsideRepository(
                    f"{declared!r} goes through the symbolic link {candidate!r}, which points "
                    f"outside the repository to {target!r}; commit the zip file itself"
                )
            # A relative target is read from the link's own folder, which is ``resolved``.
            pending.extendleft(reversed(target.split("/")))
            continue
        if kind == "file" and any(rest not in ("", ".") for rest in pending):
            raise PathNotFound(f"{declared!r} treats the file {candidate!r} as a folder")
        resolved.append(part)
    path = "/".join(resolved)
    if not path or tree.kind(path) != "file":
        raise PathNotFound(f"{declared!r} is a folder in {tree.where}, not a zip file")
    return path


def _refuse_git_folder(part: str, declared: str) -> None:
    """A commit never holds its repository's Git folder, so the folder reader must not find a
    zip there either: both readers must accept the same paths."""
    if part.lower() == ".git":
        raise PathOutsideRepository(
            f"{declared!r} leads into the repository's .git folder, which is not part of any "
            "commit; commit the zip file and name its path"
        )

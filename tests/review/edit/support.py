"""A declarations repository in a temporary folder, and the commands run on it as a user would."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner, Result

from controller.adapters.git.reader import load_folder
from controller.core.model import DesiredFunction

SHA_41 = "6pL0bTqyPp1aIhrsyDo+aHmoE4mEvTPHwq3tz6Y0vHI="
SHA_42 = "h7Q2n1ZpQyW0r6cK3v9mJ8sTqLx5bYdEoF4gHuIaVwA="
SHA_43 = "sJeDAiXpubks1UtWyPL1dqgxyfJUFPELjbAlmS9II7w="


def write_repository(root: Path, files: dict[str, bytes]) -> None:
    """The files, and a ``.git`` folder so that the folder reads as a repository's root."""
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, byte for byte, to show that a refused edit changed none."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def run(command: click.Command, root: Path, *args: str) -> Result:
    return CliRunner().invoke(command, [*args, "--repo", str(root)], catch_exceptions=False)


def loaded_function(root: Path, name: str) -> DesiredFunction:
    """The function as the controller would read the folder, which must have no errors."""
    loaded = load_folder(root, default_region="us-east-1")
    assert loaded.errors == ()
    return next(function for function in loaded.functions if function.name == name)

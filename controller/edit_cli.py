"""The ``promote`` and ``add-version`` commands: the steps a release pipeline runs on a clone.

``controller.cli`` registers them on the main group; the helpers every command shares come from
``controller.cli_common``. As in every command, the project's errors become one ``error: ...``
line and exit code 1, and the logic lives in ``controller.edit``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from controller import edit
from controller.cli_common import reported_errors, settings_from
from controller.errors import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])


def _working_tree_options(command: F) -> F:
    """``--repo``, ``--path``, ``--region`` and ``--config``: which files to edit, and the
    region that declarations naming none are in (it decides which function is which)."""
    for option in reversed(
        [
            click.option("--repo", help="The working tree of the declarations repository (.)."),
            click.option("--path", help="The folder of the repository holding declarations."),
            click.option("--region", help="Region of declarations naming none."),
            click.option(
                "--config",
                type=click.Path(dir_okay=False, path_type=Path),
                help="A YAML file of settings (flags and LAMBDA_GITOPS_* variables win).",
            ),
        ]
    ):
        command = option(command)
    return command


@click.command("promote")
@click.argument("function")
@click.argument("alias")
@click.option(
    "--to", "target", required=True, help='A label from spec.versions, or a number such as "17".'
)
@click.option(
    "--weight",
    help="Route this share (between 0 and 1) to the target and keep the alias's version.",
)
@_working_tree_options
def promote_command(
    function: str, alias: str, target: str, weight: str | None, **options: Any
) -> None:
    """Point ALIAS of FUNCTION at a version, or send it a share of traffic with --weight.

    Edits the declaration in the working tree, changing only that value; commit the result.
    """

    with reported_errors():
        settings = settings_from(options)
        root = _working_tree(settings.repo)
        files, tree = edit.read_folder(root, settings.path)
        change = edit.promote(
            files, function, alias, target, weight, default_region=settings.region, tree=tree
        )
        if change.changed:
            edit.write_atomically(root, change)
    click.echo(change.summary)


@click.command("add-version")
@click.argument("function")
@click.argument("label")
@click.option("--code-sha256", "sha256", help="Lambda's base64 CodeSha256 of the package.")
@click.option(
    "--zip",
    "zip_file",
    type=click.Path(path_type=Path),
    help="The deployment package; its CodeSha256 is computed, and a zip inside the repository "
    "is recorded as the version's code.",
)
@click.option("--description", help="The version's description, used when it is published.")
@_working_tree_options
def add_version_command(
    function: str,
    label: str,
    sha256: str | None,
    zip_file: Path | None,
    description: str | None,
    **options: Any,
) -> None:
    """Declare version LABEL of FUNCTION, after its last version."""

    with reported_errors():
        settings = settings_from(options)
        root = _working_tree(settings.repo)
        if (sha256 is None) == (zip_file is None):
            raise edit.EditRefused("give exactly one of --code-sha256 and --zip")
        note = ""
        recorded: str | None = None
        if zip_file is not None:
            sha256, recorded = _package(zip_file, root)
            if recorded is None:
                note = (
                    f"; {zip_file} is outside the repository, so only its hash is recorded: "
                    "upload it to the function before the controller needs this version"
                )
        files, tree = edit.read_folder(root, settings.path)
        change = edit.add_version(
            files,
            function,
            label,
            sha256 or "",
            description=description,
            zip_file=recorded,
            default_region=settings.region,
            tree=tree,
        )
        if change.changed:
            edit.write_atomically(root, change)
    click.echo(change.summary + (note if change.changed else ""))


def _working_tree(repo: str) -> Path:
    if "://" in repo or repo.startswith("git@"):
        raise ConfigurationError(
            f"--repo {repo!r}: this command edits a local working tree; clone the repository "
            "and pass its path"
        )
    return Path(repo)


def _package(zip_file: Path, root: Path) -> tuple[str, str | None]:
    """The package's CodeSha256, and its path from the repository's root when it is inside."""
    if not zip_file.is_file():
        raise edit.EditRefused(f"--zip {zip_file}: not a file")
    try:
        package = zip_file.read_bytes()
    except OSError as error:
        raise edit.EditRefused(f"--zip {zip_file}: {error.strerror}") from error
    real, base = zip_file.resolve(), root.resolve()
    inside = real.relative_to(base).as_posix() if real.is_relative_to(base) else None
    return edit.code_sha256(package), inside

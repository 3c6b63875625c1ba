"""What every command of the command line shares: error reporting, settings, common options.

It is a module of its own so that command groups kept in other modules (``edit_cli``,
``diff_cli``) can use it without importing ``controller.cli``, which registers them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from controller.errors import LambdaGitopsError
from controller.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_IN_SYNC, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


@contextmanager
def reported_errors() -> Iterator[None]:
    """Print the project's errors as one line and exit 1, as every command does."""
    try:
        yield
    except LambdaGitopsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_ERROR)


config_option = click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML file of settings (flags and LAMBDA_GITOPS_* variables win).",
)
region_option = click.option("--region", help="Region of the API, and of declarations naming none.")


def with_options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Apply click options in the order they are listed (the order ``--help`` shows)."""

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


registry_options = with_options(
    click.option(
        "--registry", help="'aws', or 'emulated:FILE' for the emulated registry kept in FILE."
    ),
    click.option("--endpoint-url", help="Another Lambda endpoint (a moto server, ...)."),
    region_option,
    config_option,
)
"""``--registry``, ``--endpoint-url``, ``--region`` and ``--config``."""

source_options = with_options(
    click.option("--repo", help="The declarations repository (a local clone)."),
    click.option("--ref", help="The branch, tag or commit to apply (default HEAD)."),
    click.option("--path", help="The folder of the repository holding declarations."),
)
"""``--repo``, ``--ref`` and ``--path``: where the declarations are."""


def settings_from(options: dict[str, Any]) -> Settings:
    config = options.pop("config", None)
    return load_settings(config, **options)

"""What every command of the command line shares: error reporting, settings, common options.

It is a module of its own so that command groups kept in other modules (``edit_cli``,
``diff_cli``) can use it without importing ``controller.cli.main``, which registers them.

Every message a command prints about an error is masked first (``controller.redaction``): an
error may quote the ``--repo`` it was given, and click quotes the argument it refused, either of
which may be a URL with a token in it. The Git token of the environment is masked by value too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from controller.adapters.git.credentials import GitCredentials, secrets_of
from controller.errors import LambdaGitopsError
from controller.redaction import Redactor
from controller.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_IN_SYNC, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


@contextmanager
def reported_errors(environ: Mapping[str, str] | None = None) -> Iterator[None]:
    """Print the project's errors as one masked line and exit 1, as every command does.

    ``environ`` (the process's environment by default) is where the Git token is read from, to
    be masked wherever the message quotes it.
    """
    try:
        yield
    except LambdaGitopsError as error:
        click.echo(f"error: {message_redactor(environ)(str(error))}", err=True)
        sys.exit(EXIT_ERROR)


def message_redactor(environ: Mapping[str, str] | None = None) -> Redactor:
    """The redactor of what a command prints: URL credentials, and the environment's token."""
    credentials = GitCredentials.from_environment(os.environ if environ is None else environ)
    return Redactor(secrets_of("", credentials))


class MaskedGroup(click.Group):
    """A command group whose usage errors are masked like the project's own errors.

    Click quotes what it refused ("Got unexpected extra argument (https://TOKEN@host/r.git)",
    "Invalid value for '--mode': ..."); the error is masked on its way out of parsing, and of the
    subcommands' parsing too, since a group invokes its subcommands from ``invoke``.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as error:
            raise _masked(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            raise _masked(error) from None


def _masked(error: click.ClickException) -> click.ClickException:
    """The same error with its whole message masked, hint and suggestions included."""
    message = message_redactor()(error.format_message())
    if isinstance(error, click.UsageError):
        return click.UsageError(message, ctx=error.ctx)  # exits 2, as any usage error
    return click.ClickException(message)


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

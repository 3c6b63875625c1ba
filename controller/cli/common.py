"""What every command of the command line shares: error reporting, settings, common options.

It is a module of its own so that command groups kept in other modules (``edit_cli``,
``diff_cli``) can use it without importing ``controller.cli.main``, which registers them.

Every command configures the log exactly once, before anything it does can log:
``settings_from`` does it with the command's settings (the log flags of ``controller.cli.output``
beat the environment and the file, as every flag does), ``configure_logging_from_flags`` for the
commands that have no settings of their own (``schema``, ``status``, the emulator's), and
``run`` leaves it to the bootstrap, which knows every secret to mask.

Every message a command prints about an error is masked first (``controller.redaction``): an
error may quote the ``--repo`` it was given, and click quotes the argument it refused, either of
which may be a URL with a token in it. The Git token of the environment is masked by value too.
"""

from __future__ import annotations

import copy
import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from controller.adapters.git.credentials import GitCredentials, secrets_of
from controller.adapters.logging import LogSettings
from controller.bootstrap import command_secrets, configure_logging
from controller.cli.output import logging_parameters, requested_logging
from controller.errors import LambdaGitopsError
from controller.redaction import Redactor
from controller.settings import Settings, load_log_settings, load_settings

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
    return Redactor(message_redactor_secrets(environ))


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

shard_options = with_options(
    click.option(
        "--shards",
        type=int,
        help="How many shards split the fleet by (account, region) (1: none).",
    ),
    click.option(
        "--shard-index",
        type=int,
        help="This shard, from 0 (default for run: the StatefulSet pod's ordinal).",
    ),
)
"""``--shards`` and ``--shard-index``: sharding by (account, region)."""


def settings_from(options: dict[str, Any], *, configure_logs: bool = True) -> Settings:
    """The settings of a command: its options and log flags, the environment, ``--config``.

    The log is configured with them, masking the credentials of ``--repo`` and the Git token;
    ``configure_logs=False`` is for ``run``, whose bootstrap configures it with more secrets.
    """
    config = options.pop("config", None)
    settings = load_settings(config, **requested_logging(), **options)
    if configure_logs:
        configure_logging(settings.logging, secrets=command_secrets(settings))
    return settings


def configure_logging_from_flags() -> LogSettings:
    """Configure the log of a command that has no settings of its own, from the log flags and
    the ``LAMBDA_GITOPS_LOG_*`` variables alone, and say how it was configured."""
    log = load_log_settings(None, **requested_logging())
    configure_logging(log, secrets=message_redactor_secrets())
    return log


def message_redactor_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secrets every message of a command is masked with: the environment's Git token."""
    credentials = GitCredentials.from_environment(os.environ if environ is None else environ)
    return secrets_of("", credentials)


def mounted(group: click.Group) -> click.Group:
    """A copy of another package's command group (the emulator's) that takes the log flags on
    every command and configures the log before each command runs, as this package's do.

    A copy, so that the group stays as its own package defined it for whoever runs it alone.
    """
    copied = copy.copy(group)
    copied.params = [*group.params, *logging_parameters()]
    copied.commands = {
        name: mounted(command) if isinstance(command, click.Group) else _mounted_command(command)
        for name, command in group.commands.items()
    }
    return copied


def _mounted_command(command: click.Command) -> click.Command:
    copied = copy.copy(command)
    copied.params = [*command.params, *logging_parameters()]
    if command.callback is not None:
        copied.callback = _configuring_logs_first(command.callback)
    return copied


def _configuring_logs_first(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def configured(*args: Any, **kwargs: Any) -> Any:
        with reported_errors():
            configure_logging_from_flags()
        return callback(*args, **kwargs)

    return configured

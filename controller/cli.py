"""The ``lambda-gitops`` command line: parse, open what is needed, call the core, print.

Errors the project raises on purpose become one ``error: ...`` line on stderr and exit code 1;
nothing a user can cause ends in a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from controller import __version__
from controller.errors import LambdaGitopsError
from controller.registry import inventory
from controller.registry.aws import AwsSettings
from controller.registry.connect import open_registry
from controller.registry.emulator.cli import emulator_group


@contextmanager
def reported_errors() -> Iterator[None]:
    """Print the project's errors as one line and exit 1, as every command does."""
    try:
        yield
    except LambdaGitopsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-gitops")
def main() -> None:
    """A GitOps controller for AWS Lambda versions and aliases."""


@main.group()
def registry() -> None:
    """Look at the live registry: AWS, or the emulated one."""


@registry.command("show")
@click.argument("function", required=False)
@click.option(
    "--registry",
    "registry_spec",
    envvar="LAMBDA_GITOPS_REGISTRY",
    default="aws",
    show_default=True,
    help="'aws', or 'emulated:FILE' for the emulated registry kept in FILE.",
)
@click.option(
    "--endpoint-url", envvar="LAMBDA_GITOPS_ENDPOINT_URL", help="Another Lambda endpoint."
)
@click.option("--region", envvar="LAMBDA_GITOPS_REGION", default="us-east-1", show_default=True)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def registry_show(
    function: str | None, registry_spec: str, endpoint_url: str | None, region: str, output: str
) -> None:
    """Show FUNCTION, or every function of the region, with its versions and aliases."""
    with (
        reported_errors(),
        open_registry(
            registry_spec, region=region, settings=AwsSettings(endpoint_url=endpoint_url)
        ) as live,
    ):
        functions = inventory.collect(live, region, function)
    if output == "json":
        click.echo(json.dumps(inventory.to_json(functions), indent=2))
    else:
        click.echo(inventory.to_text(functions), nl=False)


main.add_command(emulator_group, name="emulator")

"""The ``lambda-gitops`` command line: parse, build settings, call the core, print.

Errors the project raises on purpose become one ``error: ...`` line on stderr and exit code 1;
nothing a user can cause ends in a traceback. Settings come from flags, ``LAMBDA_GITOPS_*``
variables, the ``--config`` file and defaults, in that order (``controller.settings``). Results
go to stdout; the log, the progress bar and errors to stderr (``controller.cli.output``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from controller import __version__
from controller.adapters.git.reader import load_folder
from controller.adapters.registry import inventory
from controller.bootstrap import (
    declarations_for,
    registry_for,
    run_controller,
    sharding_for,
    worktree_declarations_for,
)
from controller.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_IN_SYNC,
    MaskedGroup,
    config_option,
    configure_logging_from_flags,
    mounted,
    region_option,
    registry_options,
    reported_errors,
    settings_from,
    shard_options,
    source_options,
)
from controller.cli.diff import diff_command
from controller.cli.edit import add_version_command, promote_command
from controller.cli.imports import import_command
from controller.cli.output import (
    add_logging_parameters,
    progress,
    switch_off_colour,
    verbose_requested,
)
from controller.cli.status import status_command
from controller.core.declarations import json_schema
from controller.engine.reconciler import PassResult, plan_pass, reconcile_pass
from controller.review import plans
from lambda_emulator.cli import emulator_group


@click.group(cls=MaskedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-gitops")
@click.pass_context
def main(context: click.Context) -> None:
    """A GitOps controller for AWS Lambda versions and aliases.

    Every command takes --log-level, -q, -v and --log-format; NO_COLOR turns colour off.
    """
    switch_off_colour(context, os.environ)


# -- declarations ---------------------------------------------------------------------------------


@main.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@source_options
@region_option
@config_option
def validate(folder: Path | None, **options: Any) -> None:
    """Check the declarations: FOLDER as it is on disk, or the repository at its ref.

    Every error is printed as FILE:LINE: message; with -v, every document that is not a
    declaration (another tool's, an empty one) as FILE:LINE: ignored: why. Exit 0 when valid,
    1 otherwise.
    """
    verbose = verbose_requested()
    with reported_errors():
        settings = settings_from(options)
        if folder is not None:
            loaded = load_folder(
                folder,
                default_region=settings.region,
                default_account=settings.account,
                extra_regions=settings.extra_regions,
            )
        else:
            loaded, _ = declarations_for(settings)
    if verbose:
        for ignored in loaded.ignored:
            click.echo(str(ignored))
    for error in loaded.errors:
        click.echo(str(error), err=True)
    if loaded.errors:
        sys.exit(EXIT_ERROR)
    count = len(loaded.functions)
    click.echo(
        f"{count} function{'s' if count != 1 else ''} declared, all valid"
        f"{_ignored_note(len(loaded.ignored), verbose)}"
    )


def _ignored_note(count: int, verbose: bool) -> str:
    if not count:
        return ""
    documents = f"{count} document{'s' if count != 1 else ''}"
    return f"; {documents} ignored" + ("" if verbose else " (-v lists them)")


@main.command()
def schema() -> None:
    """Print the JSON Schema of a declaration, for editors and CI."""
    with reported_errors():
        configure_logging_from_flags()
    click.echo(json.dumps(json_schema(), indent=2))


# -- planning and applying ------------------------------------------------------------------------


@main.command()
@source_options
@registry_options
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--worktree",
    is_flag=True,
    help="Read the declarations as they are on disk, uncommitted edits included (not a commit).",
)
@shard_options
def plan(output: str, worktree: bool, **options: Any) -> None:
    """Show what reconciling would change: exit 0 in sync, 2 changes pending, 1 error.

    The declarations are read at the commit --ref names, as the controller reads them; with
    --worktree, as the files under --path are on disk, so that an edit can be planned before
    it is committed. With --shards, each function says which shard owns it; --shard-index
    plans that one shard's functions only.
    """
    if worktree and options.get("ref") is not None:
        raise click.UsageError(
            "--worktree reads the files on disk and --ref names a commit: give one of them"
        )
    with reported_errors():
        settings = settings_from(options)
        with registry_for(settings) as registry:
            account = registry.caller_account()
            if worktree:
                loaded, folder = worktree_declarations_for(settings, account=account)
                source = plans.PlanSource(folder=str(folder))
            else:
                loaded, _ = declarations_for(settings, account=account)
                source = plans.PlanSource(ref=settings.ref)
            shards = None
            if settings.shards > 1:
                shards = plans.PlanShards(sharding_for(settings, account), settings.shard_index)
                if settings.shard_index is not None:
                    loaded = shards.sharding.owned(loaded, settings.shard_index)
            drawn = output != "json"
            with progress(len(loaded.functions), settings.logging, shown=drawn) as advance:
                result = plan_pass(
                    registry,
                    loaded,
                    advance,
                    in_scope=settings.scope.allows,
                    retention=settings.retention,
                )
    errors = result.declaration_errors
    if output == "json":
        click.echo(json.dumps(plans.plan_json(result.plan, errors, source, shards), indent=2))
    else:
        click.echo(plans.plan_text(result.plan, errors, source, shards), nl=False)
    sys.exit(_plan_exit_code(result))


def _plan_exit_code(result: PassResult) -> int:
    if result.declaration_errors or any(f.error for f in result.plan.functions):
        return EXIT_ERROR
    return EXIT_IN_SYNC if result.plan.in_sync else EXIT_CHANGES


@main.command()
@click.option("--once", is_flag=True, required=True, help="One full pass, then exit.")
@source_options
@registry_options
@shard_options
def reconcile(once: bool, **options: Any) -> None:
    """Observe, plan and apply once: exit 0 when every function converged, 1 otherwise.

    With --shards, only this shard's functions are reconciled, as `run` would: the shard is
    --shard-index, else the ordinal ending POD_NAME (a StatefulSet's pod); the other shards'
    functions are their leaders' to write.
    """
    with reported_errors():
        settings = settings_from(options)
        with registry_for(settings, writes=True) as registry:
            account = registry.caller_account()
            loaded, code = declarations_for(settings, account=account)
            shards = None
            if (shard := settings.shard(os.environ)) is not None:
                shards = plans.PlanShards(sharding_for(settings, account), shard)
                loaded = shards.sharding.owned(loaded, shard)
            with progress(len(loaded.functions), settings.logging) as advance:
                result = reconcile_pass(
                    registry,
                    loaded,
                    code,
                    advance,
                    in_scope=settings.scope.allows,
                    retention=settings.retention,
                )
    source = plans.PlanSource(ref=settings.ref)
    click.echo(plans.plan_text(result.plan, result.declaration_errors, source, shards), nl=False)
    click.echo(plans.outcomes_text(result.outcomes), nl=False)
    converged = sum(1 for outcome in result.outcomes if outcome.converged)
    click.echo(f"Reconciled: {converged} of {len(result.outcomes)} functions converged.")
    sys.exit(EXIT_IN_SYNC if result.converged else EXIT_ERROR)


@main.command()
@source_options
@registry_options
@click.option(
    "--mode", type=click.Choice(["enforce", "detect"]), help="enforce (default) or detect."
)
@click.option("--listen", help="HOST:PORT of /metrics, /healthz, /readyz, /status, /webhook.")
@click.option("--resync-interval", type=float, help="Seconds between resync passes (300).")
@click.option("--poll-interval", type=float, help="Seconds between fetches of a remote (60).")
@click.option(
    "--webhook-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The webhook's shared secret; without it the webhook is off.",
)
@click.option("--concurrency", type=int, help="Functions reconciled at once (8).")
@shard_options
@click.option(
    "--events-queue-url",
    "events_queue_urls",
    multiple=True,
    help="An SQS queue of Lambda's change events (docs/events.md); repeat for each queue.",
)
def run(events_queue_urls: tuple[str, ...], **options: Any) -> None:
    """The controller: follow the repository and keep the registry converged.

    Runs until SIGTERM or SIGINT, then lets in-flight calls finish and exits 0; a pass still
    running after shutdown_grace seconds is abandoned, and the exit code is 1.
    """
    if events_queue_urls:
        # The flag gives events.queue_urls; the group's other settings still come from the
        # environment and the file.
        options["events"] = {"queue_urls": list(events_queue_urls)}
    stop = threading.Event()

    def shut_down(signum: int, _frame: object) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, shut_down)
    with reported_errors():
        clean = run_controller(settings_from(options, configure_logs=False), stop)
    if not clean:
        # Exiting normally would join the pass's worker threads, which is what did not finish.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_ERROR)


# -- the registry ---------------------------------------------------------------------------------


@main.group()
def registry() -> None:
    """Look at the live registry: AWS, or the emulated one."""


@registry.command("show")
@click.argument("function", required=False)
@registry_options
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def registry_show(function: str | None, output: str, **options: Any) -> None:
    """Show FUNCTION, or every function of the region, with its versions and aliases."""
    with reported_errors():
        settings = settings_from(options)
        with registry_for(settings) as live:
            functions = inventory.collect(live, settings.region, function)
    if output == "json":
        click.echo(json.dumps(inventory.to_json(functions), indent=2))
    else:
        click.echo(inventory.to_text(functions), nl=False)


main.add_command(mounted(emulator_group), name="emulator")
main.add_command(promote_command, name="promote")
main.add_command(diff_command, name="diff")
main.add_command(add_version_command, name="add-version")
main.add_command(import_command, name="import")
main.add_command(status_command, name="status")
add_logging_parameters(main)  # last, so that every command has them, however it was added

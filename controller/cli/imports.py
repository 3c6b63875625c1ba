"""The ``import`` command: declarations written from the live registry, for a fleet that is
already in production when a team starts using the controller.

``controller.cli.main`` registers it on the main group; the logic lives in
``controller.review.imports`` (what to write) and ``controller.review.files`` (the folder,
and the writing). Results go to stdout, one line per function and a summary; what was skipped
and why, the aliases left out and every error go to stderr, masked as every command's are.
"""

from __future__ import annotations

import functools
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from controller.bootstrap import registry_for
from controller.cli.common import (
    EXIT_ERROR,
    EXIT_IN_SYNC,
    config_option,
    message_redactor,
    reported_errors,
    settings_from,
)
from controller.cli.output import printable, progress
from controller.core.declarations.schema import region_problem
from controller.review import files, imports


def _template(_ctx: click.Context, _param: click.Parameter, value: str) -> imports.LabelTemplate:
    """The ``--label`` template, refused before anything is read when it cannot make a label."""
    try:
        return imports.LabelTemplate.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command("import")
@click.argument("functions", nargs=-1, metavar="[FUNCTION]...")
@click.option("--all", "every_function", is_flag=True, help="Every function of each region.")
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="A region to import from; repeat it for several (default: the settings' region).",
)
@click.option(
    "--registry", help="'aws', or 'emulated:FILE' for the emulated registry kept in FILE."
)
@click.option("--endpoint-url", help="Another Lambda endpoint (a moto server, ...).")
@config_option
@click.option(
    "--into",
    "into",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write the declarations into (made if missing): FOLDER/NAME.yaml, or "
    "FOLDER/REGION/NAME.yaml for several regions.",
)
@click.option(
    "--label",
    "template",
    default=imports.DEFAULT_TEMPLATE,
    show_default=True,
    callback=_template,
    help="How a version is labelled: {version} is its number.",
)
@click.option(
    "--all-versions", is_flag=True, help="Declare every published version, not only those in use."
)
@click.option(
    "--adopt",
    is_flag=True,
    help="Write adopt: true, so that the controller marks the aliases as its own (one "
    "UpdateAlias each, which plan shows first).",
)
@click.option(
    "--force", is_flag=True, help="Overwrite a file that is in the way and declares something else."
)
@click.option(
    "--with-environment",
    is_flag=True,
    help="Also declare each version's environment variables, every value marked secret: true "
    "(the values are then in the files, for anyone who can read the repository).",
)
def import_command(
    functions: tuple[str, ...],
    *,
    every_function: bool,
    regions: tuple[str, ...],
    into: Path,
    template: imports.LabelTemplate,
    all_versions: bool,
    adopt: bool,
    force: bool,
    with_environment: bool,
    **options: Any,
) -> None:
    """Write a declaration of each FUNCTION (names or ARNs), or of every function with --all,
    from what the registry holds: the versions the aliases use, with their configuration
    (not their environment, unless --with-environment), and each alias as it is.

    The files are in sync when written: plan shows no change and reconcile writes nothing. A
    function the folder already declares (in any file) gets only what it lacks, its comments
    and everything declared kept. Functions outside the configured scope are skipped. Exit 0
    when every function was imported, 1 on any error.
    """
    if bool(functions) == every_function:
        raise click.UsageError("give FUNCTION names or --all, one of the two")
    with reported_errors():
        settings = settings_from(options)
        chosen = list(dict.fromkeys(regions)) or [settings.region]
        for region in chosen:
            problem = region_problem(region, settings.extra_regions)
            if problem is not None:
                raise click.BadParameter(f"{region!r} {problem}", param_hint="--region")
        root, folder = files.import_folder(into)
        request = imports.ImportOptions(template, all_versions, adopt, force, with_environment)
        with registry_for(settings) as registry:
            account = registry.caller_account()
            readings: list[imports.Reading] = []
            for region in chosen:
                readings += imports.read_functions(
                    registry,
                    region,
                    functions or None,
                    in_scope=settings.scope.allows,
                    progress=functools.partial(progress, log=settings.logging),
                    concurrency=settings.concurrency,
                )
        plan = imports.plan_import(
            folder,
            readings,
            request,
            imported_at=datetime.now(UTC),
            default_region=settings.region,
            by_region=len(chosen) > 1,
            account=account,
            extra_regions=settings.extra_regions,
        )
        files.write_all(root, plan.writes)
    _report(plan, into)


def _report(plan: imports.ImportPlan, into: Path) -> None:
    """Each outcome a line, masked and printable: names and notes come from the registry, which
    may be laxer than Lambda about what they hold."""
    redactor = message_redactor()

    def shown(text: str) -> str:
        return printable(redactor(text))

    for warning in plan.warnings:
        click.echo(f"warning: {shown(warning)}", err=True)
    for outcome in plan.outcomes:
        for note in outcome.notes:
            click.echo(f"warning: {shown(f'{outcome.name} ({outcome.region}): {note}')}", err=True)
        match outcome.kind:
            case "skipped":
                click.echo(f"skipped: {shown(outcome.line)}", err=True)
            case "failed":
                click.echo(f"error: {shown(outcome.line)}", err=True)
            case _:
                click.echo(shown(outcome.line))
    imported = sum(plan.count(kind) for kind in ("written", "merged", "unchanged"))
    failed = plan.count("failed")
    click.echo(
        f"Imported {imported} function{'' if imported == 1 else 's'} into {into}: "
        f"{plan.count('written')} written, {plan.count('merged')} merged, "
        f"{plan.count('unchanged')} unchanged, {plan.count('skipped')} skipped"
        + (f"; {failed} failed." if failed else ".")
    )
    sys.exit(EXIT_ERROR if failed else EXIT_IN_SYNC)

"""``lambda-gitops diff``: what a pull request changes, for its reviewers and its CI job.

The comparison itself is pure (``controller.review.compare``) and its words are
``controller.review.report``; this command reads the two revisions from the repository,
optionally observes the registry, and prints. ``cli.main`` registers it; the helpers every
command shares come from ``controller.cli.common``.

Invalid declarations at the head revision are part of the answer, not a failure of the command:
the diff prints them with ``FILE:LINE`` and exits 0, so that a pull-request comment still shows
the reviewer what is wrong. Failing the check is ``lambda-gitops validate``'s job, which the
example workflow runs first. Exit 1 is kept for errors of the command itself: an unknown
revision, a folder that is no repository, a registry that cannot be reached with ``--live``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from controller.adapters.git.reader import load_commit
from controller.adapters.registry.cache import CachingRegistry
from controller.bootstrap import registry_for
from controller.cli.common import registry_options, reported_errors, settings_from
from controller.core.declarations import Declarations
from controller.core.declarations.parser import ParseCache
from controller.engine.reconciler import plan_pass
from controller.review import compare, report
from controller.settings import Settings


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--base", required=True, help="The revision the change starts from (a SHA, ...).")
@click.option("--head", required=True, help="The revision with the change applied.")
@click.option("--repo", help="The declarations repository (a local clone).")
@click.option("--path", help="The folder of the repository holding declarations.")
@click.option(
    "--output",
    type=click.Choice(["markdown", "json", "text"]),
    default="markdown",
    show_default=True,
)
@click.option(
    "--live", is_flag=True, help="Also show what would be written now, and drift already present."
)
@registry_options
def diff_command(base: str, head: str, output: str, live: bool, **options: Any) -> None:
    """Show what changing the declarations from BASE to HEAD does, per function.

    Functions are matched by region and function name, so a declaration moved to another file
    is not removed and added. Errors in HEAD are shown with FILE:LINE and do not change the exit
    code (run `validate` to fail on them). Exit 0, or 1 when a revision or the repository cannot
    be read.
    """

    with reported_errors():
        settings = settings_from(options)
        cache = ParseCache()  # the files a pull request leaves alone are parsed once
        before = _load(settings, base, cache)
        after = _load(settings, head, cache)
        view = _live_view(settings, before, after) if live else None
    changes = compare.compare(before, after)
    if output == "json":
        click.echo(json.dumps(report.to_json(changes, view), indent=2))
    elif output == "text":
        click.echo(report.to_text(changes, view), nl=False)
    else:
        click.echo(report.to_markdown(changes, view), nl=False)


def _load(settings: Settings, revision: str, cache: ParseCache) -> Declarations:
    return load_commit(
        Path(settings.repo),
        revision,
        settings.path,
        default_region=settings.region,
        default_account=settings.account,
        extra_regions=settings.extra_regions,
        cache=cache,
    )


def _live_view(settings: Settings, base: Declarations, head: Declarations) -> compare.LiveView:
    """The head's plan against the registry now, and the base's, whose differences are drift
    that exists whether or not the change is merged. The head's plan shows the versions
    retention would delete; the base's does not, since those are no drift."""
    with registry_for(settings) as live:
        registry = CachingRegistry(live)  # one cache for both plans: versions are read once
        at_head = plan_pass(
            registry, head, in_scope=settings.scope.allows, retention=settings.retention
        )
        at_base = plan_pass(registry, base, in_scope=settings.scope.allows)
    return compare.LiveView(at_head.plan, at_base.plan, tuple(at_head.declaration_errors))

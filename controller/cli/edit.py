"""The ``promote`` and ``add-version`` commands: the steps a release pipeline runs on a clone.

``controller.cli.main`` registers them on the main group; the helpers every command shares come from
``controller.cli.common``. As in every command, the project's errors become one ``error: ...``
line and exit code 1, and the logic lives in ``controller.review.edits``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from controller.adapters.git import is_remote, redact
from controller.cli.common import (
    config_option,
    region_option,
    reported_errors,
    settings_from,
    with_options,
)
from controller.core.configuration import Configuration
from controller.core.model import S3Code
from controller.errors import ConfigurationError, EditRefused
from controller.review import edits, files, presets

F = TypeVar("F", bound=Callable[..., Any])


_working_tree_options = with_options(
    click.option("--repo", help="The working tree of the declarations repository (.)."),
    click.option("--path", help="The folder of the repository holding declarations."),
    region_option,
    config_option,
)
"""``--repo``, ``--path``, ``--region`` and ``--config``: which files to edit, and the region
that declarations naming none are in (it decides which function is which)."""


def _preset(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> presets.Preset | None:
    """The ``--rollout`` preset read into its steps; an unknown name is a usage error that
    lists the valid ones."""
    if value is None:
        return None
    try:
        return presets.parse(value)
    except presets.PresetError as error:
        raise click.BadParameter(str(error)) from None


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
@click.option(
    "--rollout",
    metavar="PRESET",
    callback=_preset,
    help="Also write the alias's rollout block from a preset: canary-P-D (P percent for the "
    "duration D, then all: canary-10-5m), linear-P-D (P percent more every D: linear-10-1m), "
    "an AWS SAM deployment preference type (Canary10Percent5Minutes, "
    "Linear10PercentEvery1Minute, ...), or none or AllAtOnce to remove the block.",
)
@_working_tree_options
def promote_command(
    function: str,
    alias: str,
    target: str,
    weight: str | None,
    rollout: presets.Preset | None,
    **options: Any,
) -> None:
    """Point ALIAS of FUNCTION at a version, or send it a share of traffic with --weight.

    Edits the declaration in the working tree, changing only that value; commit the result.

    With --rollout the alias is moved step by step by the controller: the rollout block is
    written with only the preset's steps, or, when the alias has one, only its steps are
    replaced, so that its analysis is kept. Without --rollout a rollout block is left as it
    is. Moving the alias to a new version under a rollout sets its approve back to 0, since
    the new target's rollout starts again at step 1.
    """

    with reported_errors():
        settings = settings_from(options)
        root = _working_tree(settings.repo)
        declared, tree = files.read_folder(root, settings.path)
        change = edits.promote(
            declared,
            function,
            alias,
            target,
            weight,
            rollout=rollout,
            default_region=settings.region,
            tree=tree,
            extra_regions=settings.extra_regions,
        )
        if change.changed:
            files.write_atomically(root, change)
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
    "is recorded as the version's code, relative to the declaration file's folder (unless "
    "--s3-bucket and --s3-key are given).",
)
@click.option(
    "--s3-bucket",
    help="The S3 bucket the package was uploaded to; recorded, with --s3-key, as the version's "
    "code.",
)
@click.option("--s3-key", help="The object key of the uploaded package (with --s3-bucket).")
@click.option(
    "--s3-object-version",
    help="The S3 object version of the uploaded package, for a bucket with versioning.",
)
@click.option("--description", help="The version's description, used when it is published.")
@click.option("--memory-size", type=int, help="configuration.memorySize, in MB.")
@click.option("--timeout", type=int, help="configuration.timeout, in seconds.")
@click.option("--ephemeral-storage", type=int, help="configuration.ephemeralStorage, in MB.")
@click.option("--runtime", help="configuration.runtime, such as python3.13.")
@click.option("--handler", help="configuration.handler, such as app.handler.")
@click.option(
    "--layer",
    "layers",
    multiple=True,
    help="configuration.layers: a layer version ARN; repeat it for several, in order.",
)
@click.option(
    "--architecture",
    type=click.Choice(["x86_64", "arm64"]),
    help="configuration.architectures.",
)
@_working_tree_options
def add_version_command(
    function: str,
    label: str,
    *,
    sha256: str | None,
    zip_file: Path | None,
    s3_bucket: str | None,
    s3_key: str | None,
    s3_object_version: str | None,
    description: str | None,
    memory_size: int | None,
    timeout: int | None,
    ephemeral_storage: int | None,
    runtime: str | None,
    handler: str | None,
    layers: tuple[str, ...],
    architecture: str | None,
    **options: Any,
) -> None:
    """Declare version LABEL of FUNCTION, after its last version.

    The version's code, which the controller uploads if no version has it yet, is the zip given
    with --zip when it is inside the repository (recorded relative to the declaration file's
    folder, as code.zipFile is read), or the S3 object given with --s3-bucket and --s3-key
    (which wins over such a zip).

    The configuration options declare what the version must have besides its code; they are
    checked against Lambda's limits as validate checks them. Environment variables are not
    among them (a value on a command line lands in the shell's history): write them into the
    file.
    """

    with reported_errors():
        settings = settings_from(options)
        root = _working_tree(settings.repo)
        if (sha256 is None) == (zip_file is None):
            raise EditRefused("give exactly one of --code-sha256 and --zip")
        s3 = _s3_location(s3_bucket, s3_key, s3_object_version)
        note = ""
        recorded: str | None = None
        if zip_file is not None:
            sha256, recorded = _package(zip_file, root)
            if s3 is not None and recorded is not None:
                note = (
                    f"; the S3 object is recorded as the code, not {recorded} "
                    "(--s3-bucket and --s3-key win over a zip in the repository)"
                )
                recorded = None
            elif s3 is None and recorded is None:
                note = (
                    f"; {zip_file} is outside the repository, so only its hash is recorded: "
                    "upload it to the function before the controller needs this version"
                )
        declared, tree = files.read_folder(root, settings.path)
        change = edits.add_version(
            declared,
            function,
            label,
            sha256 or "",
            description=description,
            zip_file=recorded,
            s3=s3,
            default_region=settings.region,
            tree=tree,
            extra_regions=settings.extra_regions,
            configuration=Configuration(
                memory_size=memory_size,
                timeout=timeout,
                ephemeral_storage=ephemeral_storage,
                runtime=runtime,
                handler=handler,
                layers=layers or None,
                architectures=(architecture,) if architecture is not None else None,
            ),
        )
        if change.changed:
            files.write_atomically(root, change)
    click.echo(change.summary + (note if change.changed else ""))


def _working_tree(repo: str) -> Path:
    if is_remote(repo):
        raise ConfigurationError(
            f"--repo {redact(repo)!r}: this command edits a local working tree; clone the "
            "repository and pass its path"
        )
    return Path(repo)


def _s3_location(bucket: str | None, key: str | None, object_version: str | None) -> S3Code | None:
    """The S3 object given by the ``--s3-*`` options, which come as a bucket and key together."""
    if bucket is None and key is None:
        if object_version is not None:
            raise EditRefused("--s3-object-version needs --s3-bucket and --s3-key")
        return None
    if bucket is None or key is None:
        given, missing = ("--s3-bucket", "--s3-key") if key is None else ("--s3-key", "--s3-bucket")
        raise EditRefused(f"{given} needs {missing}: give the bucket and key of the package")
    for option, value in (
        ("--s3-bucket", bucket),
        ("--s3-key", key),
        ("--s3-object-version", object_version),
    ):
        if value is not None and not value.strip():
            raise EditRefused(f"{option} is empty")
    return S3Code(bucket, key, object_version)


def _package(zip_file: Path, root: Path) -> tuple[str, str | None]:
    """The package's CodeSha256, and its path from the repository's root when it is inside."""
    if not zip_file.is_file():
        raise EditRefused(f"--zip {zip_file}: not a file")
    try:
        package = zip_file.read_bytes()
    except OSError as error:
        raise EditRefused(f"--zip {zip_file}: {error.strerror}") from error
    real, base = zip_file.resolve(), root.resolve()
    inside = real.relative_to(base).as_posix() if real.is_relative_to(base) else None
    return edits.code_sha256(package), inside

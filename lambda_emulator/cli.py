"""The ``emulator`` command group: serve the emulated registry, or change its state directly.

``serve`` runs the endpoint for the AWS CLI and other tools. The other commands change the state
file out of band, as a CI pipeline deploying code or a person in the console would, through the
same store methods the endpoint uses, so that they obey the same rules. Every failure is one
``error: ...`` line on stderr and exit status 1, and leaves the state file as it was.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar

import click

from controller.errors import ConfigurationError
from lambda_emulator import packages
from lambda_emulator.faults import Faults
from lambda_emulator.packages import CodePackage
from lambda_emulator.seed import (
    DEFAULT_HANDLER,
    DEFAULT_RUNTIME,
    default_role,
    load_seed,
)
from lambda_emulator.server import EmulatorServer
from lambda_emulator.store import Caller, EmulatorStore
from lambda_emulator.validation import DEFAULT_ACCOUNT, LATEST, LambdaApiError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])

_STATE = click.option(
    "--state",
    "state",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The emulator's SQLite state file (created if absent).",
)


def _account(context: click.Context, parameter: click.Parameter, account: str) -> str:
    if not (len(account) == 12 and account.isdigit()):
        _fail(f"--account {account!r} is not a 12-digit AWS account number")
    return account


_ACCOUNT = click.option(
    "--account",
    default=DEFAULT_ACCOUNT,
    show_default=True,
    callback=_account,
    help="The AWS account number to act in.",
)
_REGION = click.option("--region", default="us-east-1", show_default=True, help="The region.")
_ZIP = click.option(
    "--zip",
    "zip_file",
    type=click.Path(path_type=Path),
    help="A zip file to upload as the code.",
)
_SHA = click.option("--code-sha256", help="The CodeSha256 of code built elsewhere.")


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn the errors a command can meet into one ``error:`` line and exit status 1."""
    try:
        yield
    except LambdaApiError as error:
        hint = ""
        if error.code == "ResourceNotFoundException":
            hint = " (check the name, --region and --account)"
        _fail(f"{error.code}: {error.message}{hint}")
    except ConfigurationError as error:
        _fail(str(error))


def _open_store(state: Path) -> EmulatorStore:
    return EmulatorStore(state)


def _code(zip_file: Path | None, code_sha256: str | None) -> CodePackage:
    """The code a command names: exactly one of ``--zip`` and ``--code-sha256``."""
    if (zip_file is None) == (code_sha256 is None):
        _fail("give exactly one of --zip FILE and --code-sha256 SHA")
    if zip_file is not None:
        try:
            data = zip_file.read_bytes()
        except OSError as error:
            _fail(f"cannot read the zip file {zip_file}: {error.strerror}; check the path")
        try:
            return packages.from_zip(data)
        except LambdaApiError as error:
            _fail(f"{zip_file} is not a zip file: {error.message}")
    return packages.from_sha256(code_sha256 or "")


@click.group("emulator")
def emulator_group() -> None:
    """The emulated Lambda registry: serve it, or change its state directly."""


@emulator_group.command("serve")
@_STATE
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8080, show_default=True, help="The port; 0 picks a free one.")
@click.option("--latency-ms", default=0.0, help="Latency added to every call.")
@click.option("--rate-limit", type=float, default=None, help="Requests/s per account and region.")
@click.option("--update-seconds", default=0.0, help="Length of the Pending/InProgress windows.")
@click.option("--error-rate", default=0.0, help="Probability of a transient 500/503 per request.")
@click.option("--seed", type=int, default=None, help="Seed of the fault PRNG.")
@_ACCOUNT
@click.option(
    "--s3-root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="A folder standing in for S3: BUCKET/KEY under it.",
)
def serve(
    *,
    state: Path,
    host: str,
    port: int,
    latency_ms: float,
    rate_limit: float | None,
    update_seconds: float,
    error_rate: float,
    seed: int | None,
    account: str,
    s3_root: Path | None,
) -> None:
    """Serve the emulated registry until SIGINT or SIGTERM.

    Requests act in --account, unless their access key id is made of exactly twelve digits: that
    is then the account, so that one endpoint can stand for several accounts. The region is the
    one the client signs for. GET /_emulator/stats gives the request counters,
    GET /_emulator/writes?since=N the log of writes, and PUT /_emulator/faults changes the
    faults while the server runs.
    """
    with _reported():
        faults = Faults(
            latency_ms=latency_ms,
            rate_limit=rate_limit,
            update_seconds=update_seconds,
            error_rate=error_rate,
            seed=seed,
        )
        server = EmulatorServer(
            state, host=host, port=port, faults=faults, account=account, s3_root=s3_root
        )
        server.start()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        url = server.endpoint_url
        click.echo(f"emulated Lambda registry at {url} (state {state})")
        click.echo(f"  export AWS_ENDPOINT_URL_LAMBDA={url}")
        click.echo(f"  aws lambda list-functions --endpoint-url {url}")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("stopped")


@emulator_group.command("create-function")
@click.argument("name")
@_STATE
@_REGION
@_ACCOUNT
@click.option("--role", default=None, help="The execution role ARN.")
@_ZIP
@_SHA
def create_function(
    *,
    name: str,
    state: Path,
    region: str,
    account: str,
    role: str | None,
    zip_file: Path | None,
    code_sha256: str | None,
) -> None:
    """Create a function."""
    with _reported():
        code = _code(zip_file, code_sha256)
        with _open_store(state) as store:
            config = store.create_function(
                Caller(account, region),
                name,
                code=code,
                role=role or default_role(account),
                runtime=DEFAULT_RUNTIME,
                handler=DEFAULT_HANDLER,
            )
    click.echo(f"created {config.function_arn} (CodeSha256 {config.code_sha256})")


@emulator_group.command("deploy-code")
@click.argument("name")
@_STATE
@_REGION
@_ACCOUNT
@_ZIP
@_SHA
def deploy_code(
    *,
    name: str,
    state: Path,
    region: str,
    account: str,
    zip_file: Path | None,
    code_sha256: str | None,
) -> None:
    """Change $LATEST's code, as a CI pipeline would."""
    with _reported():
        code = _code(zip_file, code_sha256)
        with _open_store(state) as store:
            config = store.update_function_code(Caller(account, region), name, code)
    click.echo(f"deployed {config.code_sha256} to {name} {LATEST}")


@emulator_group.command("publish")
@click.argument("name")
@_STATE
@_REGION
@_ACCOUNT
@click.option("--description", default=None, help="The version's description.")
def publish(*, name: str, state: Path, region: str, account: str, description: str | None) -> None:
    """Publish $LATEST as a new version."""
    with _reported(), _open_store(state) as store:
        config = store.publish_version(Caller(account, region), name, description=description)
    click.echo(f"published {name} version {config.version} (CodeSha256 {config.code_sha256})")


@emulator_group.command("set-alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version")
@_STATE
@_REGION
@_ACCOUNT
@click.option(
    "--routing",
    default=None,
    metavar="VERSION=WEIGHT",
    help="Send WEIGHT (0-1) of the traffic to VERSION.",
)
def set_alias(
    *,
    name: str,
    alias: str,
    version: str,
    state: Path,
    region: str,
    account: str,
    routing: str | None,
) -> None:
    """Create an alias or move it, as a person in the console would."""
    weights = _routing(routing)
    caller = Caller(account, region)
    with _reported(), _open_store(state) as store, store.transaction():
        existing = {a.name for a in store.list_aliases(caller, name).items}
        if alias in existing:
            store.update_alias(caller, name, alias, function_version=version, routing=weights)
            verb = "moved"
        else:
            store.create_alias(caller, name, alias, function_version=version, routing=weights)
            verb = "created"
    shown = f" with {routing}" if routing else ""
    click.echo(f"{verb} alias {name}:{alias} -> {version}{shown}")


def _routing(routing: str | None) -> dict[str, float | None]:
    if routing is None:
        return {}
    version, separator, weight = routing.partition("=")
    if not separator:
        _fail(f"--routing {routing!r} is not VERSION=WEIGHT, for example 3=0.1")
    try:
        return {version: float(weight)}
    except ValueError:
        _fail(f"--routing {routing!r}: the weight {weight!r} is not a number, for example 3=0.1")


@emulator_group.command("load")
@click.argument("seed_file", type=click.Path(path_type=Path))
@_STATE
@_REGION
@_ACCOUNT
def load(*, seed_file: Path, state: Path, region: str, account: str) -> None:
    """Load functions, versions and aliases from a seed file, all or nothing."""
    with _reported(), _open_store(state) as store:
        count = load_seed(store, seed_file, account, region)
    click.echo(f"loaded {count} functions from {seed_file}")

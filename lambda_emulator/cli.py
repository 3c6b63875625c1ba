"""The ``emulator`` command group: serve the emulated registry, or change its state directly.

``serve`` runs the endpoint for the AWS CLI and other tools, and ``env`` prints the shell
exports that point them at it. The other commands change the state file out of band, as a CI
pipeline deploying code or a person in the console would, through the same store methods the
endpoint uses, so that they obey the same rules. Every failure is one ``error: ...`` line on
stderr and exit status 1, and leaves the state file as it was.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
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

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9550
"""The port ``serve`` listens on and ``env`` points at, unless told otherwise. It is not 8080,
where ``lambda-gitops run`` (and so ``scripts/demo``) serves its endpoints, so that the emulator
and the controller run side by side; nor a port of the usual local stand-ins for AWS, which a
developer may be running too: LocalStack's 4566 (and its 4510-4559 range), a moto server's
5000, the SAM CLI's 3000 and 3001, DynamoDB Local's 8000."""
PORT_VARIABLE = "LAMBDA_EMULATOR_PORT"
"""Sets the default port of ``serve`` and ``env`` alike, so that both agree on another port."""
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_LAMBDA"
"""The endpoint of Lambda alone, read by botocore (so boto3) since 1.31 and by the AWS CLI v1
built on it, as pinned in constraints.txt. Not ``AWS_ENDPOINT_URL``, which would send every
other service (STS, S3) to an endpoint that answers only Lambda."""
PLACEHOLDER_KEY = "emulated"
"""The access key id and secret key ``env`` exports: the emulator checks no signature, but the
SDKs send no request without credentials, and a real key never has to reach the emulator."""

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


def _port_option(help_text: str, *, lowest: int) -> Callable[[F], F]:
    return click.option(
        "--port",
        type=click.IntRange(lowest, 65535),
        default=DEFAULT_PORT,
        envvar=PORT_VARIABLE,
        show_default=True,
        show_envvar=True,
        help=help_text,
    )


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


def client_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """The environment that points the AWS CLI and boto3 at the emulated registry: its endpoint
    for Lambda, a region (which the CLI demands and the emulator acts in) and placeholder keys."""
    return {
        ENDPOINT_VARIABLE: endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": PLACEHOLDER_KEY,
        "AWS_SECRET_ACCESS_KEY": PLACEHOLDER_KEY,
    }


def export_lines(environment: dict[str, str]) -> list[str]:
    """``export NAME=VALUE`` lines for a POSIX shell, each value quoted where it needs it."""
    return [f"export {name}={shlex.quote(value)}" for name, value in environment.items()]


@emulator_group.command("serve")
@_STATE
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="The address to listen on.")
@_port_option("The port; 0 picks a free one.", lowest=0)
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
        # The first line is read by tools that start serve (the tests split it on " at "): it
        # stays as it is. The exports are the ones `emulator env` prints.
        click.echo(f"emulated Lambda registry at {url} (state {state})")
        for line in export_lines(client_environment(url, "us-east-1")):
            click.echo(f"  {line}")
        click.echo("  aws lambda list-functions")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("stopped")


@emulator_group.command("env")
@click.option(
    "--endpoint-url",
    default=None,
    help="The emulator's URL, when it is not on this machine's default port.",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="The address it listens on.")
@_port_option("The port serve listens on.", lowest=1)
@_REGION
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=0.0,
    help="First wait up to this many seconds for the emulator to answer (after `serve &`).",
)
@click.pass_context
def env(
    context: click.Context,
    *,
    endpoint_url: str | None,
    host: str,
    port: int,
    region: str,
    wait_seconds: float,
) -> None:
    """Print the shell exports that point the AWS CLI and boto3 at the emulated registry.

    Use it as  eval "$(lambda-gitops emulator env)" : AWS_ENDPOINT_URL_LAMBDA (Lambda calls
    only), AWS_DEFAULT_REGION, and placeholder access keys, which replace real ones in that
    shell. With --wait, nothing is printed until the endpoint answers.
    """
    given = {
        name
        for name in ("host", "port")
        if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    }
    if endpoint_url is not None and given:
        _fail(f"give --endpoint-url or --{'/--'.join(sorted(given))}, not both")
    url = (endpoint_url or f"http://{host}:{port}").rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        _fail(f"--endpoint-url {url!r} is not an http:// or https:// URL")
    if wait_seconds > 0:
        _wait_for_endpoint(url, wait_seconds)
    for line in export_lines(client_environment(url, region)):
        click.echo(line)


def _wait_for_endpoint(url: str, seconds: float) -> None:
    """Return once something answers HTTP at ``url``, or fail after ``seconds``.

    Any HTTP answer will do, an error status included: it shows that the server listens, which
    is all a script that has just started ``serve &`` needs to know before it goes on.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=1):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() >= deadline:
                _fail(
                    f"nothing answers at {url} after {seconds:g} s; start it with "
                    "`lambda-gitops emulator serve --state FILE &`, or check the port"
                )
        time.sleep(0.1)


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

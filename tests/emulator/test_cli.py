"""The emulator commands: one line of what they did, or one ``error:`` line, exit 1, no change;
and ``env``, the exports that point the AWS CLI and boto3 at the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from controller.settings import Settings
from lambda_emulator import Caller, EmulatorServer, EmulatorStore
from lambda_emulator.cli import DEFAULT_PORT, PORT_VARIABLE, emulator_group
from tests.backends import make_zip
from tests.emulator.conftest import sha
from tests.polling import free_port

HOME = Caller("123456789012", "us-east-1")
DEMO_CONFIG = Path(__file__).parents[2] / "config" / "examples" / "lambda-gitops.yaml"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(emulator_group, [str(arg) for arg in args])


def assert_failed(result: Result, *fragments: str) -> None:
    """One clear ``error:`` line, exit status 1, and no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state file holding ``orders`` with version 1 and the alias ``live`` on it."""
    path = tmp_path / "state.sqlite"
    assert (
        run("create-function", "orders", "--state", path, "--code-sha256", sha("a")).exit_code == 0
    )
    assert run("publish", "orders", "--state", path).exit_code == 0
    assert run("set-alias", "orders", "live", "1", "--state", path).exit_code == 0
    return path


def snapshot(path: Path) -> tuple[object, ...]:
    """The observable content of a state file: functions, versions and aliases."""
    with EmulatorStore(path) as store:
        functions = store.list_functions(HOME, function_version="ALL").items
        aliases = store.list_aliases(HOME, "orders").items
    return (
        tuple((f.function_arn, f.code_sha256, f.revision_id, f.description) for f in functions),
        tuple(aliases),
    )


def test_the_happy_path(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    package = tmp_path / "app.zip"
    package.write_bytes(make_zip())
    created = run("create-function", "orders", "--state", path, "--zip", package)
    assert created.exit_code == 0, created.output
    assert created.output.startswith(
        "created arn:aws:lambda:us-east-1:123456789012:function:orders"
    )
    deployed = run("deploy-code", "orders", "--state", path, "--code-sha256", sha("b"))
    assert deployed.exit_code == 0, deployed.output
    published = run("publish", "orders", "--state", path, "--description", "release b")
    assert published.output == f"published orders version 1 (CodeSha256 {sha('b')})\n"
    run("deploy-code", "orders", "--state", path, "--code-sha256", sha("c"))
    run("publish", "orders", "--state", path)
    assert run("set-alias", "orders", "live", "1", "--state", path).output == (
        "created alias orders:live -> 1\n"
    )
    moved = run("set-alias", "orders", "live", "2", "--state", path, "--routing", "1=0.25")
    assert moved.output == "moved alias orders:live -> 2 with 1=0.25\n"
    with EmulatorStore(path) as store:
        alias = store.get_alias(HOME, "orders", "live")
        assert (alias.function_version, dict(alias.routing)) == ("2", {"1": 0.25})
        assert store.get_function(HOME, "orders", "1").description == "release b"


def test_commands_act_in_the_account_and_region_given(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    result = run(
        "create-function",
        "orders",
        "--state",
        path,
        "--code-sha256",
        sha("a"),
        "--region",
        "eu-west-1",
        "--account",
        "210987654321",
    )
    assert "arn:aws:lambda:eu-west-1:210987654321:function:orders" in result.output
    with EmulatorStore(path) as store:
        config = store.get_function(Caller("210987654321", "eu-west-1"), "orders")
    assert config.role == "arn:aws:iam::210987654321:role/lambda-gitops-emulated"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("publish", "missing"), ("Function not found", "function:missing", "--region")),
        (("set-alias", "orders", "live", "1", "--routing", "1=1.5"), ("ValidationException",)),
        (
            ("set-alias", "orders", "live", "1", "--routing", "2=1.5"),
            ("1 validation error detected: Value '{2=1.5}'",),
        ),
        (("set-alias", "orders", "live", "1", "--routing", "2=lots"), ("not a number",)),
        (("set-alias", "orders", "live", "1", "--routing", "2"), ("VERSION=WEIGHT",)),
        (("set-alias", "orders", "123", "1"), ("at 'name'",)),
        (("set-alias", "orders", "live", "9"), ("function:orders:9",)),
        (("create-function", "bad name", "--code-sha256", sha("x")), ("functionName",)),
        (("create-function", "orders", "--code-sha256", sha("x")), ("already exist",)),
        (("create-function", "x", "--code-sha256", "abc"), ("codeSha256",)),
        (("create-function", "x"), ("exactly one of --zip",)),
        (("deploy-code", "orders", "--zip", "missing.zip"), ("missing.zip", "check the path")),
    ],
)
def test_bad_input_is_one_error_line_and_changes_nothing(
    state: Path, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    before = snapshot(state)
    assert_failed(run(*args, "--state", state), *fragments)
    assert snapshot(state) == before


def test_a_file_that_is_not_a_zip_is_refused(state: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.zip"
    bogus.write_text("not a zip")
    before = snapshot(state)
    assert_failed(run("deploy-code", "orders", "--state", state, "--zip", bogus), "not a zip")
    assert snapshot(state) == before


def test_a_text_file_as_state_is_refused_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("keep me\n")
    result = run("create-function", "orders", "--state", path, "--code-sha256", sha("a"))
    assert_failed(result, "notes.txt", "not an emulator state file")
    assert path.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_read_only_state_file_is_refused_byte_for_byte(state: Path) -> None:
    before = state.read_bytes()
    state.chmod(0o444)
    try:
        assert_failed(run("publish", "orders", "--state", state), "read-only")
    finally:
        state.chmod(0o644)
    assert state.read_bytes() == before


def test_a_state_path_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    result = run("publish", "orders", "--state", blocker / "state.sqlite")
    assert_failed(result, "blocker", "not a folder")


def test_an_account_that_is_not_twelve_digits_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    result = run("publish", "orders", "--state", state, "--account", "12345")
    assert_failed(result, "--account '12345'", "12-digit")
    assert not state.exists()


# -- env --------------------------------------------------------------------------------------


def run_env(*args: str, port_variable: str | None = None) -> Result:
    """``emulator env`` with LAMBDA_EMULATOR_PORT as given (unset by default)."""
    runner = CliRunner(env={PORT_VARIABLE: port_variable})
    return runner.invoke(emulator_group, ["env", *args])


def exports(endpoint_url: str, region: str = "us-east-1") -> str:
    return (
        f"export AWS_ENDPOINT_URL_LAMBDA={endpoint_url}\n"
        f"export AWS_DEFAULT_REGION={region}\n"
        "export AWS_ACCESS_KEY_ID=emulated\n"
        "export AWS_SECRET_ACCESS_KEY=emulated\n"
    )


def test_env_points_at_the_default_port_of_serve() -> None:
    result = run_env()
    assert result.exit_code == 0, result.output
    assert result.output == exports(f"http://127.0.0.1:{DEFAULT_PORT}")


def test_the_default_port_is_not_the_controllers() -> None:
    """``lambda-gitops run`` and the demo listen on the controller's port: the emulator must run
    beside them."""
    controller_port = Settings.model_fields["listen"].default.rpartition(":")[2]
    demo_port = YAML(typ="safe").load(DEMO_CONFIG)["listen"].rpartition(":")[2]
    assert DEFAULT_PORT not in {int(controller_port), int(demo_port)}


@pytest.mark.parametrize(
    ("args", "endpoint_url", "region"),
    [
        (("--port", "4599"), "http://127.0.0.1:4599", "us-east-1"),
        (
            ("--host", "localhost", "--region", "eu-west-1"),
            f"http://localhost:{DEFAULT_PORT}",
            "eu-west-1",
        ),
        (("--endpoint-url", "http://10.0.0.7:9550/"), "http://10.0.0.7:9550", "us-east-1"),
        (("--endpoint-url", "https://lambda.test/a b"), "'https://lambda.test/a b'", "us-east-1"),
    ],
)
def test_env_takes_an_endpoint_url_or_a_host_and_port_and_a_region(
    args: tuple[str, ...], endpoint_url: str, region: str
) -> None:
    result = run_env(*args)
    assert result.exit_code == 0, result.output
    assert result.output == exports(endpoint_url, region)


def test_the_port_variable_moves_the_default_of_serve_and_env_alike() -> None:
    """``serve``'s side is in ``test_processes.py``."""
    result = run_env(port_variable="4601")
    assert result.output == exports("http://127.0.0.1:4601")
    with_url = run_env("--endpoint-url", "http://127.0.0.1:5", port_variable="4601")
    assert with_url.output == exports("http://127.0.0.1:5"), "the variable is no conflict"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--endpoint-url", "http://x:1", "--port", "2"), ("--endpoint-url or --port",)),
        (("--endpoint-url", "http://x:1", "--host", "h"), ("--endpoint-url or --host",)),
        (("--endpoint-url", "ftp://x"), ("'ftp://x' is not an http://",)),
        (("--endpoint-url", "127.0.0.1:9550"), ("is not an http://",)),
    ],
)
def test_env_refuses_contradictions_and_urls_that_are_not_http(
    args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    result = run_env(*args)
    assert_failed(result, *fragments)
    assert result.stdout == ""


def test_env_waits_for_the_emulator_to_answer(emulator: EmulatorServer) -> None:
    result = run_env("--endpoint-url", emulator.endpoint_url, "--wait", "30")
    assert result.exit_code == 0, result.output
    assert result.output == exports(emulator.endpoint_url)


def test_env_prints_nothing_when_nothing_answers_within_the_wait() -> None:
    """So that ``eval "$(... env --wait N)"`` exports nothing rather than a dead endpoint."""
    result = run_env("--port", str(free_port()), "--wait", "0.3")
    assert_failed(result, "nothing answers at http://127.0.0.1:", "emulator serve")
    assert result.stdout == ""

"""The emulator commands: one line of what they did, or one ``error:`` line, exit 1, no change."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lambda_emulator import Caller, EmulatorStore
from lambda_emulator.cli import emulator_group
from tests.backends import make_zip
from tests.emulator.conftest import sha

HOME = Caller("123456789012", "us-east-1")


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

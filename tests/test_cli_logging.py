"""Every command takes the log flags and configures the log once: results on stdout, log lines
on stderr only, at the level the flags, the environment or the file ask for, in that order;
``NO_COLOR`` turns colour off everywhere; the progress bar is drawn only for a person watching.
"""

from __future__ import annotations

import json
import logging
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import git
import pytest
from click.testing import CliRunner, Result

from controller.adapters.logging import LogSettings
from controller.cli.main import main
from controller.cli.output import PROGRESS_MINIMUM, progress
from lambda_emulator import EmulatorServer

EXAMPLES = Path(__file__).resolve().parents[1] / "config" / "examples"
ROOT = Path(__file__).resolve().parents[1]
ANSI = "\x1b["


def run(*arguments: str, env: dict[str, str] | None = None, color: bool = False) -> Result:
    environment: dict[str, str | None] = {
        "LAMBDA_GITOPS_LOG_LEVEL": None,
        "LAMBDA_GITOPS_LOG_FORMAT": None,
        "NO_COLOR": None,
        **(env or {}),
    }
    result = CliRunner().invoke(main, list(arguments), env=environment, color=color)
    assert "Traceback" not in result.output
    return result


def log_events(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "declarations"
    shutil.copytree(EXAMPLES / "declarations", folder)
    repository = git.Repo.init(folder)
    with repository.config_writer() as config:
        config.set_value("user", "name", "test")
        config.set_value("user", "email", "test@example.com")
    repository.git.add(A=True)
    repository.index.commit("declare the example fleet")
    return folder


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "registry.sqlite"
    assert run("emulator", "load", str(EXAMPLES / "seed.yaml"), "--state", str(path)).exit_code == 0
    return path


def plan_arguments(repo: Path, state: Path) -> list[str]:
    return ["--repo", str(repo), "--registry", f"emulated:{state}"]


# -- the flags ------------------------------------------------------------------------------------


def every_command(
    command: click.Command, path: str = "lambda-gitops"
) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, subcommand in command.commands.items():
            yield from every_command(subcommand, f"{path} {name}")


def test_every_command_takes_the_log_flags() -> None:
    names = {"log_level", "quiet", "verbose", "log_format"}
    missing = [
        path
        for path, command in every_command(main)
        if not names <= {parameter.name for parameter in command.params}
    ]
    assert missing == []
    assert any(path == "lambda-gitops emulator serve" for path, _ in every_command(main))


@pytest.mark.parametrize(
    "arguments",
    [
        ["-q", "-v", "schema"],
        ["schema", "-q", "-v"],
        ["-q", "schema", "-v"],
        ["emulator", "-v", "load", "seed.yaml", "--state", "x", "--quiet"],
    ],
)
def test_quiet_and_verbose_together_are_a_usage_error(arguments: list[str]) -> None:
    result = run(*arguments)
    assert result.exit_code == 2
    assert "-q/--quiet and -v/--verbose cannot be used together" in result.stderr
    assert result.stdout == ""


def test_a_level_and_a_flag_that_disagree_are_a_usage_error() -> None:
    result = run("--log-level", "error", "schema", "-v")
    assert result.exit_code == 2
    assert "--log-level error and -v/--verbose ask for different log levels" in result.stderr


def test_a_level_and_a_flag_that_agree_are_accepted() -> None:
    assert run("--log-level", "DEBUG", "schema", "-v").exit_code == 0


def test_an_unknown_level_in_the_environment_is_one_error_line() -> None:
    result = run("schema", env={"LAMBDA_GITOPS_LOG_LEVEL": "loud"})
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("error: invalid settings: log_level:")


# -- the level, and stdout kept for results -------------------------------------------------------


def test_plan_verbose_logs_the_registry_calls_on_stderr_only(repo: Path, state: Path) -> None:
    result = run("plan", "-v", *plan_arguments(repo, state))
    assert result.exit_code == 2, result.output
    calls = [e for e in log_events(result.stderr) if e["event"] == "registry call"]
    # Both functions are in one region: their versions come from one ListFunctions page.
    assert {"ListAliases", "ListFunctions"} <= {e["operation"] for e in calls}
    assert all(e["level"] == "debug" for e in calls)
    assert {e["function"] for e in calls} >= {"orders-api", "billing-worker"}
    assert result.stdout.startswith("Plan at revision")
    assert log_events(result.stdout) == []


def test_plan_json_keeps_stdout_one_json_document_while_logging(repo: Path, state: Path) -> None:
    result = run("plan", "--output", "json", "--verbose", *plan_arguments(repo, state))
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["inSync"] is False
    assert log_events(result.stderr)


@pytest.mark.parametrize(
    ("flags", "env", "config", "debug_shown"),
    [
        pytest.param([], {}, None, False, id="default-info"),
        pytest.param([], {}, "debug", True, id="file"),
        pytest.param(
            [], {"LAMBDA_GITOPS_LOG_LEVEL": "debug"}, "warning", True, id="env-beats-file"
        ),
        pytest.param(
            ["-q"], {"LAMBDA_GITOPS_LOG_LEVEL": "debug"}, None, False, id="flag-beats-env"
        ),
        pytest.param(["-v"], {}, "error", True, id="flag-beats-file"),
        pytest.param(["--log-level", "info"], {}, "debug", False, id="level-beats-file"),
    ],
)
def test_the_level_comes_from_the_flag_then_the_environment_then_the_file(
    repo: Path,
    state: Path,
    tmp_path: Path,
    *,
    flags: list[str],
    env: dict[str, str],
    config: str | None,
    debug_shown: bool,
) -> None:
    arguments = ["plan", *flags, *plan_arguments(repo, state)]
    if config is not None:
        path = tmp_path / "lambda-gitops.yaml"
        path.write_text(f"log-level: {config}\n")
        arguments += ["--config", str(path)]
    result = run(*arguments, env=env)
    assert result.exit_code == 2, result.output
    levels = {event["level"] for event in log_events(result.stderr)}
    assert ("debug" in levels) is debug_shown


def test_the_log_format_flag_is_taken_by_every_command(repo: Path, state: Path) -> None:
    result = run("plan", "-v", "--log-format", "console", *plan_arguments(repo, state))
    assert "registry call" in result.stderr
    assert log_events(result.stderr) == []
    assert ANSI not in result.stderr  # the console format off a terminal is plain


def test_an_emulator_command_configures_the_log_too(state: Path) -> None:
    result = run("emulator", "-q", "publish", "orders-api", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert logging.getLogger("lambda_emulator").level == logging.WARNING
    assert run("emulator", "publish", "orders-api", "--state", str(state), "-v").exit_code == 0
    assert logging.getLogger("lambda_emulator").level == logging.DEBUG


def test_the_emulator_group_is_left_as_its_own_package_defined_it() -> None:
    from lambda_emulator.cli import emulator_group

    assert "log_level" not in {parameter.name for parameter in emulator_group.params}
    assert "log_level" not in {p.name for p in emulator_group.commands["serve"].params}


# -- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["plan", "reconcile"])
def test_no_color_strips_the_styles_of_plan_and_reconcile(
    repo: Path, state: Path, command: str
) -> None:
    arguments = [command, *(["--once"] if command == "reconcile" else []), "-q"]
    arguments += plan_arguments(repo, state)
    coloured = run(*arguments, color=True)
    plain = run(*arguments, env={"NO_COLOR": "1"}, color=True)
    assert ANSI in coloured.stdout
    assert ANSI not in plain.stdout + plain.stderr
    assert click.unstyle(coloured.stdout).splitlines()[0] == plain.stdout.splitlines()[0]


def test_an_empty_no_color_leaves_colour_on(repo: Path, state: Path) -> None:
    result = run("plan", "-q", *plan_arguments(repo, state), env={"NO_COLOR": ""}, color=True)
    assert ANSI in result.stdout


# -- the progress bar -----------------------------------------------------------------------------


class Terminal:
    """A captured stderr that says it is a terminal."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def drawn(total: int, log: LogSettings, *, shown: bool = True, color: bool | None = None) -> str:
    stream = Terminal()
    with (
        click.Context(click.Command("plan"), color=color),
        progress(
            total,
            log,
            shown=shown,
            stream=stream,  # type: ignore[arg-type]
        ) as advance,
    ):
        for name in range(total):
            if advance is not None:
                advance(str(name))
    return stream.text


def test_a_long_pass_on_a_terminal_draws_a_bar() -> None:
    assert "observing" in drawn(PROGRESS_MINIMUM, LogSettings())
    assert "observing" in drawn(PROGRESS_MINIMUM, LogSettings(level="debug"))


@pytest.mark.parametrize(
    ("total", "log", "shown", "color"),
    [
        pytest.param(PROGRESS_MINIMUM - 1, LogSettings(), True, None, id="a-short-pass"),
        pytest.param(PROGRESS_MINIMUM, LogSettings(level="warning"), True, None, id="quiet"),
        pytest.param(PROGRESS_MINIMUM, LogSettings(level="error"), True, None, id="errors-only"),
        pytest.param(PROGRESS_MINIMUM, LogSettings(), False, None, id="output-json"),
        pytest.param(PROGRESS_MINIMUM, LogSettings(), True, False, id="no-color"),
    ],
)
def test_no_bar_is_drawn_when_nobody_wants_one(
    total: int, log: LogSettings, shown: bool, color: bool | None
) -> None:
    assert drawn(total, log, shown=shown, color=color) == ""


def test_no_bar_is_drawn_when_stderr_is_no_terminal() -> None:
    with progress(PROGRESS_MINIMUM, LogSettings(), stream=sys.stderr) as advance:
        assert advance is None  # pytest's captured stderr is no terminal


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A repository declaring enough functions for a bar; none exists, which is fine: each is
    observed (and found missing) all the same."""
    folder = tmp_path / "fleet"
    folder.mkdir()
    for number in range(PROGRESS_MINIMUM):
        (folder / f"fn-{number}.yaml").write_text(
            "apiVersion: lambda-gitops/v1\nkind: Function\n"
            f"metadata:\n  name: fn-{number}\nspec:\n  aliases:\n    live:\n"
            "      version: $LATEST\n"
        )
    repository = git.Repo.init(folder)
    with repository.config_writer() as config:
        config.set_value("user", "name", "test")
        config.set_value("user", "email", "test@example.com")
    repository.git.add(A=True)
    repository.index.commit("declare a fleet")
    return folder


def on_a_terminal(*arguments: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """stdout, and what a terminal on stderr showed, of ``lambda-gitops`` as a process."""
    controller, terminal = pty.openpty()
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("LAMBDA_GITOPS_", "NO_COLOR"))
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "controller", *arguments],
        stdout=subprocess.PIPE,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env={**environment, **(env or {})},
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end closed: the process is done with it
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(controller)
    return stdout.decode(), shown.decode(errors="replace")


def test_plan_and_reconcile_draw_the_bar_only_for_a_person_watching(
    fleet: Path, tmp_path: Path
) -> None:
    state = tmp_path / "empty.sqlite"
    with EmulatorServer(state):
        pass  # an empty registry: plan may only read one that exists
    registry = ["--repo", str(fleet), "--registry", f"emulated:{state}"]
    _, watched = on_a_terminal("plan", *registry)
    assert "observing" in watched
    stdout, piped = on_a_terminal("plan", "--output", "json", *registry)
    assert "observing" not in piped
    assert len(json.loads(stdout)["functions"]) == PROGRESS_MINIMUM
    _, quiet = on_a_terminal("reconcile", "--once", "-q", *registry)
    assert "observing" not in quiet
    _, uncoloured = on_a_terminal("plan", *registry, env={"NO_COLOR": "1"})
    assert "observing" not in uncoloured
    assert ANSI not in uncoloured

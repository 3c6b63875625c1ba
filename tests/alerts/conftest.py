"""Helpers for the alert tests: the real controller as a process, and Prometheus's tools.

``controller_factory`` prepares what ``lambda-gitops run`` needs (a Git repository of the example
declarations and an emulated registry seeded with the example fleet) and starts the controller on
a free loopback port; every controller is stopped with SIGTERM at the end of the test and must
exit 0. ``promtool`` skips the test when Debian's ``prometheus`` package is missing, or fails it
under CI's ``LAMBDA_GITOPS_REQUIRE_ALL``; the live server is ``tests.prometheus``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.polling import LoggedProcess, free_port, http_get, stop_process, wait_until

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "config" / "prometheus" / "alerts.yaml"
RULE_TESTS = ROOT / "config" / "prometheus" / "alerts_test.yaml"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
EXAMPLES = ROOT / "config" / "examples"
READY_TIMEOUT = 30.0
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@pytest.fixture
def promtool() -> str:
    path = shutil.which("promtool")
    require_tool(path is not None, "promtool is not on PATH (Debian package prometheus)")
    assert path is not None
    return path


@dataclass
class Fleet:
    """The example declarations in a Git repository, and the emulated registry's state file."""

    repo: Path
    state: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``lambda-gitops ARGS`` in a subprocess; fails the test on an unexpected error."""
        return subprocess.run(
            [sys.executable, "-m", "controller", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=_env(),
        )

    def set_alias(self, function: str, alias: str, version: str) -> None:
        """An out-of-band change, as someone in the console would make it."""
        done = self.cli(
            "emulator", "set-alias", function, alias, version, "--state", str(self.state)
        )
        assert done.returncode == 0, done.stdout + done.stderr


class Controller(LoggedProcess):
    """A running ``lambda-gitops run``."""

    def get(self, path: str) -> tuple[int, bytes] | None:
        return http_get(self.url + path)

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, f"the controller exited:\n{self.log()}"
            answer = self.get("/readyz")
            return answer is not None and answer[0] == 200

        wait_until(ready, READY_TIMEOUT, "/readyz to answer 200", diagnostics=self.log)

    def stop(self) -> int:
        try:
            return stop_process(self.process)
        finally:
            self.log_file.close()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_GITOPS_")}
    env.update(GIT_ENV)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def make_fleet(directory: Path) -> Fleet:
    """The example declarations committed to a fresh repository under ``directory``, and the
    registry seeded with the example fleet, which differs from them as the example intends
    (``reconcile --once`` converges it)."""
    repo = directory / "declarations"
    shutil.copytree(EXAMPLES / "declarations", repo)
    for command in (
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        ["git", "commit", "--quiet", "-m", "Declare the example fleet"],
    ):
        subprocess.run(command, cwd=repo, check=True, env=_env(), timeout=30)
    fleet = Fleet(repo=repo, state=directory / "registry.sqlite")
    loaded = fleet.cli("emulator", "load", str(EXAMPLES / "seed.yaml"), "--state", str(fleet.state))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return fleet


def start_controller(fleet: Fleet, directory: Path, *extra: str) -> Controller:
    """``lambda-gitops run --mode detect`` on ``fleet``, its log in ``directory``."""
    port = free_port()
    log_path = directory / f"controller-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "controller",
            "run",
            "--repo",
            str(fleet.repo),
            "--registry",
            f"emulated:{fleet.state}",
            "--listen",
            f"127.0.0.1:{port}",
            "--mode",
            "detect",
            "--log-format",
            "json",
            *extra,
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=_env(),
        cwd=directory,
    )
    return Controller(process, f"http://127.0.0.1:{port}", log_path, log_file)


def stop_controller(controller: Controller) -> None:
    """SIGTERM, which must make it exit 0."""
    code = controller.stop()
    assert code == 0, f"the controller exited {code} after SIGTERM:\n{controller.log()}"


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return make_fleet(tmp_path)


@pytest.fixture
def controller_factory(tmp_path: Path, fleet: Fleet) -> Iterator[Callable[..., Controller]]:
    """Start ``lambda-gitops run --mode detect`` on ``fleet`` with extra flags; each is stopped
    (SIGTERM, exit 0) at the end of the test."""
    started: list[Controller] = []

    def start(*extra: str) -> Controller:
        controller = start_controller(fleet, tmp_path, *extra)
        started.append(controller)
        return controller

    yield start
    codes = [(controller, controller.stop()) for controller in started]
    for controller, code in codes:
        assert code == 0, f"the controller exited {code} after SIGTERM:\n{controller.log()}"

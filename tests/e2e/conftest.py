"""Helpers for end-to-end tests: ``lambda-gitops run`` and ``emulator serve`` as real processes.

Every controller is started as ``python -m controller run`` on a free loopback port with JSON
logs captured to a file, and is stopped with SIGTERM at the end of the test, which must make it
exit 0 within the grace period: every test therefore also checks a clean shutdown. Declarations
live in real Git repositories driven with the git command line, and alias state is read with
boto3 through an emulated registry of the test's own on the same SQLite state file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client.parser import text_string_to_metric_families

from lambda_emulator import EmulatorServer

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

from tests.polling import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "config" / "examples"
REGION = "us-east-1"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
"""Seconds a controller gets to exit after SIGTERM; the tests set a grace period below it."""
SHUTDOWN_GRACE = "10"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def http_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """The status and body of one request; an HTTP error status is an answer, not a raise."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), bytes(error.read())


def github_signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def parse_metrics(text: str) -> Samples:
    """Every sample of a ``/metrics`` page, by name and label set."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
    return samples


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


# -- the controller process -----------------------------------------------------------------------


@dataclass
class ControllerProcess:
    """A running ``lambda-gitops run``: its HTTP endpoints, its log, and a clean stop."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    log_file: IO[bytes]
    stopped: bool = False

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:  # a line being written as we read
                    continue
        return events

    def events(self, name: str, **fields: object) -> list[dict[str, Any]]:
        return [
            event
            for event in self.log_events()
            if event.get("event") == name and all(event.get(k) == v for k, v in fields.items())
        ]

    def get(self, path: str) -> tuple[int, bytes]:
        return http_request(self.url + path)

    def status(self) -> dict[str, Any]:
        code, body = self.get("/status")
        assert code == 200, body
        document: dict[str, Any] = json.loads(body)
        return document

    def metrics_text(self) -> str:
        code, body = self.get("/metrics")
        assert code == 200, body
        return body.decode()

    def metrics(self) -> Samples:
        return parse_metrics(self.metrics_text())

    def passes(self) -> float:
        samples = self.metrics()
        return sum(
            sample(samples, "lambda_gitops_reconcile_total", outcome=outcome) or 0.0
            for outcome in ("success", "failure")
        )

    def wait_for_passes(self, count: int, timeout: float = 20.0) -> None:
        """Wait until ``count`` more passes have finished than now."""
        target = self.passes() + count
        wait_until(
            lambda: self.passes() >= target,
            timeout,
            f"{count} more passes",
            diagnostics=self.log,
        )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        self._wait_for("/readyz", timeout)

    def wait_serving(self, timeout: float = READY_TIMEOUT) -> None:
        self._wait_for("/healthz", timeout)

    def _wait_for(self, path: str, timeout: float) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"the controller exited with {self.process.returncode}:\n{self.log()}")
            try:
                return self.get(path)[0] == 200
            except OSError:
                return False

        wait_until(answers, timeout, f"{path} to answer 200", diagnostics=self.log)

    def stop(self) -> None:
        """SIGTERM, then the process must exit 0 within the grace period."""
        if self.stopped:
            return
        self.stopped = True
        try:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the controller ignored SIGTERM for {STOP_TIMEOUT} s:\n{self.log()}")
            assert code == 0, f"the controller exited with {code} on SIGTERM:\n{self.log()}"
        finally:
            self.log_file.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as when a node dies."""
        self.stopped = True
        self.process.kill()
        self.process.wait()
        self.log_file.close()


@dataclass
class ControllerFactory:
    tmp_path: Path
    started: list[ControllerProcess] = field(default_factory=list)

    def __call__(
        self,
        *arguments: str,
        env: dict[str, str] | None = None,
        wait: str = "ready",
        resync_interval: float = 1.0,
        poll_interval: float = 0.5,
    ) -> ControllerProcess:
        """Start ``run`` with ``arguments``; ``wait`` is ``ready``, ``serving`` or ``none``."""
        port = free_port()
        log_path = self.tmp_path / f"controller-{len(self.started)}.log"
        log_file = log_path.open("wb")
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_GITOPS_")},
            **FAKE_AWS,
            "LAMBDA_GITOPS_CACHE_DIR": str(self.tmp_path / "cache"),
            "LAMBDA_GITOPS_SHUTDOWN_GRACE": SHUTDOWN_GRACE,
            **(env or {}),
        }
        command = [
            sys.executable,
            "-m",
            "controller",
            "run",
            "--listen",
            f"127.0.0.1:{port}",
            "--log-format",
            "json",
            "--resync-interval",
            str(resync_interval),
            "--poll-interval",
            str(poll_interval),
            *arguments,
        ]
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            cwd=self.tmp_path,
        )
        controller = ControllerProcess(process, f"http://127.0.0.1:{port}", log_path, log_file)
        self.started.append(controller)
        if wait == "ready":
            controller.wait_ready()
        elif wait == "serving":
            controller.wait_serving()
        return controller


@pytest.fixture
def start_controller(tmp_path: Path) -> Iterator[ControllerFactory]:
    """Start controllers; each one still running at the end is stopped with SIGTERM and must
    exit 0, and any process left over is killed."""
    factory = ControllerFactory(tmp_path)
    yield factory
    failures = []
    for controller in factory.started:
        try:
            controller.stop()
        except BaseException as error:  # every process must be ended, whatever one did
            failures.append(str(error))
        finally:
            if controller.process.poll() is None:
                controller.process.kill()
                controller.process.wait()
    if failures:
        pytest.fail("\n".join(failures))


# -- the emulated registry as a process of its own ------------------------------------------------


@dataclass
class ServedEmulator:
    process: subprocess.Popen[str]
    endpoint_url: str

    def stats(self) -> dict[str, dict[str, int]]:
        code, body = http_request(f"{self.endpoint_url}/_emulator/stats")
        assert code == 200, body
        document: dict[str, dict[str, int]] = json.loads(body)
        return document

    def writes(self) -> int:
        requests = self.stats()["requests"]
        return sum(
            requests.get(operation, 0)
            for operation in (
                "PublishVersion",
                "UpdateFunctionCode",
                "UpdateFunctionConfiguration",
                "CreateAlias",
                "UpdateAlias",
                "DeleteAlias",
            )
        )


@pytest.fixture
def serve_emulator(tmp_path: Path) -> Iterator[Callable[..., ServedEmulator]]:
    """Start ``lambda-gitops emulator serve`` processes; each is stopped at the end."""
    served: list[ServedEmulator] = []

    def start(state: Path, *faults: str) -> ServedEmulator:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "controller",
                "emulator",
                "serve",
                "--state",
                str(state),
                "--port",
                "0",
                "--s3-root",
                str(tmp_path / "s3"),
                *faults,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        assert process.stdout is not None
        first = process.stdout.readline()
        if " at " not in first:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"emulator serve did not start: {first!r} {err}")
        emulator = ServedEmulator(process, first.split(" at ")[1].split()[0])
        served.append(emulator)
        return emulator

    yield start
    for emulator in served:
        emulator.process.send_signal(signal.SIGTERM)
        try:
            emulator.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            emulator.process.kill()
            emulator.process.communicate()


# -- alias state ----------------------------------------------------------------------------------


def lambda_client(endpoint_url: str, *, max_attempts: int = 10) -> LambdaClient:
    client: LambdaClient = boto3.client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"mode": "standard", "max_attempts": max_attempts}),
    )
    return client


AliasView = tuple[str, tuple[tuple[str, float], ...]]
"""An alias as seen: its version, and its routing as sorted (version, weight) pairs."""


def alias_views(client: LambdaClient, function: str) -> dict[str, AliasView]:
    views: dict[str, AliasView] = {}
    for alias in client.list_aliases(FunctionName=function)["Aliases"]:
        weights = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
        views[alias["Name"]] = (alias["FunctionVersion"], tuple(sorted(weights.items())))
    return views


class Aliases:
    """Reads aliases from a state file through an emulated registry of the test's own."""

    def __init__(self, endpoint_url: str, state: Path) -> None:
        self._client = lambda_client(endpoint_url)
        self.endpoint_url = endpoint_url
        self.state = state

    def of(self, function: str) -> dict[str, AliasView]:
        return alias_views(self._client, function)

    def version(self, function: str, alias: str) -> str:
        return self.of(function)[alias][0]

    def close(self) -> None:
        self._client.close()


class OutOfBand:
    """Moves aliases back to version 1 by hand, again and again from a thread of its own, so
    that whichever controller owns them keeps writing them back while a test watches who writes.

    ``aliases`` are (function, alias) pairs. With ``only_from``, an alias is moved only while it
    points at that version, that is once a controller has put it back; without it, it is moved
    every time. A failed call is passed over: the next round tries again.
    """

    def __init__(
        self, endpoint_url: str, aliases: Sequence[tuple[str, str]], *, only_from: str | None = None
    ) -> None:
        self._client = lambda_client(endpoint_url)
        self._aliases = list(aliases)
        self._only_from = only_from
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="out-of-band", daemon=True)

    def __enter__(self) -> OutOfBand:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            for function, alias in self._aliases:
                try:
                    live = self._client.get_alias(FunctionName=function, Name=alias)
                    if self._only_from is None or live["FunctionVersion"] == self._only_from:
                        self._client.update_alias(
                            FunctionName=function,
                            Name=alias,
                            FunctionVersion="1",
                            RevisionId=live["RevisionId"],
                        )
                except (BotoCoreError, ClientError):
                    continue


@pytest.fixture
def seeded_state(tmp_path: Path) -> Path:
    """An emulated registry's state file seeded with the example fleet."""
    state = tmp_path / "registry.sqlite"
    emulator_cli("load", str(EXAMPLES / "seed.yaml"), "--state", str(state))
    return state


@pytest.fixture
def aliases(seeded_state: Path, tmp_path: Path) -> Iterator[Aliases]:
    with EmulatorServer(seeded_state, s3_root=tmp_path / "s3") as server:
        reader = Aliases(server.endpoint_url, seeded_state)
        yield reader
        reader.close()


def emulator_cli(*arguments: str) -> str:
    """Run an ``emulator`` command out of band, as a person or a pipeline would; exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "controller", "emulator", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def lambda_gitops(
    *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "controller", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={**os.environ, **FAKE_AWS, **(env or {})},
    )


# -- Git ------------------------------------------------------------------------------------------


def git(*arguments: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(arguments)}: {result.stderr}"
    return result.stdout.strip()


class DeclarationsRepo:
    """A working clone of declarations: edit files, commit, push."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def edit(self, name: str, old: str, new: str) -> None:
        file = self.path / name
        text = file.read_text()
        assert old in text, f"{old!r} is not in {name}"
        file.write_text(text.replace(old, new, 1))

    def commit(self, message: str) -> str:
        git("add", "-A", cwd=self.path)
        git("commit", "--quiet", "-m", message, cwd=self.path)
        return self.head()

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.path)

    def push(self, remote: str = "origin") -> None:
        git("push", "--quiet", remote, "HEAD:main", cwd=self.path)


@pytest.fixture
def declarations_repo(tmp_path: Path) -> DeclarationsRepo:
    """The example declarations committed to a new repository on branch ``main``."""
    folder = tmp_path / "declarations"
    shutil.copytree(EXAMPLES / "declarations", folder)
    git("init", "--quiet", "--initial-branch=main", cwd=folder)
    repo = DeclarationsRepo(folder)
    repo.commit("declare the example fleet")
    return repo


def bare_remote(repo: DeclarationsRepo, path: Path) -> Path:
    """A bare copy of ``repo`` at ``path``, set as its ``origin``."""
    git("clone", "--quiet", "--bare", str(repo.path), str(path), cwd=repo.path.parent)
    git("remote", "add", "origin", str(path), cwd=repo.path)
    return path

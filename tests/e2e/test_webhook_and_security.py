"""End to end: the webhook makes the controller fetch a remote at once, only when it is signed,
and no credential ever shows in what the controller writes or serves.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.e2e.conftest import (
    Aliases,
    ControllerFactory,
    ControllerProcess,
    DeclarationsRepo,
    bare_remote,
    git,
    github_signature,
    http_request,
    sample,
)
from tests.polling import free_port, wait_until

SECRET = b"webhook-secret-for-the-test"
PROMOTE = ("orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41")


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook-secret"
    path.write_bytes(SECRET + b"\n")
    return path


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A ``git daemon`` serving (and accepting pushes to) the bare repositories under a folder."""
    git_binary = shutil.which("git")
    exec_path = subprocess.run(
        ["git", "--exec-path"], capture_output=True, text=True, check=False
    ).stdout.strip()
    require_tool(
        git_binary is not None and (Path(exec_path) / "git-daemon").exists(),
        "git daemon is not installed",
    )
    base = tmp_path / "served"
    base.mkdir()
    port = free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={base}",
            "--export-all",
            "--reuseaddr",
            "--enable=receive-pack",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return daemon.poll() is not None and pytest.fail("git daemon exited at start")

    try:
        wait_until(listening, 10, "git daemon to listen")
        yield base, port
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def post_webhook(
    controller: ControllerProcess, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    return http_request(
        controller.url + "/webhook",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json", **headers},
    )


def test_the_webhook_makes_the_controller_fetch_a_git_daemon_remote_at_once(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    aliases: Aliases,
    git_daemon: tuple[Path, int],
    secret_file: Path,
) -> None:
    base, port = git_daemon
    bare_remote(declarations_repo, base / "decl.git")
    git(
        "remote",
        "set-url",
        "origin",
        f"git://127.0.0.1:{port}/decl.git",
        cwd=declarations_repo.path,
    )
    controller = start_controller(
        "--repo",
        f"git://127.0.0.1:{port}/decl.git",
        "--ref",
        "main",
        "--registry",
        f"emulated:{aliases.state}",
        "--webhook-secret-file",
        str(secret_file),
        poll_interval=3600,
    )
    wait_until(
        lambda: aliases.version("orders-api", "live") == "2",
        20,
        "the first pass",
        diagnostics=controller.log,
    )
    declarations_repo.edit(*PROMOTE)
    promoted = declarations_repo.commit("roll live back to r41")
    declarations_repo.push()
    assert controller.status()["revision"] != promoted

    body = b'{"ref": "refs/heads/main"}'
    code, _ = post_webhook(
        controller, body, {"X-Hub-Signature-256": github_signature(SECRET, body)}
    )
    assert code == 202

    wait_until(
        lambda: aliases.version("orders-api", "live") == "1",
        15,
        "live to move after the webhook (the poll interval is an hour)",
        diagnostics=controller.log,
    )
    assert controller.status()["revision"] == promoted


def test_an_unsigned_or_wrongly_signed_webhook_is_refused_and_fetches_nothing(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    tmp_path: Path,
    secret_file: Path,
) -> None:
    remote = bare_remote(declarations_repo, tmp_path / "remote.git")
    first = declarations_repo.head()
    controller = start_controller(
        "--repo",
        f"file://{remote}",
        "--ref",
        "main",
        "--registry",
        f"emulated:{seeded_state}",
        "--webhook-secret-file",
        str(secret_file),
        poll_interval=3600,
    )
    fetched_at = controller.status()["lastFetchAt"]
    assert controller.status()["revision"] == first
    declarations_repo.edit(*PROMOTE)
    pushed = declarations_repo.commit("roll live back to r41")
    declarations_repo.push()

    body = b'{"ref": "refs/heads/main"}'
    refusals = [
        {},
        {"X-Hub-Signature-256": github_signature(b"not-the-secret", body)},
        {"X-Signature-256": "sha256=" + "0" * 64},
        {"X-Gitlab-Token": "not-the-secret"},
        # One right signature does not excuse a wrong one next to it.
        {
            "X-Hub-Signature-256": github_signature(SECRET, body),
            "X-Gitlab-Token": "not-the-secret",
        },
    ]
    for headers in refusals:
        code, answer = post_webhook(controller, body, headers)
        assert code == 401, (headers, answer)
        assert SECRET not in answer

    # The refusal is logged before the answer is sent, and the fetch would be logged before
    # the answer too: so the log shows, without waiting, that no fetch was asked for.
    assert len(controller.events("webhook refused", status=401)) == len(refusals)
    assert controller.events("webhook received; fetching") == []
    status = controller.status()
    assert status["revision"] == first
    assert status["lastFetchAt"] == fetched_at

    # The same push with the right signature is fetched: the refusals were the only obstacle.
    code, _ = post_webhook(controller, body, {"X-Gitlab-Token": SECRET.decode()})
    assert code == 202
    wait_until(
        lambda: controller.status()["revision"] == pushed,
        15,
        "the signed webhook to fetch the push",
        diagnostics=controller.log,
    )
    assert SECRET.decode() not in controller.log()


def test_an_oversized_webhook_body_is_refused_with_413(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    secret_file: Path,
) -> None:
    controller = start_controller(
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
        "--webhook-secret-file",
        str(secret_file),
    )
    body = b"x" * (1024 * 1024 + 1)
    host, port = controller.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("POST", "/webhook")
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("X-Hub-Signature-256", github_signature(SECRET, body))
        connection.endheaders()
        # The server may answer and close before the whole body is sent.
        with contextlib.suppress(OSError):
            connection.send(body)
        response = connection.getresponse()
        with response:
            assert response.status == 413
            response.read()
    finally:
        connection.close()
    assert controller.events("webhook received; fetching") == []


def test_credentials_never_appear_in_logs_metrics_or_status(
    start_controller: ControllerFactory, seeded_state: Path
) -> None:
    url_secret, env_secret = "SECRET-in-the-url-4711", "SECRET2-in-the-env-0815"
    controller = start_controller(
        "--repo",
        f"https://user:{url_secret}@127.0.0.1:1/repo.git",
        "--ref",
        "main",
        "--registry",
        f"emulated:{seeded_state}",
        env={"LAMBDA_GITOPS_GIT_TOKEN": env_secret},
        wait="serving",
        poll_interval=0.3,
    )

    def failures() -> float:
        return sample(controller.metrics(), "lambda_gitops_source_fetch_failures_total") or 0.0

    wait_until(lambda: failures() >= 3, 20, "several failed fetches", diagnostics=controller.log)
    status = controller.status()
    assert status["sourceError"]
    assert status["revision"] is None
    assert controller.get("/readyz")[0] == 503
    assert controller.get("/healthz")[0] == 200
    assert controller.process.poll() is None
    assert controller.events("source sync failed")

    shown = {
        "log": controller.log(),
        "metrics": controller.metrics_text(),
        "status": str(status),
        "repository": status["repository"],
    }
    for where, text in shown.items():
        for secret in (url_secret, env_secret, "SECRET"):
            assert secret not in text, f"{secret} appears in the {where}"
    assert "127.0.0.1:1/repo.git" in status["repository"]

"""End to end, as a user runs it: a secret given to the controller never comes back out.

Not in what ``run`` prints, not in ``/status`` or ``/metrics``, not in the error a command
prints, whatever carries it there: a ``--repo`` whose port does not parse, a remote that echoes
the Authorization header it was sent into git's error message, a declaration error quoting a
value that holds the token, or click quoting an argument it refused.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.conftest import ControllerFactory, DeclarationsRepo, lambda_gitops, sample
from tests.polling import wait_until

TOKEN = "TOKENVALUE-from-the-env-4711"
WEBHOOK_SECRET = "webhook-secret-value-0815"
PASSWORD = "SECRETPASS"
UNPARSEABLE = [
    f"http://u:{PASSWORD}@127.0.0.1:80a/x.git",
    f"http://u:{PASSWORD}@127.0.0.1:99999/x.git",
]


def basic(user: str, token: str) -> str:
    return base64.b64encode(f"{user}:{token}".encode()).decode()


def assert_not_shown(secrets: tuple[str, ...], **shown: str) -> None:
    for where, text in shown.items():
        for secret in secrets:
            assert secret not in text, f"{secret} appears in {where}:\n{text}"


@pytest.fixture
def webhook_secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook-secret"
    path.write_text(WEBHOOK_SECRET + "\n")
    return path


class _EchoingRemote(BaseHTTPRequestHandler):
    """A Git HTTP server that refuses every fetch with a message quoting the credentials it was
    sent, as a careless proxy or server might; git prints the message as "remote error"."""

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization", "none")
        decoded = base64.b64decode(authorization.split()[-1] + "==").decode(errors="replace")
        line = f"ERR refused {authorization} ({decoded})\n".encode()
        body = f"{len(line) + 4:04x}".encode() + line
        self.send_response(200)
        self.send_header("Content-Type", "application/x-git-upload-pack-advertisement")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what the controller shows, not what this server saw."""


@pytest.fixture
def echoing_remote() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingRemote)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/decl.git"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- run ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("repo", UNPARSEABLE, ids=["port 80a", "port 99999"])
def test_run_refuses_a_url_that_does_not_parse_and_does_not_show_its_password(
    repo: str, seeded_state: Path, tmp_path: Path
) -> None:
    result = lambda_gitops(
        "run",
        "--repo",
        repo,
        "--registry",
        f"emulated:{seeded_state}",
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
        env={"LAMBDA_GITOPS_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: the repository URL http://127.0.0.1:" in result.stderr
    assert "does not parse: a port must be a number from 0 to 65535" in result.stderr
    assert "Traceback" not in result.stderr
    assert_not_shown((PASSWORD,), stdout=result.stdout, stderr=result.stderr)


def test_a_remote_that_echoes_the_token_into_gits_error_does_not_get_it_shown(
    start_controller: ControllerFactory,
    seeded_state: Path,
    echoing_remote: str,
    webhook_secret_file: Path,
) -> None:
    controller = start_controller(
        "--repo",
        echoing_remote,
        "--ref",
        "main",
        "--registry",
        f"emulated:{seeded_state}",
        "--webhook-secret-file",
        str(webhook_secret_file),
        env={"LAMBDA_GITOPS_GIT_TOKEN": TOKEN},
        wait="serving",
        poll_interval=0.3,
    )

    def failures() -> float:
        return sample(controller.metrics(), "lambda_gitops_source_fetch_failures_total") or 0.0

    wait_until(lambda: failures() >= 2, 20, "failed fetches", diagnostics=controller.log)
    failed = controller.events("source sync failed")
    assert failed
    # The remote's message did reach the log, masked: the test would prove nothing otherwise.
    assert "fatal: remote error: refused Basic ***" in failed[-1]["error"]
    status = controller.status()
    assert status["revision"] is None
    assert_not_shown(
        (TOKEN, basic("x-access-token", TOKEN), WEBHOOK_SECRET),
        log=controller.log(),
        status=json.dumps(status),
        metrics=controller.metrics_text(),
    )


def test_a_secret_quoted_by_a_declaration_error_is_masked_in_status_and_log(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
) -> None:
    (declarations_repo.path / "pasted.yaml").write_text(
        "apiVersion: lambda-gitops/v1\n"
        f'kind: "https://deploy:{PASSWORD}@git.example/x.git {TOKEN}"\n'
        "metadata: {name: pasted}\n"
        "spec: {}\n"
    )
    declarations_repo.commit("a declaration with a secret pasted into it")
    controller = start_controller(
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
        env={"LAMBDA_GITOPS_GIT_TOKEN": TOKEN},
    )
    wait_until(
        lambda: controller.status()["declarationErrors"] != [],
        20,
        "the declaration error in /status",
        diagnostics=controller.log,
    )
    status = controller.status()
    assert any(
        "pasted.yaml" in error and "https://git.example/x.git ***" in error
        for error in status["declarationErrors"]
    ), status["declarationErrors"]
    assert_not_shown(
        (PASSWORD, TOKEN),
        log=controller.log(),
        status=json.dumps(status),
        metrics=controller.metrics_text(),
    )


# -- the one-shot commands ------------------------------------------------------------------------

REPOS_WITH_A_TOKEN = [
    "http://TOKENVALUE@git.example/x.git",
    "https://deploy:TOKENVALUE@git.example/x.git",
    "http://u:TOKENVALUE@git.example:80a/x.git",
    "http://u:TOKENVALUE@git.example:99999/x.git",
    "u:TOKENVALUE@git.example:org/x.git",
]


@pytest.mark.parametrize("command", [["plan"], ["reconcile", "--once"], ["validate"]], ids=" ".join)
def test_a_command_given_a_url_with_a_token_fails_clearly_without_showing_it(
    command: list[str], seeded_state: Path
) -> None:
    registry = [] if command == ["validate"] else ["--registry", f"emulated:{seeded_state}"]
    for repo in REPOS_WITH_A_TOKEN:
        result = lambda_gitops(*command, "--repo", repo, *registry)
        assert result.returncode == 1, (repo, result.stdout, result.stderr)
        assert "this command reads a local clone" in result.stderr, (repo, result.stderr)
        assert "Traceback" not in result.stderr
        assert_not_shown(("TOKENVALUE",), stdout=result.stdout, stderr=result.stderr)


@pytest.mark.parametrize(
    "arguments",
    [
        ["plan", "http://TOKENVALUE@git.example/x.git"],
        ["run", "--mode", "https://u:TOKENVALUE@git.example:80a/x.git"],
        ["validate", "--ref", "main", "extra", "u:TOKENVALUE@git.example:x.git"],
    ],
    ids=["extra argument", "invalid choice", "second extra argument"],
)
def test_a_usage_error_quoting_a_token_does_not_show_it(arguments: list[str]) -> None:
    result = lambda_gitops(*arguments, env={"LAMBDA_GITOPS_GIT_TOKEN": TOKEN})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Error: " in result.stderr
    assert "git.example" in result.stderr  # the argument is named, its token masked
    assert_not_shown(("TOKENVALUE", TOKEN), stdout=result.stdout, stderr=result.stderr)


def test_an_error_quoting_the_environments_token_does_not_show_it(
    declarations_repo: DeclarationsRepo, seeded_state: Path, tmp_path: Path
) -> None:
    result = lambda_gitops(
        "run",
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
        "--listen",
        TOKEN,
        env={"LAMBDA_GITOPS_GIT_TOKEN": TOKEN, "LAMBDA_GITOPS_CACHE_DIR": str(tmp_path / "c")},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: --listen '***' is not HOST:PORT" in result.stderr
    assert_not_shown((TOKEN,), stdout=result.stdout, stderr=result.stderr)


# -- a secret environment value in a declaration --------------------------------------------------

ENVIRONMENT_SECRET = "env-secret-value-2718"
NEXT_ENVIRONMENT_SECRET = "env-secret-value-3141"
R42 = '      description: "release 42"\n'


def with_secret(value: str) -> str:
    return (
        R42
        + "      configuration:\n"
        + "        memorySize: 256\n"
        + "        environment:\n"
        + "          STAGE: prod\n"
        + f'          API_KEY: {{value: "{value}", secret: true}}\n'
    )


def test_a_secret_environment_value_is_never_shown_by_any_command_log_or_endpoint(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
) -> None:
    """r42 of the example fleet declares a secret: plan, diff, reconcile (with every registry
    call logged), registry show and a running controller's log, /status and /metrics say
    everything about it but its value, before and after the value changes."""
    declarations_repo.edit("orders-api.yaml", R42, with_secret(ENVIRONMENT_SECRET))
    declarations_repo.commit("r42 gets its configuration")
    repo = ["--repo", str(declarations_repo.path)]
    registry = ["--registry", f"emulated:{seeded_state}"]

    plan = lambda_gitops("plan", *repo, *registry)
    plan_json = lambda_gitops("plan", *repo, *registry, "--output", "json")
    diff = lambda_gitops("diff", *repo, "--base", "HEAD~1", "--head", "HEAD", "--live", *registry)
    reconcile = lambda_gitops("reconcile", "--once", *repo, *registry, "-v", "--log-format", "json")
    shown = lambda_gitops("registry", "show", "orders-api", *registry, "--output", "json")

    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert (
        "publish r42 (h7Q2n1ZpQyW0r6cK3v9mJ8sTqLx5bYdEoF4gHuIaVwA=, environment.API_KEY (secret), "
        'environment.STAGE "prod", memorySize 256)'
    ) in plan.stdout
    (orders,) = [f for f in json.loads(plan_json.stdout)["functions"] if f["name"] == "orders-api"]
    publish = next(action for action in orders["actions"] if action["action"] == "publish")
    assert publish["configuration"]["environment"]["API_KEY"] == "(secret)"
    assert "+ version r42" not in diff.stdout  # r42 was declared already: its fields changed
    assert "environment.API\\_KEY (secret)" in diff.stdout
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    assert '"operation": "UpdateFunctionConfiguration"' in reconcile.stderr
    assert lambda_gitops("plan", *repo, *registry).returncode == 0
    assert_not_shown(
        (ENVIRONMENT_SECRET,),
        plan=plan.stdout + plan.stderr,
        plan_json=plan_json.stdout + plan_json.stderr,
        diff=diff.stdout + diff.stderr,
        reconcile=reconcile.stdout + reconcile.stderr,
        registry_show=shown.stdout + shown.stderr,
    )

    declarations_repo.edit(
        "orders-api.yaml", with_secret(ENVIRONMENT_SECRET), with_secret(NEXT_ENVIRONMENT_SECRET)
    )
    declarations_repo.commit("r42 gets a new API key")
    controller = start_controller(*repo, *registry, "--log-level", "debug")
    wait_until(
        lambda: bool(controller.events("action", action="publish", outcome="applied")),
        20,
        "the publish of the new API key",
        diagnostics=controller.log,
    )
    assert_not_shown(
        (ENVIRONMENT_SECRET, NEXT_ENVIRONMENT_SECRET),
        log=controller.log(),
        status=json.dumps(controller.status()),
        metrics=controller.metrics_text(),
    )

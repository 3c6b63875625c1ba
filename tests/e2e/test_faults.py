"""End to end under faults: a throttling, failing, slow registry; a controller killed mid-pass;
a Git remote that goes away and comes back.

These tests run the emulated registry as a process of its own (``emulator serve``) with its
faults on, and the controller against it with ``--registry aws --endpoint-url``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from tests.backends import code_sha256, make_zip
from tests.e2e.conftest import (
    ControllerFactory,
    DeclarationsRepo,
    ServedEmulator,
    alias_views,
    bare_remote,
    emulator_cli,
    git,
    lambda_client,
    lambda_gitops,
    sample,
)
from tests.polling import wait_until

FUNCTIONS = ("orders-api", "billing-worker")
_CODE_SHA = re.compile(r'codeSha256:\s*"([^"]+)"')


class InvariantChecker:
    """Polls the aliases through a client of its own, for as long as the test runs, and keeps
    every (function, alias, version, routing) it ever sees."""

    def __init__(self, endpoint_url: str) -> None:
        self._client = lambda_client(endpoint_url)
        self._stop = threading.Event()
        self.seen: set[tuple[str, str, str, tuple[tuple[str, float], ...]]] = set()
        self.polls = 0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="invariant-checker", daemon=True)

    def __enter__(self) -> InvariantChecker:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for function in FUNCTIONS:
                try:
                    views = alias_views(self._client, function)
                except (BotoCoreError, ClientError):
                    self.errors += 1
                    continue
                for alias, (version, routing) in views.items():
                    self.seen.add((function, alias, version, routing))
            self.polls += 1
            # About 4 requests a second, so that the controller keeps most of the quota.
            self._stop.wait(0.5)


def test_the_controller_converges_through_throttling_errors_and_update_windows(
    start_controller: ControllerFactory,
    serve_emulator: Callable[..., ServedEmulator],
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
) -> None:
    emulator = serve_emulator(
        seeded_state,
        *("--rate-limit", "8", "--error-rate", "0.05", "--update-seconds", "0.5", "--seed", "3"),
    )
    declared: dict[str, set[str]] = {function: set() for function in FUNCTIONS}

    def remember_declared() -> None:
        for function in FUNCTIONS:
            text = (declarations_repo.path / f"{function}.yaml").read_text()
            declared[function].update(_CODE_SHA.findall(text))

    remember_declared()
    with InvariantChecker(emulator.endpoint_url) as checker:
        wait_until(lambda: checker.polls >= 1, 20, "the checker's first poll")
        controller = start_controller(
            "--registry", "aws", "--endpoint-url", emulator.endpoint_url,
            "--repo", str(declarations_repo.path),
        )  # fmt: skip
        # A promotion, and a new version whose code the controller uploads from the repository.
        declarations_repo.edit(
            "orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41"
        )
        package = make_zip("def handler(event, context):\n    return {'release': 9}\n")
        (declarations_repo.path / "artifacts" / "billing-worker-r9.zip").write_bytes(package)
        declarations_repo.edit(
            "billing-worker.yaml",
            "  aliases:",
            f'    r9:\n      codeSha256: "{code_sha256(package)}"\n'
            "      code:\n        zipFile: artifacts/billing-worker-r9.zip\n  aliases:",
        )
        declarations_repo.edit(
            "billing-worker.yaml", "beta:\n      version: r8", "beta:\n      version: r9"
        )
        remember_declared()
        final = declarations_repo.commit("promote r41, release r9 to beta")

        def converged() -> bool:
            status = controller.status()
            return status["revision"] == final and all(
                status["functions"].get(function, {}).get("status") == "synced"
                and status["functions"][function]["lastAppliedRevision"] == final
                for function in FUNCTIONS
            )

        wait_until(converged, 90, "convergence under faults", diagnostics=controller.log)
        controller.wait_for_passes(1, timeout=30)

    client = lambda_client(emulator.endpoint_url)
    try:
        code_of = {
            (function, version["Version"]): version["CodeSha256"]
            for function in FUNCTIONS
            for version in client.list_versions_by_function(FunctionName=function)["Versions"]
        }
        final_aliases = {function: alias_views(client, function) for function in FUNCTIONS}
    finally:
        client.close()

    assert checker.polls >= 3
    for function, alias, version, routing in sorted(checker.seen):
        for pointed in (version, *(extra for extra, _ in routing)):
            assert code_of[(function, pointed)] in declared[function], (
                f"{function}:{alias} pointed at version {pointed}, whose code no declaration names"
            )
    assert final_aliases["orders-api"]["live"] == ("1", ())
    beta = final_aliases["billing-worker"]["beta"][0]
    assert code_of[("billing-worker", beta)] == code_sha256(package)
    assert final_aliases["billing-worker"]["live"] == ("1", ())


def _fleet(tmp_path: Path, size: int) -> tuple[Path, DeclarationsRepo]:
    """A seeded registry of ``size`` functions with live on version 1, and declarations that
    move live to version 2 and add a beta alias on version 1: two writes per function."""

    def sha(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    seed = ["functions:"]
    folder = tmp_path / "fleet"
    folder.mkdir()
    for index in range(size):
        name = f"svc-{index}"
        old, new = sha(f"{name}-old"), sha(f"{name}-new")
        seed += [
            f"  - name: {name}",
            f'    codeSha256: "{new}"',
            f'    versions: ["{old}", "{new}"]',
            '    aliases: {live: {version: "1"}}',
        ]
        (folder / f"{name}.yaml").write_text(
            "apiVersion: lambda-gitops/v1\nkind: Function\n"
            f"metadata:\n  name: {name}\nspec:\n  versions:\n"
            f'    old: {{codeSha256: "{old}"}}\n    new: {{codeSha256: "{new}"}}\n'
            "  aliases:\n    live: {version: new}\n    beta: {version: old}\n"
        )
    seed_file = tmp_path / "fleet-seed.yaml"
    seed_file.write_text("\n".join(seed) + "\n")
    state = tmp_path / "fleet.sqlite"
    emulator_cli("load", str(seed_file), "--state", str(state))
    git("init", "--quiet", "--initial-branch=main", cwd=folder)
    repo = DeclarationsRepo(folder)
    repo.commit("declare the fleet")
    return state, repo


FLEET = 8
FLEET_WRITES = 2 * FLEET


def _fleet_converged(emulator: ServedEmulator, live: str = "2") -> bool:
    """Whether every function of the fleet has ``live`` on version ``live``, beta on 1."""
    client = lambda_client(emulator.endpoint_url)
    try:
        return all(
            alias_views(client, f"svc-{index}") == {"live": (live, ()), "beta": ("1", ())}
            for index in range(FLEET)
        )
    finally:
        client.close()


def test_a_controller_killed_mid_pass_converges_after_a_restart(
    start_controller: ControllerFactory,
    serve_emulator: Callable[..., ServedEmulator],
    tmp_path: Path,
) -> None:
    state, repo = _fleet(tmp_path, FLEET)
    emulator = serve_emulator(state, "--latency-ms", "100")
    registry = ("--registry", "aws", "--endpoint-url", emulator.endpoint_url)
    arguments = (*registry, "--repo", str(repo.path), "--concurrency", "1")
    first = start_controller(*arguments, wait="serving")
    wait_until(lambda: emulator.writes() >= 1, 30, "the first write", diagnostics=first.log)
    first.kill()
    written = emulator.writes()
    assert written < FLEET_WRITES, "the pass ended before the kill; make it longer"

    second = start_controller(*arguments)
    wait_until(
        lambda: _fleet_converged(emulator),
        60,
        "convergence after the restart",
        diagnostics=second.log,
    )
    planned = lambda_gitops("plan", "--repo", str(repo.path), *registry)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    writes = emulator.writes()
    second.wait_for_passes(2, timeout=40)
    assert emulator.writes() == writes
    assert second.status()["functions"]["svc-0"]["status"] == "synced"


def test_a_controller_killed_during_a_targeted_pass_converges_after_a_restart(
    start_controller: ControllerFactory,
    serve_emulator: Callable[..., ServedEmulator],
    tmp_path: Path,
) -> None:
    """A commit that moves every function's ``live`` back is applied by a targeted pass; the
    controller is killed after its first write, and the one started after it finishes."""
    state, repo = _fleet(tmp_path, FLEET)
    emulator = serve_emulator(state, "--latency-ms", "100")
    registry = ("--registry", "aws", "--endpoint-url", emulator.endpoint_url)
    arguments = (*registry, "--repo", str(repo.path), "--concurrency", "1")
    first = start_controller(*arguments, "--resync-interval", "3600", wait="serving")
    wait_until(
        lambda: _fleet_converged(emulator), 60, "the first convergence", diagnostics=first.log
    )
    wait_until(
        lambda: first.events("full pass complete"), 30, "the start-up pass", diagnostics=first.log
    )
    converged = emulator.writes()
    for index in range(FLEET):
        repo.edit(f"svc-{index}.yaml", "live: {version: new}", "live: {version: old}")
    repo.commit("move every live alias back")
    wait_until(lambda: emulator.writes() > converged, 30, "a targeted write", diagnostics=first.log)
    first.kill()
    assert first.events("pass", kind="targeted") == [], "the targeted pass ended before the kill"
    assert emulator.writes() < converged + FLEET, "every write was made before the kill"

    second = start_controller(*arguments)

    wait_until(
        lambda: _fleet_converged(emulator, live="1"),
        60,
        "convergence after the restart",
        diagnostics=second.log,
    )
    assert emulator.writes() == converged + FLEET  # each alias written once, none twice
    second.wait_for_passes(1, timeout=40)
    assert emulator.writes() == converged + FLEET


def test_sigterm_during_a_pass_exits_0(
    start_controller: ControllerFactory,
    serve_emulator: Callable[..., ServedEmulator],
    tmp_path: Path,
) -> None:
    state, repo = _fleet(tmp_path, FLEET)
    emulator = serve_emulator(state, "--latency-ms", "100")
    controller = start_controller(
        "--registry", "aws", "--endpoint-url", emulator.endpoint_url,
        "--repo", str(repo.path), "--concurrency", "1",
        wait="serving",
    )  # fmt: skip
    wait_until(lambda: emulator.writes() >= 1, 30, "the first write", diagnostics=controller.log)
    controller.stop()
    assert emulator.writes() < FLEET_WRITES, "the pass ended before SIGTERM; make it longer"
    assert controller.events("controller stopped", clean=True)


def test_the_git_remote_down_then_up_keeps_the_last_good_revision_and_recovers(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    tmp_path: Path,
) -> None:
    remote = bare_remote(declarations_repo, tmp_path / "remote.git")
    good = declarations_repo.head()
    controller = start_controller(
        "--repo", f"file://{remote}", "--ref", "main", "--registry", f"emulated:{seeded_state}",
        poll_interval=0.3,
    )  # fmt: skip

    def failures() -> float:
        return sample(controller.metrics(), "lambda_gitops_source_fetch_failures_total") or 0.0

    assert controller.status()["revision"] == good
    before = failures()
    away = tmp_path / "remote-away.git"
    remote.rename(away)

    wait_until(lambda: failures() >= before + 2, 20, "failed fetches", diagnostics=controller.log)
    status = controller.status()
    assert status["revision"] == good
    assert status["sourceError"]
    assert controller.get("/readyz")[0] == 200

    declarations_repo.edit(
        "orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41"
    )
    pushed = declarations_repo.commit("roll live back to r41")
    git("push", "--quiet", str(away), "HEAD:main", cwd=declarations_repo.path)
    controller.wait_for_passes(1)
    assert controller.status()["revision"] == good
    away.rename(remote)

    def applied() -> bool:
        status = controller.status()
        return (
            status["revision"] == pushed
            and status["sourceError"] is None
            and status["functions"]["orders-api"]["lastAppliedRevision"] == pushed
        )

    wait_until(applied, 20, "the pushed revision to be applied", diagnostics=controller.log)

"""The loop's own logic, without processes: coalesced triggers, and what a pass records."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import git
import pytest
import structlog
from click.testing import CliRunner

from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.cli.main import main
from controller.engine.loop import Controller, Trigger
from controller.settings import load_settings
from lambda_emulator import EmulatorServer
from tests.conftest import commit_declarations, metric_value
from tests.test_registry_show import SEED

EXAMPLES = SEED.parent


def test_triggers_fired_during_a_pass_are_coalesced_into_one() -> None:
    trigger = Trigger()
    for reason in ("git", "git", "webhook", "resync"):
        trigger.fire(reason)
    assert trigger.wait(timeout=0) == {"git", "webhook", "resync"}
    assert trigger.wait(timeout=0.01) == set()


def test_a_trigger_wakes_a_waiting_loop_at_once() -> None:
    trigger = Trigger()
    threading.Timer(0.05, trigger.fire, args=("git",)).start()
    assert trigger.wait(timeout=10) == {"git"}


@pytest.fixture
def world(tmp_path: Path) -> tuple[git.Repo, EmulatorServer]:
    folder = tmp_path / "declarations"
    shutil.copytree(EXAMPLES / "declarations", folder)
    repo = commit_declarations(folder)
    state = tmp_path / "registry.sqlite"
    assert (
        CliRunner().invoke(main, ["emulator", "load", str(SEED), "--state", str(state)]).exit_code
        == 0
    )
    return repo, EmulatorServer(state)


@dataclass
class Harness:
    """A controller with the source and metrics it was built from, driven pass by pass."""

    controller: Controller
    source: LocalSource
    metrics: Metrics

    def run_pass(self, *reasons: str) -> None:
        self.controller.run_pass(set(reasons))

    def follow(self) -> None:
        """Resolve the ref again, as the source's watcher does after a commit."""
        self.controller.state.revision = self.source.sync()


def controller(repo: git.Repo, server: EmulatorServer, mode: str = "enforce") -> Harness:
    settings = load_settings(None, repo=repo.working_dir, ref="HEAD", mode=mode)
    source = LocalSource(Path(repo.working_dir), "HEAD")
    registry = CachingRegistry(AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url)))
    metrics = Metrics()
    harness = Harness(Controller(settings.loop, source, registry, metrics), source, metrics)
    harness.follow()
    return harness


def metric(built: Harness, name: str, **labels: str) -> float | None:
    return metric_value(built.metrics, name, **labels)


def test_a_pass_records_status_revisions_and_metrics(
    world: tuple[git.Repo, EmulatorServer],
) -> None:
    repo, server = world
    with server:
        built = controller(repo, server)
        built.run_pass("start-up")
        status = built.controller.state.as_json()
        sha = repo.head.commit.hexsha
        assert status["revision"] == sha
        for record in status["functions"].values():
            assert record["lastAppliedRevision"] == sha
            assert record["status"] in ("progressing", "synced")
        built.run_pass("resync")
        assert {r["status"] for r in built.controller.state.as_json()["functions"].values()} == {
            "synced"
        }
        assert metric(built, "lambda_gitops_reconcile_total", outcome="success") == 2


def test_detect_mode_reports_drift_and_writes_nothing(
    world: tuple[git.Repo, EmulatorServer],
) -> None:
    repo, server = world
    with server:
        built = controller(repo, server, mode="detect")
        built.run_pass("start-up")
        orders = built.controller.state.as_json()["functions"]["orders-api"]
        assert orders["status"] == "drifted"
        assert orders["driftedAliases"] == ["live", "canary"]
        drift = metric(built, "lambda_gitops_alias_drift", function="orders-api", alias="live")
        assert drift == 1
        assert (
            sum(server.request_counts().get(op, 0) for op in ("UpdateAlias", "PublishVersion")) == 0
        )


def test_an_invalid_declaration_keeps_its_series_and_a_removed_one_loses_them(
    world: tuple[git.Repo, EmulatorServer],
) -> None:
    repo, server = world
    folder = Path(repo.working_dir)
    with server:
        built = controller(repo, server)
        built.run_pass("start-up")
        (folder / "orders-api.yaml").write_text(
            (folder / "orders-api.yaml").read_text().replace("{r42: 0.25}", "{r42: 2}")
        )
        repo.git.add(A=True)
        repo.index.commit("a bad weight")
        built.follow()
        built.run_pass("git")
        orders = built.controller.state.as_json()["functions"]["orders-api"]
        assert orders["status"] == "error"
        assert orders["lastError"].startswith("orders-api.yaml:")
        assert metric(built, "lambda_gitops_declaration_errors") == 1
        assert (
            metric(
                built, "lambda_gitops_function_sync_status", function="orders-api", status="error"
            )
            == 1
        )

        (folder / "orders-api.yaml").unlink()
        repo.git.add(A=True)
        repo.index.commit("orders-api leaves Git")
        built.follow()
        built.run_pass("git")
        assert "orders-api" not in built.controller.state.as_json()["functions"]
        assert metric(built, "lambda_gitops_alias_drift", function="orders-api") is None
        assert metric(built, "lambda_gitops_alias_drift", function="billing-worker") == 0


def test_a_full_pass_says_how_it_listed_versions_and_a_targeted_pass_lists_none(
    world: tuple[git.Repo, EmulatorServer],
) -> None:
    """The first full pass reads the region's ListFunctions pages; the next finds every listing
    cached; a commit's targeted pass reads its functions as they are, and says nothing of it."""
    repo, server = world
    folder = Path(repo.working_dir)
    with server:
        built = controller(repo, server, mode="detect")
        with structlog.testing.capture_logs() as logs:
            built.run_pass("start-up")
            built.run_pass("resync")
            (folder / "orders-api.yaml").write_text(
                (folder / "orders-api.yaml").read_text().replace("{r42: 0.25}", "{r42: 0.5}")
            )
            repo.git.add(A=True)
            repo.index.commit("more traffic to r42")
            built.follow()
            built.run_pass("git")
        passes = [
            (line["kind"], line.get("version_listing")) for line in logs if line["event"] == "pass"
        ]
        assert passes == [
            ("full", {"us-east-1": "all-versions, 1 page"}),
            ("full", {"us-east-1": "cached"}),
            ("targeted", None),
            ("full", {"us-east-1": "cached"}),
        ]
        counts = server.request_counts()
        assert counts.get("ListFunctions") == 1
        assert counts.get("ListVersionsByFunction", 0) == 0

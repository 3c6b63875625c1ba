"""Retention as an operator sees it from a running controller: each deletion, and each one
Lambda refused, is in the metrics, a log line and ``/status``; detect mode deletes nothing.

The emulated registry holds orders-api with five published versions; ``live`` is on 5 and
``manual`` (made by hand) on 2. Git declares r5, ``live`` on it, and ``retainVersions: 2``, and
the controller may delete versions: a pass deletes 1 and 3, and keeps 2, 4 and 5.
"""

from __future__ import annotations

import base64
import hashlib
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import git
import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import Registry
from controller.cli.main import main
from controller.core.model import FunctionRef
from controller.engine.loop import Controller
from controller.settings import load_settings
from lambda_emulator import EmulatorServer
from tests.conftest import commit_declarations, metric_value

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

CODES = [
    base64.b64encode(hashlib.sha256(f"release {n}".encode()).digest()).decode() for n in range(1, 6)
]
SEED = f"""
functions:
  - name: orders-api
    codeSha256: "{CODES[-1]}"
    versions: [{", ".join(f'"{code}"' for code in CODES)}]
    aliases:
      live: {{version: "5"}}
      manual: {{version: "2"}}
"""
DECLARATION = f"""
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders-api
spec:
  versions:
    r5: {{codeSha256: "{CODES[-1]}"}}
  aliases:
    live: {{version: r5}}
  retainVersions: 2
"""
REF = FunctionRef("orders-api", "us-east-1")


@pytest.fixture
def world(tmp_path: Path) -> tuple[git.Repo, EmulatorServer]:
    folder = tmp_path / "declarations"
    folder.mkdir()
    (folder / "orders-api.yaml").write_text(textwrap.dedent(DECLARATION))
    repo = commit_declarations(folder)
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    state = tmp_path / "registry.sqlite"
    loaded = CliRunner().invoke(main, ["emulator", "load", str(seed), "--state", str(state)])
    assert loaded.exit_code == 0, loaded.output
    return repo, EmulatorServer(state)


@dataclass
class Harness:
    controller: Controller
    metrics: Metrics
    registry: Registry

    def metric(self, name: str, **labels: str) -> float | None:
        return metric_value(self.metrics, name, **labels)

    def status(self) -> dict[str, Any]:
        orders: dict[str, Any] = self.controller.state.as_json()["functions"]["orders-api"]
        return orders

    def versions(self) -> set[str]:
        return {v.version for v in self.registry.list_versions(REF, fresh=True)}


def harness(
    repo: git.Repo,
    server: EmulatorServer,
    *,
    mode: str = "enforce",
    wrap: Any = None,
) -> Harness:
    settings = load_settings(
        None, repo=repo.working_dir, ref="HEAD", mode=mode, scope={"delete_versions": True}
    )
    source = LocalSource(Path(repo.working_dir), "HEAD")
    aws = AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url))
    registry: Any = CachingRegistry(aws)
    metrics = Metrics()
    controller = Controller(settings.loop, source, wrap(registry) if wrap else registry, metrics)
    controller.state.revision = source.sync()
    return Harness(controller, metrics, aws)


def client(server: EmulatorServer) -> LambdaClient:
    return boto3.client("lambda", endpoint_url=server.endpoint_url, region_name="us-east-1")


def test_each_deletion_is_a_metric_a_log_line_and_in_status(
    world: tuple[git.Repo, EmulatorServer],
) -> None:
    repo, server = world
    with server:
        built = harness(repo, server)
        with capture_logs() as logs:
            built.controller.run_pass({"start-up"})

        assert built.versions() == {"2", "4", "5"}
        assert server.request_counts()["DeleteFunction"] == 2
        deletions = [line for line in logs if line.get("action") == "delete_version"]
        assert [(line["version"], line["outcome"]) for line in deletions] == [
            ("1", "applied"),
            ("3", "applied"),
        ]
        assert all(
            line["event"] == "action" and line["reason"] == "retention" for line in deletions
        )
        assert built.metric("lambda_gitops_versions_deleted_total", function="orders-api") == 2
        assert built.metric("lambda_gitops_function_versions", function="orders-api") == 3
        assert (
            built.metric("lambda_gitops_actions_total", action="delete_version", outcome="applied")
            == 2
        )
        assert (
            built.metric(
                "lambda_gitops_function_sync_status", function="orders-api", status="synced"
            )
            == 1
        )
        status = built.status()
        assert status["versions"] == 3
        assert status["retention"]["retainVersions"] == 2
        assert status["retention"]["deletedVersions"] == 2
        assert status["retention"]["lastDeleted"] == ["1", "3"]
        assert status["retention"]["lastDeletedAt"] is not None

        built.controller.run_pass({"resync"})
        assert built.metric("lambda_gitops_versions_deleted_total", function="orders-api") == 2
        assert built.status()["retention"]["lastDeleted"] == ["1", "3"]


def test_a_deletion_lambda_refuses_is_skipped_counted_logged_and_shown(
    world: tuple[git.Repo, EmulatorServer],
) -> None:
    repo, server = world
    with server:
        person = client(server)

        class Racing:
            """Someone points an alias at version 3 just before the controller deletes it."""

            def __init__(self, registry: Registry) -> None:
                self._registry = registry

            def __getattr__(self, name: str) -> Any:
                return getattr(self._registry, name)

            def delete_version(self, function: FunctionRef, number: int) -> None:
                if number == 3:
                    person.create_alias(
                        FunctionName="orders-api", Name="hotfix", FunctionVersion="3"
                    )
                self._registry.delete_version(function, number)

        built = harness(repo, server, wrap=Racing)
        with capture_logs() as logs:
            built.controller.run_pass({"start-up"})

        assert built.versions() == {"2", "3", "4", "5"}
        [skipped] = [line for line in logs if line.get("outcome") == "skipped"]
        assert skipped["log_level"] == "info"
        assert skipped["version"] == "3"
        assert "an alias points at it now" in skipped["detail"]
        assert not [line for line in logs if line.get("event") == "function failed"]
        assert (
            built.metric("lambda_gitops_actions_total", action="delete_version", outcome="skipped")
            == 1
        )
        assert built.metric("lambda_gitops_reconcile_total", outcome="success") == 1
        status = built.status()
        assert status["status"] == "synced"
        assert [entry["version"] for entry in status["retention"]["skipped"]] == ["3"]
        assert "an alias points at it now" in status["retention"]["skipped"][0]["why"]


def test_detect_mode_deletes_nothing_and_shows_what_it_would(
    world: tuple[git.Repo, EmulatorServer],
) -> None:
    repo, server = world
    with server:
        built = harness(repo, server, mode="detect")
        built.controller.run_pass({"start-up"})

        assert built.versions() == {"1", "2", "3", "4", "5"}
        assert server.request_counts().get("DeleteFunction", 0) == 0
        status = built.status()
        assert status["status"] == "synced"
        assert status["versions"] == 5
        assert status["retention"]["held"] == ["1", "3"]
        assert status["retention"]["heldBecause"] == "this pass only observes (detect mode)"
        assert built.metric("lambda_gitops_versions_deleted_total", function="orders-api") == 0

"""The write fence in front of the registry: reads pass, writes wait for the lease, and a pass
whose writes are refused stops without a write sent and without a failed action counted."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.cli.main import main
from controller.core.model import FunctionRef
from controller.engine.fence import FencedRegistry, WriteFence
from controller.engine.loop import Controller
from controller.errors import NotLeader
from controller.settings import load_settings
from lambda_emulator import EmulatorServer
from tests.conftest import commit_declarations
from tests.test_registry_show import SEED

WRITES = (
    "UpdateAlias",
    "CreateAlias",
    "DeleteAlias",
    "PublishVersion",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_fence_is_open_until_its_deadline_and_shut_at_once() -> None:
    clock = Clock()
    fence = WriteFence("gitops/lambda-gitops", monotonic=clock)
    with pytest.raises(NotLeader, match="does not hold the Lease gitops/lambda-gitops"):
        fence.check()
    fence.open_until(110.0)
    fence.check()
    clock.now = 109.9
    fence.check()
    clock.now = 110.0
    with pytest.raises(NotLeader):
        fence.check()
    fence.open_until(120.0)
    fence.shut()
    assert not fence.is_open()


@pytest.fixture
def server(tmp_path: Path) -> EmulatorServer:
    state = tmp_path / "registry.sqlite"
    loaded = CliRunner().invoke(main, ["emulator", "load", str(SEED), "--state", str(state)])
    assert loaded.exit_code == 0, loaded.output
    return EmulatorServer(state)


def test_reads_pass_and_writes_are_refused_before_they_are_sent(server: EmulatorServer) -> None:
    with server:
        fence = WriteFence("gitops/lambda-gitops")
        registry = FencedRegistry(AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url)), fence)
        function = FunctionRef("orders-api", "us-east-1")
        live = {alias.name: alias for alias in registry.list_aliases(function)}["live"]
        with pytest.raises(NotLeader):
            registry.update_alias(
                function, "live", function_version="1", revision_id=live.revision_id
            )
        with pytest.raises(NotLeader):
            registry.delete_alias(function, "live")
        assert sum(server.request_counts().get(op, 0) for op in WRITES) == 0
        fence.open_until(float("inf"))
        moved = registry.update_alias(
            function, "live", function_version="1", revision_id=live.revision_id
        )
        assert moved.function_version == "1"


def test_a_pass_that_is_not_the_leaders_stops_with_no_write_and_no_failed_action(
    server: EmulatorServer, tmp_path: Path
) -> None:
    folder = tmp_path / "declarations"
    shutil.copytree(SEED.parent / "declarations", folder)
    commit_declarations(folder)
    with server:
        settings = load_settings(None, repo=str(folder), ref="HEAD")
        source = LocalSource(folder, "HEAD")
        fence = WriteFence("gitops/lambda-gitops")  # shut: the lease is lost
        registry = FencedRegistry(
            CachingRegistry(AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url))), fence
        )
        metrics = Metrics()
        controller = Controller(settings.loop, source, registry, metrics)
        controller.state.revision = source.sync()
        stop = threading.Event()
        controller.run_pass({"start-up"}, stop)
        assert stop.is_set(), "the loop goes on while its writes are refused"
        assert sum(server.request_counts().get(op, 0) for op in WRITES) == 0
        assert controller.state.last_pass_error is not None
        assert "does not hold the Lease" in controller.state.last_pass_error
        for action in ("publish", "create", "update", "delete"):
            labels = {"action": action, "outcome": "failed"}
            failed = metrics.registry.get_sample_value("lambda_gitops_actions_total", labels)
            assert failed == 0

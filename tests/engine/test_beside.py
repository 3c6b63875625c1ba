"""Targeted passes beside a running full pass, as ``run`` drives them: real threads, a real
emulated registry with latency, the client's rate limit, a real Git repository and watcher.

The full pass over the fleet is long (every function read at 10 requests/s); a commit made
while it runs must reach Lambda before it ends, and the full pass must neither undo it nor
write it again.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.fleet import FOLDER, emulator, make_repository, name_of
from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.core.model import FunctionRef
from controller.engine.loop import Controller
from controller.settings import load_settings
from lambda_emulator import Faults
from lambda_emulator.store import Caller
from lambda_emulator.validation import DEFAULT_ACCOUNT
from tests.polling import wait_until

FUNCTIONS = 24
CALLER = Caller(DEFAULT_ACCOUNT, "us-east-1")


def test_a_commit_during_a_long_full_pass_is_applied_beside_it_and_never_undone(
    tmp_path: Path,
) -> None:
    repository = make_repository(tmp_path / "declarations", FUNCTIONS)
    last = FUNCTIONS - 1  # the full pass reads it last
    faults = Faults(latency_ms=30)
    with emulator(tmp_path / "registry.sqlite", FUNCTIONS, faults) as server:
        settings = load_settings(
            None, repo=str(repository.path), path=FOLDER, concurrency=2, resync_interval=3600.0
        )
        registry = CachingRegistry(AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url)))
        controller = Controller(
            settings.loop, LocalSource(repository.path, "HEAD"), registry, Metrics()
        )
        seeded = server.store.write_log()[-1].sequence
        stop = threading.Event()
        loop = threading.Thread(target=controller.run, args=(stop,), daemon=True)
        loop.start()
        try:

            def listed() -> int:
                return Counter(server.request_counts())["ListAliases"]

            wait_until(lambda: listed() >= 3, 30, "the start-up pass to begin")
            repository.write(last, "r2")
            repository.commit("promote the last function")

            wait_until(
                lambda: (
                    server.store.get_alias(CALLER, name_of(last), "live").function_version == "2"
                ),
                20,
                "the promotion",
            )
            assert listed() < FUNCTIONS, "the full pass had ended: make it longer"

            def full_pass_folded() -> bool:
                return len(controller.state.as_json()["functions"]) == FUNCTIONS

            wait_until(full_pass_folded, 60, "the full pass to end")
        finally:
            stop.set()
            loop.join(timeout=30)

        written = [
            (w.operation, w.function_name, w.qualifier) for w in server.store.write_log(seeded)
        ]
        assert written == [("UpdateAlias", name_of(last), "live")]
        assert server.store.get_alias(CALLER, name_of(last), "live").function_version == "2"
        reads = server.function_request_counts()
        assert reads[name_of(last)] <= 3, "the full pass read it again after the targeted one"
        record = controller.state.as_json()["functions"][name_of(last)]
        assert record["status"] in ("synced", "progressing")
        assert record["aliases"]["live"]["outOfBandChanges"] == 0


def test_the_targeted_thread_outlives_an_unexpected_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug met while serving targets is logged and shown in /status; the next request is
    served all the same."""
    repository = make_repository(tmp_path / "declarations", 2)
    with emulator(tmp_path / "registry.sqlite", 2) as server:
        settings = load_settings(None, repo=str(repository.path), path=FOLDER)
        registry = AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url))
        source = LocalSource(repository.path, "HEAD")
        controller = Controller(settings.loop, source, registry, Metrics())
        controller.state.revision = source.sync()
        real = controller._target_changes
        calls: list[str] = []

        def failing_once(revision: Any) -> None:
            calls.append(revision.sha)
            if len(calls) == 1:
                raise RuntimeError("a bug")
            real(revision)

        monkeypatch.setattr(controller, "_target_changes", failing_once)
        stop = threading.Event()
        thread = threading.Thread(target=controller._serve_targets, args=(stop,), daemon=True)
        thread.start()
        try:
            identity = FunctionRef(name_of(0), "us-east-1").identity
            controller.request([identity], "test")
            wait_until(lambda: controller.state.last_pass_error == "RuntimeError: a bug", 10, "")
            server.store.update_alias(CALLER, name_of(0), "live", function_version="2")
            controller.request([identity], "test")
            wait_until(
                lambda: server.store.get_alias(CALLER, name_of(0), "live").function_version == "1",
                20,
                "the second request to be served",
            )
        finally:
            stop.set()
            thread.join(timeout=10)
        assert not thread.is_alive()

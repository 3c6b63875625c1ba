"""A commit reaches Lambda ahead of a full pass: targeted passes, and the full pass yielding.

Driven pass by pass with no threads: a registry wrapper makes the commit (and tells the
controller, as the source's watcher would) in the middle of a full pass, at an exact call, and
records the order of every call, so each rule is checked deterministically on a real emulated
registry and a real Git repository.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.fleet import FOLDER, Repository, declaration_path, emulator, make_repository, name_of
from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.adapters.registry.port import Registry
from controller.core.declarations import Declarations
from controller.core.model import FunctionId, FunctionRef
from controller.engine.loop import Controller, changed_functions
from controller.settings import load_settings
from lambda_emulator import EmulatorServer, WriteRecord
from lambda_emulator.store import Caller
from lambda_emulator.validation import DEFAULT_ACCOUNT

FUNCTIONS = 12
CALLER = Caller(DEFAULT_ACCOUNT, "us-east-1")


class Recording:
    """The registry port, recording each call as ``(operation, function)`` and running a hook
    before a chosen call."""

    def __init__(self, inner: Registry) -> None:
        self._inner = inner
        self.calls: list[tuple[str, str]] = []
        self.before: dict[tuple[str, int], Callable[[], None]] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            ref = args[0] if args and isinstance(args[0], FunctionRef) else None
            self.calls.append((name, ref.name if ref is not None else ""))
            count = sum(1 for call, _ in self.calls if call == name)
            hook = self.before.pop((name, count), None)
            if hook is not None:
                hook()
            return method(*args, **kwargs)

        return recorded


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Repository, EmulatorServer]]:
    repository = make_repository(tmp_path / "declarations", FUNCTIONS)
    with emulator(tmp_path / "registry.sqlite", FUNCTIONS) as server:
        yield repository, server


def build(repository: Repository, server: EmulatorServer) -> tuple[Controller, Recording]:
    settings = load_settings(
        None, repo=str(repository.path), path=FOLDER, concurrency=1, resync_interval=3600.0
    )
    source = LocalSource(repository.path, "HEAD")
    inner = CachingRegistry(AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url)))
    recording = Recording(inner)
    controller = Controller(settings.loop, source, recording, Metrics())
    controller.state.revision = source.sync()
    return controller, recording


def commit_during(
    controller: Controller, repository: Repository, edit: Callable[[], object], message: str
) -> Callable[[], None]:
    """A hook that commits ``edit`` and tells the controller, as the Git watcher would."""

    def hook() -> None:
        edit()
        repository.commit(message)
        controller.state.revision = LocalSource(repository.path, "HEAD").sync()

    return hook


def writes(server: EmulatorServer, since: int = 0) -> list[WriteRecord]:
    return server.store.write_log(since)


def last_sequence(server: EmulatorServer) -> int:
    log = server.store.write_log()
    return log[-1].sequence if log else 0


def test_a_commit_during_a_full_pass_is_applied_before_the_pass_ends_and_never_undone(
    world: tuple[Repository, EmulatorServer],
) -> None:
    repository, server = world
    controller, recording = build(repository, server)
    controller.run_pass({"start-up"})  # warm: versions cached, everything in sync
    start = last_sequence(server)
    last = FUNCTIONS - 1
    recording.calls.clear()
    recording.before[("list_aliases", 3)] = commit_during(
        controller, repository, lambda: repository.write(last, "r2"), "promote the last one"
    )

    controller.run_pass({"resync"})

    promoted = [w for w in writes(server, start) if w.function_name == name_of(last)]
    assert [(w.operation, w.qualifier) for w in promoted] == [("UpdateAlias", "live")]
    assert [(w.operation, w.function_name) for w in writes(server, start)] == [
        ("UpdateAlias", name_of(last))
    ]
    order = [call for call in recording.calls if call[0] in ("list_aliases", "update_alias")]
    update = order.index(("update_alias", name_of(last)))
    read_later = {name for call, name in order[update:] if call == "list_aliases"}
    assert read_later >= {name_of(i) for i in range(4, last)}, "the full pass went on after"
    assert server.store.get_alias(CALLER, name_of(last), "live").function_version == "2"
    assert controller.state.as_json()["functions"][name_of(last)]["status"] == "progressing"


def test_the_full_pass_resumes_at_the_new_revision_so_a_function_it_had_not_reached_stays(
    world: tuple[Repository, EmulatorServer],
) -> None:
    """The commit moves a function the full pass has not reached: the targeted pass writes it,
    and when the full pass gets there it plans from the new revision and writes nothing."""
    repository, server = world
    controller, recording = build(repository, server)
    controller.run_pass({"start-up"})
    start = last_sequence(server)
    recording.before[("list_aliases", FUNCTIONS + 2)] = commit_during(
        controller, repository, lambda: repository.write(8, "r2"), "promote the ninth"
    )

    controller.run_pass({"resync"})

    assert [(w.operation, w.function_name) for w in writes(server, start)] == [
        ("UpdateAlias", name_of(8))
    ]
    later = [name for call, name in recording.calls if call == "list_aliases"][FUNCTIONS:]
    assert later.count(name_of(8)) == 1, "read once, by the targeted pass, and not again"


def test_a_function_the_commit_changes_and_someone_drifted_converges_once(
    world: tuple[Repository, EmulatorServer],
) -> None:
    repository, server = world
    controller, recording = build(repository, server)
    controller.run_pass({"start-up"})
    server.store.update_alias(CALLER, name_of(5), "live", function_version="2")  # by hand
    start = last_sequence(server)
    recording.before[("list_aliases", FUNCTIONS + 2)] = commit_during(
        controller,
        repository,
        lambda: (repository.path / declaration_path(5)).write_text(
            (repository.path / declaration_path(5))
            .read_text()
            .replace("beta:\n      version: r2", "beta:\n      version: r1")
        ),
        "move beta",
    )

    controller.run_pass({"resync"})

    written = [(w.operation, w.qualifier) for w in writes(server, start)]
    assert sorted(written) == [("UpdateAlias", "beta"), ("UpdateAlias", "live")]
    assert server.store.get_alias(CALLER, name_of(5), "live").function_version == "1"
    record = controller.state.as_json()["functions"][name_of(5)]["aliases"]["live"]
    assert record["outOfBandChanges"] == 1


def test_a_file_renamed_is_no_change_and_a_file_that_stops_parsing_keeps_its_function(
    world: tuple[Repository, EmulatorServer],
) -> None:
    repository, server = world
    controller, _ = build(repository, server)
    controller.run_pass({"start-up"})
    start = last_sequence(server)
    renamed = repository.path / FOLDER / "renamed.yaml"
    (repository.path / declaration_path(2)).rename(renamed)
    repository.repo.git.add("--all")
    repository.commit("rename one file")
    (repository.path / declaration_path(3)).write_text("spec: [unclosed\n")
    repository.commit("break another")
    controller.state.revision = LocalSource(repository.path, "HEAD").sync()

    controller.run_pass({"resync"})

    assert writes(server, start) == []
    functions = controller.state.as_json()["functions"]
    assert functions[name_of(2)]["status"] == "synced"
    assert functions[name_of(3)]["status"] == "error"
    assert "left as it was at the last good revision" in functions[name_of(3)]["lastError"]


def test_changed_functions_are_the_changed_added_and_valid_again_not_the_moved() -> None:
    def function(name: str, live: str, file: str) -> Any:
        from controller.core.model import DesiredAlias, DesiredFunction, SourceLocation

        return DesiredFunction(
            name,
            FunctionRef(name, "us-east-1", DEFAULT_ACCOUNT),
            {},
            {"live": DesiredAlias("live", live)},
            location=SourceLocation(file, 1),
        )

    before = Declarations("a", (function("kept", "1", "a.yaml"), function("moved", "1", "b.yaml")))
    after = Declarations(
        "b",
        (
            function("kept", "2", "a.yaml"),
            function("moved", "1", "c/moved.yaml"),
            function("added", "1", "d.yaml"),
        ),
    )

    assert changed_functions(before, after) == {
        FunctionId(DEFAULT_ACCOUNT, "us-east-1", "kept"),
        FunctionId(DEFAULT_ACCOUNT, "us-east-1", "added"),
    }

"""``reconcile --once`` with sharding writes this shard's functions alone, as ``run`` does: the
shard is ``--shard-index``, else the ordinal ending ``POD_NAME``, and neither known is refused
before any write. The fleet is 30 functions in 30 (account, region) pairs, each needing one
``UpdateAlias`` (``tests.sharded_fleet``); the emulator's write log says who was written."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from controller.cli.main import main
from lambda_emulator.store import EmulatorStore
from tests.sharded_fleet import CONTROLLER_ACCOUNT, FLEET, declare, seed

ACCOUNT = {"LAMBDA_GITOPS_ACCOUNT": CONTROLLER_ACCOUNT}


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return declare(tmp_path_factory.mktemp("fleet") / "declarations")


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A registry of its own for each test, since reconciling writes to it."""
    path = tmp_path / "registry.sqlite"
    seed(path)
    return path


@pytest.fixture(autouse=True)
def _no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHARDS", "SHARD_INDEX", "ACCOUNT"):
        monkeypatch.delenv(f"LAMBDA_GITOPS_{name}", raising=False)
    monkeypatch.delenv("POD_NAME", raising=False)


def reconcile(repository: Path, state: Path, *arguments: str, **env: str) -> Result:
    result = CliRunner().invoke(
        main,
        [
            *("reconcile", "--once", "--repo", str(repository)),
            *("--registry", f"emulated:{state}", *arguments),
        ],
        env={**ACCOUNT, **env},
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def written(state: Path) -> set[str]:
    """The functions the reconcile wrote (the seed's own writes left out)."""
    store = EmulatorStore(state)
    try:
        return {w.function_name for w in store.write_log() if w.operation == "UpdateAlias"}
    finally:
        store.close()


def names_of_shard(shard: int, shards: int) -> set[str]:
    return {function.name for function in FLEET if function.owner(shards) == shard}


def test_a_shard_index_reconciles_that_shards_functions_alone(
    repository: Path, state: Path
) -> None:
    result = reconcile(repository, state, "--shards", "3", "--shard-index", "1")

    assert result.exit_code == 0, result.stdout + result.stderr
    mine = names_of_shard(1, 3)
    assert 0 < len(mine) < len(FLEET)
    assert written(state) == mine
    text = click.unstyle(result.stdout)
    assert f"Shard 1 of 3: {len(mine)} functions; the other shards' are left out.\n" in text
    assert f"Reconciled: {len(mine)} of {len(mine)} functions converged." in text


def test_the_shard_comes_from_the_pods_ordinal_as_for_run(repository: Path, state: Path) -> None:
    """``lambda-gitops-4`` of a StatefulSet, with 3 shards, is shard 1 (4 modulo 3)."""
    result = reconcile(repository, state, LAMBDA_GITOPS_SHARDS="3", POD_NAME="lambda-gitops-4")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert written(state) == names_of_shard(1, 3)


def test_sharding_with_no_known_shard_is_refused_before_any_write(
    repository: Path, state: Path
) -> None:
    result = reconcile(repository, state, "--shards", "3")

    assert result.exit_code == 1
    assert "shards 3: this process's shard is not known (POD_NAME is not set)" in result.stderr
    assert "--shard-index" in result.stderr
    assert written(state) == set()


def test_without_shards_every_function_is_reconciled(repository: Path, state: Path) -> None:
    result = reconcile(repository, state)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert written(state) == {function.name for function in FLEET}
    assert "shard" not in click.unstyle(result.stdout).lower()

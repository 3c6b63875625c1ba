"""``plan`` with sharding: each function says which shard owns it, a line counts each shard's
functions, ``--shard-index`` plans one shard's alone, and the JSON carries the same; without
shards a plan says nothing of them. The fleet is 30 functions in 30 (account, region) pairs
(``tests.sharded_fleet``)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from controller.cli.main import main
from lambda_emulator import EmulatorServer
from tests.sharded_fleet import CONTROLLER_ACCOUNT, FLEET, declare, seed

ACCOUNT = {"LAMBDA_GITOPS_ACCOUNT": CONTROLLER_ACCOUNT}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The registry's state file and the declarations repository."""
    root = tmp_path_factory.mktemp("fleet")
    state = root / "registry.sqlite"
    seed(state)
    return state, declare(root / "declarations")


@pytest.fixture
def options(fleet: tuple[Path, Path]) -> list[str]:
    state, repo = fleet
    return ["--repo", str(repo), "--registry", f"emulated:{state}"]


@pytest.fixture(autouse=True)
def _no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHARDS", "SHARD_INDEX", "ACCOUNT"):
        monkeypatch.delenv(f"LAMBDA_GITOPS_{name}", raising=False)


def plan(*arguments: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, ["plan", *arguments], env=env)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def shown_shards(output: str) -> dict[str, int]:
    """Each function the text shows, and the shard it says owns it."""
    return {
        found["name"]: int(found["shard"])
        for found in re.finditer(r"^(?P<name>\S+) \(.+\)  \[shard (?P<shard>\d+)\]$", output, re.M)
    }


def test_a_plan_without_shards_says_nothing_of_them(options: list[str]) -> None:
    result = plan(*options, env=ACCOUNT)
    assert result.exit_code == 2, result.stdout
    assert "shard" not in result.stdout.lower()
    document = json.loads(plan(*options, "--output", "json", env=ACCOUNT).stdout)
    assert "sharding" not in document
    assert all("shard" not in function for function in document["functions"])


def test_each_function_says_which_shard_owns_it_and_each_shard_is_counted(
    options: list[str],
) -> None:
    result = plan(*options, "--shards", "3", env=ACCOUNT)
    assert result.exit_code == 2, result.stdout
    text = click.unstyle(result.stdout)
    assert shown_shards(text) == {function.name: function.owner(3) for function in FLEET}
    owned = Counter(function.owner(3) for function in FLEET)
    counts = ", ".join(f"shard {shard} owns {owned[shard]} functions" for shard in range(3))
    assert f"Shards: 3; {counts}.\n" in text
    assert "Plan: 0 to publish, 0 to create, 30 to update, 0 to delete." in text


def test_one_shards_plan_holds_its_functions_alone(options: list[str]) -> None:
    result = plan(*options, "--shards", "3", "--shard-index", "2", env=ACCOUNT)
    assert result.exit_code == 2, result.stdout
    text = click.unstyle(result.stdout)
    mine = {function.name for function in FLEET if function.owner(3) == 2}
    assert set(shown_shards(text)) == mine
    assert set(shown_shards(text).values()) == {2}
    assert f"Shard 2 of 3: {len(mine)} functions; the other shards' are left out.\n" in text


def test_the_json_plan_carries_each_functions_shard(options: list[str]) -> None:
    result = plan(*options, "--output", "json", env={**ACCOUNT, "LAMBDA_GITOPS_SHARDS": "4"})
    assert result.exit_code == 2, result.stdout
    document = json.loads(result.stdout)
    assert document["sharding"] == {"shards": 4, "shard": None}
    assert {f["name"]: f["shard"] for f in document["functions"]} == {
        function.name: function.owner(4) for function in FLEET
    }


def test_sharding_without_a_known_account_is_refused_saying_what_to_set(
    fleet: tuple[Path, Path],
) -> None:
    """An endpoint that answers no STS (the emulator served on its own): a bare name's shard
    would be a guess."""
    state, repo = fleet
    with EmulatorServer(state) as served:
        result = plan(
            *("--repo", str(repo), "--registry", "aws", "--endpoint-url", served.endpoint_url),
            *("--shards", "3"),
            env={
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            },
        )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: shards 3: which shard owns a bare function name")
    assert "LAMBDA_GITOPS_ACCOUNT" in result.stderr


def test_a_shard_index_out_of_range_is_refused(options: list[str]) -> None:
    result = plan(*options, "--shards", "3", "--shard-index", "3", env=ACCOUNT)
    assert result.exit_code == 1
    assert "shard_index 3 must be between 0 and 2 (shards is 3)" in result.stderr

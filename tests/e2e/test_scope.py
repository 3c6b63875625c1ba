"""The configured scope holds on every command that can write, as the user runs them.

``reconcile --once`` once ignored the scope that only ``run`` passed on: with the scope narrowed
to ``orders-*`` in ``us-east-1`` it published billing-worker's version and moved an alias in
eu-west-1. The check now lives in the applier, the only writer; these tests run each writing
command as a process with a narrowed scope over a fleet that needs writes everywhere, and read
the emulator's write log for any write outside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_emulator import EmulatorServer
from lambda_emulator.store import WriteRecord
from tests.e2e.conftest import (
    ControllerFactory,
    DeclarationsRepo,
    emulator_cli,
    lambda_gitops,
)
from tests.polling import wait_until

SHA_OLD = "6pL0bTqyPp1aIhrsyDo+aHmoE4mEvTPHwq3tz6Y0vHI="
SHA_NEW = "h7Q2n1ZpQyW0r6cK3v9mJ8sTqLx5bYdEoF4gHuIaVwA="
EU_SEED = f"""
functions:
  - name: orders-eu
    region: eu-west-1
    codeSha256: "{SHA_NEW}"
    versions: ["{SHA_OLD}", "{SHA_NEW}"]
    aliases:
      live: {{version: "1"}}
"""
EU_DECLARATION = f"""apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders-eu
spec:
  region: eu-west-1
  versions:
    r1: {{codeSha256: "{SHA_OLD}"}}
    r2: {{codeSha256: "{SHA_NEW}"}}
  aliases:
    live: {{version: r2}}
    fresh: {{version: r2}}
"""
SCOPE = {
    "LAMBDA_GITOPS_SCOPE__FUNCTIONS": json.dumps(["arn:aws:lambda:*:*:function:orders-*"]),
    "LAMBDA_GITOPS_SCOPE__REGIONS": json.dumps(["us-east-1"]),
}


@pytest.fixture
def fleet(seeded_state: Path, declarations_repo: DeclarationsRepo, tmp_path: Path) -> Path:
    """The example fleet plus orders-eu in eu-west-1, every function needing writes."""
    seed = tmp_path / "eu.yaml"
    seed.write_text(EU_SEED)
    emulator_cli("load", str(seed), "--state", str(seeded_state))
    (declarations_repo.path / "orders-eu.yaml").write_text(EU_DECLARATION)
    declarations_repo.commit("declare orders-eu")
    return seeded_state


def out_of_scope(writes: list[WriteRecord]) -> list[WriteRecord]:
    return [
        w for w in writes if not (w.function_name.startswith("orders-") and w.region == "us-east-1")
    ]


def read_writes(state: Path, since: int = 0) -> list[WriteRecord]:
    with EmulatorServer(state) as server:
        return server.store.write_log(since=since)


def test_reconcile_once_writes_nothing_outside_the_scope(
    fleet: Path, declarations_repo: DeclarationsRepo
) -> None:
    start = read_writes(fleet)[-1].sequence if read_writes(fleet) else 0

    result = lambda_gitops(
        "reconcile",
        "--once",
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{fleet}",
        env=SCOPE,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    writes = read_writes(fleet, since=start)
    assert [w for w in writes if w.function_name == "orders-api"], "orders-api was in scope"
    assert out_of_scope(writes) == []
    assert "billing-worker" in result.stdout
    assert "outside the controller's scope" in result.stdout


def test_plan_reports_what_is_outside_the_scope_as_an_error(
    fleet: Path, declarations_repo: DeclarationsRepo
) -> None:
    result = lambda_gitops(
        "plan", "--repo", str(declarations_repo.path), "--registry", f"emulated:{fleet}", env=SCOPE
    )

    assert result.returncode == 1
    assert "arn:aws:lambda:eu-west-1:123456789012:function:orders-eu is outside" in result.stdout


def test_run_writes_nothing_outside_the_scope(
    start_controller: ControllerFactory, fleet: Path, declarations_repo: DeclarationsRepo
) -> None:
    start = read_writes(fleet)[-1].sequence if read_writes(fleet) else 0
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{fleet}", env=SCOPE
    )

    def in_scope_done() -> bool:
        record = controller.status()["functions"].get("orders-api", {})
        return bool(record.get("status") == "synced")

    wait_until(in_scope_done, 30, "orders-api converged", diagnostics=controller.log)
    controller.wait_for_passes(2)

    writes = read_writes(fleet, since=start)
    assert [w for w in writes if w.function_name == "orders-api"]
    assert out_of_scope(writes) == []
    status = controller.status()["functions"]
    assert status["billing-worker"]["status"] == "error"
    assert status["orders-eu"]["status"] == "error"
    assert "outside the controller's scope" in status["orders-eu"]["lastError"]

"""Adopting an imported fleet, end to end: ``import --adopt``, then ``plan``, ``reconcile --once``
and ``lambda-gitops run`` as processes on the emulated registry.

The example fleet is seeded as a team that never used the controller would have it: aliases
without the ownership marker. ``plan`` shows one marker write per alias, ``reconcile --once``
makes exactly those writes and nothing else, the next ``plan`` is in sync, and from then on the
aliases are the controller's: a hand change of one is recognised by a controller started after
it, by the seal in the marker, as on any alias the controller wrote.
"""

from __future__ import annotations

from pathlib import Path

from lambda_emulator import EmulatorStore
from tests.e2e.conftest import (
    ControllerFactory,
    emulator_cli,
    git,
    lambda_gitops,
    sample,
)

ALIASES = [("billing-worker", "live"), ("orders-api", "beta"), ("orders-api", "canary"),
           ("orders-api", "live")]  # fmt: skip


def writes(state: Path, since: int = 0) -> list[tuple[str, str, str | None]]:
    with EmulatorStore(state, create=False) as store:
        return [(r.operation, r.function_name, r.qualifier) for r in store.write_log(since)]


def test_an_adopted_fleet_is_marked_in_one_pass_and_then_guarded_like_any_other(
    start_controller: ControllerFactory, seeded_state: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "fleet"
    repo.mkdir()
    git("init", "--quiet", "--initial-branch=main", cwd=repo)
    registry = ["--registry", f"emulated:{seeded_state}"]
    imported = lambda_gitops("import", "--all", "--adopt", *registry, "--into", str(repo))
    assert imported.returncode == 0, imported.stderr
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", "import the live fleet, adopting its aliases", cwd=repo)
    seeded = len(writes(seeded_state))

    planned = lambda_gitops("plan", "--repo", str(repo), *registry)
    assert planned.returncode == 2, planned.stdout + planned.stderr
    assert planned.stdout.count(": ownership marker added (adopt)") == len(ALIASES)
    assert "Plan: 0 to publish, 0 to create, 4 to update, 0 to delete." in planned.stdout

    reconciled = lambda_gitops("reconcile", "--once", "--repo", str(repo), *registry)
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "applied: marked live as managed, on 1 as before" in reconciled.stdout
    assert sorted(writes(seeded_state, seeded)) == [
        ("UpdateAlias", function, alias) for function, alias in ALIASES
    ]
    again = lambda_gitops("plan", "--repo", str(repo), *registry)
    assert again.returncode == 0, again.stdout + again.stderr

    emulator_cli("set-alias", "orders-api", "live", "2", "--state", str(seeded_state))
    controller = start_controller("--repo", str(repo), *registry, "--mode", "detect")
    controller.wait_for_passes(2)

    changes = "lambda_gitops_out_of_band_changes_total"
    live = {"function": "orders-api", "region": "us-east-1", "alias": "live"}
    assert sample(controller.metrics(), changes, **live) == 1
    assert sample(controller.metrics(), changes, **{**live, "alias": "beta"}) == 0
    [warning] = controller.events("alias changed out of band", alias="live")
    assert warning["function"] == "orders-api"

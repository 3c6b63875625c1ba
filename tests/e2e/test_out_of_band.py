"""Out-of-band changes, end to end: ``lambda-gitops run`` as a process on the emulated registry.

Someone moves an alias by hand with ``emulator set-alias`` (UpdateAlias without a description,
so the controller's marker stays): in enforce mode the alias is healed within a resync and the
change is counted, logged and shown; in detect mode it stays, drifted, and is counted and logged
once. A commit that moves the same alias is a deployment and counts as nothing. A controller
started after the change, which remembers nothing, still recognises it by the seal in the
marker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import (
    Aliases,
    ControllerFactory,
    ControllerProcess,
    DeclarationsRepo,
    emulator_cli,
    lambda_gitops,
    sample,
)
from tests.polling import wait_until

LIVE = {"function": "orders-api", "region": "us-east-1", "alias": "live"}


def changes(controller: ControllerProcess) -> float | None:
    return sample(controller.metrics(), "lambda_gitops_out_of_band_changes_total", **LIVE)


def live_record(controller: ControllerProcess) -> dict[str, Any]:
    record: dict[str, Any] = controller.status()["functions"]["orders-api"]["aliases"]["live"]
    return record


def converge(declarations_repo: DeclarationsRepo, state: Path) -> None:
    result = lambda_gitops(
        "reconcile",
        "--once",
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{state}",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_enforce_mode_heals_counts_logs_and_shows_a_hand_moved_alias_but_not_a_commit(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )
    wait_until(lambda: aliases.version("orders-api", "live") == "2", 20, "the first convergence")
    controller.wait_for_passes(1)
    assert changes(controller) == 0

    emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(seeded_state))

    wait_until(
        lambda: changes(controller) == 1, 20, "the change counted", diagnostics=controller.log
    )
    assert aliases.version("orders-api", "live") == "2"
    [warning] = controller.events("alias changed out of band", alias="live")
    assert warning["level"] == "warning"
    assert warning["function"] == "orders-api"
    assert warning["reverted"] is True
    assert warning["live"].startswith("version 1")
    assert "2" in warning["git"]
    record = live_record(controller)
    assert record["outOfBandChanges"] == 1
    assert record["lastOutOfBandChange"]["healed"] is True
    assert record["lastOutOfBandChange"]["at"].endswith("Z")

    # A commit that moves the same alias is a deployment: applied, and not counted.
    declarations_repo.edit(
        "orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41"
    )
    moved = declarations_repo.commit("roll live back to r41")
    wait_until(
        lambda: controller.status()["functions"]["orders-api"]["lastAppliedRevision"] == moved,
        20,
        "the commit applied",
        diagnostics=controller.log,
    )
    controller.wait_for_passes(2)
    assert aliases.version("orders-api", "live") == "1"
    assert changes(controller) == 1
    assert len(controller.events("alias changed out of band")) == 1


def test_detect_mode_reports_a_hand_moved_alias_once_and_keeps_the_gauge_until_fixed(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    converge(declarations_repo, seeded_state)
    controller = start_controller(
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
        "--mode",
        "detect",
    )
    controller.wait_for_passes(1)

    emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(seeded_state))

    wait_until(
        lambda: changes(controller) == 1, 20, "the change counted", diagnostics=controller.log
    )
    controller.wait_for_passes(3)
    assert aliases.version("orders-api", "live") == "1"  # detect mode never writes
    assert sample(controller.metrics(), "lambda_gitops_alias_drift", **LIVE) == 1
    assert changes(controller) == 1
    [warning] = controller.events("alias changed out of band", alias="live")
    assert warning["reverted"] is False
    assert live_record(controller)["lastOutOfBandChange"]["healed"] is False

    emulator_cli("set-alias", "orders-api", "live", "2", "--state", str(seeded_state))

    wait_until(
        lambda: sample(controller.metrics(), "lambda_gitops_alias_drift", **LIVE) == 0,
        20,
        "the drift to clear once fixed",
        diagnostics=controller.log,
    )
    assert changes(controller) == 1  # putting it back as Git says is no new change


def test_a_controller_started_after_the_change_recognises_it_by_the_seal(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    converge(declarations_repo, seeded_state)  # writes the sealed markers
    emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(seeded_state))

    controller = start_controller(
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
        "--mode",
        "detect",
    )
    controller.wait_for_passes(2)

    assert changes(controller) == 1
    assert len(controller.events("alias changed out of band", alias="live")) == 1
    beta = {**LIVE, "alias": "beta"}
    assert sample(controller.metrics(), "lambda_gitops_out_of_band_changes_total", **beta) == 0

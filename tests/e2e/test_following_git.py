"""End to end: ``lambda-gitops run`` follows a local repository into the emulated registry.

Each test starts the controller as a process on a local clone of the example declarations, with
the example fleet seeded in an emulated registry that the controller runs in-process
(``--registry emulated:FILE``), and reads the aliases back through boto3.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import (
    Aliases,
    ControllerFactory,
    DeclarationsRepo,
    emulator_cli,
    lambda_gitops,
    sample,
)
from tests.polling import wait_until


def test_a_commit_that_promotes_moves_the_alias(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    first = declarations_repo.head()
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )
    wait_until(
        lambda: (
            controller.status()["functions"].get("orders-api", {}).get("lastAppliedRevision")
            == first
        ),
        20,
        "the first pass",
        diagnostics=controller.log,
    )
    assert aliases.version("orders-api", "live") == "2"

    declarations_repo.edit(
        "orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41"
    )
    promoted = declarations_repo.commit("roll live back to r41")

    wait_until(
        lambda: aliases.version("orders-api", "live") == "1",
        20,
        "live to move to version 1",
        diagnostics=controller.log,
    )
    status = wait_until(
        lambda: (
            (s := controller.status())["functions"]["orders-api"]["lastAppliedRevision"] == promoted
            and s
        ),
        20,
        "/status to show the new revision as applied",
        diagnostics=controller.log,
    )
    assert status["revision"] == promoted
    assert controller.events("action", function="orders-api", alias="live", revision=promoted)


def test_enforce_mode_heals_drift_at_the_next_resync(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )
    wait_until(
        lambda: aliases.version("orders-api", "live") == "2",
        20,
        "the first pass to move live to 2",
        diagnostics=controller.log,
    )
    healed_before = len(controller.events("action", function="orders-api", alias="live"))

    output = emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(seeded_state))
    assert "moved alias orders-api:live -> 1" in output

    wait_until(
        lambda: (
            len(controller.events("action", function="orders-api", alias="live")) > healed_before
        ),
        20,
        "an action that puts live back",
        diagnostics=controller.log,
    )
    [*_, heal] = controller.events("action", function="orders-api", alias="live")
    assert heal["from"] == "1"
    assert heal["outcome"] == "applied"
    assert aliases.version("orders-api", "live") == "2"


def test_detect_mode_reports_drift_and_leaves_the_alias_alone(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    applied = lambda_gitops(
        "reconcile",
        "--once",
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    controller = start_controller(
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
        "--mode",
        "detect",
    )
    live = {"function": "orders-api", "alias": "live", "region": "us-east-1"}

    def drift() -> float | None:
        return sample(controller.metrics(), "lambda_gitops_alias_drift", **live)

    wait_until(lambda: drift() == 0.0, 20, "live in sync", diagnostics=controller.log)

    emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(seeded_state))

    wait_until(lambda: drift() == 1.0, 20, "live to show as drifted", diagnostics=controller.log)
    metrics = controller.metrics()
    assert (sample(metrics, "lambda_gitops_aliases_drifted") or 0) >= 1
    drifted = {"function": "orders-api", "region": "us-east-1", "status": "drifted"}
    assert sample(metrics, "lambda_gitops_function_sync_status", **drifted) == 1.0
    assert "live" in controller.status()["functions"]["orders-api"]["driftedAliases"]
    controller.wait_for_passes(2)
    assert aliases.version("orders-api", "live") == "1"
    assert controller.events("action") == []

    emulator_cli("set-alias", "orders-api", "live", "2", "--state", str(seeded_state))
    wait_until(lambda: drift() == 0.0, 20, "live back in sync", diagnostics=controller.log)
    assert controller.status()["functions"]["orders-api"]["driftedAliases"] == []


def test_the_series_of_a_function_removed_from_git_disappear(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
) -> None:
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )

    def billing_series() -> list[str]:
        return [
            line
            for line in controller.metrics_text().splitlines()
            if 'function="billing-worker"' in line
        ]

    wait_until(billing_series, 20, "billing-worker's series", diagnostics=controller.log)
    (declarations_repo.path / "billing-worker.yaml").unlink()
    removed = declarations_repo.commit("stop managing billing-worker")

    wait_until(
        lambda: (
            controller.status()["revision"] == removed
            and "billing-worker" not in controller.status()["functions"]
        ),
        20,
        "the removal to be applied",
        diagnostics=controller.log,
    )
    assert billing_series() == []
    assert 'function="orders-api"' in controller.metrics_text()


def test_an_invalid_declaration_is_reported_and_left_alone(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )
    wait_until(
        lambda: (
            all(f["status"] == "synced" for f in controller.status()["functions"].values())
            and len(controller.status()["functions"]) == 2
        ),
        20,
        "both functions synced",
        diagnostics=controller.log,
    )
    assert aliases.of("billing-worker") == {"live": ("1", ()), "beta": ("2", ())}

    # live would move to r8 if the file were used; beta names a label that does not exist.
    declarations_repo.edit(
        "billing-worker.yaml", "live:\n      version: r7", "live:\n      version: r8"
    )
    declarations_repo.edit(
        "billing-worker.yaml", "beta:\n      version: r8", "beta:\n      version: r9"
    )
    invalid = declarations_repo.commit("point beta at a label that does not exist")

    def billing() -> dict[str, object] | None:
        status = controller.status()
        record: dict[str, object] = status["functions"].get("billing-worker", {})
        return record if status["revision"] == invalid and record.get("status") == "error" else None

    record = wait_until(billing, 20, "billing-worker in error", diagnostics=controller.log)
    assert re.search(r"billing-worker\.yaml:\d+", str(record["lastError"])), record
    assert "r9" in str(record["lastError"])
    errors = {"function": "billing-worker", "region": "us-east-1", "status": "error"}
    metrics = controller.metrics()
    assert (sample(metrics, "lambda_gitops_declaration_errors") or 0) > 0
    assert sample(metrics, "lambda_gitops_function_sync_status", **errors) == 1.0

    # The other function is still reconciled: drift on it is healed; billing-worker is not.
    emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(seeded_state))
    emulator_cli("set-alias", "billing-worker", "beta", "1", "--state", str(seeded_state))
    wait_until(
        lambda: controller.events("action", function="orders-api", alias="live", revision=invalid),
        20,
        "orders-api's drift to be healed",
        diagnostics=controller.log,
    )
    controller.wait_for_passes(2)
    assert aliases.version("orders-api", "live") == "2"
    assert aliases.of("billing-worker") == {"live": ("1", ()), "beta": ("1", ())}
    assert controller.events("action", function="billing-worker", revision=invalid) == []

    # A file that does not parse is an error for its function, never a removal.
    (declarations_repo.path / "orders-api.yaml").write_text("spec: [unclosed\n  versions: {\n")
    broken = declarations_repo.commit("break the orders-api file")
    broken_orders = {"function": "orders-api", "region": "us-east-1", "status": "error"}

    def orders_in_error() -> bool:
        status = controller.status()
        record = status["functions"].get("orders-api", {})
        return bool(status["revision"] == broken and record.get("status") == "error")

    wait_until(orders_in_error, 20, "orders-api in error", diagnostics=controller.log)
    controller.wait_for_passes(1)
    assert sample(controller.metrics(), "lambda_gitops_function_sync_status", **broken_orders) == 1
    assert re.search(
        r"orders-api\.yaml:\d+", controller.status()["functions"]["orders-api"]["lastError"]
    )
    assert set(aliases.of("orders-api")) == {"live", "beta", "canary"}

"""``lambda-gitops run`` against a repository someone has made hostile, as a process.

No input may stop the fleet: a file that cannot be read is an error for that file alone, shown
in ``/status`` and the log with its ``FILE:LINE``, while every other function keeps converging;
two spellings of one function are refused instead of applied in turn; and SIGTERM ends the
process within the grace period whatever a pass is doing.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import (
    REGION,
    Aliases,
    ControllerFactory,
    DeclarationsRepo,
    ServedEmulator,
    lambda_client,
)
from tests.polling import wait_until

ALIAS_BOMB = "\n".join(
    [
        "apiVersion: lambda-gitops/v1",
        "kind: Function",
        "a0: &a0 [x, x, x, x, x, x, x, x, x]",
        *(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)),
    ]
)
POISONED_FILES = {
    "poison/int.yaml": "a: !!int abc\n",
    "poison/unhashable.yaml": "{a, {b: {}}}\n",
    "poison/deep.yaml": "x: " + "[" * 300 + "]" * 300 + "\n",
    "poison/bomb.yaml": ALIAS_BOMB + "\n",
    "poison/big.yaml": "items:\n" + "  - abcdefghijklmnopqrstuvwxyz\n" * 80_000,
}


def test_poisoned_files_stop_only_themselves_while_every_other_function_converges(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )
    wait_until(lambda: aliases.version("orders-api", "live") == "2", 20, "the first convergence")

    for name, text in POISONED_FILES.items():
        (declarations_repo.path / name).parent.mkdir(exist_ok=True)
        (declarations_repo.path / name).write_text(text)
    declarations_repo.edit(
        "orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41"
    )
    poisoned = declarations_repo.commit("poison the repository, and roll live back to r41")

    def applied() -> bool:
        record = controller.status()["functions"].get("orders-api", {})
        return bool(record.get("lastAppliedRevision") == poisoned)

    wait_until(applied, 30, "the promotion beside the poison", diagnostics=controller.log)
    assert aliases.version("orders-api", "live") == "1"
    wait_until(
        lambda: controller.status()["functions"]["billing-worker"]["status"] == "synced",
        20,
        "billing-worker synced at the next full pass",
        diagnostics=controller.log,
    )
    status = controller.status()
    assert status["lastPassError"] is None
    shown = status["declarationErrors"]
    for name in POISONED_FILES:
        assert any(error.startswith(f"{name}:") for error in shown), (name, shown)
    logged = [event["error"] for event in controller.events("invalid declaration")]
    for name in POISONED_FILES:
        assert any(error.startswith(f"{name}:") for error in logged), (name, logged)
    # Once per revision, not once per pass.
    controller.wait_for_passes(2)
    assert len(controller.events("invalid declaration")) == len(logged)
    assert controller.events("pass failed unexpectedly") == []


def test_a_function_declared_by_name_and_by_arn_is_refused_not_flapped(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    twin = (declarations_repo.path / "orders-api.yaml").read_text()
    twin = twin.replace("  name: orders-api\nspec:\n", "  name: orders-twin\nspec:\n")
    twin = twin.replace(
        "spec:\n",
        f"spec:\n  functionName: arn:aws:lambda:{REGION}:123456789012:function:orders-api\n",
        1,
    )
    twin = twin.replace("live:\n      version: r42", "live:\n      version: r41")
    (declarations_repo.path / "orders-twin.yaml").write_text(twin)
    declarations_repo.commit("declare orders-api a second time, by ARN")
    client = lambda_client(aliases.endpoint_url)
    before = client.get_alias(FunctionName="orders-api", Name="live")["RevisionId"]

    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )
    controller.wait_for_passes(4)

    assert client.get_alias(FunctionName="orders-api", Name="live")["RevisionId"] == before
    status = controller.status()
    errors = status["declarationErrors"]
    assert any(e.startswith("orders-api.yaml:") and "orders-twin.yaml" in e for e in errors)
    assert any(e.startswith("orders-twin.yaml:") and "orders-api.yaml" in e for e in errors)
    assert status["functions"]["billing-worker"]["status"] == "synced"
    assert controller.events("action", function="orders-api") == []
    client.close()


def test_sigterm_ends_the_process_within_the_grace_period_even_mid_call(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    serve_emulator: Callable[..., ServedEmulator],
) -> None:
    emulator = serve_emulator(seeded_state, "--latency-ms", "20000")
    controller = start_controller(
        "--repo",
        str(declarations_repo.path),
        "--registry",
        "aws",
        "--endpoint-url",
        emulator.endpoint_url,
        env={"LAMBDA_GITOPS_SHUTDOWN_GRACE": "1", "LAMBDA_GITOPS_ACCOUNT": "123456789012"},
        wait="serving",
    )
    wait_until(lambda: sum(emulator.stats()["requests"].values()) > 0, 20, "a call in flight")

    controller.stopped = True  # this test stops it itself, and expects no clean exit
    controller.process.send_signal(signal.SIGTERM)
    try:
        code = controller.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        controller.process.kill()
        raise AssertionError("the controller outlived SIGTERM:\n" + controller.log()) from None
    finally:
        controller.log_file.close()
    assert code == 1, controller.log()
    assert controller.events("controller stopped with a pass still running")

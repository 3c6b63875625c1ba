"""End to end: ``lambda-gitops status`` reads a running ``lambda-gitops run``, both processes.

The controller follows the example declarations into an emulated registry it runs in-process;
``status`` must show what its ``/status`` says, and say in one line when nothing answers.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import ControllerFactory, DeclarationsRepo, lambda_gitops
from tests.polling import wait_until


def test_status_shows_a_running_controller_then_says_when_it_is_gone(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
) -> None:
    revision = declarations_repo.head()
    controller = start_controller(
        "--repo", str(declarations_repo.path), "--registry", f"emulated:{seeded_state}"
    )
    wait_until(
        lambda: all(
            record.get("lastAppliedRevision") == revision
            for record in controller.status()["functions"].values()
        ),
        20,
        "the first pass to apply the revision",
        diagnostics=controller.log,
    )

    table = lambda_gitops("status", "--url", controller.url)
    assert table.returncode == 0, table.stderr
    header, functions = table.stdout.split("\n\n")
    assert f"Revision:           {revision}" in header
    assert "Mode:               enforce" in header
    assert ", success" in header
    rows = {line.split()[0]: line.split() for line in functions.splitlines()[1:]}
    assert set(rows) == {"billing-worker", "orders-api"}
    assert all(row[1] == "us-east-1" for row in rows.values())
    assert all(row[4] == revision[:7] for row in rows.values())
    assert table.stderr == ""

    document = lambda_gitops("status", "--url", controller.url, "--output", "json")
    assert document.returncode == 0, document.stderr
    received = json.loads(document.stdout)
    assert received["revision"] == revision
    assert set(received["functions"]) == {"billing-worker", "orders-api"}

    url = controller.url
    controller.stop()
    gone = lambda_gitops("status", "--url", url, "--timeout", "5")
    assert gone.returncode == 1
    assert gone.stdout == ""
    assert gone.stderr == f"error: cannot reach {url}/status: Connection refused\n"

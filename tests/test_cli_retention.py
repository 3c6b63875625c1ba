"""Retention through the command line: ``plan`` shows each deletion and counts it (exit 2),
``reconcile --once`` deletes and says so, and with ``scope.delete_versions`` off ``plan`` shows
what would be deleted as a note and exits 0.

The world is ``tests.engine.test_retention_loop``'s: five published versions, ``live`` on 5,
``manual`` on 2, ``retainVersions: 2``: versions 1 and 3 go.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.cli.main import main
from tests.conftest import commit_declarations
from tests.engine.test_retention_loop import DECLARATION, SEED


def run(*arguments: str) -> Result:
    result = CliRunner().invoke(main, list(arguments))
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.fixture
def options(tmp_path: Path) -> list[str]:
    """--repo, --registry and a --config that lets the controller delete versions."""
    folder = tmp_path / "declarations"
    folder.mkdir()
    (folder / "orders-api.yaml").write_text(textwrap.dedent(DECLARATION))
    commit_declarations(folder)
    (tmp_path / "seed.yaml").write_text(SEED)
    state = tmp_path / "registry.sqlite"
    assert (
        run("emulator", "load", str(tmp_path / "seed.yaml"), "--state", str(state)).exit_code == 0
    )
    config = tmp_path / "lambda-gitops.yaml"
    config.write_text("scope:\n  delete_versions: true\n")
    return ["--repo", str(folder), "--registry", f"emulated:{state}", "--config", str(config)]


def test_plan_shows_the_deletions_and_reconcile_makes_them(options: list[str]) -> None:
    planned = run("plan", *options)

    assert planned.exit_code == 2, planned.output
    assert "  - version 1 (retention)\n  - version 3 (retention)\n" in planned.output
    assert (
        "Plan: 0 to publish, 0 to create, 0 to update, 0 to delete, 2 versions to delete."
        in planned.output
    )

    applied = run("reconcile", "--once", *options)

    assert applied.exit_code == 0, applied.output
    assert "applied: deleted version 1 (retention)" in applied.output
    assert "applied: deleted version 3 (retention)" in applied.output
    after = run("plan", *options)
    assert after.exit_code == 0, after.output
    assert "No changes" in after.output


def test_plan_json_has_each_deletion_and_the_retention_view(options: list[str]) -> None:
    planned = run("plan", *options, "--output", "json")

    assert planned.exit_code == 2, planned.output
    [orders] = json.loads(planned.stdout)["functions"]
    assert orders["actions"] == [
        {"action": "delete_version", "version": "1", "reason": "retention"},
        {"action": "delete_version", "version": "3", "reason": "retention"},
    ]
    assert orders["retention"] == {
        "keep": 2,
        "versions": 5,
        "protected": ["2"],
        "deleted": ["1", "3"],
        "held": [],
        "reason": None,
    }


def test_with_the_switch_off_plan_notes_what_it_would_delete_and_is_in_sync(
    options: list[str],
) -> None:
    without_config = options[:-2]

    planned = run("plan", *without_config)

    assert planned.exit_code == 0, planned.output
    assert (
        "  · 2 versions beyond retainVersions 2 kept: scope.delete_versions is off (1, 3)"
        in planned.output
    )
    assert "No changes" in planned.output
    applied = run("reconcile", "--once", *without_config)
    assert applied.exit_code == 0, applied.output
    assert "deleted version" not in applied.output

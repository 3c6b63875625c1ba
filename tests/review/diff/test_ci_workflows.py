"""The GitHub Actions examples under ``deploy/ci/`` parse, and run the steps the walkthrough
promises, with the permissions it promises, without any network.

YAML 1.2 is used on purpose, as GitHub reads it: under YAML 1.1 the ``on:`` key would be the
boolean true.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from controller.review.report import MARKER

CI = Path(__file__).resolve().parents[3] / "deploy" / "ci"


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe", pure=True).load((CI / name).read_text())
    return loaded


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def uses(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]).split("@")[0] for step in job["steps"] if "uses" in step]


@pytest.mark.parametrize("name", ["pull-request.yml", "release.yml"])
def test_every_step_is_named_and_does_one_thing(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in job["steps"]:
            assert "name" in step
            assert ("uses" in step) != ("run" in step), step


def test_the_pull_request_workflow_validates_and_comments_the_diff() -> None:
    workflow = load("pull-request.yml")
    assert list(workflow["on"]) == ["pull_request"]
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    (job,) = workflow["jobs"].values()
    assert uses(job) == ["actions/checkout", "actions/setup-python", "actions/github-script"]
    checkout = job["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0  # the base commit must be there to diff
    assert job["steps"][1]["with"]["python-version"] == "3.11"
    commands = runs(job)
    assert "pip install lambda-gitops" in commands
    assert (
        "lambda-gitops diff --base ${{ github.event.pull_request.base.sha }} "
        "--head ${{ github.event.pull_request.head.sha }} --output markdown > diff.md"
    ) in commands
    assert "lambda-gitops validate" in commands
    script = next(s for s in job["steps"] if "uses" in s and "github-script" in s["uses"])
    code = script["with"]["script"]
    assert MARKER in code  # the comment is found by the marker the diff writes first
    assert "updateComment" in code
    assert "createComment" in code


def test_the_release_workflow_declares_promotes_and_opens_a_pull_request() -> None:
    workflow = load("release.yml")
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert "actions/checkout" in uses(job)
    declarations = next(s for s in job["steps"] if s.get("with", {}).get("path") == "declarations")
    assert declarations["with"]["repository"] == "${{ env.DECLARATIONS_REPOSITORY }}"
    commands = runs(job)
    order = [
        "zip -X",
        'lambda-gitops add-version "$FUNCTION" "$GITHUB_REF_NAME" --zip ../build/app.zip',
        'lambda-gitops promote "$FUNCTION" beta --to "$GITHUB_REF_NAME"',
        "git commit",
        "gh pr create",
    ]
    positions = [commands.index(command) for command in order]
    assert positions == sorted(positions)
    assert "--description" in commands

"""``lambda-gitops diff`` on real repositories: what each pull request of a promotion does.

The story (``conftest.py``) is a promotion from r41 to r42 in pull requests, a reorganisation of
the files, a function replaced by another, and a head that is wrong. Each test compares two of its
commits the way a CI job does, by SHA, through the command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from controller.cli.diff import diff_command
from tests.review.diff.support import History, assert_snapshot, function, sha


def diff(story: dict[str, str], base: str, head: str, *options: str) -> Result:
    arguments = ["--repo", story["repo"], "--base", story[base], "--head", story[head]]
    result = CliRunner().invoke(diff_command, [*arguments, *options])
    assert "Traceback" not in result.output + result.stderr
    return result


def diff_json(story: dict[str, str], base: str, head: str) -> dict[str, Any]:
    result = diff(story, base, head, "--output", "json")
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {function["name"]: function for function in report["functions"]}


def target(label: str, *, routing: dict[str, float] | None = None, description: str = "") -> Any:
    return {
        "version": label,
        "codeSha256": sha(f"orders {label}"),
        "routing": routing or {},
        "description": description,
    }


def test_a_promotion_to_beta_in_json(story: dict[str, str]) -> None:
    """The whole JSON of a pull request that declares r42, drops r40, moves beta and starts a
    canary: one entry per changed alias and version, with both sides."""
    assert diff_json(story, "start", "beta") == {
        "base": story["start"],
        "head": story["beta"],
        "functions": [
            {
                "name": "orders-api",
                "functionName": "orders-api",
                "region": "us-east-1",
                "account": None,
                "status": "changed",
                "summary": "beta r41 -> r42; canary +10% to r42; +1 version; -1 version",
                "files": {"base": "functions/shared.yaml", "head": "functions/shared.yaml"},
                "previousName": None,
                "versions": [
                    {
                        "label": "r40",
                        "change": "removed",
                        "fields": [],
                        "before": {
                            "codeSha256": sha("orders r40"),
                            "description": None,
                            "code": None,
                            "configuration": {},
                            "secrets": [],
                        },
                        "after": None,
                    },
                    {
                        "label": "r42",
                        "change": "added",
                        "fields": [],
                        "before": None,
                        "after": {
                            "codeSha256": sha("orders r42"),
                            "description": None,
                            "code": None,
                            "configuration": {},
                            "secrets": [],
                        },
                    },
                ],
                "aliases": [
                    {
                        "name": "beta",
                        "change": "changed",
                        "fields": ["version"],
                        "before": target("r41"),
                        "after": target("r42"),
                        "pruned": False,
                    },
                    {
                        "name": "canary",
                        "change": "changed",
                        "fields": ["routing"],
                        "before": target("r41"),
                        "after": target("r41", routing={"r42": 0.1}),
                        "pruned": False,
                    },
                ],
                "settings": [],
                "errors": [],
            }
        ],
        "unchanged": 2,
        "errors": [],
        "brokenFiles": [],
        "live": None,
    }


def test_a_canary_step_shows_both_weights(story: dict[str, str]) -> None:
    orders = by_name(diff_json(story, "beta", "canary"))["orders-api"]
    assert orders["summary"] == "canary 10% -> 25% to r42; live description"
    canary, live = orders["aliases"]
    assert (canary["fields"], canary["after"]["routing"]) == (["routing"], {"r42": 0.25})
    assert (live["fields"], live["after"]["description"]) == (["description"], "production traffic")


def test_completing_a_promotion_moves_live_and_clears_the_routing(story: dict[str, str]) -> None:
    orders = by_name(diff_json(story, "canary", "complete"))["orders-api"]
    assert orders["summary"] == (
        "canary r41 -> r42, routing cleared (was 25% to r42); live r41 -> r42"
    )
    canary = orders["aliases"][0]
    assert canary["fields"] == ["version", "routing"]
    assert canary["after"] == target("r42")


def test_moving_and_splitting_files_removes_no_function(story: dict[str, str]) -> None:
    """A file moved, and a file of two documents split in two: three functions moved, none
    removed or added, and each says that nothing else changed."""
    report = diff_json(story, "complete", "reorganise")
    assert report["unchanged"] == 0
    assert {
        name: (entry["status"], entry["files"], entry["versions"], entry["aliases"])
        for name, entry in by_name(report).items()
    } == {
        "billing-worker": (
            "changed",
            {"base": "functions/billing.yaml", "head": "services/billing.yaml"},
            [],
            [],
        ),
        "legacy-report": (
            "changed",
            {"base": "functions/shared.yaml", "head": "functions/legacy-report.yaml"},
            [],
            [],
        ),
        "orders-api": (
            "changed",
            {"base": "functions/shared.yaml", "head": "functions/orders-api.yaml"},
            [],
            [],
        ),
    }
    assert by_name(report)["orders-api"]["summary"] == (
        "moved to functions/orders-api.yaml; no change to the function"
    )


def test_a_function_removed_and_one_added(story: dict[str, str]) -> None:
    report = by_name(diff_json(story, "reorganise", "replace"))
    assert report["legacy-report"]["status"] == "removed"
    assert report["legacy-report"]["files"] == {
        "base": "functions/legacy-report.yaml",
        "head": None,
    }
    payments = report["payments-api"]
    assert payments["status"] == "added"
    assert payments["summary"] == "new function: 7 versions, 2 aliases"
    assert [v["label"] for v in payments["versions"]] == [f"r{n}" for n in range(1, 8)]
    assert payments["aliases"][0]["after"]["routing"] == {"r6": 0.05}
    assert payments["settings"] == [{"field": "prune", "before": False, "after": True}]


def test_an_invalid_head_is_reported_with_file_and_line_and_exits_0(
    story: dict[str, str],
) -> None:
    """Errors at head are content of the diff, not a failure of the command: the comment must
    show them. A broken file's functions are kept, not reported removed."""
    report = diff_json(story, "replace", "broken")
    orders_error = (
        "functions/orders-api.yaml:10: spec.aliases.live.version 'r99' is not a label of "
        "spec.versions (labels: r41, r42) nor a published version number; declare the label or "
        'write a number such as "17"'
    )
    broken_error = (
        "services/billing.yaml:10: YAML syntax error: expected ',' or ']', but got ':'; until "
        "the file parses, every function it declared stays as last applied"
    )
    assert report["errors"] == [orders_error, broken_error]
    assert report["brokenFiles"] == [broken_error]
    functions = by_name(report)
    assert (functions["orders-api"]["status"], functions["orders-api"]["errors"]) == (
        "invalid",
        [orders_error],
    )
    assert functions["billing-worker"]["status"] == "unreadable"
    assert functions["billing-worker"]["summary"] == (
        "services/billing.yaml does not parse at head: left as it is"
    )
    assert "payments-api" not in functions
    assert report["unchanged"] == 1


@pytest.mark.parametrize(
    ("base", "head", "snapshot"),
    [
        ("start", "beta", "promote-to-beta.md"),
        ("beta", "canary", "canary-step.md"),
        ("canary", "complete", "complete-promotion.md"),
        ("complete", "reorganise", "files-moved-and-split.md"),
        ("reorganise", "replace", "function-replaced.md"),
        ("replace", "broken", "invalid-head.md"),
        ("start", "start", "no-change.md"),
    ],
)
def test_markdown_matches_the_reviewed_snapshot(
    story: dict[str, str], base: str, head: str, snapshot: str
) -> None:
    result = diff(story, base, head)  # Markdown is the default output
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!-- lambda-gitops diff -->\n")
    assert_snapshot(snapshot, result.stdout)


def test_text_output_for_a_terminal(story: dict[str, str]) -> None:
    result = diff(story, "canary", "complete", "--output", "text")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"Declarations {story['canary'][:12]}..{story['complete'][:12]}: "
        "1 function changed, 2 unchanged",
        "",
        "orders-api (us-east-1): canary r41 -> r42, routing cleared (was 25% to r42); "
        "live r41 -> r42",
        f"  ~ alias canary: r41 ({sha('orders r41')[:8]}…) -> r42 ({sha('orders r42')[:8]}…); "
        "routing cleared (was 25% to r42)",
        f"  ~ alias live: r41 ({sha('orders r41')[:8]}…) -> r42 ({sha('orders r42')[:8]}…)",
    ]


def test_relabelled_code_removed_alias_and_switched_settings(tmp_path: Path) -> None:
    """A label re-declared with other code moves every alias on it, even though the alias's
    text is unchanged; a removed alias says whether the controller deletes it."""
    history = History(tmp_path / "repo")
    base = history.commit(
        "base",
        {
            "orders.yaml": function(
                "orders-api",
                {"r42": "first build"},
                {"live": "{version: r42}", "old": "{version: r42}"},
            )
        },
    )
    head = history.commit(
        "head",
        {
            "orders.yaml": function(
                "orders-api",
                {"r42": "rebuilt"},
                {"live": "{version: r42}"},
                prune=True,
                suspend=True,
                adopt=True,
            )
        },
    )
    arguments = ["--repo", str(history.folder), "--base", base, "--head", head]
    result = CliRunner().invoke(diff_command, [*arguments, "--output", "json"])
    orders = json.loads(result.stdout)["functions"][0]
    assert orders["summary"] == (
        "live r42 now declares other code; -old (pruned); r42 code changed; prune on; suspend on; "
        "adopt on"
    )
    live, old = orders["aliases"]
    assert (live["fields"], live["after"]["codeSha256"]) == (["version"], sha("rebuilt"))
    assert (old["change"], old["pruned"]) == ("removed", True)
    assert orders["versions"][0]["fields"] == ["codeSha256"]
    text = CliRunner().invoke(diff_command, [*arguments, "--output", "text"]).stdout
    assert "  - alias old (was r42): deleted by the controller (prune: true)" in text


RETENTION_CHANGES = {
    "declared": ("", "  retainVersions: 3\n", "retainVersions default -> 3", None, 3),
    "lowered": ("  retainVersions: 10\n", "  retainVersions: 3\n", "retainVersions 10 -> 3", 10, 3),
    "all: never delete": (
        "  retainVersions: 3\n",
        "  retainVersions: all\n",
        "retainVersions 3 -> all",
        3,
        "all",
    ),
}


@pytest.mark.parametrize("change", RETENTION_CHANGES.values(), ids=RETENTION_CHANGES.keys())
def test_a_change_of_retain_versions_is_shown(
    tmp_path: Path, change: tuple[str, str, str, int | str | None, int | str | None]
) -> None:
    """retainVersions decides how many versions the controller may delete: a reviewer sees
    it change, even when nothing else in the function does."""
    before, after, summary, json_before, json_after = change
    history = History(tmp_path / "repo")
    declared = function("orders-api", {"r42": "build"}, {"live": "{version: r42}"})
    base = history.commit("base", {"orders.yaml": declared + before})
    head = history.commit("head", {"orders.yaml": declared + after})
    arguments = ["--repo", str(history.folder), "--base", base, "--head", head]

    result = CliRunner().invoke(diff_command, [*arguments, "--output", "json"])

    [orders] = json.loads(result.stdout)["functions"]
    assert orders["summary"] == summary
    assert orders["settings"] == [
        {"field": "retainVersions", "before": json_before, "after": json_after}
    ]
    text = CliRunner().invoke(diff_command, [*arguments, "--output", "text"]).stdout
    assert f"  {summary}: the controller keeps the newest" in text
    markdown = CliRunner().invoke(diff_command, [*arguments, "--output", "markdown"]).stdout
    assert f"| {summary.replace('->', '→')} |" in markdown


def test_an_unknown_revision_is_one_error_line_and_exit_1(story: dict[str, str]) -> None:
    result = CliRunner().invoke(
        diff_command, ["--repo", story["repo"], "--base", "no-such-branch", "--head", "HEAD"]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: the ref 'no-such-branch' does not name a commit")
    assert len(result.stderr.splitlines()) == 1


def test_a_folder_that_is_no_repository_is_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        diff_command, ["--repo", str(tmp_path), "--base", "HEAD~1", "--head", "HEAD"]
    )
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path} is not a Git repository\n"


def test_the_diff_module_imports_no_io_library() -> None:
    """``controller.review.compare`` is pure over declarations: loading it loads no Git, AWS or file
    watching code, so the comparison cannot depend on anything but its arguments."""
    probe = (
        "import sys, controller.review.compare; "
        "print(sorted(m for m in ('git', 'boto3', 'botocore', 'watchfiles', 'structlog', "
        "'prometheus_client') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"

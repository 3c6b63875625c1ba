"""``diff --live`` against the emulated registry, served over HTTP as in CI.

The registry is seeded where the base revision of a pull request left it, except for one alias
moved by hand. The diff must show both what merging the pull request writes and that drift,
which exists whether or not the pull request is merged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from controller.cli.diff import diff_command
from controller.cli.main import main
from lambda_emulator import EmulatorServer
from tests.review.diff.support import assert_snapshot, sha


def seed(path: Path) -> Path:
    """Every function of the story as the ``canary`` step declares it, but beta on version 1
    (r41) where the declarations say r42: someone moved it in the console."""
    path.write_text(
        f"""functions:
  - name: orders-api
    codeSha256: "{sha("orders r42")}"
    versions: ["{sha("orders r41")}", "{sha("orders r42")}"]
    aliases:
      live: {{version: "1", description: "production traffic"}}
      beta: {{version: "1"}}
      canary: {{version: "1", routing: {{"2": 0.25}}}}
  - name: legacy-report
    codeSha256: "{sha("legacy r1")}"
    versions: ["{sha("legacy r1")}"]
    aliases: {{live: {{version: "1"}}}}
  - name: billing-worker
    region: eu-west-1
    codeSha256: "{sha("billing r7")}"
    versions: ["{sha("billing r7")}"]
    aliases: {{live: {{version: "1"}}}}
"""
    )
    return path


def test_live_shows_the_writes_of_the_merge_and_drift_already_present(
    story: dict[str, str],
    tmp_path: Path,
    emulator_factory: Callable[..., EmulatorServer],
) -> None:
    state = tmp_path / "registry.sqlite"
    loaded = CliRunner().invoke(
        main, ["emulator", "load", str(seed(tmp_path / "seed.yaml")), "--state", str(state)]
    )
    assert loaded.exit_code == 0, loaded.output
    server = emulator_factory(state=state)
    arguments = [
        *("--repo", story["repo"], "--base", story["canary"], "--head", story["complete"]),
        *("--live", "--registry", "aws", "--endpoint-url", server.endpoint_url),
    ]
    as_json = CliRunner().invoke(diff_command, [*arguments, "--output", "json"])
    assert as_json.exit_code == 0, as_json.output
    live = json.loads(as_json.stdout)["live"]
    orders = next(f for f in live["plan"]["functions"] if f["name"] == "orders-api")
    assert [(a["action"], a["alias"], a["version"], a["routing"]) for a in orders["actions"]] == [
        ("update", "live", "2", {}),
        ("update", "beta", "2", {}),
        ("update", "canary", "2", {}),
    ]
    assert [f["name"] for f in live["driftAtBase"]] == ["orders-api"]
    assert [entry["alias"] for entry in live["driftAtBase"][0]["drift"]] == ["beta"]
    writes = {op: n for op, n in server.request_counts().items() if not op.startswith("Get")}
    assert not {"UpdateAlias", "CreateAlias", "PublishVersion"} & writes.keys()

    as_markdown = CliRunner().invoke(diff_command, arguments)
    assert as_markdown.exit_code == 0, as_markdown.output
    assert_snapshot("live.md", as_markdown.stdout)


def test_an_unreachable_registry_is_reported_per_function(story: dict[str, str]) -> None:
    """As in ``plan``, a function whose live state cannot be read is in error on its own; the
    declarations diff is still printed, so the comment is not lost to a registry outage."""
    result = CliRunner().invoke(
        diff_command,
        [
            *("--repo", story["repo"], "--base", story["canary"], "--head", story["complete"]),
            *("--live", "--registry", "aws", "--endpoint-url", "http://127.0.0.1:9"),
            *("--output", "text"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "orders-api (us-east-1): canary r41 -> r42" in result.stdout
    assert result.stdout.count("! cannot read it: ") == 6  # three functions, at head and at base

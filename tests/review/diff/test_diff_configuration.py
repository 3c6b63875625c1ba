"""``diff`` of a version's configuration: a reviewer sees which fields change, per version,
and which aliases it moves, with every secret value masked in every output.

The base declares ``r42`` with 256 MB, ``STAGE: dev`` and a secret ``API_KEY``; the head gives
it 512 MB, ``STAGE: prod`` and a new secret, and adds ``r43``, with a secret of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.cli.diff import diff_command
from tests.review.diff.support import History, sha

OLD_SECRET = "old-secret-value-1234"
NEW_SECRET = "new-secret-value-5678"
R43_SECRET = "r43-secret-value-9012"


def orders(r42: str, *, r43: str = "") -> str:
    """orders-api, with ``r42``'s configuration as a flow mapping, and ``r43``'s if given."""
    lines = [
        "apiVersion: lambda-gitops/v1",
        "kind: Function",
        "metadata: {name: orders-api}",
        "spec:",
        "  versions:",
        f'    r42: {{codeSha256: "{sha("orders r42")}", configuration: {r42}}}',
    ]
    if r43:
        lines.append(f'    r43: {{codeSha256: "{sha("orders r43")}", configuration: {r43}}}')
    lines += ["  aliases:", "    live: {version: r42}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def story(tmp_path: Path) -> dict[str, str]:
    history = History(tmp_path / "repo")
    base = history.commit(
        "r42 in dev",
        {
            "orders.yaml": orders(
                f'{{memorySize: 256, environment: {{STAGE: dev, API_KEY: {{value: "{OLD_SECRET}", '
                "secret: true}}}"
            )
        },
    )
    head = history.commit(
        "r42 in prod, r43 declared",
        {
            "orders.yaml": orders(
                f'{{memorySize: 512, environment: {{STAGE: prod, API_KEY: {{value: "{NEW_SECRET}", '
                "secret: true}}}",
                r43=f'{{timeout: 30, environment: {{TOKEN: {{value: "{R43_SECRET}", '
                "secret: true}}}",
            )
        },
    )
    return {"repo": str(history.folder), "base": base, "head": head}


def diff(story: dict[str, str], *options: str) -> Result:
    arguments = ["--repo", story["repo"], "--base", story["base"], "--head", story["head"]]
    result = CliRunner().invoke(diff_command, [*arguments, *options])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output + result.stderr
    for secret in (OLD_SECRET, NEW_SECRET, R43_SECRET):
        assert secret not in result.output + result.stderr
    return result


def test_the_text_shows_each_field_that_changes_and_no_secret(story: dict[str, str]) -> None:
    lines = diff(story, "--output", "text").stdout.splitlines()

    assert lines[2] == (
        "orders-api (us-east-1): live r42 now declares other configuration; +1 version; "
        "r42 configuration changed"
    )
    assert (
        "  ~ version r42: environment.API_KEY (secret, changed); "
        'environment.STAGE "dev" -> "prod"; memorySize 256 -> 512'
    ) in lines
    assert (
        f"  + version r43 {sha('orders r43')} with environment.TOKEN (secret), timeout 30" in lines
    )


def test_markdown_and_json_show_the_same_without_a_secret(story: dict[str, str]) -> None:
    markdown = diff(story).stdout
    report = json.loads(diff(story, "--output", "json").stdout)

    assert "environment.API\\_KEY (secret, changed)" in markdown
    assert "memorySize 256 → 512" in markdown
    (orders,) = report["functions"]
    r42, r43 = orders["versions"]
    assert r42["fields"] == ["configuration"]
    assert r42["before"]["configuration"] == {
        "environment": {"API_KEY": "(secret)", "STAGE": "dev"},
        "memorySize": 256,
    }
    assert r42["after"]["secrets"] == ["API_KEY"]
    assert r43["after"]["configuration"] == {
        "environment": {"TOKEN": "(secret)"},
        "timeout": 30,
    }
    (live,) = orders["aliases"]
    assert live["fields"] == ["version"]


def test_a_variable_that_becomes_secret_says_so_and_shows_no_value(tmp_path: Path) -> None:
    history = History(tmp_path / "repo")
    value = "was-plain-now-secret"
    base = history.commit("plain", {"o.yaml": orders(f"{{environment: {{API_KEY: {value}}}}}")})
    head = history.commit(
        "secret",
        {"o.yaml": orders(f'{{environment: {{API_KEY: {{value: "{value}", secret: true}}}}}}')},
    )
    story = {"repo": str(history.folder), "base": base, "head": head}

    text = diff(story, "--output", "text").stdout

    assert "~ version r42: environment.API_KEY marked secret" in text
    assert value not in text

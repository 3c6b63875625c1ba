"""End to end, as a user runs it: a secret given to the controller never comes back out.

Not in the error a command prints, whatever carries it there: a ``--repo`` with a token in it,
whose port may not even parse, or click quoting an argument it refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import lambda_gitops

TOKEN = "TOKENVALUE-from-the-env-4711"


def assert_not_shown(secrets: tuple[str, ...], **shown: str) -> None:
    for where, text in shown.items():
        for secret in secrets:
            assert secret not in text, f"{secret} appears in {where}:\n{text}"


# -- the one-shot commands ------------------------------------------------------------------------

REPOS_WITH_A_TOKEN = [
    "http://TOKENVALUE@git.example/x.git",
    "https://deploy:TOKENVALUE@git.example/x.git",
    "http://u:TOKENVALUE@git.example:80a/x.git",
    "http://u:TOKENVALUE@git.example:99999/x.git",
    "u:TOKENVALUE@git.example:org/x.git",
]


@pytest.mark.parametrize("command", [["plan"], ["reconcile", "--once"], ["validate"]], ids=" ".join)
def test_a_command_given_a_url_with_a_token_fails_clearly_without_showing_it(
    command: list[str], seeded_state: Path
) -> None:
    registry = [] if command == ["validate"] else ["--registry", f"emulated:{seeded_state}"]
    for repo in REPOS_WITH_A_TOKEN:
        result = lambda_gitops(*command, "--repo", repo, *registry)
        assert result.returncode == 1, (repo, result.stdout, result.stderr)
        assert "this command reads a local clone" in result.stderr, (repo, result.stderr)
        assert "Traceback" not in result.stderr
        assert_not_shown(("TOKENVALUE",), stdout=result.stdout, stderr=result.stderr)


@pytest.mark.parametrize(
    "arguments",
    [
        ["plan", "http://TOKENVALUE@git.example/x.git"],
        ["run", "--mode", "https://u:TOKENVALUE@git.example:80a/x.git"],
        ["validate", "--ref", "main", "extra", "u:TOKENVALUE@git.example:x.git"],
    ],
    ids=["extra argument", "invalid choice", "second extra argument"],
)
def test_a_usage_error_quoting_a_token_does_not_show_it(arguments: list[str]) -> None:
    result = lambda_gitops(*arguments, env={"LAMBDA_GITOPS_GIT_TOKEN": TOKEN})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Error: " in result.stderr
    assert "git.example" in result.stderr  # the argument is named, its token masked
    assert_not_shown(("TOKENVALUE", TOKEN), stdout=result.stdout, stderr=result.stderr)

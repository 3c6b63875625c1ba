"""The alert rules pass Prometheus's own checks and unit tests, and each is documented.

``promtool check rules`` validates the rule file; ``promtool test rules`` runs
``config/prometheus/alerts_test.yaml``, which shows every alert firing with its labels and
annotations and staying quiet where it must. The rest reads the rule file itself: every alert
carries a severity, a summary, a description and a runbook link, and ``docs/runbooks.md`` has the
section that link points at.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.alerts.conftest import RULE_TESTS, RULES, RUNBOOKS

EXPECTED_ALERTS = {
    "LambdaAliasDrift",
    "LambdaAliasChangedOutOfBand",
    "LambdaRolloutFailed",
    "LambdaRolloutStuck",
    "LambdaGitopsReconcileFailing",
    "LambdaGitopsReconcileStale",
    "LambdaGitopsSourceFetchFailing",
    "LambdaGitopsInvalidDeclarations",
    "LambdaGitopsNoLeader",
    "LambdaGitopsTwoLeaders",
    "LambdaGitopsChangeEventsMalformed",
    "LambdaGitopsDown",
}
RUNBOOK_BASE = "https://github.com/lambda-gitops/lambda-gitops/blob/main/docs/runbooks.md#"


def load_rules() -> list[dict[str, Any]]:
    document = YAML(typ="safe").load(RULES.read_text(encoding="utf-8"))
    groups = document["groups"]
    assert [group["name"] for group in groups] == ["lambda-gitops"]
    rules: list[dict[str, Any]] = groups[0]["rules"]
    return rules


def promtool_run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_check_rules(promtool: str) -> None:
    result = promtool_run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(EXPECTED_ALERTS)} rules found" in result.stdout, result.stdout


def test_promtool_unit_tests(promtool: str) -> None:
    result = promtool_run(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout


def test_unit_tests_cover_every_alert_firing_and_quiet() -> None:
    document = YAML(typ="safe").load(RULE_TESTS.read_text(encoding="utf-8"))
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in document["tests"]:
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
            for alert in check["exp_alerts"]:
                assert alert.get("exp_annotations"), f"{check['alertname']}: no annotations"
    assert firing == EXPECTED_ALERTS
    assert quiet == EXPECTED_ALERTS


def test_the_rule_file_holds_exactly_the_alerts() -> None:
    names = [rule["alert"] for rule in load_rules()]
    assert sorted(names) == sorted(EXPECTED_ALERTS)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", sorted(EXPECTED_ALERTS))
def test_every_alert_says_what_is_wrong_and_what_to_do(name: str) -> None:
    rule = next(rule for rule in load_rules() if rule["alert"] == name)
    assert rule["labels"]["severity"] in ("warning", "critical")
    annotations = rule["annotations"]
    assert set(annotations) >= {"summary", "description", "runbook_url"}
    assert annotations["summary"].strip()
    assert annotations["description"].strip()
    assert annotations["runbook_url"] == RUNBOOK_BASE + name.lower()


def runbook_sections() -> list[str]:
    text = RUNBOOKS.read_text(encoding="utf-8")
    return re.findall(r"^## (\S+)\s*$", text, flags=re.MULTILINE)


def test_every_alert_has_a_runbook_section() -> None:
    sections = runbook_sections()
    for name in EXPECTED_ALERTS:
        assert name in sections, f"docs/runbooks.md has no '## {name}' section"

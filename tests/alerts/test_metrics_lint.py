"""The real controller's ``/metrics`` passes ``promtool check metrics``, and it serves every
series the alert rules ask for, under the names the rules use."""

from __future__ import annotations

import re
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.conftest import (
    READY_TIMEOUT,
    RULES,
    make_fleet,
    start_controller,
    stop_controller,
)
from tests.polling import wait_until


@pytest.fixture(scope="module")
def served_metrics(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What ``/metrics`` of ``lambda-gitops run`` serves once a pass has recorded the
    per-function and per-alias series; the controller is stopped (exit 0) before the tests."""
    directory = tmp_path_factory.mktemp("metrics-lint")
    controller = start_controller(make_fleet(directory), directory)
    try:
        controller.wait_ready()

        def scraped() -> str | None:
            answer = controller.get("/metrics")
            if answer is None or answer[0] != 200:
                return None
            text = answer[1].decode()
            return text if "lambda_gitops_alias_drift{" in text else None

        text = wait_until(
            scraped, READY_TIMEOUT, "a pass's series in /metrics", diagnostics=controller.log
        )
    finally:
        stop_controller(controller)
    return text


def test_promtool_check_metrics_is_clean(promtool: str, served_metrics: str) -> None:
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=served_metrics,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = result.stdout + result.stderr
    assert result.returncode == 0, problems
    assert problems.strip() == "", problems


def test_the_rules_use_only_series_the_controller_serves(served_metrics: str) -> None:
    families = list(text_string_to_metric_families(served_metrics))
    served = {sample.name for family in families for sample in family.samples}
    # Per-alias families with no series in the example fleet (no alias there rolls out) are
    # still served: their HELP and TYPE are on the page, and an alias with a rollout has them.
    served |= {family.name for family in families if family.type == "gauge"}
    used = set(re.findall(r"\blambda_gitops_[a-z_]+", RULES.read_text(encoding="utf-8")))
    assert used, "the rule file names no lambda_gitops series"
    assert used <= served, f"the rules use series the controller does not serve: {used - served}"

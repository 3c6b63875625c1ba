"""A real Prometheus scrapes the real controller and fires LambdaAliasDrift, then resolves it.

The registry is first converged with ``reconcile --once`` (the example seed differs from the
declarations on purpose), then ``lambda-gitops run --mode detect`` watches it: in detect mode
an out-of-band change stays, so the alias drifts until the test puts it back. Prometheus on
127.0.0.1 scrapes every second and evaluates a copy of the rule file in which only
LambdaAliasDrift's ``for:`` is shortened; its first scrape comes about 5 s after start, so every
wait below is a poll with a generous deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.alerts.conftest import RULES, Controller, Fleet
from tests.polling import wait_until
from tests.prometheus import Prometheus

ALERT_TIMEOUT = 40.0
TEST_FOR = "2s"
DRIFTED = {"function": "orders-api", "alias": "live", "region": "us-east-1"}


def rules_with_short_drift(destination: Path) -> Path:
    """A copy of the rule file with LambdaAliasDrift's ``for:`` shortened for the test."""
    yaml = YAML(typ="safe")
    document = yaml.load(RULES.read_text(encoding="utf-8"))
    (rule,) = [r for r in document["groups"][0]["rules"] if r.get("alert") == "LambdaAliasDrift"]
    assert rule["for"] == "10m"
    rule["for"] = TEST_FOR
    with destination.open("w", encoding="utf-8") as file:
        yaml.dump(document, file)
    return destination


@pytest.fixture
def alerting_prometheus(
    tmp_path: Path, prometheus_factory: Callable[..., Prometheus]
) -> Callable[[str], Prometheus]:
    """Start Prometheus scraping a target and evaluating the rules with the short ``for:``."""
    rules = rules_with_short_drift(tmp_path / "alerts.yaml")
    return lambda target: prometheus_factory(target, rule_files=(rules,))


def test_out_of_band_alias_change_fires_lambda_alias_drift_and_healing_resolves_it(
    prometheus_binary: str,
    fleet: Fleet,
    controller_factory: Callable[..., Controller],
    alerting_prometheus: Callable[[str], Prometheus],
) -> None:
    converged = fleet.cli(
        "reconcile", "--once", "--repo", str(fleet.repo), "--registry", f"emulated:{fleet.state}"
    )
    assert converged.returncode == 0, converged.stdout + converged.stderr
    controller = controller_factory("--resync-interval", "1")
    prometheus = alerting_prometheus(controller.url.removeprefix("http://"))
    controller.wait_ready()

    def drift_scraped_as(value: str) -> bool:
        result = prometheus.api(
            "query",
            query='lambda_gitops_alias_drift{job="lambda-gitops",'
            'function="orders-api",alias="live",region="us-east-1"}',
        )["result"]
        return len(result) == 1 and result[0]["value"][1] == value

    # Everything in sync and scraped: nothing drifts, so nothing fires.
    wait_until(
        lambda: drift_scraped_as("0"),
        ALERT_TIMEOUT,
        "Prometheus to scrape orders-api:live in sync",
        diagnostics=prometheus.diagnostics,
    )
    assert prometheus.alerts("LambdaAliasDrift") == []

    fleet.set_alias("orders-api", "live", "1")  # the example declares live at r42, version 2

    def firing() -> list[dict[str, Any]]:
        return [a for a in prometheus.alerts("LambdaAliasDrift") if a["state"] == "firing"]

    (alert,) = wait_until(
        firing,
        ALERT_TIMEOUT,
        "LambdaAliasDrift to fire",
        diagnostics=lambda: f"{prometheus.diagnostics()}\n{controller.log()}",
    )
    assert {key: alert["labels"][key] for key in DRIFTED} == DRIFTED
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["job"] == "lambda-gitops"
    assert alert["annotations"]["summary"] == "Alias orders-api:live (us-east-1) differs from Git"
    assert alert["annotations"]["runbook_url"].endswith("/docs/runbooks.md#lambdaaliasdrift")

    fleet.set_alias("orders-api", "live", "2")  # put back as Git declares it

    wait_until(
        lambda: prometheus.alerts("LambdaAliasDrift") == [],
        ALERT_TIMEOUT,
        "LambdaAliasDrift to resolve",
        diagnostics=prometheus.diagnostics,
    )
    assert drift_scraped_as("0")


def test_an_out_of_band_change_healed_in_enforce_mode_fires_lambda_alias_changed_out_of_band(
    prometheus_binary: str,
    fleet: Fleet,
    controller_factory: Callable[..., Controller],
    alerting_prometheus: Callable[[str], Prometheus],
) -> None:
    """In enforce mode the heal comes within a second, so the drift gauge shows nothing at a
    scrape; the counter keeps the event and the shipped rule fires on it."""
    converged = fleet.cli(
        "reconcile", "--once", "--repo", str(fleet.repo), "--registry", f"emulated:{fleet.state}"
    )
    assert converged.returncode == 0, converged.stdout + converged.stderr
    controller = controller_factory("--mode", "enforce", "--resync-interval", "1")
    prometheus = alerting_prometheus(controller.url.removeprefix("http://"))
    controller.wait_ready()

    def changes_scraped() -> list[str]:
        result = prometheus.api(
            "query",
            query='lambda_gitops_out_of_band_changes_total{job="lambda-gitops",'
            'function="orders-api",alias="live",region="us-east-1"}',
        )["result"]
        return [entry["value"][1] for entry in result]

    wait_until(
        lambda: changes_scraped() == ["0"],
        ALERT_TIMEOUT,
        "Prometheus to scrape the counter at 0",
        diagnostics=prometheus.diagnostics,
    )
    fleet.set_alias("orders-api", "live", "1")  # by hand; the example declares version 2

    def firing() -> list[dict[str, Any]]:
        alerts = prometheus.alerts("LambdaAliasChangedOutOfBand")
        return [a for a in alerts if a["state"] == "firing"]

    (alert,) = wait_until(
        firing,
        ALERT_TIMEOUT,
        "LambdaAliasChangedOutOfBand to fire",
        diagnostics=lambda: f"{prometheus.diagnostics()}\n{controller.log()}",
    )
    assert {key: alert["labels"][key] for key in DRIFTED} == DRIFTED
    assert alert["annotations"]["runbook_url"].endswith("#lambdaaliaschangedoutofband")
    assert changes_scraped() == ["1"]
    assert prometheus.alerts("LambdaAliasDrift") == []  # healed before it could last

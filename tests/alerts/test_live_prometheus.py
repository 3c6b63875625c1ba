"""A real Prometheus scrapes the real controller and fires LambdaAliasDrift, then resolves it.

The registry is first converged with ``reconcile --once`` (the example seed differs from the
declarations on purpose), then ``lambda-gitops run --mode detect`` watches it: in detect mode
an out-of-band change stays, so the alias drifts until the test puts it back. Prometheus on
127.0.0.1 scrapes every second and evaluates a copy of the rule file in which only
LambdaAliasDrift's ``for:`` is shortened; its first scrape comes about 5 s after start, so every
wait below is a poll with a generous deadline.
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from ruamel.yaml import YAML

from tests.alerts.conftest import (
    RULES,
    Controller,
    Fleet,
    http_get,
    stop_process,
)
from tests.polling import free_port, wait_until

ALERT_TIMEOUT = 40.0
TEST_FOR = "2s"
DRIFTED = {"function": "orders-api", "alias": "live", "region": "us-east-1"}


@dataclass
class Prometheus:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    log_file: IO[bytes]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        answer = http_get(f"{self.url}/api/v1/{path}{query}")
        assert answer is not None, f"Prometheus does not answer:\n{self.log()}"
        status, body = answer
        assert status == 200, body
        document = json.loads(body)
        assert document["status"] == "success", document
        return document["data"]

    def alerts(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.api("alerts")["alerts"] if a["labels"]["alertname"] == name]

    def diagnostics(self) -> str:
        return f"alerts: {self.api('alerts')}\ntargets: {self.api('targets')}"


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
def prometheus_factory(
    tmp_path: Path, prometheus_binary: str
) -> Iterator[Callable[[str], Prometheus]]:
    """Start Prometheus scraping a target every second; stopped with SIGTERM after the test."""
    started: list[Prometheus] = []

    def start(target: str) -> Prometheus:
        rules = rules_with_short_drift(tmp_path / "alerts.yaml")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            json.dumps(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(rules)],
                    "scrape_configs": [
                        {"job_name": "lambda-gitops", "static_configs": [{"targets": [target]}]}
                    ],
                }
            ),
            encoding="utf-8",
        )
        port = free_port()
        assert port not in (9090, 9100)
        log_path = tmp_path / f"prometheus-{port}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            [
                prometheus_binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        server = Prometheus(process, f"http://127.0.0.1:{port}", log_path, log_file)
        started.append(server)

        def ready() -> bool:
            assert process.poll() is None, f"Prometheus exited:\n{server.log()}"
            answer = http_get(f"{server.url}/-/ready")
            return answer is not None and answer[0] == 200

        wait_until(ready, 30, "Prometheus to be ready", diagnostics=server.log)
        return server

    yield start
    for server in started:
        try:
            code = stop_process(server.process)
        finally:
            server.log_file.close()
        assert code == 0, f"Prometheus exited {code} after SIGTERM:\n{server.log()}"


def test_out_of_band_alias_change_fires_lambda_alias_drift_and_healing_resolves_it(
    prometheus_binary: str,
    fleet: Fleet,
    controller_factory: Callable[..., Controller],
    prometheus_factory: Callable[[str], Prometheus],
) -> None:
    converged = fleet.cli(
        "reconcile", "--once", "--repo", str(fleet.repo), "--registry", f"emulated:{fleet.state}"
    )
    assert converged.returncode == 0, converged.stdout + converged.stderr
    controller = controller_factory("--resync-interval", "1")
    prometheus = prometheus_factory(controller.url.removeprefix("http://"))
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
    prometheus_factory: Callable[[str], Prometheus],
) -> None:
    """In enforce mode the heal comes within a second, so the drift gauge shows nothing at a
    scrape; the counter keeps the event and the shipped rule fires on it."""
    converged = fleet.cli(
        "reconcile", "--once", "--repo", str(fleet.repo), "--registry", f"emulated:{fleet.state}"
    )
    assert converged.returncode == 0, converged.stdout + converged.stderr
    controller = controller_factory("--mode", "enforce", "--resync-interval", "1")
    prometheus = prometheus_factory(controller.url.removeprefix("http://"))
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

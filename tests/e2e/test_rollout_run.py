"""A canary end to end: ``lambda-gitops run`` as a process, the emulated registry, and Debian's
Prometheus scraping an exporter the test controls, with holds of a few seconds.

The example fleet's ``live`` alias of orders-api is moved from version 1 to r42 (version 2) by
a two-step rollout whose only check is the target version's error ratio in Prometheus. Version 2
errs in none of its requests: the alias goes through both steps and ends on version 2 alone.
Then Git moves it back to r41 (version 1) by the same rollout, and version 1 errs in every
request: the first analysis rolls the alias back to version 2, and it stays there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli.main import main
from tests.e2e.conftest import Aliases, ControllerFactory, DeclarationsRepo, sample
from tests.polling import wait_until
from tests.prometheus import Exporter, Prometheus

ERROR_RATIO = (
    'sum(rate(app_errors_total{function="{{function}}",version="{{version}}"}[5s]))'
    ' / sum(rate(app_requests_total{function="{{function}}",version="{{version}}"}[5s]))'
)
ROLLOUT = f"""\
    live:
      version: VERSION
      rollout:
        steps:
          - {{weight: 0.2, hold: 3s}}
          - {{weight: 0.6, hold: 3s}}
        analysis:
          interval: 1s
          checks:
            - prometheus: {{query: '{ERROR_RATIO}', max: 0.05}}
"""
LIVE = {"function": "orders-api", "region": "us-east-1", "alias": "live"}


def exposition(n: int) -> str:
    """orders-api's versions 1 and 2 at the ``n``th scrape: version 1 errs in every request,
    version 2 in none."""
    return (
        "# TYPE app_requests_total counter\n"
        f'app_requests_total{{function="orders-api",version="1"}} {100 * n}\n'
        f'app_requests_total{{function="orders-api",version="2"}} {100 * n}\n'
        "# TYPE app_errors_total counter\n"
        f'app_errors_total{{function="orders-api",version="1"}} {100 * n}\n'
        f'app_errors_total{{function="orders-api",version="2"}} 0\n'
    )


@pytest.fixture
def scraped(prometheus_factory: Callable[..., Prometheus]) -> Iterator[Prometheus]:
    exporter = Exporter(exposition)
    try:
        prometheus = prometheus_factory(exporter.target)

        def rates() -> bool:
            query = 'rate(app_requests_total{function="orders-api"}[5s])'
            return len(prometheus.api("query", query=query)["result"]) == 2

        wait_until(rates, 40, "two scrapes of the exporter", diagnostics=prometheus.diagnostics)
        yield prometheus
    finally:
        exporter.close()


def declare(repo: DeclarationsRepo, version: str, before: str) -> str:
    repo.edit("orders-api.yaml", before, ROLLOUT.replace("VERSION", version))
    return repo.commit(f"roll live out to {version}")


def test_a_canary_succeeds_step_by_step_then_a_bad_one_rolls_back(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    aliases: Aliases,
    scraped: Prometheus,
) -> None:
    declare(declarations_repo, "r42", "    live:\n      version: r42\n")
    controller = start_controller(
        "--repo",
        str(declarations_repo.path),
        "--registry",
        f"emulated:{seeded_state}",
        env={"LAMBDA_GITOPS_ANALYSIS__PROMETHEUS_URL": scraped.url},
        resync_interval=60.0,
    )
    seen: list[tuple[str, tuple[tuple[str, float], ...]]] = []

    def on_version_2_alone() -> bool:
        live = aliases.of("orders-api")["live"]
        if not seen or seen[-1] != live:
            seen.append(live)
        return live == ("2", ())

    wait_until(on_version_2_alone, 40, "the rollout to complete", diagnostics=controller.log)
    assert ("1", (("2", 0.2),)) in seen
    assert ("1", (("2", 0.6),)) in seen
    rollout = controller.status()["functions"]["orders-api"]["aliases"]["live"]["rollout"]
    assert rollout["phase"] == "succeeded"
    metrics = controller.metrics()
    assert sample(metrics, "lambda_gitops_rollout_weight", **LIVE) == 1.0
    assert sample(metrics, "lambda_gitops_rollout_phase", **LIVE, phase="succeeded") == 1.0
    passed = sample(
        metrics, "lambda_gitops_analysis_checks_total", kind="prometheus", result="pass"
    )
    assert passed is not None
    assert passed >= 2

    declare(declarations_repo, "r41", ROLLOUT.replace("VERSION", "r42"))

    def rolled_back() -> bool:
        return (
            sample(controller.metrics(), "lambda_gitops_rollout_phase", **LIVE, phase="failed")
            == 1.0
        )

    wait_until(rolled_back, 30, "the bad canary to roll back", diagnostics=controller.log)
    assert aliases.of("orders-api")["live"] == ("2", ())
    rollout = controller.status()["functions"]["orders-api"]["aliases"]["live"]["rollout"]
    assert rollout["phase"] == "failed"
    assert rollout["lastChecks"][0]["outcome"] == "fail"
    shown = CliRunner().invoke(main, ["status", "--url", controller.url], env={"NO_COLOR": "1"})
    [row] = [line for line in shown.stdout.splitlines() if line.startswith("orders-api")]
    assert f"live {rollout['step']}/{rollout['steps']} " in row
    assert f" to {rollout['target']} failed" in row
    [rollback] = [
        event
        for event in controller.events("action", alias="live")
        if event.get("to") == "2" and event.get("from", "").startswith("2 +")
    ]
    assert rollback["outcome"] == "applied"

"""Rollouts driven by the loop on an injected clock, against the emulated registry over HTTP.

Every step, hold, rollback, restart, race and approval is decided without waiting: the clock is
a number the test moves, and the analysis's source is a stand-in whose outcomes the test sets
(the real CloudWatch and Prometheus adapters are tested against moto and a real Prometheus in
``tests/adapters/analysis`` and ``tests/e2e/test_rollout_run.py``). The registry, the Git
repository, the planner, the applier and the loop are the real ones.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import git
import pytest
from prometheus_client import generate_latest

from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.core.analysis import AlarmCheck, CheckResult, CloudWatchCheck, Outcome, Window
from controller.core.ownership import rollout_state
from controller.core.rollout import decode
from controller.engine.analyst import Analyst
from controller.engine.loop import Controller
from controller.settings import load_settings
from lambda_emulator import EmulatorServer, packages
from lambda_emulator.seed import DEFAULT_HANDLER, DEFAULT_RUNTIME, default_role
from lambda_emulator.store import Caller
from lambda_emulator.validation import DEFAULT_ACCOUNT

REGION = "us-east-1"
CALLER = Caller(DEFAULT_ACCOUNT, REGION)
NAME = "orders-api"
T0 = 1_800_000_000.0


def sha(release: int) -> str:
    return base64.b64encode(hashlib.sha256(f"{NAME}/r{release}".encode()).digest()).decode()


STEPS = """\
        steps:
          - {weight: 0.1, hold: 1m}
          - {weight: 0.5, hold: 2m}
"""
ANALYSIS = """\
        analysis:
          interval: 30s
          failureLimit: 1
          checks:
            - cloudwatch: {metric: Errors, ratioTo: Invocations, max: 0.01}
"""


def declaration(
    target: str = "r2",
    *,
    steps: str = STEPS,
    analysis: str = ANALYSIS,
    extra: str = "",
    on_no_data: str = "",
) -> str:
    return f"""\
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: {NAME}
spec:
  region: {REGION}
  versions:
    r1: {{codeSha256: "{sha(1)}"}}
    r2: {{codeSha256: "{sha(2)}"}}
    r3: {{codeSha256: "{sha(3)}"}}
  aliases:
    live:
      version: {target}
      rollout:
{steps}{analysis}{on_no_data}{extra}"""


@dataclass
class Source:
    """The analysis's metrics source, as the test says it answers."""

    outcome: Outcome = "pass"
    calls: list[Window] = field(default_factory=list)

    def evaluate(self, check: CloudWatchCheck | AlarmCheck, window: Window) -> CheckResult:
        self.calls.append(window)
        return CheckResult(self.outcome, 0.0 if self.outcome == "pass" else None, self.outcome)


@dataclass
class World:
    server: EmulatorServer
    repo: git.Repo
    path: Path
    source: Source
    now: list[float]

    def commit(self, text: str) -> None:
        (self.path / "functions" / f"{NAME}.yaml").write_text(text)
        self.repo.git.commit("--quiet", "--all", "--message", "change")

    def controller(self) -> tuple[Controller, Metrics]:
        """A controller as a fresh process would be: nothing remembered."""
        settings = load_settings(None, repo=str(self.path), path="functions")
        registry = AwsRegistry(AwsSettings(endpoint_url=self.server.endpoint_url))
        metrics = Metrics()
        analyst = Analyst(cloudwatch=self.source, on_check=metrics.analysis_check)
        source = LocalSource(self.path, "HEAD")
        controller = Controller(
            settings.loop, source, registry, metrics, clock=lambda: self.now[0], analyst=analyst
        )
        return controller, metrics

    def at(self, seconds: float, controller: Controller) -> None:
        """One full pass at ``T0 + seconds``, at the repository's latest commit."""
        self.now[0] = T0 + seconds
        controller.state.revision = LocalSource(self.path, "HEAD").sync()
        controller.run_pass(["resync"])

    def live(self) -> tuple[str, dict[str, float]]:
        alias = self.server.store.get_alias(CALLER, NAME, "live")
        return alias.function_version, dict(alias.routing)

    def state(self) -> tuple[str, int, str] | None:
        """The state in the live alias's marker: target, step, phase."""
        alias = self.server.store.get_alias(CALLER, NAME, "live")
        state = decode(rollout_state(alias.description) or "")
        return None if state is None else (state.target, state.step, state.phase)

    def writes(self) -> list[str]:
        return [w.operation for w in self.server.store.write_log(self.seeded)]

    seeded: int = 0


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "declarations"
    repo = git.Repo.init(path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "test")
        config.set_value("user", "email", "test@example.com")
        config.set_value("commit", "gpgsign", "false")
    (path / "functions").mkdir()
    (path / "functions" / f"{NAME}.yaml").write_text(declaration())
    repo.git.add("--all")
    repo.git.commit("--quiet", "--message", "rollout r2")
    with EmulatorServer(tmp_path / "registry.sqlite") as server:
        store = server.store
        role = default_role(CALLER.account)
        store.create_function(
            CALLER,
            NAME,
            code=packages.from_sha256(sha(1)),
            role=role,
            runtime=DEFAULT_RUNTIME,
            handler=DEFAULT_HANDLER,
        )
        for release in (1, 2, 3):
            if release > 1:
                store.update_function_code(CALLER, NAME, packages.from_sha256(sha(release)))
            store.publish_version(CALLER, NAME)  # version N = rN
        store.create_alias(CALLER, NAME, "live", function_version="1")
        world = World(server, repo, path, Source(), [T0])
        world.seeded = store.write_log()[-1].sequence
        yield world


def scraped(metrics: Metrics, name: str) -> dict[str, float]:
    text = generate_latest(metrics.registry).decode()
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name)
    }


def test_a_rollout_goes_through_every_step_with_one_write_each(world: World) -> None:
    controller, metrics = world.controller()

    world.at(0, controller)
    assert world.live() == ("1", {"2": 0.1})
    assert world.state() == ("2", 0, "progressing")
    world.at(30, controller)  # checks run again, the hold is not over
    world.at(59, controller)
    assert world.live() == ("1", {"2": 0.1})
    world.at(61, controller)
    assert world.live() == ("1", {"2": 0.5})
    assert world.state() == ("2", 1, "progressing")
    world.at(182, controller)
    assert world.live() == ("2", {})
    assert world.state() == ("2", 2, "succeeded")
    world.at(500, controller)

    assert world.writes() == ["UpdateAlias"] * 3, "one write per step, and the last move"
    phase = scraped(metrics, "lambda_gitops_rollout_phase")
    assert (
        phase[
            f'lambda_gitops_rollout_phase{{alias="live",function="{NAME}",phase="succeeded",region="{REGION}"}}'
        ]
        == 1
    )
    status = controller.state.as_json()["functions"][NAME]
    assert status["status"] == "synced"
    assert status["aliases"]["live"]["rollout"]["phase"] == "succeeded"
    assert world.source.calls, "the checks ran"
    assert {w.version for w in world.source.calls} == {"2"}, "scoped to the target version"


@pytest.mark.parametrize("failing_at", [0, 61])
def test_a_failed_check_rolls_back_at_once_and_stays_rolled_back(
    world: World, failing_at: float
) -> None:
    controller, metrics = world.controller()
    world.at(0, controller)
    if failing_at:
        world.at(failing_at, controller)
    world.source.outcome = "fail"
    world.at(failing_at + 31, controller)

    assert world.live() == ("1", {})
    assert world.state() is not None
    assert world.state()[2] == "failed"  # type: ignore[index]
    written = len(world.writes())
    world.source.outcome = "pass"
    for later in (100, 400, 1000):
        world.at(failing_at + later, controller)
    assert len(world.writes()) == written, "no retry until Git changes"
    record = controller.state.as_json()["functions"][NAME]
    assert record["aliases"]["live"]["rollout"]["phase"] == "failed"
    checks = scraped(metrics, "lambda_gitops_analysis_checks_total")
    assert checks['lambda_gitops_analysis_checks_total{kind="cloudwatch",result="fail"}'] == 1

    world.commit(declaration("r2", steps=STEPS.replace("0.1", "0.05")))
    world.at(failing_at + 2000, controller)
    assert world.live() == ("1", {"2": 0.05}), "a changed rollout block retries"


@pytest.mark.parametrize("restart_at", [10, 70])
def test_a_restart_resumes_where_the_alias_says_with_no_extra_shift(
    world: World, restart_at: float
) -> None:
    controller, _ = world.controller()
    world.at(0, controller)
    if restart_at > 60:
        world.at(61, controller)
    before = world.live(), world.state()
    written = len(world.writes())

    fresh, _ = world.controller()  # kill -9 and start again: nothing remembered
    world.at(restart_at, fresh)
    assert (world.live(), world.state()) == before
    assert len(world.writes()) == written, "a restart alone writes nothing"
    world.at(restart_at + 120, fresh)
    world.at(restart_at + 300, fresh)
    assert world.live() == ("2", {})


def test_two_controllers_racing_on_one_alias_write_each_step_once(world: World) -> None:
    one, _ = world.controller()
    two, _ = world.controller()
    world.at(0, one)
    world.at(0, two)
    world.at(61, two)
    world.at(61, one)
    world.at(182, one)
    world.at(182, two)
    assert world.live() == ("2", {})
    assert world.writes() == ["UpdateAlias"] * 3


def test_low_traffic_holds_a_step_and_on_no_data_pass_lets_it_go(world: World) -> None:
    controller, _ = world.controller()
    world.source.outcome = "inconclusive"
    world.at(0, controller)
    world.at(61, controller)
    world.at(500, controller)
    assert world.live() == ("1", {"2": 0.1}), "held, not failed"
    assert world.state() == ("2", 0, "progressing")
    reason = controller.state.as_json()["functions"][NAME]["aliases"]["live"]["rollout"]
    assert "inconclusive" in reason["reason"]

    world.commit(declaration(on_no_data="        onNoData: pass\n"))
    world.at(600, controller)
    assert world.live() == ("1", {"2": 0.5}), "no data now passes the step"


def test_a_metrics_source_that_fails_holds_and_is_counted_as_errors(world: World) -> None:
    controller, metrics = world.controller()
    world.source.outcome = "error"
    for moment in (0, 61, 200, 900):
        world.at(moment, controller)
    assert world.live() == ("1", {"2": 0.1})
    assert world.state() == ("2", 0, "progressing")
    checks = scraped(metrics, "lambda_gitops_analysis_checks_total")
    assert checks['lambda_gitops_analysis_checks_total{kind="cloudwatch",result="error"}'] >= 3
    assert checks['lambda_gitops_analysis_checks_total{kind="cloudwatch",result="fail"}'] == 0


def test_a_revert_in_git_stops_the_rollout_at_once(world: World) -> None:
    controller, _ = world.controller()
    world.at(0, controller)
    world.commit(declaration("r1"))
    world.at(5, controller)
    assert world.live() == ("1", {})


def test_a_new_target_restarts_at_the_first_step_from_the_stable_version(world: World) -> None:
    controller, _ = world.controller()
    world.at(0, controller)
    world.at(61, controller)
    assert world.live() == ("1", {"2": 0.5})
    world.commit(declaration("r3"))
    world.at(70, controller)
    assert world.live() == ("1", {"3": 0.1})
    assert world.state() == ("3", 0, "progressing")


def test_skip_goes_straight_to_the_target(world: World) -> None:
    controller, _ = world.controller()
    world.at(0, controller)
    world.commit(declaration(extra="      skip: true\n"))
    world.at(5, controller)
    assert world.live() == ("2", {})


def test_a_pause_waits_for_approve_in_git(world: World) -> None:
    paused = STEPS + "          - {weight: 0.75, pause: true}\n"
    world.commit(declaration(steps=paused))
    controller, _ = world.controller()
    world.at(0, controller)
    world.at(61, controller)
    world.at(182, controller)
    assert world.live() == ("1", {"2": 0.75})
    assert world.state() == ("2", 2, "paused")
    world.at(5000, controller)
    assert world.live() == ("1", {"2": 0.75})
    world.commit(declaration(steps=paused, extra="      approve: 3\n"))
    world.at(5001, controller)
    assert world.live() == ("2", {})


def test_a_hand_change_of_the_weight_is_an_out_of_band_change_and_is_healed(
    world: World,
) -> None:
    controller, _ = world.controller()
    world.at(0, controller)
    world.server.store.update_alias(CALLER, NAME, "live", routing={"2": 0.9})
    world.at(10, controller)
    assert world.live() == ("1", {"2": 0.1})
    record = controller.state.as_json()["functions"][NAME]["aliases"]["live"]
    assert record["outOfBandChanges"] == 1
    assert Counter(world.writes())["UpdateAlias"] == 3  # ours, the hand's, the heal


def test_a_rollout_in_progress_is_not_drift(world: World) -> None:
    controller, _ = world.controller()
    world.at(0, controller)
    world.at(30, controller)
    record = controller.state.as_json()["functions"][NAME]
    assert record["driftedAliases"] == []
    assert record["status"] == "progressing"
    rollout = record["aliases"]["live"]["rollout"]
    assert rollout["step"] == 1
    assert rollout["weight"] == 0.1
    assert rollout["secondsLeftInStep"] is not None
    assert rollout["lastChecks"][0]["outcome"] == "pass"
    assert Decimal(str(rollout["weight"])) == Decimal("0.1")

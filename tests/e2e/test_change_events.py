"""Change events, end to end: ``lambda-gitops run --events-queue-url`` as a process, a moto
server for EventBridge and SQS, the emulated registry, and a resync of an hour, so that
whatever is healed or reported within seconds was the events' doing.

CloudTrail is played by ``bench.cloudtrail.Trail``: it follows the emulated registry's write
log and puts each write, as CloudTrail records it (with the access key id that signed it), on
moto's EventBridge bus, whose rule (the controller's event pattern, as ``deploy/events/`` sets it
up) delivers it to the queue. A person's change is ``emulator set-alias``, as in the other
out-of-band tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from bench.cloudtrail import (
    EventRoute,
    Trail,
    cloudtrail_record,
    event_route,
    put_records,
    send_bodies,
)
from controller.cli.main import main
from lambda_emulator import EmulatorServer
from tests.e2e.conftest import (
    Aliases,
    ControllerFactory,
    ControllerProcess,
    DeclarationsRepo,
    emulator_cli,
    sample,
)
from tests.polling import wait_until

LIVE = {"function": "orders-api", "region": "us-east-1", "alias": "live"}
HOUR = 3600.0
SECONDS = 15.0
"""How long a change event may take to be acted on here: seconds, where the resync is an hour."""


@pytest.fixture
def served(seeded_state: Path, tmp_path: Path) -> Iterator[EmulatorServer]:
    """The test's one emulated registry on the seeded state: a second one in this process on
    the same state file would not see every write made by another process."""
    with EmulatorServer(seeded_state, s3_root=tmp_path / "s3") as server:
        yield server


@pytest.fixture
def trail(served: EmulatorServer, moto_endpoint: str) -> Iterator[Trail]:
    """CloudTrail for the seeded registry, delivering to a fresh queue on moto as it goes."""
    route = event_route(moto_endpoint, visibility_timeout=2, max_receive_count=2)
    trail = Trail(served.store, route)
    with trail.following():
        yield trail


@pytest.fixture
def aliases(served: EmulatorServer, seeded_state: Path) -> Iterator[Aliases]:
    """The aliases, read through the test's one emulated registry."""
    reader = Aliases(served.endpoint_url, seeded_state)
    yield reader
    reader.close()


def route_of(trail: Trail) -> EventRoute:
    return trail.route


@pytest.fixture
def start_with_events(
    start_controller: ControllerFactory,
    declarations_repo: DeclarationsRepo,
    seeded_state: Path,
    trail: Trail,
) -> Callable[..., ControllerProcess]:
    """Start ``lambda-gitops run`` on the declarations and the seeded registry, receiving the
    change events of the trail's queue, with a resync of an hour and ``arguments`` after those."""

    def start(*arguments: str, env: dict[str, str] | None = None) -> ControllerProcess:
        route = route_of(trail)
        return start_controller(
            "--repo",
            str(declarations_repo.path),
            "--registry",
            f"emulated:{seeded_state}",
            "--events-queue-url",
            route.queue_url,
            *arguments,
            env={"LAMBDA_GITOPS_EVENTS__ENDPOINT_URL": route.endpoint_url, **(env or {})},
            resync_interval=HOUR,
        )

    return start


def events(controller: ControllerProcess, result: str) -> float:
    return sample(controller.metrics(), "lambda_gitops_events_total", result=result) or 0.0


def full_passes(controller: ControllerProcess) -> int:
    return len(controller.events("pass", kind="full"))


def heal_a_hand_moved_alias(controller: ControllerProcess, aliases: Aliases, state: Path) -> None:
    """A person moves orders-api's ``live`` back to 1; its change event has it put back to 2
    within seconds."""
    emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(state))
    wait_until(
        lambda: aliases.version("orders-api", "live") == "2",
        SECONDS,
        "the alias healed by its change event",
        diagnostics=controller.log,
    )


def test_a_hand_moved_alias_is_healed_within_seconds_with_a_resync_of_an_hour(
    start_with_events: Callable[..., ControllerProcess],
    seeded_state: Path,
    aliases: Aliases,
    trail: Trail,
) -> None:
    controller = start_with_events()
    wait_until(lambda: aliases.version("orders-api", "live") == "2", 20, "the first convergence")
    wait_until(lambda: full_passes(controller) == 1, 20, "the start-up pass to end")

    heal_a_hand_moved_alias(controller, aliases, seeded_state)

    assert full_passes(controller) == 1, "healed by a targeted pass, not a resync"
    assert events(controller, "matched") >= 1
    wait_until(
        lambda: controller.events("pass", kind="targeted", reasons=["event"]),
        SECONDS,
        "the targeted pass's log line",
        diagnostics=controller.log,
    )
    [warning] = controller.events("alias changed out of band", alias="live")
    assert warning["reverted"] is True
    assert (sample(controller.metrics(), "lambda_gitops_event_lag_seconds_count") or 0) >= 1
    # The heal is the controller's own write: its event is recognised, and costs no read.
    wait_until(lambda: events(controller, "self") >= 1, SECONDS, "the heal's own event")
    wait_until(lambda: route_of(trail).visible() == 0, SECONDS, "every message deleted")


def test_detect_mode_reports_a_hand_moved_alias_within_seconds(
    start_with_events: Callable[..., ControllerProcess],
    seeded_state: Path,
    aliases: Aliases,
) -> None:
    emulator_cli("set-alias", "orders-api", "live", "2", "--state", str(seeded_state))
    controller = start_with_events("--mode", "detect")
    wait_until(lambda: full_passes(controller) == 1, 20, "the start-up pass to end")
    assert sample(controller.metrics(), "lambda_gitops_alias_drift", **LIVE) == 0

    emulator_cli("set-alias", "orders-api", "live", "1", "--state", str(seeded_state))

    wait_until(
        lambda: sample(controller.metrics(), "lambda_gitops_alias_drift", **LIVE) == 1,
        SECONDS,
        "the drift reported by its change event",
        diagnostics=controller.log,
    )
    assert full_passes(controller) == 1
    assert aliases.version("orders-api", "live") == "1", "detect mode never writes"
    status = controller.status()["functions"]["orders-api"]
    assert status["status"] == "drifted"
    assert "live" in status["driftedAliases"]


def test_the_controllers_own_writes_cost_no_read_and_no_second_write(
    start_with_events: Callable[..., ControllerProcess],
    declarations_repo: DeclarationsRepo,
    aliases: Aliases,
    trail: Trail,
) -> None:
    controller = start_with_events()
    wait_until(lambda: full_passes(controller) == 1, 20, "the start-up pass to end")
    wait_until(lambda: route_of(trail).visible() == 0, SECONDS, "the start-up writes' events")
    own_before = events(controller, "self")
    delivered = trail.delivered

    declarations_repo.edit(
        "orders-api.yaml", "live:\n      version: r42", "live:\n      version: r41"
    )
    declarations_repo.commit("roll live back to r41")

    wait_until(lambda: aliases.version("orders-api", "live") == "1", 20, "the commit applied")
    wait_until(
        lambda: events(controller, "self") == own_before + 1,
        SECONDS,
        "the write's own event",
        diagnostics=controller.log,
    )
    wait_until(lambda: route_of(trail).visible() == 0, SECONDS, "its message deleted")
    assert trail.delivered == delivered + 1, "one write, and no second one"
    assert events(controller, "matched") == 0
    assert not controller.events("pass", kind="targeted", reasons=["event"])


def test_malformed_messages_go_to_the_dead_letter_queue_and_unmanaged_ones_are_deleted(
    start_with_events: Callable[..., ControllerProcess],
    trail: Trail,
) -> None:
    controller = start_with_events()
    wait_until(lambda: full_passes(controller) == 1, 20, "the start-up pass to end")
    route = route_of(trail)
    reads_before = controller.events("pass", kind="targeted")

    send_bodies(route, ["not json", json.dumps({"source": "aws.ec2", "detail-type": "x"})])
    put_records(route, [cloudtrail_record("UpdateAlias", "not-declared", qualifier="live")])

    wait_until(
        lambda: route.visible(route.dead_letter_url) == 2,
        SECONDS * 2,
        "the malformed messages in the dead-letter queue",
        diagnostics=controller.log,
    )
    assert events(controller, "malformed") >= 2, "counted at each receipt"
    assert events(controller, "unmanaged") == 1
    wait_until(lambda: route.visible() == 0, SECONDS, "the queue emptied")
    warnings = controller.events("change events: malformed message left for the dead-letter queue")
    assert {w["reason"] for w in warnings} == {
        "the message is not JSON",
        "not an EventBridge 'AWS API Call via CloudTrail' event from aws.lambda (detail-type "
        "a string of 1 character, source a string of 7 characters); check the rule's event "
        "pattern",
    }
    assert controller.events("pass", kind="targeted") == reads_before, "nothing reconciled"


def test_the_queue_going_away_and_coming_back_is_waited_out(
    start_with_events: Callable[..., ControllerProcess],
    seeded_state: Path,
    aliases: Aliases,
    trail: Trail,
) -> None:
    controller = start_with_events(env={"LAMBDA_GITOPS_EVENTS__WAIT_TIME": "1"})
    wait_until(lambda: full_passes(controller) == 1, 20, "the start-up pass to end")
    route = route_of(trail)
    sqs = boto3.client("sqs", endpoint_url=route.endpoint_url, region_name=route.region)
    sqs.delete_queue(QueueUrl=route.queue_url)

    wait_until(
        lambda: len(controller.events("change events: queue unavailable")) >= 2,
        SECONDS,
        "the receiver to back off and try again",
        diagnostics=controller.log,
    )
    [first, *_] = controller.events("change events: queue unavailable")
    assert first["level"] == "warning"
    assert "NonExistentQueue" in first["error"] or "QueueDoesNotExist" in first["error"]
    assert controller.get("/healthz")[0] == 200
    [queue] = controller.status()["changeEvents"]["queues"]
    assert (queue["url"], queue["state"]) == (route.queue_url, "unavailable")
    assert "NonExistentQueue" in queue["error"] or "QueueDoesNotExist" in queue["error"]
    shown = CliRunner().invoke(main, ["status", "--url", controller.url], env={"NO_COLOR": "1"})
    [line] = [line for line in shown.stdout.splitlines() if line.startswith("Events queue:")]
    assert f"{route.queue_url}: unavailable since " in line
    assert "NonExistentQueue" in line or "QueueDoesNotExist" in line

    recreated = event_route(route.endpoint_url, visibility_timeout=2, max_receive_count=2)
    assert recreated.queue_url == route.queue_url
    wait_until(
        lambda: controller.events("change events: queue available again"),
        SECONDS * 4,
        "the queue found again",
        diagnostics=controller.log,
    )
    [queue] = controller.status()["changeEvents"]["queues"]
    assert (queue["state"], queue["error"]) == ("receiving", None)
    heal_a_hand_moved_alias(controller, aliases, seeded_state)
    assert full_passes(controller) == 1
    assert controller.status()["changeEvents"]["queues"][0]["lastReceivedAt"].endswith("Z")

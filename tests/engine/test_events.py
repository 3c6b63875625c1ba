"""Change events, driven step by step: real SQS and EventBridge (moto), a real emulated registry,
a real Git repository and the loop's own targeted passes; only the consumer's clock is the
test's, so that what falls inside a merge window is decided here and not by the machine's load.

The CloudTrail records are made by ``bench.cloudtrail`` from the emulator's write log (who wrote,
with which access key) and put on moto's EventBridge bus, whose rule (the controller's event
pattern) delivers them to the queue.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from bench.cloudtrail import (
    EventRoute,
    Trail,
    cloudtrail_record,
    event_route,
    eventbridge_body,
    put_records,
    send_bodies,
)
from bench.fleet import CALLER, FOLDER, REGION, Repository, emulator, make_repository, name_of
from controller.adapters.events.port import QueueMessage
from controller.adapters.events.sqs import SqsQueue, queue_address
from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.engine.events import ConsumerSettings, EventConsumer
from controller.engine.loop import Controller
from controller.settings import load_settings
from lambda_emulator import EmulatorServer

FUNCTIONS = 20
SOMEONE = "oncall-person"
"""The access key id of the person who changes aliases by hand (the controller's is 'testing')."""


class Clock:
    """The consumer's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    repository: Repository
    server: EmulatorServer
    route: EventRoute
    controller: Controller
    consumer: EventConsumer
    queue: SqsQueue
    metrics: Metrics
    clock: Clock

    def receive_all(self) -> int:
        """Receive until the queue has nothing visible, handing every batch to the consumer."""
        attributes = self.queue.attributes()
        received = 0
        while True:
            messages = self.queue.receive()
            if not messages:
                return received
            received += len(messages)
            self.consumer.take(self.queue, attributes, messages)

    def events(self) -> dict[str, float]:
        found = {}
        for family in text_string_to_metric_families(
            generate_latest(self.metrics.registry).decode()
        ):
            for sample in family.samples:
                if sample.name == "lambda_gitops_events_total":
                    found[sample.labels["result"]] = sample.value
        return found

    def reads(self) -> int:
        return Counter(self.server.request_counts())["ListAliases"]

    def live(self, index: int) -> str:
        return self.server.store.get_alias(CALLER, name_of(index), "live").function_version

    def move_by_hand(self, index: int, version: str) -> None:
        """UpdateAlias by someone else, as the console would: with the alias's RevisionId."""
        client = boto3.client(
            "lambda",
            endpoint_url=self.server.endpoint_url,
            region_name=REGION,
            aws_access_key_id=SOMEONE,
            aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "max_attempts": 1}),
        )
        client.update_alias(FunctionName=name_of(index), Name="live", FunctionVersion=version)


@pytest.fixture
def world(tmp_path: Path, moto_endpoint: str) -> Iterator[World]:
    repository = make_repository(tmp_path / "declarations", FUNCTIONS)
    with emulator(tmp_path / "registry.sqlite", FUNCTIONS) as server:
        settings = load_settings(
            None, repo=str(repository.path), path=FOLDER, concurrency=4, resync_interval=3600.0
        )
        aws = AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url))
        metrics = Metrics()
        source = LocalSource(repository.path, "HEAD")
        controller = Controller(settings.loop, source, CachingRegistry(aws), metrics)
        controller.state.revision = source.sync()
        controller.run_pass({"start-up"})  # versions cached: a reconcile then costs ListAliases
        route = event_route(moto_endpoint, visibility_timeout=30)
        queue = SqsQueue(
            queue_address(route.queue_url, REGION), endpoint_url=moto_endpoint, wait_seconds=0
        )
        clock = Clock()
        consumer = EventConsumer(
            [queue],
            controller,
            metrics,
            writer=aws.writer_identity,
            settings=ConsumerSettings(merge_window=1.0),
            monotonic=clock,
        )
        yield World(repository, server, route, controller, consumer, queue, metrics, clock)


def test_a_hand_moved_alias_is_healed_by_one_read_and_its_message_deleted_after(
    world: World,
) -> None:
    trail = Trail(world.server.store, world.route)
    world.move_by_hand(3, "2")
    assert len(trail.deliver()) == 1
    assert world.receive_all() == 1
    assert world.events()["matched"] == 1

    before = world.reads()
    world.consumer.dispatch()
    world.controller.serve_targets()
    assert world.reads() == before, "asked before its merge window ended"
    world.clock.now += 1.0
    world.consumer.dispatch()
    world.controller.serve_targets()

    assert world.live(3) == "1", "healed"
    assert world.reads() - before == 1
    assert world.route.visible() == 1, "not deleted before the consumer looks"
    world.consumer.dispatch()
    assert world.route.visible() == 0


def test_a_burst_of_500_events_for_20_functions_costs_20_reconciles(world: World) -> None:
    """25 events for each of 20 functions, all within one merge window (the consumer's clock
    stands still while they are received): one request for the 20, one reconcile each (one
    ListAliases), and every message deleted once they are done."""
    for index in range(0, FUNCTIONS, 4):
        world.move_by_hand(index, "2")
    bodies = [
        eventbridge_body(
            cloudtrail_record(
                "UpdateAlias", name_of(index), qualifier="live", access_key_id=SOMEONE
            )
        )
        for _ in range(25)
        for index in range(FUNCTIONS)
    ]
    # Straight to the queue, 50 at a time, received as they come: EventBridge's delivery is
    # the other tests' business, and moto's SQS slows down with every message in flight.
    received = 0
    for start in range(0, len(bodies), 50):
        send_bodies(world.route, bodies[start : start + 50])
        received += world.receive_all()
    assert received == 500
    assert world.events()["matched"] == 500

    world.clock.now += 1.0
    with capture_logs() as logs:
        world.consumer.dispatch()
    [requested] = [log for log in logs if log["event"] == "change events: reconcile requested"]
    assert requested["functions"] == FUNCTIONS
    assert requested["events"] == 500
    before = world.reads()
    world.controller.serve_targets()
    assert world.reads() - before == FUNCTIONS
    assert all(world.live(index) == "1" for index in range(FUNCTIONS))

    world.consumer.dispatch()
    assert world.route.visible() == 0


def test_an_event_that_comes_before_its_requested_reconcile_begins_joins_it(world: World) -> None:
    records = [cloudtrail_record("UpdateAlias", name_of(5), access_key_id=SOMEONE)]
    put_records(world.route, records)
    world.receive_all()
    world.clock.now += 1.0
    world.consumer.dispatch()  # requested, not begun
    put_records(world.route, records)
    world.receive_all()  # joins the request: no new merge window
    world.clock.now += 5.0
    before = world.reads()
    world.controller.serve_targets()
    world.consumer.dispatch()

    assert world.reads() - before == 1
    assert world.route.visible() == 0


def test_an_event_that_comes_after_its_functions_reconcile_began_gets_another(
    world: World,
) -> None:
    """The first reconcile may have read Lambda before the second change: the second event
    waits for a reconcile of its own."""
    records = [cloudtrail_record("UpdateAlias", name_of(5), access_key_id=SOMEONE)]
    put_records(world.route, records)
    world.receive_all()
    world.clock.now += 1.0
    world.consumer.dispatch()
    world.controller.serve_targets()
    world.move_by_hand(5, "2")
    put_records(world.route, records)
    world.receive_all()
    world.consumer.dispatch()
    assert world.route.visible() == 1, "the first deleted, the second waits for its window"

    world.clock.now += 1.0
    world.consumer.dispatch()
    world.controller.serve_targets()
    world.consumer.dispatch()
    assert world.live(5) == "1"
    assert world.route.visible() == 0


def test_the_controllers_own_writes_and_unmanaged_functions_cost_no_read(world: World) -> None:
    """A commit's write, delivered back as its CloudTrail event, is the controller's own: the
    consumer deletes it at once and reads nothing, and nothing is written a second time; so
    is an event about a function no declaration names."""
    world.repository.write(7, "r2")
    world.repository.commit("promote the eighth function")
    world.controller.state.revision = LocalSource(world.repository.path, "HEAD").sync()
    trail = Trail(world.server.store, world.route)
    world.controller.serve_targets()
    [written] = trail.deliver()
    assert (written.operation, written.function_name) == ("UpdateAlias", name_of(7))
    put_records(
        world.route,
        [cloudtrail_record("UpdateAlias", "not-declared", access_key_id=SOMEONE)] * 3,
    )
    before = world.reads()

    world.receive_all()
    world.clock.now += 10.0
    world.consumer.dispatch()
    world.controller.serve_targets()

    assert world.events() == {"matched": 0, "unmanaged": 3, "self": 1, "malformed": 0}
    assert world.reads() == before
    assert world.route.visible() == 0
    assert trail.deliver() == [], "no second write"


def test_without_knowing_its_identity_an_own_write_costs_one_read_and_no_write(
    world: World,
) -> None:
    """A write the consumer cannot tell is the controller's (another replica's, before a
    failover) is matched: one read finds live equal to desired, and nothing is written."""
    blind = EventConsumer(
        [world.queue], world.controller, world.metrics, monotonic=world.clock
    )  # no writer identity
    world.repository.write(7, "r2")
    world.repository.commit("promote the eighth function")
    world.controller.state.revision = LocalSource(world.repository.path, "HEAD").sync()
    trail = Trail(world.server.store, world.route)
    world.controller.serve_targets()
    assert len(trail.deliver()) == 1
    attributes = world.queue.attributes()
    blind.take(world.queue, attributes, world.queue.receive())
    world.clock.now += 1.0
    blind.dispatch()
    before = world.reads()
    world.controller.serve_targets()
    blind.dispatch()

    assert world.events()["matched"] == 1
    assert world.reads() - before == 1
    assert trail.deliver() == []
    assert world.route.visible() == 0


def test_malformed_messages_stay_and_are_counted_at_each_receipt(world: World) -> None:
    bodies = ["not json", json.dumps({"source": "aws.ec2"}), json.dumps([1, 2, 3])]
    send_bodies(world.route, bodies)
    with capture_logs() as logs:
        assert world.receive_all() == 3
    assert world.events()["malformed"] == 3
    warnings = [log for log in logs if log["log_level"] == "warning"]
    assert len(warnings) == 3
    assert all("dead-letter" in log["event"] and log["reason"] for log in warnings)
    world.clock.now += 60.0
    world.consumer.dispatch()
    assert world.route.visible() == 3, "never deleted: the redrive policy moves them"


def test_a_message_whose_reconcile_does_not_finish_in_time_is_left_to_come_back(
    world: World,
) -> None:
    """Its receipt handle would be stale past the visibility timeout: it is not deleted, and
    the queue hands it out again."""
    put_records(world.route, [cloudtrail_record("UpdateAlias", name_of(2), access_key_id=SOMEONE)])
    world.receive_all()
    world.clock.now += 1.0
    world.consumer.dispatch()
    world.clock.now += 30.0
    with capture_logs() as logs:
        world.consumer.dispatch()
    assert [log["event"] for log in logs if log["log_level"] == "warning"] == [
        "change events: reconcile not finished within the visibility timeout; the message is "
        "left to come back"
    ]
    world.controller.serve_targets()
    world.consumer.dispatch()
    assert world.route.visible() == 1


def test_a_message_naming_an_account_left_open_waits_for_each_function_it_may_be(
    world: World,
) -> None:
    """An event without an account is about any declared function of that name; with a bare
    name declared (no account known), it is that one."""
    record = cloudtrail_record("UpdateAlias", name_of(1), access_key_id=SOMEONE)
    del record["recipientAccountId"]
    put_records(world.route, [record])
    world.receive_all()
    world.clock.now += 1.0
    world.consumer.dispatch()
    world.controller.serve_targets()
    world.consumer.dispatch()
    assert world.events()["matched"] == 1
    assert world.route.visible() == 0


def test_a_queue_that_does_not_delete_leaves_the_message_for_later(world: World) -> None:
    class Refusing:
        url = world.queue.url

        def delete(self, messages: list[QueueMessage]) -> list[QueueMessage]:
            return list(messages)

    body = eventbridge_body(cloudtrail_record("UpdateAlias", "not-declared"))
    with capture_logs() as logs:
        world.consumer.take(
            Refusing(),  # type: ignore[arg-type]
            world.queue.attributes(),
            [QueueMessage("m", "h", body)],
        )
    assert world.events()["unmanaged"] == 1
    assert [log["event"] for log in logs if log["log_level"] == "warning"] == [
        "change events: the queue did not delete some messages; they will be received again"
    ]


def test_only_a_reconcile_begun_after_the_request_answers_it(world: World) -> None:
    """A request made while the function is being reconciled (that reconcile may have read
    Lambda before the change) is answered only by the next reconcile, which reads again."""
    controller = world.controller
    revision = controller.state.revision
    assert revision is not None
    [identity] = [
        f.ref.identity for f in controller._read(revision).functions if f.ref.name == name_of(4)
    ]
    registry = controller._registry
    tickets: list[int] = []

    class RequestingMidway:
        """The registry port, with a request made while the function's aliases are read."""

        def __getattr__(self, attribute: str) -> object:
            method = getattr(registry, attribute)

            def call(*arguments: object, **keywords: object) -> object:
                reading = attribute == "list_aliases" and not tickets
                if reading and getattr(arguments[0], "name", "") == name_of(4):
                    tickets.append(controller.request([identity], "event"))
                return method(*arguments, **keywords)

            return call

    controller._registry = RequestingMidway()  # type: ignore[assignment]
    controller.request([identity], "event")
    controller._run_targeted(revision, set(), None)  # one pass: the reconcile begun before
    [ticket] = tickets
    assert not controller.claimed_since(identity, ticket)
    assert not controller.reconciled_since(identity, ticket)

    before = world.reads()
    controller.serve_targets()
    assert controller.reconciled_since(identity, ticket)
    assert world.reads() - before == 1, "read again"


def test_the_consumer_runs_beside_the_loop_and_stops_with_it(world: World) -> None:
    """It receives only while the loop runs (with leader election: while this replica leads),
    and its threads end when the loop's stop event is set."""
    received = threading.Event()

    class Counting:
        url = world.queue.url

        def attributes(self) -> object:
            return world.queue.attributes()

        def receive(self) -> list[QueueMessage]:
            received.set()
            return []

        def delete(self, messages: list[QueueMessage]) -> list[QueueMessage]:
            return []

    def events_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("change-events")}

    others = events_threads()  # another test's receiver may still sit in a long poll
    consumer = EventConsumer([Counting()], world.controller, world.metrics)  # type: ignore[list-item]
    loop_started = threading.Event()
    beside_the_loop: set[str] = set()

    def loop(stop: threading.Event) -> None:
        beside_the_loop.update(thread.name for thread in events_threads() - others)
        loop_started.set()
        stop.wait(30)

    assert consumer.status()["queues"][0]["state"] == "idle"
    stop = threading.Event()
    runner = threading.Thread(target=consumer.beside(loop), args=(stop,))
    # Threads are running once start() returns: none is, so nothing can have been received.
    assert events_threads() == others, "started before the loop ran"
    runner.start()
    assert loop_started.wait(10)
    assert "change-events" in beside_the_loop, "not started with the loop"
    assert received.wait(10)
    assert consumer.status()["queues"][0]["state"] == "receiving"
    ours = events_threads() - others
    assert {thread.name for thread in ours} == {"change-events", "change-events-0"}
    stop.set()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert consumer.status()["queues"][0]["state"] == "idle"
    for thread in ours:  # a receiver is not joined by the consumer: it ends on its own
        thread.join(timeout=10)
    assert not [thread.name for thread in ours if thread.is_alive()]

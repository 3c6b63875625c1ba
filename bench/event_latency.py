"""Benchmark: from an out-of-band change's event arriving in the queue to the alias healed
(``enforce``) or reported (``detect``), with change events on and a resync of an hour.

A local repository declares ``--functions`` functions, converged in the emulated registry
(``--latency-ms`` per call, ``--quota`` requests a second, as AWS answers), which runs in this
process; a moto server, also in this process, holds the EventBridge rule and the SQS queue of
``deploy/events/`` (``bench.cloudtrail.event_route``). The controller is ``run_controller``, what
``lambda-gitops run --events-queue-url URL`` runs, on a thread, with its defaults but a resync
interval of an hour: nothing but the events can heal within the measurement.

Then ``--changes`` times, a person (access key ``oncall-person``) moves one function's ``live``
alias with UpdateAlias, and CloudTrail's stand-in (``bench.cloudtrail.Trail``) puts its event on
the bus, from which moto's rule delivers it to the queue at once. Each change is timed from the
moment the event is in the queue until the emulator's store (read directly, not over HTTP) has
the alias back (``enforce``), or ``/status`` reports it drifted (``detect``). The Lambda requests
naming that function are counted from before the change until a moment after the heal, whose
own event is delivered too, minus the writes (the person's and the heal): the reads one event
costs. Then ``--unmanaged`` events about a function no declaration names are delivered, and the
Lambda requests made meanwhile counted: none are expected.

Prints p50, p95 and max of the latency (goal: p50 under 2 s from the message's arrival) and the
reads per event (goal: at most 1.1 for a managed function, 0 for an unmanaged one). Asserts
nothing, since the machines are shared and timings are noisy.

Usage: ``python bench/event_latency.py [--functions N] [--changes C] [--unmanaged U]
[--latency-ms MS] [--quota RPS] [--mode enforce|detect]``.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.cloudtrail import EventRoute, Trail, cloudtrail_record, event_route, put_records
from bench.commit_latency import percentile
from bench.fleet import (
    CALLER,
    FOLDER,
    REGION,
    emulator,
    make_repository,
    name_of,
    use_placeholder_credentials,
)
from controller.bootstrap import run_controller
from controller.settings import load_settings
from lambda_emulator import EmulatorServer, Faults

SOMEONE = "oncall-person"
TIMEOUT_SECONDS = 30.0
SETTLE_SECONDS = 0.5
"""How long after the heal the function's requests are still counted: the heal's own event,
and anything else the change set off, come within it."""
POLL_SECONDS = 0.002


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--unmanaged", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--quota", type=float, default=15.0, help="emulator requests/s")
    parser.add_argument("--mode", choices=["enforce", "detect"], default="enforce")
    arguments = parser.parse_args()
    use_placeholder_credentials()

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    route = event_route(f"http://{host}:{port}", visibility_timeout=60)
    try:
        with tempfile.TemporaryDirectory() as folder:
            run(Path(folder), route, arguments)
    finally:
        moto.stop()


def run(root: Path, route: EventRoute, arguments: argparse.Namespace) -> None:
    repository = make_repository(root / "declarations", arguments.functions)
    faults = Faults(latency_ms=arguments.latency_ms, rate_limit=arguments.quota)
    with emulator(root / "registry.sqlite", arguments.functions, faults) as server:
        url = f"http://127.0.0.1:{free_port()}"
        settings = load_settings(
            repo=str(repository.path),
            path=FOLDER,
            registry="aws",
            endpoint_url=server.endpoint_url,
            region=REGION,
            listen=url.removeprefix("http://"),
            log_format="json",
            log_level="warning",
            mode=arguments.mode,
            resync_interval=3600.0,
            events={"queue_urls": [route.queue_url], "endpoint_url": route.endpoint_url},
        )
        stop = threading.Event()
        controller = threading.Thread(
            target=run_controller, args=(settings, stop), name="bench-controller"
        )
        controller.start()
        try:
            started = wait_for_start(url, arguments.functions, controller)
            print(
                f"{arguments.functions} functions, emulator at {arguments.latency_ms:g} ms and "
                f"{arguments.quota:g} requests/s, mode {arguments.mode}, resync 3600 s; "
                f"controller ready in {started:.1f} s"
            )
            trail = Trail(server.store, route)
            changes = measure_changes(server, trail, url, arguments)
            unmanaged = measure_unmanaged(server, route, url, arguments.unmanaged)
            counted = events_counted(url)
        finally:
            stop.set()
            controller.join(timeout=settings.shutdown_grace + 5)
    report(changes, unmanaged, counted, arguments)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_start(url: str, functions: int, controller: threading.Thread) -> float:
    """Seconds until the start-up pass has reported every function."""
    started = time.monotonic()
    while True:
        status = get_json(f"{url}/status")
        if (
            status is not None
            and status.get("lastPassAt")
            and len(status["functions"]) >= functions
        ):
            return time.monotonic() - started
        if not controller.is_alive() or time.monotonic() - started > TIMEOUT_SECONDS + functions:
            raise RuntimeError("the controller did not start")
        time.sleep(0.05)


def measure_changes(
    server: EmulatorServer, trail: Trail, url: str, arguments: argparse.Namespace
) -> list[tuple[float, int]]:
    """``(seconds from the message's arrival, reads)`` per out-of-band change."""
    person = boto3.client(
        "lambda",
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id=SOMEONE,
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "max_attempts": 10}),
    )
    results = []
    for change in range(arguments.changes):
        index = (change * 7919) % arguments.functions
        name = name_of(index)
        log = server.store.write_log()
        since = log[-1].sequence if log else 0
        before = server.function_request_counts().get(name, 0)
        person.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
        trail.deliver()
        arrived = time.perf_counter()
        seconds = wait_for_outcome(server, url, name, arguments.mode, arrived)
        trail.deliver()  # the heal's own event, which must cost nothing
        time.sleep(SETTLE_SECONDS)
        trail.deliver()
        writes = sum(1 for write in server.store.write_log(since) if write.function_name == name)
        requests = server.function_request_counts().get(name, 0) - before
        results.append((seconds, requests - writes))
    return results


def wait_for_outcome(
    server: EmulatorServer, url: str, name: str, mode: str, arrived: float
) -> float:
    """Seconds from ``arrived`` until the alias is healed, or reported drifted."""
    while True:
        if mode == "enforce":
            done = server.store.get_alias(CALLER, name, "live").function_version == "1"
        else:
            status = get_json(f"{url}/status") or {"functions": {}}
            done = "live" in (status["functions"].get(name, {}).get("driftedAliases") or [])
        if done:
            return time.perf_counter() - arrived
        if time.perf_counter() - arrived > TIMEOUT_SECONDS:
            print(f"{name}: no outcome within {TIMEOUT_SECONDS:g} s", file=sys.stderr)
            return math.inf
        time.sleep(POLL_SECONDS if mode == "enforce" else 0.02)


def measure_unmanaged(server: EmulatorServer, route: EventRoute, url: str, count: int) -> int:
    """The Lambda requests made while ``count`` events about an undeclared function are
    received and judged."""
    if count == 0:
        return 0
    before = sum(Counter(server.request_counts()).values())
    judged = events_counted(url).get("unmanaged", 0.0)
    records = [
        cloudtrail_record("UpdateAlias", "not-declared", qualifier="live", access_key_id=SOMEONE)
        for _ in range(count)
    ]
    put_records(route, records)
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while events_counted(url).get("unmanaged", 0.0) < judged + count:
        if time.monotonic() > deadline:
            print("the unmanaged events were not all received", file=sys.stderr)
            break
        time.sleep(0.05)
    time.sleep(SETTLE_SECONDS)
    return sum(Counter(server.request_counts()).values()) - before


def events_counted(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    counted = {}
    for line in text.splitlines():
        if line.startswith("lambda_gitops_events_total{"):
            labels, value = line.rsplit(" ", 1)
            counted[labels.split('"')[1]] = float(value)
    return counted


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except OSError:
        return None


def report(
    changes: list[tuple[float, int]],
    unmanaged: int,
    counted: dict[str, float],
    arguments: argparse.Namespace,
) -> None:
    latencies = [seconds for seconds, _ in changes]
    reads = [float(count) for _, count in changes]
    outcome = "healed" if arguments.mode == "enforce" else "reported"
    print(
        f"{len(changes)} out-of-band changes, message arrival to {outcome}: "
        f"p50 {percentile(latencies, 0.5):.3f} s, p95 {percentile(latencies, 0.95):.3f} s, "
        f"max {max(latencies):.3f} s (goal: p50 under 2 s; the merge window is 1 s of it)"
    )
    print(
        f"Lambda reads per event, managed function: mean {sum(reads) / len(reads):.2f}, "
        f"p50 {percentile(reads, 0.5):g}, max {max(reads):g} (goal: at most 1.1)"
    )
    print(
        f"Lambda requests for {arguments.unmanaged} events of an unmanaged function: "
        f"{unmanaged} (goal: 0)"
    )
    print(
        "events counted: "
        + ", ".join(f"{result} {int(counted.get(result, 0))}" for result in sorted(counted))
    )
    missed = sum(math.isinf(latency) for latency in latencies)
    print(f"{outcome}: {len(changes) - missed} of {len(changes)} changes")


if __name__ == "__main__":
    main()

"""Benchmark: the emulated registry over HTTP, as the controller and its tests use it.

Starts ``lambda-gitops emulator serve`` as a separate process and drives it with boto3 clients:

1. requests per second for ListAliases and UpdateAlias (with its RevisionId precondition), with
   one client thread and with several;
2. how closely the accepted rate follows ``--rate-limit``: clients ask for more than the quota,
   without retries, and the rate of accepted requests is measured from the first 429 (when the
   bucket's one-second burst is spent) to the end, against the configured rate.

Usage: ``python bench/emulator_throughput.py [--seconds S] [--threads N]``. Prints its figures;
asserts nothing, since the machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.backends import make_zip

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

FUNCTION = "bench-fn"
ROLE = "arn:aws:iam::123456789012:role/bench"


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(state: Path, *extra: str) -> Iterator[str]:
    """Run ``emulator serve`` in its own process until the block ends; yield its endpoint."""
    port = free_port()
    command = [sys.executable, "-m", "controller", "emulator", "serve", "--state", str(state)]
    process = subprocess.Popen(
        [*command, "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/_emulator/stats", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"emulator did not start: {process.stderr!r}") from None
                time.sleep(0.05)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def client(endpoint: str, attempts: int = 1) -> LambdaClient:
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def seed(endpoint: str) -> None:
    lam = client(endpoint, attempts=5)
    lam.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Code={"ZipFile": make_zip("one")},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=FUNCTION, WaiterConfig={"Delay": 1})
    lam.publish_version(FunctionName=FUNCTION)
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=make_zip("two"))
    lam.get_waiter("function_updated_v2").wait(FunctionName=FUNCTION, WaiterConfig={"Delay": 1})
    lam.publish_version(FunctionName=FUNCTION)
    for n in range(20):
        lam.create_alias(FunctionName=FUNCTION, Name=f"alias-{n}", FunctionVersion="1")


def run_threads(threads: int, seconds: float, work: Callable[[int], Callable[[], None]]) -> int:
    """Run ``work(i)()`` in a loop on ``threads`` threads for ``seconds``; count the calls."""
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def loop(index: int) -> None:
        call = work(index)
        while time.monotonic() < stop:
            call()
            counts[index] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts)


def list_aliases(endpoint: str) -> Callable[[int], Callable[[], None]]:
    def make(_: int) -> Callable[[], None]:
        lam = client(endpoint)
        return lambda: lam.list_aliases(FunctionName=FUNCTION) and None

    return make


def update_alias(endpoint: str) -> Callable[[int], Callable[[], None]]:
    """Each thread flips its own alias between versions 1 and 2, passing its RevisionId."""

    def make(index: int) -> Callable[[], None]:
        lam = client(endpoint)
        name = f"alias-{index}"
        state = {"revision": lam.get_alias(FunctionName=FUNCTION, Name=name)["RevisionId"]}
        flip = {"n": 0}

        def call() -> None:
            flip["n"] += 1
            response = lam.update_alias(
                FunctionName=FUNCTION,
                Name=name,
                FunctionVersion=str(1 + flip["n"] % 2),
                RoutingConfig={"AdditionalVersionWeights": {}},
                RevisionId=state["revision"],
            )
            state["revision"] = response["RevisionId"]

        return call

    return make


def throughput(endpoint: str, seconds: float, threads: int) -> None:
    for name, work in (("ListAliases", list_aliases), ("UpdateAlias", update_alias)):
        for n in sorted({1, threads}):
            calls = run_threads(n, seconds, work(endpoint))
            print(f"{name:<12} {n} client thread(s): {calls / seconds:8.0f} requests/s")


def rate_limit_accuracy(state_dir: Path, rate: float, seconds: float, threads: int) -> None:
    state = state_dir / f"rate-{rate:g}.sqlite"
    with serve(state, "--rate-limit", f"{rate:g}") as endpoint:
        seed_client = client(endpoint, attempts=10)
        seed_client.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Handler="app.handler",
            Role=ROLE,
            Code={"ZipFile": make_zip("one")},
        )
        accepted = [0] * threads
        throttled = [0] * threads
        measuring = threading.Event()
        since: list[float] = []

        def make(index: int) -> Callable[[], None]:
            lam = client(endpoint)

            def call() -> None:
                try:
                    lam.list_aliases(FunctionName=FUNCTION)
                except ClientError as error:
                    if error.response["Error"]["Code"] != "TooManyRequestsException":
                        raise
                    # The first 429 says the burst is spent: the bucket is empty, and from now
                    # on only its refill rate gets through. Measure from that moment.
                    if not measuring.is_set():
                        since.append(time.monotonic())
                        measuring.set()
                    throttled[index] += 1
                    return
                if measuring.is_set():
                    accepted[index] += 1

            return call

        run_threads(threads, seconds + 1.0, make)
        window = time.monotonic() - min(since)
        got = sum(accepted) / window
        print(
            f"--rate-limit {rate:>5g}: accepted {got:7.2f}/s over {window:.1f} s "
            f"({(got - rate) / rate * 100:+.1f}% off), throttled {sum(throttled) / window:.0f}/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        state_dir = Path(folder)
        with serve(state_dir / "throughput.sqlite") as endpoint:
            seed(endpoint)
            throughput(endpoint, arguments.seconds, arguments.threads)
        for rate in (10.0, 50.0, 200.0):
            rate_limit_accuracy(state_dir, rate, arguments.seconds * 2, arguments.threads)


if __name__ == "__main__":
    main()

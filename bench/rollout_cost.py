"""Benchmark: the Lambda requests a rollout costs, per step and per analysis interval.

``--functions`` functions (default 20) each roll their ``live`` alias out from version 1 to
version 2 in ``--steps`` steps (default 3) held ``--hold`` seconds each (default 300), judged by
one check every ``--interval`` seconds (default 60), in the emulated registry (in this process,
counted by operation). The controller is the real loop on an injected clock: a start-up full
pass, then, second by simulated second, what the targeted passes' thread does (the rollouts due
are planned from what the last reconcile left, every write guarded by its RevisionId). No
resync pass runs during the rollout, so what is counted is what the rollout alone adds; a real
controller adds its resync passes (one read per function each) whatever it is doing.

Prints the requests by operation: the start-up pass, then the rollout's, per function, per step
and per analysis interval, against the goal of no Lambda read beyond the steady pass's one per
function and one write per step. Asserts nothing.

Usage: ``python bench/rollout_cost.py [--functions N] [--steps S] [--hold SECONDS]
[--interval SECONDS]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import git

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fleet import (
    CALLER,
    FOLDER,
    code_sha256,
    emulator,
    name_of,
    use_placeholder_credentials,
)
from controller.adapters.git import LocalSource
from controller.adapters.metrics import Metrics
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.cache import CachingRegistry
from controller.core.analysis import CheckResult, Window
from controller.engine.analyst import Analyst
from controller.engine.loop import Controller
from controller.settings import load_settings

T0 = 1_800_000_000.0


class Passing:
    """The metrics source: every check passes, as a healthy canary's would."""

    def __init__(self) -> None:
        self.calls = 0

    def evaluate(self, check: object, window: Window) -> CheckResult:
        self.calls += 1
        return CheckResult("pass", 0.0, "healthy")


def declaration(index: int, steps: int, hold: int, interval: int) -> str:
    weights = [round((n + 1) / (steps + 1), 3) for n in range(steps)]
    step_lines = "".join(f"          - {{weight: {w}, hold: {hold}s}}\n" for w in weights)
    return f"""\
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: {name_of(index)}
spec:
  region: us-east-1
  versions:
    r1: {{codeSha256: "{code_sha256(index, 1)}"}}
    r2: {{codeSha256: "{code_sha256(index, 2)}"}}
  aliases:
    live:
      version: r2
      rollout:
        steps:
{step_lines}        analysis:
          interval: {interval}s
          checks:
            - cloudwatch: {{metric: Errors, ratioTo: Invocations, max: 0.01}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=20)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--hold", type=int, default=300)
    parser.add_argument("--interval", type=int, default=60)
    arguments = parser.parse_args()
    use_placeholder_credentials()
    functions, steps = arguments.functions, arguments.steps
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "declarations"
        repo = git.Repo.init(path)
        with repo.config_writer() as config:
            config.set_value("user", "name", "bench")
            config.set_value("user", "email", "bench@example.com")
            config.set_value("commit", "gpgsign", "false")
        (path / FOLDER).mkdir()
        for index in range(functions):
            text = declaration(index, steps, arguments.hold, arguments.interval)
            (path / FOLDER / f"{name_of(index)}.yaml").write_text(text)
        repo.git.add("--all")
        repo.git.commit("--quiet", "--message", "roll out r2")
        with emulator(Path(folder) / "registry.sqlite", functions) as server:
            now = [T0]
            source = Passing()
            settings = load_settings(None, repo=str(path), path=FOLDER, resync_interval=1e9)
            registry = CachingRegistry(AwsRegistry(AwsSettings(endpoint_url=server.endpoint_url)))
            controller = Controller(
                settings.loop,
                LocalSource(path, "HEAD"),
                registry,
                Metrics(),
                clock=lambda: now[0],
                analyst=Analyst(cloudwatch=source),
            )
            controller.state.revision = LocalSource(path, "HEAD").sync()
            before = Counter(server.request_counts())
            controller.run_pass(["start-up"])
            start_up = Counter(server.request_counts()) - before
            stop = threading.Event()
            end = T0 + steps * arguments.hold + 2 * arguments.interval
            while now[0] < end:
                now[0] += 1.0
                controller.serve_targets(stop)
            total = Counter(server.request_counts()) - before
            rollout = total - start_up
            done = sum(
                1
                for index in range(functions)
                if server.store.get_alias(CALLER, name_of(index), "live").function_version == "2"
            )
    intervals = steps * arguments.hold / arguments.interval
    reads = sum(n for op, n in rollout.items() if op.startswith(("List", "Get")))
    writes = sum(n for op, n in total.items() if not op.startswith(("List", "Get")))
    print(
        f"functions={functions} steps={steps} hold={arguments.hold}s interval={arguments.interval}s"
    )
    print(f"rollouts complete: {done}/{functions}; analysis check runs: {source.calls}")
    print(f"start-up pass requests (it begins step 1): {dict(sorted(start_up.items()))}")
    print(f"the rest of the rollout: {dict(sorted(rollout.items()))}")
    print(
        f"per function, start-up pass included: {writes / functions:.2f} writes "
        f"(one per step and the final move: {steps + 1}); Lambda reads after the start-up "
        f"pass: {reads / functions:.2f} ({reads / functions / intervals:.3f} per analysis "
        "interval)"
    )


if __name__ == "__main__":
    main()

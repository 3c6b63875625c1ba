"""Several processes on one state file, and ``emulator serve`` as a process of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from lambda_emulator import Caller, EmulatorStore
from lambda_emulator.cli import PORT_VARIABLE
from tests.emulator.conftest import ROLE, code, lambda_client, sha
from tests.polling import free_port

HOME = Caller("123456789012", "us-east-1")
PUBLISHES = 25
EMULATOR = (sys.executable, "-m", "lambda_emulator")

# Each worker deploys its own code and publishes it, PUBLISHES times, printing the numbers.
_WORKER = """
import sys
from pathlib import Path
from lambda_emulator import Caller, EmulatorStore
from tests.emulator.conftest import code

caller = Caller("123456789012", "us-east-1")
with EmulatorStore(Path(sys.argv[1])) as store:
    for index in range(int(sys.argv[3])):
        with store.transaction():
            store.update_function_code(caller, "orders", code(f"{sys.argv[2]}-{index}"))
            print(store.publish_version(caller, "orders").version, flush=True)
"""


def test_concurrent_publishers_get_unique_consecutive_versions(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with EmulatorStore(state) as store:
        store.create_function(
            HOME, "orders", code=code("0"), role=ROLE, runtime="python3.12", handler="app.handler"
        )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(state), name, str(PUBLISHES)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
        )
        for name in ("a", "b", "c")
    ]
    numbers: list[int] = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        assert "locked" not in err
        numbers += [int(line) for line in out.split()]
    assert sorted(numbers) == list(range(1, 3 * PUBLISHES + 1))


def test_serve_runs_until_sigterm_next_to_cli_commands(tmp_path: Path) -> None:
    """A ``serve`` process and an out-of-band command share the file; SIGTERM exits 0."""
    state = tmp_path / "state.sqlite"
    root = Path(__file__).parents[2]
    command = EMULATOR
    server = subprocess.Popen(
        [*command, "serve", "--state", str(state), "--port", "0", "--rate-limit", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=root,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        url = first.split(" at ")[1].split()[0]
        assert server.stdout.readline().strip() == f"export AWS_ENDPOINT_URL_LAMBDA={url}"
        created = subprocess.run(
            [
                *command,
                "create-function",
                "orders",
                "--state",
                str(state),
                "--code-sha256",
                sha("a"),
            ],
            capture_output=True,
            text=True,
            cwd=root,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        client = lambda_client(url)
        try:
            assert client.publish_version(FunctionName="orders")["Version"] == "1"
        finally:
            client.close()
        with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=10) as page:
            assert json.load(page)["requests"] == {"PublishVersion": 1}
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "Traceback" not in err


def test_serve_prints_the_exports_of_env_for_the_port_of_the_variable(tmp_path: Path) -> None:
    """The banner after the first line is what ``eval "$(lambda-gitops emulator env)"`` sets, and
    LAMBDA_EMULATOR_PORT moves the port of both."""
    port = free_port()
    environment = {**os.environ, PORT_VARIABLE: str(port)}
    server = subprocess.Popen(
        [*EMULATOR, "serve", "--state", str(tmp_path / "state.sqlite")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
        env=environment,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith(f"emulated Lambda registry at http://127.0.0.1:{port} ("), first
        banner = [server.stdout.readline().strip() for _ in range(5)]
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    printed = subprocess.run(
        [*EMULATOR, "env"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        env=environment,
        check=True,
        timeout=30,
    )
    assert banner == [*printed.stdout.splitlines(), "aws lambda list-functions"]


def test_serve_on_a_port_in_use_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*EMULATOR, "serve", "--state", str(tmp_path / "state.sqlite"), "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[2],
            check=False,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: port {port} on 127.0.0.1 is in use")
    assert "Traceback" not in result.stderr

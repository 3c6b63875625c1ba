"""A real Prometheus server for the tests that need one (the alert rules, the analysis adapter).

Debian's ``prometheus`` package provides the binary; ``prometheus_binary`` skips a test without
it, or fails it under CI's ``LAMBDA_GITOPS_REQUIRE_ALL``. ``prometheus_factory`` starts servers
on free loopback ports (never the default 9090), each scraping its targets every second, and
stops them with SIGTERM after the test, when each must exit 0. Its first scrape comes about 5 s
after start, so tests wait for what they need to be scraped rather than for a fixed time.

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from tests.polling import LoggedProcess, free_port, http_get, stop_process, wait_until

READY_TIMEOUT = 30.0


class Exporter:
    """A scrape target the test controls: ``exposition(n)`` is the page of the ``n``th scrape
    (counters grow with ``n``), served in the text exposition format."""

    def __init__(self, exposition: Callable[[int], str]) -> None:
        self.scrapes = 0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                exporter.scrapes += 1
                body = exposition(exporter.scrapes).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.target = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Prometheus(LoggedProcess):
    """A running Prometheus server, its API and its log."""

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of a successful ``/api/v1/PATH`` answer; fails the test otherwise."""
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


@pytest.fixture
def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    require_tool(path is not None, "prometheus is not on PATH (Debian package prometheus)")
    assert path is not None
    return path


@pytest.fixture
def prometheus_factory(
    tmp_path: Path, prometheus_binary: str
) -> Iterator[Callable[..., Prometheus]]:
    """``start(target, rule_files=())``: a Prometheus scraping ``target`` (``host:port``) every
    second and evaluating ``rule_files`` every second, ready when returned."""
    started: list[Prometheus] = []

    def start(target: str, rule_files: Sequence[Path] = ()) -> Prometheus:
        port = free_port()
        assert port not in (9090, 9100)
        directory = tmp_path / f"prometheus-{port}"
        directory.mkdir()
        config = directory / "prometheus.yml"
        config.write_text(
            json.dumps(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(path) for path in rule_files],
                    "scrape_configs": [
                        {"job_name": "lambda-gitops", "static_configs": [{"targets": [target]}]}
                    ],
                }
            ),
            encoding="utf-8",
        )
        log_path = directory / "prometheus.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            [
                prometheus_binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
        server = Prometheus(process, f"http://127.0.0.1:{port}", log_path, log_file)
        started.append(server)

        def ready() -> bool:
            assert process.poll() is None, f"Prometheus exited:\n{server.log()}"
            answer = http_get(f"{server.url}/-/ready")
            return answer is not None and answer[0] == 200

        wait_until(ready, READY_TIMEOUT, "Prometheus to be ready", diagnostics=server.log)
        return server

    yield start
    for server in started:
        try:
            code = stop_process(server.process)
        finally:
            server.log_file.close()
        assert code == 0, f"Prometheus exited {code} after SIGTERM:\n{server.log()}"

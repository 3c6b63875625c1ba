"""Fixtures shared by the whole suite: real endpoints that boto3 talks to over HTTP.

``moto_endpoint`` is a moto server on 127.0.0.1; ``emulator`` is the project's emulated registry,
each with a fresh state file per test; a test that asks for ``lambda_backend`` runs once against
each. A live Prometheus (``tests.prometheus``), a fake HTTP server of the test's own
(``tests.fake_http``) and a Kubernetes Lease server (``tests.kube_lease_server``) are
registered here for the whole suite.
Fake credentials are set for the whole session so that no test can reach a real AWS account.

A few plain functions live here too, for tests anywhere in the suite: ``require_tool``, a Git
repository of committed declarations (``commit_declarations``), and a metric's value as a
scrape shows it (``metric_value``).
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import git
import pytest
import structlog
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controller.adapters.metrics import Metrics
from lambda_emulator import EmulatorServer, Faults
from tests.backends import Backend
from tests.conformance.table import ConformanceTable

pytest_plugins = ("tests.fake_http", "tests.kube_lease_server", "tests.prometheus")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: pytest-xdist hands tests out in collection order, and one that
    takes two minutes, started last, would leave one worker busy long after the other is done.
    The sort is stable and every worker collects the same order, as xdist requires."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True, scope="session")
def _fake_aws_credentials() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in _FAKE_ENV}
    os.environ.update(_FAKE_ENV)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(key, None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _logging_as_found() -> Iterator[None]:
    """A command run in-process configures the process's logging (structlog, and the emulator's
    standard-library logger); each test leaves it as it found it, so that no test's level or
    stream reaches the next one."""
    emulator = logging.getLogger("lambda_emulator")
    handlers, level = list(emulator.handlers), emulator.level
    yield
    structlog.reset_defaults()
    emulator.handlers[:] = handlers
    emulator.setLevel(level)


_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server for the session; use ``moto_endpoint`` for a clean state per test."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """The moto server, reset to an empty state."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    return moto_server


@pytest.fixture
def emulator_factory(tmp_path: Path) -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulated registries on free ports, each stopped at the end of the test."""
    servers: list[EmulatorServer] = []

    def start(faults: Faults | None = None, state: Path | None = None) -> EmulatorServer:
        server = EmulatorServer(
            state or tmp_path / f"emulator-{len(servers)}.sqlite",
            faults=faults or Faults(),
            s3_root=tmp_path / "s3",
        )
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def emulator(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    """An emulated registry with no faults and an empty state."""
    return emulator_factory()


def require_tool(available: bool, reason: str) -> None:
    """Skip the test when a tool it needs is missing, or fail it under CI's strict setting."""
    if available:
        return
    if os.environ.get("LAMBDA_GITOPS_REQUIRE_ALL"):
        pytest.fail(f"{reason} (LAMBDA_GITOPS_REQUIRE_ALL is set: CI must provide it)")
    pytest.skip(reason)


def commit_declarations(folder: Path, message: str = "declare") -> git.Repo:
    """A new Git repository in ``folder`` with all that ``folder`` holds committed, by a test
    identity (none is configured on these machines)."""
    repo = git.Repo.init(folder)
    with repo.config_writer() as config:
        config.set_value("user", "name", "test")
        config.set_value("user", "email", "test@example.com")
    repo.git.add(A=True)
    repo.index.commit(message)
    return repo


def metric_value(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The value of the first sample ``name`` whose labels include ``labels``, as a scrape of
    ``metrics`` shows it; ``None`` when there is none."""
    text = generate_latest(metrics.registry).decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "moto_breaks(reason): moto does not follow the rule; its run is a strict xfail"
    )
    if not config.pluginmanager.has_plugin(ConformanceTable.name):
        config.pluginmanager.register(ConformanceTable(), ConformanceTable.name)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that asks for ``lambda_backend`` against the emulator and against moto."""
    if "lambda_backend" not in metafunc.fixturenames:
        return
    breaks = metafunc.definition.get_closest_marker("moto_breaks")
    moto_marks = (
        [pytest.mark.xfail(strict=True, reason=str(breaks.kwargs["reason"]))] if breaks else []
    )
    metafunc.parametrize(
        "lambda_backend",
        [
            pytest.param("emulator", id="emulator"),
            pytest.param("moto", marks=moto_marks, id="moto"),
        ],
        indirect=True,
    )


@pytest.fixture
def lambda_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The backend this run of the test talks to, with no functions in it."""
    if request.param == "moto":
        backend = Backend("moto", request.getfixturevalue("moto_endpoint"), tmp_path / "s3")
        backend.create_role()
        return backend
    server = request.getfixturevalue("emulator")
    return Backend("emulator", server.endpoint_url, tmp_path / "s3", server)

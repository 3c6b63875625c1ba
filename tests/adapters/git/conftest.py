"""Real Git for the source tests: repositories in temporary folders, and remotes to fetch from.

``Recorder`` collects what ``run()`` reports and lets a test wait for it with a deadline, so that
no test sleeps for a fixed time. ``git_daemon`` serves a folder over ``git://`` on 127.0.0.1;
``http_remote`` serves it through ``git http-backend`` behind a small HTTP server that demands a
token and records the ``Authorization`` headers it was sent.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from controller.adapters.git import GitSource, Revision

WAIT = 5.0
"""The most a test waits for something that should take milliseconds."""

_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` as a person would, and return its output."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **_IDENTITY, "GIT_TERMINAL_PROMPT": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def commit(work: Path, message: str) -> str:
    """A new commit on the checked-out branch that changes a declaration; returns its SHA."""
    (work / "functions.yaml").write_text(f"# {message}\n")
    git(work, "add", "functions.yaml")
    git(work, "commit", "--quiet", "-m", message)
    return git(work, "rev-parse", "HEAD")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A working repository on branch ``main`` with one commit."""
    path = tmp_path / "work"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    commit(path, "first")
    return path


@pytest.fixture
def origin(tmp_path: Path, work: Path) -> Path:
    """A bare repository that ``work`` pushes to as ``origin``."""
    path = tmp_path / "served" / "declarations.git"
    path.parent.mkdir()
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(path))
    git(work, "remote", "add", "origin", str(path))
    git(work, "push", "--quiet", "origin", "main")
    return path


@dataclass
class Recorder:
    """The callbacks of ``GitSource.run``, with waits that end as soon as the report arrives."""

    revisions: list[Revision] = field(default_factory=list)
    fetches: list[tuple[bool, float]] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def on_revision(self, revision: Revision) -> None:
        with self._changed:
            self.revisions.append(revision)
            self._changed.notify_all()

    def on_fetch(self, ok: bool, at: float) -> None:
        with self._changed:
            self.fetches.append((ok, at))
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, timeout), "timed out"

    def wait_for_revision(self, sha: str, timeout: float = WAIT) -> None:
        self.wait_for(lambda: any(r.sha == sha for r in self.revisions), timeout)

    @property
    def shas(self) -> list[str]:
        with self._changed:
            return [r.sha for r in self.revisions]


@pytest.fixture
def follow() -> Iterator[Callable[[GitSource], Recorder]]:
    """Start ``source.run()`` in a thread; the thread is stopped and joined after the test."""
    threads: list[tuple[threading.Thread, threading.Event]] = []

    def start(source: GitSource) -> Recorder:
        recorder = Recorder()
        stop = threading.Event()
        thread = threading.Thread(
            target=source.run, args=(recorder.on_revision, recorder.on_fetch, stop)
        )
        thread.start()
        threads.append((thread, stop))
        return recorder

    yield start
    for thread, stop in threads:
        stop.set()
        thread.join(WAIT)
        assert not thread.is_alive(), "run() did not return after stop was set"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@pytest.fixture
def git_daemon(origin: Path) -> Iterator[str]:
    """``git daemon`` serving ``origin``'s folder; yields the ``git://`` URL of ``origin``."""
    base = origin.parent
    port = free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={base}",
            "--export-all",
            "--reuseaddr",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with daemon:
        try:
            wait_until_listening(port)
            yield f"git://127.0.0.1:{port}/{origin.name}"
        finally:
            daemon.terminate()
            daemon.wait(WAIT)


TOKEN = "ghp_s3cretT0kenValue1234567890"


@dataclass
class HttpRemote:
    url: str
    authorizations: list[str]


@pytest.fixture
def http_remote(origin: Path) -> Iterator[HttpRemote]:
    """``origin`` over smart HTTP, answering only requests with Basic auth and ``TOKEN``."""
    authorizations: list[str] = []
    root = origin.parent

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            authorization = self.headers.get("Authorization", "")
            authorizations.append(authorization)
            if not _token_matches(authorization):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            environment = {
                "PATH": os.environ["PATH"],
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_USER": "test",
                "REMOTE_ADDR": "127.0.0.1",
            }
            result = subprocess.run(
                ["git", "http-backend"],
                input=body,
                env=environment,
                capture_output=True,
                check=False,
            )
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            status = 200
            headers: list[tuple[str, str]] = []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    try:
        yield HttpRemote(f"http://127.0.0.1:{server.server_port}/{origin.name}", authorizations)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


def _token_matches(authorization: str) -> bool:
    scheme, _, encoded = authorization.partition(" ")
    if scheme != "Basic":
        return False
    _user, _, password = base64.b64decode(encoded).decode().partition(":")
    return password == TOKEN

"""A converged fleet for the controller benchmarks: declarations in Git, the same in the emulator.

Every function declares two versions (or ``versions``) by their code SHA-256 alone (``r1``,
``r2``, ..., no code source: nothing is ever uploaded) and three aliases: ``live`` on r1, ``beta``
on r2 and ``canary`` on r1 with 10% to r2. ``seed`` gives the emulated registry exactly that
state through the store's own methods (the same calls ``emulator load`` makes), so the first pass
finds nothing to write and a benchmark measures the controller rather than a first convergence.
``undeclared`` functions, with as many versions and named among the declared ones, stand for
the rest of a region that the declarations do not cover.
"""

from __future__ import annotations

import base64
import hashlib
import os
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lambda_emulator import EmulatorServer, Faults, packages
from lambda_emulator.seed import DEFAULT_HANDLER, DEFAULT_RUNTIME, default_role
from lambda_emulator.store import Caller, EmulatorStore
from lambda_emulator.validation import DEFAULT_ACCOUNT

REGION = "us-east-1"
CALLER = Caller(DEFAULT_ACCOUNT, REGION)
FOLDER = "functions"
"""Where the declarations live in the repository (the controller's ``--path``)."""

_PLACEHOLDER_ENV = {
    # Placeholder credentials: the emulator checks no signature, and no real credential of
    # whoever runs the benchmark is ever picked up and sent anywhere.
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def use_placeholder_credentials() -> None:
    """Point boto3's default credential chain (what ``--registry aws`` uses) at placeholders."""
    os.environ.update(_PLACEHOLDER_ENV)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(key, None)


def name_of(index: int) -> str:
    return f"bench-{index:05d}"


def undeclared_name(index: int, undeclared: int, functions: int) -> str:
    """The name of an undeclared function: spread evenly by name among the declared ones."""
    return f"{name_of(index * functions // undeclared)}-other-{index:05d}"


def code_sha256(index: int, release: int, name: str | None = None) -> str:
    """A bare CodeSha256 (base64 of 32 bytes), as code built elsewhere is declared."""
    digest = hashlib.sha256(f"{name or name_of(index)}/r{release}".encode()).digest()
    return base64.b64encode(digest).decode()


def declaration(index: int, live: str = "r1", versions: int = 2) -> str:
    """One function's YAML; ``live`` is the label the ``live`` alias points at."""
    declared = "".join(
        f'    r{release}:\n      codeSha256: "{code_sha256(index, release)}"\n'
        for release in range(1, versions + 1)
    )
    return f"""\
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: {name_of(index)}
spec:
  region: {REGION}
  versions:
{declared}  aliases:
    live:
      version: {live}
    beta:
      version: r2
    canary:
      version: r1
      routing: {{r2: 0.1}}
"""


def declaration_path(index: int) -> str:
    return f"{FOLDER}/{name_of(index)}.yaml"


@dataclass(frozen=True, slots=True)
class Repository:
    path: Path
    repo: git.Repo
    versions: int = 2

    def write(self, index: int, live: str) -> None:
        (self.path / declaration_path(index)).write_text(declaration(index, live, self.versions))

    def commit(self, message: str) -> str:
        """``git commit -a`` through GitPython (the git binary: what a person would run)."""
        self.repo.git.commit("--quiet", "--all", "--message", message)
        return self.repo.head.commit.hexsha


def make_repository(path: Path, functions: int, versions: int = 2) -> Repository:
    """A Git repository at ``path`` with one declaration file per function, committed."""
    repo = git.Repo.init(path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "bench")
        config.set_value("user", "email", "bench@example.com")
        config.set_value("commit", "gpgsign", "false")
    (path / FOLDER).mkdir()
    for index in range(functions):
        (path / declaration_path(index)).write_text(declaration(index, versions=versions))
    # ``git add`` of the folder at once: adding thousands of paths one by one through
    # GitPython's own index code takes minutes at 10,000 functions.
    repo.git.add("--all")
    repository = Repository(path, repo, versions)
    repository.commit(f"{functions} functions")
    return repository


def seed(store: EmulatorStore, functions: int, versions: int = 2, undeclared: int = 0) -> None:
    """Give the emulated registry the state the declarations describe, in one transaction, and
    ``undeclared`` functions more."""
    with store.transaction():
        for index in range(functions):
            name = name_of(index)
            published_function(store, name, [code_sha256(index, r) for r in range(1, versions + 1)])
            store.create_alias(CALLER, name, "live", function_version="1")
            store.create_alias(CALLER, name, "beta", function_version="2")
            store.create_alias(CALLER, name, "canary", function_version="1", routing={"2": 0.1})
        for index in range(undeclared):
            name = undeclared_name(index, undeclared, functions)
            releases = [code_sha256(0, r, name) for r in range(1, versions + 1)]
            published_function(store, name, releases)


def published_function(store: EmulatorStore, name: str, releases: list[str]) -> None:
    """A function with each of ``releases`` (bare CodeSha256s) published in turn: version 1 is
    the first. Shared with ``retention_cost``, which seeds functions of many versions."""
    store.create_function(
        CALLER,
        name,
        code=packages.from_sha256(releases[0]),
        role=default_role(CALLER.account),
        runtime=DEFAULT_RUNTIME,
        handler=DEFAULT_HANDLER,
    )
    for number, release in enumerate(releases, start=1):
        if number > 1:
            store.update_function_code(CALLER, name, packages.from_sha256(release))
        store.publish_version(CALLER, name)


@contextmanager
def emulator(
    state: Path,
    functions: int,
    faults: Faults = Faults(),  # noqa: B008
    *,
    versions: int = 2,
    undeclared: int = 0,
) -> Iterator[EmulatorServer]:
    """The emulated registry in this process, seeded with the fleet, serving until the end.

    Seeded before the faults are switched on, so that seeding is neither slowed nor throttled
    (it goes through the store, not HTTP, but the faults' request counters start from zero).
    """
    with EmulatorServer(state) as server:
        seed(server.store, functions, versions, undeclared)
        server.faults = faults
        yield server


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

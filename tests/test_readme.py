"""The README's command blocks, run as a newcomer runs them, so that they cannot drift from the
commands.

A ``sh`` block right after a ``<!-- runnable -->`` line (an HTML comment, which GitHub does not
render) is runnable: the blocks are pasted in the README's order into one bash session, as a
newcomer pastes them into one shell after ``scripts/demo``, with ``set -e`` so that the first
failing command fails the test. The session runs in a copy of the repository (the files git
would commit, with ``.venv`` linked in) and is given what a fresh machine has: no AWS
configuration at all (no ``AWS_*`` variable, no config or credentials file, no instance
metadata), ``lambda-gitops`` not on ``PATH``, and an empty home. A block therefore works only if
it sets up what it needs itself, and no command can reach a real AWS account: without
credentials botocore refuses before it sends anything. Only a git identity is given, which any
machine that commits has.

A ``sh`` block that is not runnable (it needs AWS, Kubernetes, GitHub or a long-running process)
is listed in ``NOT_RUNNABLE`` by its first line, with the reason, so that a new block is either
marked or listed on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.polling import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = "<!-- runnable -->"
SHELLS = frozenset({"sh", "bash", "shell", "console"})
RUN_TIMEOUT = 100.0
"""A bound on the whole session, under pytest's own 120 s: the blocks take some 20 s, and a
command that hangs (an endpoint that never answers) must fail the test, not stall it."""

NOT_RUNNABLE = {
    "scripts/demo    # set up": "sets up .venv, then runs the controller until Ctrl-C",
    "# 1. The build pipeline uploads": "uploads to S3, opens a pull request with gh, pushes",
    "curl -s localhost:8080/status": "needs scripts/demo running in another terminal",
    "kubectl create namespace lambda-gitops": "needs a Kubernetes cluster and Helm",
}
"""The first line of each ``sh`` block left unmarked, and why it cannot run here."""

_FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """A fenced code block of the README."""

    line: int
    """The line of its opening fence, from 1."""
    language: str
    runnable: bool
    text: str

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0] if self.text else ""


def code_blocks(markdown: str) -> list[Block]:
    """Every fenced code block, with whether a ``<!-- runnable -->`` line comes before it (blank
    lines may sit between the two)."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    previous = ""
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            if lines[index].strip():
                previous = lines[index].strip()
            index += 1
            continue
        closing = opening["fence"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != closing:
            end += 1
        assert end < len(lines), f"README.md:{index + 1}: a code block is never closed"
        info = opening["info"].strip()
        blocks.append(
            Block(
                line=index + 1,
                language=info.split()[0] if info else "",
                runnable=previous == MARKER,
                text="\n".join(lines[index + 1 : end]),
            )
        )
        previous = ""
        index = end + 1
    return blocks


def readme_blocks() -> list[Block]:
    return code_blocks(README.read_text(encoding="utf-8"))


def test_the_marker_finds_blocks_and_only_what_follows_it() -> None:
    markdown = "\n".join(
        [
            MARKER,
            "",
            "```sh",
            "echo one",
            "```",
            "text",
            "```sh",
            "echo two",
            "```",
            "````yaml",
            "a: 1",
            "````",
        ]
    )
    assert code_blocks(markdown) == [
        Block(line=3, language="sh", runnable=True, text="echo one"),
        Block(line=7, language="sh", runnable=False, text="echo two"),
        Block(line=10, language="yaml", runnable=False, text="a: 1"),
    ]


def test_every_shell_block_is_runnable_or_listed_with_its_reason() -> None:
    blocks = readme_blocks()
    marked_elsewhere = [b.line for b in blocks if b.runnable and b.language not in SHELLS]
    assert not marked_elsewhere, f"README.md lines {marked_elsewhere}: only sh blocks can run"
    unmarked = [b for b in blocks if b.language in SHELLS and not b.runnable]
    unlisted = [
        f"README.md:{b.line}: {b.first_line}"
        for b in unmarked
        if not any(b.first_line.startswith(key) for key in NOT_RUNNABLE)
    ]
    assert not unlisted, (
        f"mark these blocks {MARKER} (and make them run here), or add their first line to "
        f"NOT_RUNNABLE with the reason they cannot: {unlisted}"
    )
    for key in NOT_RUNNABLE:
        matches = [b.line for b in unmarked if b.first_line.startswith(key)]
        assert len(matches) == 1, f"NOT_RUNNABLE {key!r} matches unmarked blocks {matches}"
    assert any(b.runnable for b in blocks)


def repository_copy(destination: Path) -> Path:
    """The files git would commit (the working tree's, untracked ones too), in ``destination``,
    with the virtual environment of this test run linked in as ``.venv``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return destination


def fresh_machine(home: Path, temporary: Path) -> dict[str, str]:
    """The environment of a fresh machine: a PATH without the virtual environment, no AWS
    configuration, an empty home; and a git identity, and a free port for the emulator so that
    runs side by side do not meet (it moves the default of both ``serve`` and ``env``)."""
    venv_bin = Path(sys.executable).parent.resolve()
    path = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and Path(entry).resolve() != venv_bin
    ]
    return {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "TMPDIR": str(temporary),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "newcomer",
        "GIT_AUTHOR_EMAIL": "newcomer@example.com",
        "GIT_COMMITTER_NAME": "newcomer",
        "GIT_COMMITTER_EMAIL": "newcomer@example.com",
        "LAMBDA_EMULATOR_PORT": str(free_port()),
    }


def session_script(blocks: list[Block]) -> str:
    """One bash script of the runnable blocks in order, each announced with its README line."""
    parts = ["set -e -o pipefail"]
    for block in blocks:
        parts += [f"printf '\\n== README.md:{block.line}\\n'", "set -x", block.text, "set +x"]
    return "\n".join(parts) + "\n"


def stop_group(group: int) -> None:
    """End every process left in the session's process group (a ``... &`` of a block), with
    SIGTERM first, then SIGKILL for any still there after a while."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@pytest.mark.slow
def test_the_runnable_blocks_run_in_order_on_a_fresh_machine(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    require_tool(bash is not None, "bash is not installed")
    assert bash is not None
    require_tool(
        (Path(sys.executable).parent / "lambda-gitops").exists(),
        "lambda-gitops is not installed beside this Python (run scripts/test)",
    )
    copy = repository_copy(tmp_path / "lambda-gitops")
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    script = tmp_path / "readme.sh"
    script.write_text(session_script([b for b in readme_blocks() if b.runnable]))
    log_path = tmp_path / "readme.log"

    with log_path.open("wb") as log:
        # The output goes to a file, not a pipe: a background process still holding a pipe open
        # would keep the test waiting after bash has exited.
        session = subprocess.Popen(
            [bash, str(script)],
            cwd=copy,
            env=fresh_machine(tmp_path / "home", tmp_path / "tmp"),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode: int | None = session.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            stop_group(session.pid)
            session.wait()

    output = log_path.read_text(encoding="utf-8", errors="replace")
    tail = "\n".join(output.splitlines()[-60:])
    assert returncode is not None, f"the README's blocks ran over {RUN_TIMEOUT:g} s:\n{tail}"
    assert returncode == 0, f"a README command failed (exit code {returncode}):\n{tail}"
    assert "Traceback" not in output, tail

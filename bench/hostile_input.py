"""Benchmark: what hostile declaration files cost to refuse.

Each case is one file of a real Git repository, read with ``load_commit`` as the controller
reads a revision, beside one valid declaration: a file of ``--megabytes`` MB (default 50; it
took 113 s and 1.2 GB before the size limit), YAML alias bombs of 6 and 9 levels (about 500
bytes each; 15 s and 450 MB at 6 levels, and no end at 9, before the expansion budget),
brackets nested 300 deep, and a thousand small documents. Each case runs in a fresh child
process, so that its peak RSS is its own; it prints the wall time and the peak RSS, and checks
only that the valid declaration survived and that the hostile file got its error.

Usage: ``python bench/hostile_input.py [--megabytes N]``. Prints its figures; asserts nothing
about them, since the machines are shared and timings are noisy.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from controller.adapters.git.reader import load_commit

VALID = """apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders
spec:
  versions: {r1: {codeSha256: "6pL0bTqyPp1aIhrsyDo+aHmoE4mEvTPHwq3tz6Y0vHI="}}
  aliases: {live: {version: r1}}
"""


def alias_bomb(levels: int) -> str:
    lines = [
        "apiVersion: lambda-gitops/v1",
        "kind: Function",
        "a0: &a0 [x, x, x, x, x, x, x, x, x]",
    ]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def cases(megabytes: int) -> dict[str, str]:
    line = "  - abcdefghijklmnopqrstuvwxyz0123456789\n"
    return {
        f"a {megabytes} MB file": "items:\n" + line * (megabytes * 1024 * 1024 // len(line)),
        "an alias bomb, 6 levels": alias_bomb(6),
        "an alias bomb, 9 levels": alias_bomb(9),
        "300 nested brackets": "x: " + "[" * 300 + "]" * 300 + "\n",
        "1,000 documents": "---\na: 1\n" * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--child", metavar="REPO", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(Path(arguments.child))
        return
    for name, text in cases(arguments.megabytes).items():
        with tempfile.TemporaryDirectory() as folder:
            repo = Path(folder)
            commit(repo, {"valid.yaml": VALID, "hostile.yaml": text})
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(repo)],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(result.stdout)
            print(
                f"{name} ({len(text.encode())} bytes): {figures['seconds']:.3f} s, "
                f"peak RSS {figures['peak_rss_mib']:.0f} MiB; valid function kept: "
                f"{figures['kept']}; error: {figures['error']}"
            )


def commit(repo: Path, files: dict[str, str]) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@e", *args],
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    for name, text in files.items():
        (repo / name).write_text(text)
    git("add", "-A")
    git("commit", "-qm", "hostile")


def child(repo: Path) -> None:
    started = time.perf_counter()
    declarations = load_commit(repo, "HEAD", default_region="us-east-1")
    seconds = time.perf_counter() - started
    errors = [str(e) for e in declarations.errors]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "kept": [f.name for f in declarations.functions] == ["orders"],
                "error": errors[0][:90] if errors else None,
            }
        )
    )


if __name__ == "__main__":
    main()

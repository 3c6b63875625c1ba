"""The layers hold at run time too: importing a core module loads no I/O library.

import-linter (run by ``scripts/test``, contracts in ``pyproject.toml``) checks the imports
written in the code; an import made indirectly at run time, through a package ``__init__`` or a
library that pulls another in, escapes it. So each core module is imported here in a fresh
interpreter, and ``sys.modules`` is read afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "controller" / "core"
IO_LIBRARIES = (
    "boto3",
    "botocore",
    "git",
    "watchfiles",
    "prometheus_client",
    "structlog",
    "click",
    "lambda_emulator",
    "kubernetes",
)
PROJECT_OUTSIDE_THE_CORE = (
    "controller.adapters",
    "controller.engine",
    "controller.review",
    "controller.cli",
    "controller.bootstrap",
    "controller.settings",
)
CORE_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in CORE.rglob("*.py")
)


def loaded_after_import(module: str) -> list[str]:
    probe = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_every_core_module_is_found() -> None:
    assert {"controller.core.model", "controller.core.planner"} <= set(CORE_MODULES)
    assert "controller.core.declarations.parser" in CORE_MODULES


@pytest.mark.parametrize("module", CORE_MODULES)
def test_importing_a_core_module_loads_no_io_library_and_nothing_outside_the_core(
    module: str,
) -> None:
    loaded = loaded_after_import(module)

    forbidden = [
        name
        for name in loaded
        if name.split(".")[0] in IO_LIBRARIES or name.startswith(PROJECT_OUTSIDE_THE_CORE)
    ]
    assert forbidden == []
    # ruamel.yaml is the parser's, and only the declarations (whose package loads the parser)
    # may bring it in.
    if not module.startswith("controller.core.declarations"):
        assert [name for name in loaded if name.startswith("ruamel")] == []

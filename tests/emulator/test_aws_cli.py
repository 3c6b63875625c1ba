"""The AWS CLI uses the emulated registry unchanged, through ``--endpoint-url``.

The CLI is botocore underneath, like the controller, but it parses responses and prints errors
its own way; these tests show that what the emulator sends is what the CLI expects from AWS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_emulator import EmulatorServer
from tests.backends import ROLE, code_sha256, make_zip
from tests.conftest import require_tool


def aws(server: EmulatorServer, *arguments: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("aws", path=str(Path(sys.executable).parent))
    require_tool(executable is not None, "the AWS CLI (pip install awscli) is not installed")
    assert executable is not None
    return subprocess.run(
        [executable, "lambda", *arguments, "--endpoint-url", server.endpoint_url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""},
        check=False,
    )


@pytest.fixture
def package(tmp_path: Path) -> Path:
    path = tmp_path / "function.zip"
    path.write_bytes(make_zip("aws cli"))
    return path


def test_a_function_is_created_published_and_aliased_with_the_cli(
    emulator: EmulatorServer, package: Path
) -> None:
    created = aws(
        emulator,
        "create-function",
        "--function-name", "orders-api",
        "--runtime", "python3.12",
        "--handler", "app.handler",
        "--role", ROLE,
        "--zip-file", f"fileb://{package}",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["CodeSha256"] == code_sha256(package.read_bytes())
    published = aws(emulator, "publish-version", "--function-name", "orders-api")
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)["Version"] == "1"
    aliased = aws(
        emulator, "create-alias", "--function-name", "orders-api",
        "--name", "live", "--function-version", "1",
    )  # fmt: skip
    assert aliased.returncode == 0, aliased.stderr
    listed = aws(emulator, "list-aliases", "--function-name", "orders-api")
    assert [alias["Name"] for alias in json.loads(listed.stdout)["Aliases"]] == ["live"]


def test_errors_reach_the_cli_with_their_aws_code_and_message(
    emulator: EmulatorServer, package: Path
) -> None:
    missing = aws(emulator, "get-alias", "--function-name", "nobody", "--name", "live")
    assert missing.returncode != 0
    assert "An error occurred (ResourceNotFoundException) when calling the GetAlias" in (
        missing.stderr
    )
    aws(
        emulator, "create-function", "--function-name", "orders-api", "--runtime", "python3.12",
        "--handler", "app.handler", "--role", ROLE, "--zip-file", f"fileb://{package}",
    )  # fmt: skip
    wrong = aws(
        emulator, "publish-version", "--function-name", "orders-api",
        "--code-sha256", code_sha256(b"other code"),
    )  # fmt: skip
    assert wrong.returncode != 0
    assert "(InvalidParameterValueException) when calling the PublishVersion operation: " in (
        wrong.stderr
    )
    assert "is different from current CodeSHA256 in $LATEST" in wrong.stderr

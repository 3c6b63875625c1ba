"""The AWS CLI uses the emulated registry unchanged, through ``--endpoint-url`` or the
environment ``emulator env`` prints.

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

from lambda_emulator import Caller, EmulatorServer
from lambda_emulator.cli import client_environment
from lambda_emulator.packages import from_sha256
from tests.backends import ROLE, code_sha256, make_zip
from tests.conftest import require_tool


def aws_executable() -> str:
    executable = shutil.which("aws", path=str(Path(sys.executable).parent))
    require_tool(executable is not None, "the AWS CLI (pip install awscli) is not installed")
    assert executable is not None
    return executable


def aws(server: EmulatorServer, *arguments: str) -> subprocess.CompletedProcess[str]:
    executable = aws_executable()
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


def bare_environment(home: Path) -> dict[str, str]:
    """The environment of a machine with no AWS configuration: no AWS_* variable, no config or
    credentials file, no instance metadata to ask."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {
        **kept,
        "HOME": str(home),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }


@pytest.mark.parametrize(
    "client",
    [
        pytest.param(("aws", "lambda", "list-functions"), id="aws-cli"),
        pytest.param(
            (
                sys.executable,
                "-c",
                "import boto3, json; print(json.dumps(boto3.client('lambda').list_functions()))",
            ),
            id="boto3",
        ),
    ],
)
def test_the_exports_of_env_are_all_a_client_needs(
    emulator: EmulatorServer, tmp_path: Path, client: tuple[str, ...]
) -> None:
    """On a machine with no AWS set-up, the variables ``emulator env`` exports (and no
    --endpoint-url, region or credentials of its own) take the AWS CLI and boto3 to the
    emulator: the pinned botocore and AWS CLI v1 read AWS_ENDPOINT_URL_LAMBDA."""
    emulator.store.create_function(
        Caller("123456789012", "us-east-1"),
        "orders-api",
        code=from_sha256(code_sha256(b"x")),
        role=ROLE,
        runtime="python3.12",
        handler="app.handler",
    )
    command = (aws_executable(), *client[1:]) if client[0] == "aws" else client
    environment = {
        **bare_environment(tmp_path),
        **client_environment(emulator.endpoint_url, "us-east-1"),
    }

    listed = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=60, check=False
    )

    assert listed.returncode == 0, listed.stderr
    functions = json.loads(listed.stdout)["Functions"]
    assert [f["FunctionName"] for f in functions] == ["orders-api"]


def test_without_the_exports_the_cli_has_no_region(tmp_path: Path) -> None:
    """The bare environment is bare (no region from a developer's own ~/.aws), so the test above
    shows what the exports alone do; it is also what a newcomer met before ``emulator env``."""
    listed = subprocess.run(
        [aws_executable(), "lambda", "list-functions", "--endpoint-url", "http://127.0.0.1:1"],
        capture_output=True,
        text=True,
        env=bare_environment(tmp_path),
        timeout=60,
        check=False,
    )
    assert listed.returncode != 0
    assert "region" in listed.stderr

"""Terraform's AWS provider manages a function and its alias on the emulator, as on AWS.

A client nobody on the project wrote: hashicorp/aws 5.x, through ``endpoints { lambda }``,
creates a function from a zip with tags, an environment, a reserved concurrency and
``publish = true``, an alias on it, and reads both back through the ``aws_lambda_function`` and
``aws_lambda_alias`` data sources. After every apply, ``plan -detailed-exitcode`` finds nothing
to change, which holds only if the emulator keeps and returns all of it as AWS does
(rules L48, L49, L53, L55, L56); then ``destroy`` removes everything.

Terraform and the provider cannot be installed from the package registries the test machines
reach, so the test needs a ``terraform`` on the PATH and the provider in an offline mirror
(``terraform providers mirror`` layout, ``LAMBDA_GITOPS_TERRAFORM_MIRROR`` or
``/opt/tf-plugins``), and is skipped where either is missing, even in CI. Each Terraform command
loads the provider's schema, which takes seconds, so the test runs three applies, three plans
and a destroy and nothing more.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambda_emulator import Caller, EmulatorServer
from tests.backends import make_zip

MIRROR = Path(os.environ.get("LAMBDA_GITOPS_TERRAFORM_MIRROR", "/opt/tf-plugins"))
PROVIDER = MIRROR / "registry.terraform.io" / "hashicorp" / "aws"
ACCOUNT = "123456789012"
HOME = Caller(ACCOUNT, "us-east-1")
FUNCTION = "tf-orders"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/tf-orders"
COMMAND_TIMEOUT_SECONDS = 300

MAIN_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0, < 6.0" }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "emulated"
  secret_key                  = "emulated"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    lambda = var.endpoint
  }
}

variable "endpoint" { type = string }
variable "function_name" { type = string }
variable "role" { type = string }
variable "stage" { type = string }
variable "tags" { type = map(string) }
variable "alias_version" {
  type    = string
  default = ""
}

resource "aws_lambda_function" "orders" {
  function_name                  = var.function_name
  role                           = var.role
  handler                        = "app.handler"
  runtime                        = "python3.12"
  filename                       = "${path.module}/orders.zip"
  source_code_hash               = filebase64sha256("${path.module}/orders.zip")
  publish                        = true
  reserved_concurrent_executions = 5
  environment {
    variables = { STAGE = var.stage }
  }
  tags = var.tags
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.orders.function_name
  function_version = coalesce(var.alias_version, aws_lambda_function.orders.version)
}

data "aws_lambda_function" "orders" {
  function_name = aws_lambda_function.orders.function_name
  depends_on    = [aws_lambda_alias.live]
}

data "aws_lambda_alias" "live" {
  function_name = aws_lambda_function.orders.function_name
  name          = aws_lambda_alias.live.name
}

output "read_back" {
  value = {
    version       = data.aws_lambda_function.orders.version
    environment   = data.aws_lambda_function.orders.environment[0].variables
    tags          = data.aws_lambda_function.orders.tags
    alias_version = data.aws_lambda_alias.live.function_version
  }
}
"""


def terraform_executable() -> str:
    executable = shutil.which("terraform")
    if executable is None:
        pytest.skip("terraform is not on the PATH (it cannot be installed from the registries)")
    if not any(PROVIDER.glob("5.*/*/terraform-provider-aws_*")):
        pytest.skip(f"no hashicorp/aws 5.x provider in the offline mirror {MIRROR}")
    return executable


class Terraform:
    """The ``terraform`` command in one working folder, with a CLI configuration of its own
    that installs providers from the offline mirror only, and no AWS set-up of the machine."""

    def __init__(self, executable: str, folder: Path, endpoint: str) -> None:
        self.executable = executable
        self.folder = folder
        self.endpoint = endpoint
        config = folder / "terraform.tfrc"
        config.write_text(
            f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n}}\n'
        )
        kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        self.environment = {
            **kept,
            "HOME": str(folder),
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def run(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.executable, *arguments, "-no-color"],
            cwd=self.folder,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )

    def variables(self, stage: str, tags: dict[str, str], alias_version: str = "") -> list[str]:
        values = {
            "endpoint": self.endpoint,
            "function_name": FUNCTION,
            "role": ROLE,
            "stage": stage,
            "tags": json.dumps(tags),
            "alias_version": alias_version,
        }
        return [f"-var={name}={value}" for name, value in values.items()]

    def apply(self, *variables: str) -> None:
        applied = self.run("apply", "-auto-approve", *variables)
        assert applied.returncode == 0, applied.stdout + applied.stderr

    def assert_nothing_to_change(self, *variables: str) -> None:
        """``plan -detailed-exitcode`` exits 0: what Terraform reads back is what it wrote."""
        planned = self.run("plan", "-detailed-exitcode", *variables)
        assert planned.returncode == 0, planned.stdout + planned.stderr

    def read_back(self) -> Any:
        shown = self.run("output", "-json", "read_back")
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_terraform_creates_changes_and_destroys_a_function_with_a_clean_plan_after_each_apply(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    terraform = Terraform(terraform_executable(), tmp_path, emulator.endpoint_url)
    (tmp_path / "main.tf").write_text(MAIN_TF)
    (tmp_path / "orders.zip").write_bytes(make_zip("def handler(event, context):\n    return 1\n"))
    initialized = terraform.run("init")
    assert initialized.returncode == 0, initialized.stdout + initialized.stderr
    store = emulator.store

    first = terraform.variables("one", {"team": "orders", "stage": "one"})
    terraform.apply(*first)
    terraform.assert_nothing_to_change(*first)
    assert terraform.read_back() == {
        "version": "1",
        "environment": {"STAGE": "one"},
        "tags": {"team": "orders", "stage": "one"},
        "alias_version": "1",
    }
    assert store.get_function_concurrency(HOME, FUNCTION) == 5

    # A configuration-only change, a changed tag and a removed one: a new version (L48).
    second = terraform.variables("two", {"stage": "two"})
    terraform.apply(*second)
    terraform.assert_nothing_to_change(*second)
    assert terraform.read_back() == {
        "version": "2",
        "environment": {"STAGE": "two"},
        "tags": {"stage": "two"},
        "alias_version": "2",
    }
    assert store.get_function(HOME, FUNCTION, "1").configuration.environment == {"STAGE": "one"}

    third = terraform.variables("two", {"stage": "two"}, alias_version="1")
    terraform.apply(*third)
    terraform.assert_nothing_to_change(*third)
    assert store.get_alias(HOME, FUNCTION, "live").function_version == "1"

    destroyed = terraform.run("destroy", "-auto-approve", *third)
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert store.list_functions(HOME).items == []

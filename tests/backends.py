"""Live Lambda endpoints for tests: the emulated registry and a moto server, behind one face.

A test that asks for ``lambda_backend`` runs twice, against the project's emulated registry and
against a moto server, driving boto3 over HTTP, so that the same test states a rule of
LAMBDA_RULES.md (or a promise of the registry adapter) for both. Where moto does not follow a
rule, the test says so with ``moto_breaks``: the moto run is then a strict expected failure, and
if moto ever starts to follow the rule the suite fails until the mark is removed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import boto3
import pytest
from botocore.config import Config

from lambda_emulator import EmulatorServer, Faults

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_lambda.type_defs import (
        FunctionConfigurationResponseTypeDef,
        GetFunctionResponseTypeDef,
        WaiterConfigTypeDef,
    )

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_NAME = "lambda-gitops-test"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
RUNTIME: Final = "python3.12"
HANDLER = "app.handler"

BackendKind = Literal["emulator", "moto"]
RetryMode = Literal["legacy", "standard", "adaptive"]
_Test = TypeVar("_Test", bound=Callable[..., Any])


def moto_breaks(reason: str) -> Callable[[_Test], _Test]:
    """Mark a test whose rule moto does not follow; ``reason`` says what moto does instead.

    Only the moto run of the test becomes a strict expected failure; the emulator run is untouched.
    """
    return pytest.mark.moto_breaks(reason=reason)


def function_arn(
    name: str, qualifier: str | None = None, *, region: str = REGION, account: str = ACCOUNT
) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return arn if qualifier is None else f"{arn}:{qualifier}"


def make_zip(source: str = "def handler(event, context):\n    return 1\n") -> bytes:
    """A small deployment package; the same source always gives the same bytes and CodeSha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(entry, source)
    return buffer.getvalue()


def code_sha256(package: bytes) -> str:
    """The CodeSha256 Lambda reports for a package: the base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


@dataclass
class Backend:
    """One Lambda endpoint under test, with the setup each kind needs.

    ``server`` is the emulated registry when ``kind`` is ``"emulator"``; moto has no server object
    here because it is shared by the session and reset per test.
    """

    kind: BackendKind
    endpoint_url: str
    s3_root: Path
    server: EmulatorServer | None = None
    _clients: dict[tuple[str, str | None, str, int], LambdaClient] = field(
        default_factory=dict, repr=False
    )

    def client(
        self,
        *,
        region: str = REGION,
        account: str | None = None,
        retry_mode: RetryMode = "standard",
        max_attempts: int = 1,
    ) -> LambdaClient:
        """A Lambda client that makes one attempt per call unless told otherwise.

        ``account`` is a 12-digit account id, passed as the access key id, which the emulator
        takes as the account. Clients are cached, because making one takes longer than a call.
        """
        key = (region, account, retry_mode, max_attempts)
        if key not in self._clients:
            self._clients[key] = self._new_client(region, account, retry_mode, max_attempts)
        return self._clients[key]

    def _new_client(
        self, region: str, account: str | None, retry_mode: RetryMode, max_attempts: int
    ) -> LambdaClient:
        return boto3.client(
            "lambda",
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=account or "testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": retry_mode, "total_max_attempts": max_attempts}),
        )

    def create_role(self, name: str = ROLE_NAME, *, account: str = ACCOUNT) -> str:
        """An execution role's ARN; moto refuses CreateFunction unless the role exists in IAM, so
        there it is created, once."""
        if self.kind == "moto":
            iam = boto3.client(
                "iam",
                endpoint_url=self.endpoint_url,
                region_name=REGION,
                aws_access_key_id=account,
                aws_secret_access_key="testing",
            )
            trust = '{"Version":"2012-10-17","Statement":[]}'
            try:
                role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
            except iam.exceptions.EntityAlreadyExistsException:
                role = iam.get_role(RoleName=name)["Role"]
            return str(role["Arn"])
        return f"arn:aws:iam::{account}:role/{name}"

    def create_function(
        self,
        name: str,
        *,
        package: bytes | None = None,
        role: str = ROLE,
        description: str = "",
        region: str = REGION,
        account: str | None = None,
    ) -> FunctionConfigurationResponseTypeDef:
        """A function that has finished creation (``State: Active``); returns what CreateFunction
        answered."""
        lambda_ = self.client(region=region, account=account)
        created = lambda_.create_function(
            FunctionName=name,
            Runtime=RUNTIME,
            Role=role,
            Handler=HANDLER,
            Code={"ZipFile": package or make_zip()},
            Description=description,
        )
        self.wait_active(name, region=region, account=account)
        return created

    def wait_active(
        self,
        name: str,
        qualifier: str | None = None,
        *,
        region: str = REGION,
        account: str | None = None,
    ) -> None:
        lambda_ = self.client(region=region, account=account)
        config: WaiterConfigTypeDef = {"Delay": 1, "MaxAttempts": 10}
        if qualifier is None:
            lambda_.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=config)
        else:
            lambda_.get_waiter("published_version_active").wait(
                FunctionName=name, Qualifier=qualifier, WaiterConfig=config
            )

    def wait_updated(self, name: str) -> GetFunctionResponseTypeDef:
        """Wait until ``$LATEST``'s last update has finished; returns GetFunction's answer."""
        self.wait_update_finished(name)
        return self.client().get_function(FunctionName=name)

    def wait_update_finished(self, name: str) -> None:
        self.client().get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
        )

    def update_code(self, name: str, package: bytes) -> None:
        """Replace ``$LATEST``'s code and wait until the update has finished."""
        self.client().update_function_code(FunctionName=name, ZipFile=package)
        self.wait_update_finished(name)

    def update_role(self, name: str, role: str) -> None:
        self.client().update_function_configuration(FunctionName=name, Role=role)
        self.wait_update_finished(name)

    def publish(self, name: str, source: str) -> str:
        """Give ``$LATEST`` new code and publish it; returns the new version number, which may
        still be Pending."""
        self.update_code(name, make_zip(source))
        return self.client().publish_version(FunctionName=name)["Version"]

    def function_with_versions(self, name: str, count: int) -> list[str]:
        """A function with ``count`` published versions, each with different code; the last is
        Active, and so are the others, which were published before it."""
        self.create_function(name, package=make_zip(f"# {name} 0\n"))
        versions = [self.publish(name, f"# {name} {n}\n") for n in range(1, count + 1)]
        if versions:
            self.wait_active(name, versions[-1])
        return versions

    def put_s3_object(self, bucket: str, key: str, body: bytes) -> None:
        """Store a code package where the backend's UpdateFunctionCode reads S3 objects."""
        if self.kind == "moto":
            s3 = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION)
            s3.create_bucket(Bucket=bucket)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            return
        path = self.s3_root / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def inject_faults(self, faults: Faults) -> None:
        """Give the emulator these faults from now on; moto has no fault injection, so it is left
        as it is and a test that needs the fault fails on moto, as its ``moto_breaks`` says."""
        if self.server is not None:
            self.server.faults = faults

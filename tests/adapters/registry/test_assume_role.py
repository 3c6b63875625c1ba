"""Per-account credentials: an STS AssumeRole per account, renewed before it expires.

Against a moto server, whose STS hands out credentials that act in the role's own account, so
the test sees which account a call really ran in.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from controller.adapters.registry.aws import (
    AssumeRole,
    AwsRegistry,
    AwsSettings,
    assumed_role_session,
)
from controller.core.model import FunctionRef
from controller.errors import NotFound
from tests.backends import make_zip

OTHER_ACCOUNT = "111111111111"
ROLE = AssumeRole(f"arn:aws:iam::{OTHER_ACCOUNT}:role/deployer", duration_seconds=900)


def create_in_other_account(endpoint: str, name: str) -> None:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    session = assumed_role_session(sts, ROLE)
    iam = session.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session.client("lambda", endpoint_url=endpoint, region_name="us-east-1").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Handler="app.handler",
        Role=role,
        Code={"ZipFile": make_zip(name)},
    )


def test_each_account_is_reached_through_its_own_role(moto_endpoint: str) -> None:
    create_in_other_account(moto_endpoint, "payments")
    registry = AwsRegistry(
        AwsSettings(
            endpoint_url=moto_endpoint,
            sts_endpoint_url=moto_endpoint,
            roles={OTHER_ACCOUNT: ROLE},
        )
    )
    there = registry.get_function(FunctionRef("payments", "us-east-1", OTHER_ACCOUNT))
    assert f":{OTHER_ACCOUNT}:function:payments" in there.arn
    with pytest.raises(NotFound):
        registry.get_function(FunctionRef("payments", "us-east-1"))


def test_assumed_credentials_are_renewed_before_they_expire(moto_endpoint: str) -> None:
    """Credentials valid for 15 minutes are inside botocore's renewal window at once."""
    create_in_other_account(moto_endpoint, "payments")
    sts = boto3.client("sts", endpoint_url=moto_endpoint, region_name="us-east-1")
    calls: list[Any] = []
    sts.meta.events.register("after-call.sts.AssumeRole", lambda **kwargs: calls.append(kwargs))
    session = assumed_role_session(sts, ROLE)
    lam = session.client("lambda", endpoint_url=moto_endpoint, region_name="us-east-1")
    lam.get_function(FunctionName="payments")
    lam.get_function(FunctionName="payments")
    assert len(calls) >= 2

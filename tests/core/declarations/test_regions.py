"""A region must be one AWS Lambda is in, wherever it is written, with a did-you-mean.

``eu-west-7`` has the shape of a region; read as one, every call for that function would go to
an endpoint that does not exist, and a typo would look like an outage. The names come from
botocore (``regions.LAMBDA_REGIONS``, kept current by tests/adapters/registry); a region newer
than this controller goes in the ``extra_regions`` setting.
"""

from __future__ import annotations

import pytest

from controller.core.declarations import parse_declarations
from controller.core.declarations.schema import region_problem
from controller.core.declarations.spelling import close_matches, did_you_mean
from controller.errors import ConfigurationError
from tests.core.declarations.support import FakeTree, function, parse

NEWER = "(a region newer than this controller goes in the extra_regions setting)"

MISTAKES = {
    "eu-west-7": (
        "'eu-west-7' is not a region AWS Lambda is in; did you mean 'eu-west-1', 'eu-west-2' or "
        f"'eu-west-3'? {NEWER}"
    ),
    "us-est-1": (
        "'us-est-1' is not a region AWS Lambda is in; did you mean 'us-east-1', 'us-west-1' or "
        f"'eu-west-1'? {NEWER}"
    ),
    "euwest1": (
        "'euwest1' is not an AWS region name; did you mean 'eu-west-1', 'eu-west-2' or 'eu-west-3'?"
    ),
}


@pytest.mark.parametrize(("region", "message"), MISTAKES.items(), ids=MISTAKES.keys())
def test_spec_region_must_be_a_lambda_region(region: str, message: str) -> None:
    declarations = parse(("orders.yaml", function(f"region: {region}")))

    assert [str(error) for error in declarations.errors] == [
        f"orders.yaml:6: spec.region: {message}"
    ]
    [invalid] = declarations.invalid
    assert invalid.name == "orders"


@pytest.mark.parametrize(("region", "message"), MISTAKES.items(), ids=MISTAKES.keys())
def test_the_region_of_a_function_arn_must_be_a_lambda_region(region: str, message: str) -> None:
    arn = f"arn:aws:lambda:{region}:123456789012:function:orders"

    declarations = parse(("orders.yaml", function(f"functionName: {arn}")))

    assert [str(error) for error in declarations.errors] == [
        f"orders.yaml:6: spec.functionName: the ARN's region {message}"
    ]


@pytest.mark.parametrize(
    "region", ["eu-west-1", "us-gov-west-1", "cn-northwest-1", "us-isob-east-1", "eusc-de-east-1"]
)
def test_every_partitions_regions_are_accepted(region: str) -> None:
    assert parse(("orders.yaml", function(f"region: {region}"))).is_valid


def test_a_region_botocore_does_not_know_yet_is_accepted_from_extra_regions() -> None:
    arn = "arn:aws:lambda:ap-east-9:123456789012:function:payments"
    files = [
        ("orders.yaml", function("region: eu-west-7")),
        ("payments.yaml", function(f"functionName: {arn}").replace("orders", "payments")),
    ]

    declarations = parse_declarations(
        [(name, text.encode()) for name, text in files],
        default_region="eu-west-7",
        tree=FakeTree(),
        extra_regions=("eu-west-7", "ap-east-9"),
    )

    assert declarations.errors == ()
    assert [f.ref.region for f in declarations.functions] == ["eu-west-7", "ap-east-9"]


def test_an_unknown_default_region_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="the default region 'eu-west-7' is not a region"):
        parse(("orders.yaml", function("{}")), region="eu-west-7")


def test_suggestions_are_nearest_first_then_alphabetical_and_ignore_case() -> None:
    assert close_matches("EU-WEST-1", ["eu-west-1", "eu-west-2"]) == ["eu-west-1", "eu-west-2"]
    assert close_matches("eu-west-7", ["eu-west-3", "eu-west-1", "eu-west-2", "eu-west-4"]) == [
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
    ]
    assert did_you_mean("Fucntion", ["Function"]) == "did you mean 'Function'?"
    assert did_you_mean("x" * 1000, ["Function"]) == ""
    assert region_problem("us-east-1") is None

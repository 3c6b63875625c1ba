"""The regions AWS Lambda is in, in every partition, as botocore knows them.

Generated, do not edit: tests/adapters/registry/test_known_regions.py writes this file from
botocore's endpoint data (botocore/data/endpoints.json), as
``Session().get_available_regions("lambda", partition)`` for every partition of
``Session().get_available_partitions()``, here with botocore 1.44.8. The core may not import
botocore, so the names are copied; that test fails when the installed botocore knows other
regions, and ``LAMBDA_GITOPS_UPDATE_REGIONS=1`` makes it rewrite this file.
"""

from __future__ import annotations

LAMBDA_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "eu-central-1",
        "eu-central-2",
        "eu-isoe-west-1",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eusc-de-east-1",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-iso-east-1",
        "us-iso-west-1",
        "us-isob-east-1",
        "us-isob-west-1",
        "us-isof-east-1",
        "us-isof-south-1",
        "us-west-1",
        "us-west-2",
    }
)
"""Every region name, of every partition (aws, aws-cn, aws-us-gov, the isolated ones)."""

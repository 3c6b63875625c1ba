"""The core's list of Lambda's regions is exactly what the installed botocore knows.

``controller.core.declarations.regions`` copies botocore's region names because the core may
not import botocore; this test keeps the copy from going stale in silence. When botocore is
upgraded and knows a new region, it fails, and
``LAMBDA_GITOPS_UPDATE_REGIONS=1 scripts/test tests/adapters/registry/test_known_regions.py``
rewrites the module (review the change, and commit it with the constraints.txt that brought the
new botocore).
"""

from __future__ import annotations

import os
from pathlib import Path

import botocore
import botocore.session

from controller.core.declarations import regions

MODULE = Path(regions.__file__)

HEADER = '''"""The regions AWS Lambda is in, in every partition, as botocore knows them.

Generated, do not edit: tests/adapters/registry/test_known_regions.py writes this file from
botocore's endpoint data (botocore/data/endpoints.json), as
``Session().get_available_regions("lambda", partition)`` for every partition of
``Session().get_available_partitions()``, here with botocore {version}. The core may not import
botocore, so the names are copied; that test fails when the installed botocore knows other
regions, and ``LAMBDA_GITOPS_UPDATE_REGIONS=1`` makes it rewrite this file.
"""

from __future__ import annotations

LAMBDA_REGIONS = frozenset(
    {{
{names}
    }}
)
"""Every region name, of every partition (aws, aws-cn, aws-us-gov, the isolated ones)."""
'''


def botocore_lambda_regions() -> frozenset[str]:
    session = botocore.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("lambda", partition)
    )


def rendered(names: frozenset[str]) -> str:
    lines = "\n".join(f'        "{name}",' for name in sorted(names))
    return HEADER.format(version=botocore.__version__, names=lines)


def test_the_core_knows_the_regions_botocore_knows_for_lambda() -> None:
    known = botocore_lambda_regions()
    if os.environ.get("LAMBDA_GITOPS_UPDATE_REGIONS") == "1" and known != regions.LAMBDA_REGIONS:
        MODULE.write_text(rendered(known), encoding="utf-8")
        return

    assert known == regions.LAMBDA_REGIONS, (
        f"{MODULE} is stale: botocore {botocore.__version__} adds "
        f"{sorted(known - regions.LAMBDA_REGIONS)} and drops "
        f"{sorted(regions.LAMBDA_REGIONS - known)}; rewrite it with "
        "LAMBDA_GITOPS_UPDATE_REGIONS=1"
    )


def test_every_partition_is_in_the_list() -> None:
    """Not only the commercial partition: China, GovCloud and the isolated ones too."""
    assert {"us-east-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1"} <= regions.LAMBDA_REGIONS

"""Short constructors for the planner's inputs, so that a table row reads like the case it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from controller.core.model import (
    Alias,
    DeclaredCode,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    FunctionState,
    ObservedFunction,
    PublishedVersion,
    RepoZip,
    RetainVersions,
    weight,
)

REF = FunctionRef("orders-api", "eu-west-1")
REVISION = "3f2c9a1b7d4e8f6a0b1c2d3e4f5a6b7c8d9e0f1a"
OLD_REVISION = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"

CODE_A = "6pL0Qz8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
CODE_B = "h7Q2Qz8BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
CODE_C = "k9R4Qz8CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC="
CODE_D = "m1S6Qz8DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD="
UNRELATED_CODE = "zzzzQz8ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ="

ZIP_B = RepoZip("artifacts/orders-api-b.zip")
ZIP_C = RepoZip("artifacts/orders-api-c.zip")


def observed(
    *codes: str, latest: str = UNRELATED_CODE, aliases: Sequence[Alias] = ()
) -> ObservedFunction:
    """A live function whose published versions have ``codes``, numbered from 1."""
    return ObservedFunction(
        ref=REF,
        latest=FunctionState(
            name=REF.name,
            arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{REF.name}",
            code_sha256=latest,
            revision_id="latest-rev",
            state="Active",
            last_update_status="Successful",
        ),
        versions=tuple(
            PublishedVersion(number, code, description="", revision_id=f"version-{number}-rev")
            for number, code in enumerate(codes, start=1)
        ),
        aliases=tuple(aliases),
    )


def live_alias(
    name: str,
    version: str,
    routing: Mapping[str, float] | None = None,
    description: str = "",
) -> Alias:
    """A live alias; weights are floats, as JSON from Lambda gives them."""
    return Alias(
        name=name,
        function_version=version,
        routing={key: weight(value) for key, value in (routing or {}).items()},
        description=description,
        revision_id=f"{name}-rev",
    )


def version(
    label: str, code: str, *, source: DeclaredCode | None = None, description: str | None = None
) -> DesiredVersion:
    return DesiredVersion(label, code, description=description, code=source)


def alias(
    name: str,
    version: str,
    routing: Mapping[str, str] | None = None,
    description: str = "",
) -> DesiredAlias:
    """A declared alias; weights are given as the YAML text, read as exact decimals."""
    return DesiredAlias(
        name=name,
        version=version,
        routing={key: Decimal(value) for key, value in (routing or {}).items()},
        description=description,
    )


def function(
    versions: Sequence[DesiredVersion],
    aliases: Sequence[DesiredAlias] = (),
    *,
    prune: bool = False,
    suspend: bool = False,
    retain_versions: RetainVersions = None,
    ref: FunctionRef = REF,
) -> DesiredFunction:
    return DesiredFunction(
        name=ref.name,
        ref=ref,
        versions={declared.label: declared for declared in versions},
        aliases={declared.name: declared for declared in aliases},
        prune=prune,
        suspend=suspend,
        retain_versions=retain_versions,
    )

"""Frozen value types shared by the planner, the applier and the registry layer.

They describe Lambda in the project's own terms, free of boto3's dictionaries, so that the core
can be tested with plain values and the registry adapters have one shape to produce.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, get_args

from controller.core.configuration import NOTHING, Configuration
from controller.core.rollout import Rollout

SyncStatus = Literal["synced", "drifted", "progressing", "error", "suspended"]
"""How a function's reconciliation stands, in ``/status`` and in the ``status`` metric label."""

SYNC_STATUSES: tuple[SyncStatus, ...] = get_args(SyncStatus)

KEEP_ALL: Literal["all"] = "all"
"""``retainVersions: all``: never delete a published version, whatever the controller's default."""

RetainVersions = int | Literal["all"] | None
"""A declaration's ``retainVersions``: keep the newest N published versions, keep them ``all``,
or, ``None``, whatever the controller's default says (``core.retention``)."""

LATEST = "$LATEST"
"""The only mutable version of a function; everything else is published and immutable."""


REGION_PATTERN = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")
"""The shape of an AWS region name: ``eu-west-1``, ``us-gov-west-1``, ``eusc-de-east-1``."""

FUNCTION_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[^:]+):(?P<account>[0-9]{12})"
    r":function:(?P<name>[a-zA-Z0-9_-]{1,64})"
)
"""Rule L44: an unqualified function ARN."""

PARTIAL_ARN_PATTERN = re.compile(r"(?P<account>[0-9]{12}):function:(?P<name>[a-zA-Z0-9_-]{1,64})")
"""Rule L44: a partial ARN, ``ACCOUNT:function:NAME``, which Lambda reads in the call's region."""

_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),  # before us-iso-, which it starts with
    ("us-iso-", "aws-iso"),
    ("eusc-", "aws-eusc"),
)


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to, as ARNs spell it: ``aws``, ``aws-cn``, ..."""
    for prefix, partition in _PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


@dataclass(frozen=True, slots=True, order=True)
class FunctionId:
    """What a function *is* in Lambda: account, region and bare name, however it was spelled.

    ``orders-api``, ``123456789012:function:orders-api`` and the full ARN name one function when
    the account is the controller's own, so declarations, records and metrics all key functions
    by this. ``account`` is ``None`` when it is not known (a bare name, read offline with no
    configured account); such an identity may be the same function as one with any account.
    """

    account: str | None
    region: str
    name: str

    def same_function(self, other: FunctionId) -> bool:
        """Whether both may name one function; an unknown account matches every account."""
        if self.region != other.region or self.name != other.name:
            return False
        return self.account is None or other.account is None or self.account == other.account

    @property
    def arn(self) -> str:
        """The unqualified function ARN; needs the account."""
        account = self.account or "UNKNOWN-ACCOUNT"
        return (
            f"arn:{partition_of(self.region)}:lambda:{self.region}:{account}:function:{self.name}"
        )

    def __str__(self) -> str:
        return self.arn if self.account is not None else f"{self.name} ({self.region})"


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """Where a function lives: its name or ARN, the region to call, and the account to act as.

    ``account`` picks the credentials (an assumed role per account) and the client-side rate
    limiter; ``None`` means the default credentials, account unknown. A function ARN in ``name``
    is passed to Lambda as it is.
    """

    name: str
    region: str
    account: str | None = None

    @property
    def identity(self) -> FunctionId:
        """The function this names: the one place that turns a spelling into an identity."""
        arn = FUNCTION_ARN_PATTERN.fullmatch(self.name)
        if arn is not None:
            return FunctionId(arn["account"], arn["region"], arn["name"])
        partial = PARTIAL_ARN_PATTERN.fullmatch(self.name)
        if partial is not None:
            return FunctionId(partial["account"], self.region, partial["name"])
        return FunctionId(self.account, self.region, self.name)

    @property
    def bare_name(self) -> str:
        """The function's name without account or region, for metric labels and messages."""
        return self.identity.name

    def __str__(self) -> str:
        return f"{self.name} ({self.region})"


@dataclass(frozen=True, slots=True)
class FunctionState:
    """``$LATEST`` of a function, as GetFunction reports it."""

    name: str
    arn: str
    code_sha256: str
    revision_id: str
    state: str
    """``Pending``, ``Active``, ``Inactive`` or ``Failed``."""
    last_update_status: str | None
    """``InProgress``, ``Successful`` or ``Failed``; ``None`` while it is being created."""
    description: str = ""
    role: str = ""
    configuration: Configuration = NOTHING
    """What a publish would snapshot besides the code (``core.configuration``)."""

    @property
    def is_settled(self) -> bool:
        """True when Lambda accepts a publish or a code update (rule L6)."""
        return self.state == "Active" and self.last_update_status in (None, "Successful")


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    """An immutable, numbered snapshot of a function's code and configuration."""

    number: int
    code_sha256: str
    description: str
    revision_id: str
    arn: str = ""
    role: str = ""
    configuration: Configuration = NOTHING
    """The configuration it snapshots besides the code, as Lambda lists it."""

    @property
    def version(self) -> str:
        """The version as Lambda spells it in aliases and routing: ``"17"``."""
        return str(self.number)


@dataclass(frozen=True, slots=True)
class Alias:
    """A named pointer to one version, optionally sending a share of traffic to a second one."""

    name: str
    function_version: str
    """A published version number as a string, or ``$LATEST``."""
    routing: Mapping[str, Decimal] = field(default_factory=dict)
    """At most one entry: additional version -> weight, strictly between 0 and 1."""
    description: str = ""
    revision_id: str = ""
    arn: str = ""

    @property
    def effective_routing(self) -> dict[str, Decimal]:
        """The routing without an entry for the alias's own version.

        AWS shows such an entry for a moment while an alias switches versions; it sends no
        traffic anywhere else, so it is not drift.
        """
        return {
            version: share
            for version, share in self.routing.items()
            if version != self.function_version
        }


@dataclass(frozen=True, slots=True)
class ZipCode:
    """A deployment package given as the bytes of a zip file."""

    data: bytes


@dataclass(frozen=True, slots=True)
class S3Code:
    """A deployment package stored in S3."""

    bucket: str
    key: str
    object_version: str | None = None


CodeSource = ZipCode | S3Code


@dataclass(frozen=True, slots=True)
class ObservedFunction:
    """Everything the controller needs to know about one live function."""

    ref: FunctionRef
    latest: FunctionState | None
    """``$LATEST``; ``None`` when it was not read because no version is missing."""
    versions: tuple[PublishedVersion, ...]
    aliases: tuple[Alias, ...]


def weight(value: float | str | Decimal) -> Decimal:
    """A routing weight as an exact decimal, so that ``0.1`` from JSON equals ``0.1`` from YAML.

    Floats go through their shortest round-tripping text (``repr``), which is what the JSON on
    the wire held, rather than their binary expansion.
    """
    if isinstance(value, Decimal):
        return value.normalize()
    return Decimal(repr(value) if isinstance(value, float) else value).normalize()


# -- desired state: what the declarations ask for -------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepoZip:
    """A deployment package stored in the declarations repository, read at the same commit."""

    path: str
    """Relative to the repository's root, with ``/`` separators, already checked to stay inside."""


DeclaredCode = RepoZip | S3Code


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where something was declared, for messages: ``functions/orders.yaml:12``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class DesiredVersion:
    """A version that must exist, identified by its code and the configuration it declares:
    any published version with this ``CodeSha256`` and every declared configuration field
    satisfies it."""

    label: str
    code_sha256: str
    description: str | None = None
    """Used only when this version is published."""
    code: DeclaredCode | None = None
    """Where the code comes from when no published version and not ``$LATEST`` has it."""
    configuration: Configuration = NOTHING
    """The configuration fields declared (``configuration:``); the others may be anything."""
    secrets: frozenset[str] = frozenset()
    """The environment variables whose values the declaration marks secret: never shown."""

    def is_satisfied_by(self, version: PublishedVersion) -> bool:
        """Whether ``version`` is this one: the same code, and every declared field as
        declared."""
        return version.code_sha256 == self.code_sha256 and self.configuration.satisfied_by(
            version.configuration
        )


@dataclass(frozen=True, slots=True)
class DesiredAlias:
    """Where an alias must point. ``version`` and the routing keys are each a label of the
    function's ``versions``, a published version number as a string (``"17"``), or, for
    ``version`` only, ``$LATEST``."""

    name: str
    version: str
    routing: Mapping[str, Decimal] = field(default_factory=dict)
    description: str = ""
    rollout: Rollout | None = None
    """Move the alias to ``version`` step by step (``core.rollout``); never with ``routing``."""
    approve: int = 0
    """The number (1-based) of the last pause step of the rollout a person let through."""


@dataclass(frozen=True, slots=True)
class DesiredFunction:
    """One validated ``kind: Function`` declaration."""

    name: str
    """``metadata.name``: unique per (region, function) across the repository."""
    ref: FunctionRef
    versions: Mapping[str, DesiredVersion]
    """Label -> version, in declaration order."""
    aliases: Mapping[str, DesiredAlias]
    """Alias name -> alias, in declaration order."""
    prune: bool = False
    suspend: bool = False
    location: SourceLocation | None = None
    adopt: bool = False
    """Add the ownership marker to every declared alias that lacks it and is otherwise as
    declared (an alias someone else made), with one write each (``spec.adopt``)."""
    retain_versions: RetainVersions = None
    """``retainVersions``: see ``RetainVersions``."""

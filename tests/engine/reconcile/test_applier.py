"""The applier runs a plan safely against a registry that others change too.

Each test drives a real emulated registry over HTTP through the boto3 adapter. Events that happen
"between observing and applying" are injected by ``Intercepted``, a registry that delegates every
call to a real ``AwsRegistry`` and runs a hook just before a call goes through, so the applier
meets them exactly where a concurrent operator or pipeline would put them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from controller.adapters.git.reader import FolderCodeReader
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.port import Registry, observe
from controller.core.model import DesiredFunction, DesiredVersion, FunctionRef, S3Code
from controller.core.ownership import describe, is_managed, seal
from controller.core.plan import DeleteAlias, PublishVersion, UpdateAlias
from controller.core.planner import plan_function
from controller.engine.applier import CodeReader, FunctionOutcome
from controller.engine.reconciler import MAX_REPLANS
from controller.errors import PreconditionFailed
from lambda_emulator import EmulatorServer, Faults
from tests.backends import Backend
from tests.engine.reconcile.support import (
    PACKAGES,
    SHAS,
    RepoFiles,
    alias,
    apply_plan,
    function,
    version,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

NAME = "orders-api"
REF = FunctionRef(NAME, "us-east-1")
REVISION = "a" * 40
WRITES = ("update_code", "publish_version", "create_alias", "update_alias", "delete_alias")


# -- the world: a seeded function, a registry to apply through, and a way to interfere ------------


@dataclass(frozen=True)
class Call:
    """One call the applier made through the registry port."""

    operation: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]


@dataclass
class Intercepted:
    """Delegates every call to a real registry; ``before`` runs just before each goes through."""

    registry: AwsRegistry
    before: Callable[[Call], None] = lambda call: None
    calls: list[Call] = field(default_factory=list)

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self.registry, operation)

        def call(*args: Any, **kwargs: Any) -> Any:
            recorded = Call(operation, args, kwargs)
            self.calls.append(recorded)
            self.before(recorded)
            return method(*args, **kwargs)

        return call

    def port(self) -> Registry:
        return cast("Registry", self)

    def made(self, operation: str) -> list[Call]:
        return [call for call in self.calls if call.operation == operation]


def once_before(operation: str, event: Callable[[], object]) -> Callable[[Call], None]:
    """A hook that runs ``event`` just before the first ``operation`` call, and never again."""
    fired = False

    def hook(call: Call) -> None:
        nonlocal fired
        if call.operation == operation and not fired:
            fired = True
            event()

    return hook


def backend_of(emulator: EmulatorServer) -> Backend:
    return Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)


def seed(
    emulator: EmulatorServer,
    published: Sequence[str],
    *,
    latest: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> LambdaClient:
    """orders-api with ``published`` labels as versions 1, 2, ..., ``$LATEST`` holding
    ``latest`` (the last published by default), and managed ``aliases`` on version numbers.
    Returns a client of its own, as an operator acting out of band would use."""
    backend = backend_of(emulator)
    backend.create_function(NAME, package=PACKAGES[published[0]])
    client = backend.client()
    for label in published:
        backend.update_code(NAME, PACKAGES[label])
        client.publish_version(FunctionName=NAME)
    if latest is not None:
        backend.update_code(NAME, PACKAGES[latest])
    for name, number in (aliases or {}).items():
        client.create_alias(
            FunctionName=NAME, Name=name, FunctionVersion=number, Description=describe("", "0" * 40)
        )
    return client


def aws_registry(emulator: EmulatorServer) -> AwsRegistry:
    return AwsRegistry(AwsSettings(endpoint_url=emulator.endpoint_url, update_poll_seconds=0.1))


def apply(
    registry: Registry, desired: DesiredFunction, code: CodeReader | None = None
) -> FunctionOutcome:
    """Observe, plan and apply one function, as one pass of the reconciler does."""
    observed = observe(registry, desired.ref)
    planned = plan_function(desired, observed, REVISION)
    return apply_plan(registry, code or RepoFiles(), planned, observed, REVISION)


def live_alias(client: LambdaClient, name: str) -> tuple[str, str]:
    """Where an alias points, as the CodeSha256 of its version, and its description."""
    found = client.get_alias(FunctionName=NAME, Name=name)
    version = client.get_function(FunctionName=NAME, Qualifier=found["FunctionVersion"])
    return version["Configuration"]["CodeSha256"], found["Description"]


def published_codes(client: LambdaClient) -> list[str]:
    versions = client.list_versions_by_function(FunctionName=NAME)["Versions"]
    return [v["CodeSha256"] for v in versions if v["Version"] != "$LATEST"]


def failed(outcome: FunctionOutcome) -> list[str]:
    return [type(a.action).__name__ for a in outcome.actions if a.outcome == "failed"]


# -- preconditions: a change the applier has not seen is never overwritten ------------------------


def test_a_precondition_failure_on_an_alias_re_observes_and_re_plans(
    emulator: EmulatorServer,
) -> None:
    client = seed(emulator, ["r1", "r2", "r3"], aliases={"live": "1"})
    moved_out_of_band = once_before(
        "update_alias",
        lambda: client.update_alias(FunctionName=NAME, Name="live", FunctionVersion="3"),
    )
    registry = Intercepted(aws_registry(emulator), moved_out_of_band)
    desired = function(NAME, [version("r2")], [alias("live", "r2")])

    outcome = apply(registry.port(), desired)

    assert outcome.converged, outcome.error
    assert outcome.replans == 1
    first, *_ = outcome.actions
    assert isinstance(first.action, UpdateAlias)
    assert first.outcome == "failed"
    assert "PreconditionFailed" in first.detail
    assert [a.outcome for a in outcome.actions[1:]] == ["applied"]
    assert live_alias(client, "live") == (
        SHAS["r2"],
        seal(describe("live traffic", REVISION), "2", {}),
    )
    assert len(registry.made("update_alias")) == 2


def test_a_code_change_out_of_band_before_a_publish_is_not_published(
    emulator: EmulatorServer,
) -> None:
    """$LATEST held the declared code when observed; someone deploys other code before the
    publish: the publish's precondition fails, and the declared code is uploaded and published."""
    client = seed(emulator, ["r1"], latest="r2", aliases={"live": "1"})
    backend = backend_of(emulator)
    deployed_out_of_band = once_before(
        "publish_version", lambda: backend.update_code(NAME, PACKAGES["r5"])
    )
    registry = Intercepted(aws_registry(emulator), deployed_out_of_band)
    desired = function(NAME, [version("r1"), version("r2")], [alias("live", "r2")])

    outcome = apply(registry.port(), desired)

    assert outcome.converged, outcome.error
    assert outcome.replans == 1
    assert failed(outcome) == ["PublishVersion"]
    publishes = registry.made("publish_version")
    assert [call.kwargs["code_sha256"] for call in publishes] == [SHAS["r2"], SHAS["r2"]]
    assert len(registry.made("update_code")) == 1  # only after the re-plan: r5 is not r2
    assert published_codes(client) == [SHAS["r1"], SHAS["r2"]]
    assert live_alias(client, "live")[0] == SHAS["r2"]


def test_an_update_in_progress_is_waited_out_then_re_planned(emulator: EmulatorServer) -> None:
    client = seed(emulator, ["r1"], latest="r2", aliases={"live": "1"})
    emulator.faults = Faults(update_seconds=1.5)
    redeployed_out_of_band = once_before(
        "publish_version",
        lambda: client.update_function_code(FunctionName=NAME, ZipFile=PACKAGES["r2"]),
    )
    registry = Intercepted(aws_registry(emulator), redeployed_out_of_band)
    desired = function(NAME, [version("r1"), version("r2")], [alias("live", "r2")])

    outcome = apply(registry.port(), desired)

    assert outcome.converged, outcome.error
    assert outcome.replans == 1
    [refused] = [a for a in outcome.actions if a.outcome == "failed"]
    assert isinstance(refused.action, PublishVersion)
    assert "An update is in progress" in refused.detail
    assert registry.made("wait_until_settled"), "re-observed before the update had finished"
    assert published_codes(client) == [SHAS["r1"], SHAS["r2"]]
    assert live_alias(client, "live")[0] == SHAS["r2"]


def test_re_planning_is_bounded_and_the_applier_gives_up_without_raising(
    emulator: EmulatorServer,
) -> None:
    client = seed(emulator, ["r1", "r2"], aliases={"live": "1"})

    def always_stale(call: Call) -> None:
        if call.operation == "update_alias":
            raise PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id.",
                code="PreconditionFailedException",
                operation="UpdateAlias",
            )

    registry = Intercepted(aws_registry(emulator), always_stale)
    desired = function(NAME, [version("r2")], [alias("live", "r2")])

    outcome = apply(registry.port(), desired)

    assert not outcome.converged
    assert outcome.replans == MAX_REPLANS
    assert outcome.error is not None
    assert outcome.error.startswith(f"gave up after {MAX_REPLANS} re-plans")
    assert "Revision Id" in outcome.error
    assert failed(outcome) == ["UpdateAlias"] * (MAX_REPLANS + 1)
    assert live_alias(client, "live")[0] == SHAS["r1"]


# -- code: only the declared code reaches $LATEST --------------------------------------------------


def test_a_repository_zip_that_does_not_match_its_code_sha256_is_not_uploaded(
    emulator: EmulatorServer,
) -> None:
    client = seed(emulator, ["r1"], aliases={"live": "1"})
    wrong_bytes = RepoFiles({"artifacts/r2.zip": PACKAGES["r3"]})
    desired = function(NAME, [version("r1"), version("r2")], [alias("live", "r2")])
    before = emulator.request_counts()

    outcome = apply(aws_registry(emulator), desired, wrong_bytes)

    assert outcome.error is not None
    assert "artifacts/r2.zip" in outcome.error
    assert SHAS["r3"] in outcome.error  # what the file holds
    assert SHAS["r2"] in outcome.error  # what the declaration says
    assert "nothing was uploaded" in outcome.error
    assert failed(outcome) == ["PublishVersion"]
    after = emulator.request_counts()
    for write in ("UpdateFunctionCode", "PublishVersion", "UpdateAlias"):
        assert after.get(write, 0) == before.get(write, 0), write
    assert client.get_function(FunctionName=NAME)["Configuration"]["CodeSha256"] == SHAS["r1"]
    assert published_codes(client) == [SHAS["r1"]]


@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda root: RepoFiles({}), id="missing-from-the-commit"),
        pytest.param(FolderCodeReader, id="missing-from-the-folder"),
    ],
)
def test_a_zip_that_cannot_be_read_fails_its_function_with_a_clear_message(
    emulator: EmulatorServer, tmp_path: Path, reader: Callable[[Path], CodeReader]
) -> None:
    client = seed(emulator, ["r1"], aliases={"live": "1"})
    desired = function(NAME, [version("r1"), version("r2")], [alias("live", "r2")])

    outcome = apply(aws_registry(emulator), desired, reader(tmp_path))

    assert outcome.error is not None
    assert outcome.error.startswith("version r2: cannot read artifacts/r2.zip")
    assert "Traceback" not in outcome.error
    assert "\n" not in outcome.error
    assert failed(outcome) == ["PublishVersion"]
    assert published_codes(client) == [SHAS["r1"]]
    assert live_alias(client, "live")[0] == SHAS["r1"]


def test_an_s3_code_source_is_uploaded_from_s3(emulator: EmulatorServer) -> None:
    client = seed(emulator, ["r1"], aliases={"live": "1"})
    backend_of(emulator).put_s3_object("artifacts", "orders/r4.zip", PACKAGES["r4"])
    from_s3 = DesiredVersion(
        "r4", SHAS["r4"], description="release r4", code=S3Code("artifacts", "orders/r4.zip")
    )
    repo = RepoFiles()
    desired = function(NAME, [version("r1"), from_s3], [alias("live", "r4")])

    outcome = apply(aws_registry(emulator), desired, repo)

    assert outcome.converged, outcome.error
    assert repo.reads == []
    assert published_codes(client) == [SHAS["r1"], SHAS["r4"]]
    assert live_alias(client, "live")[0] == SHAS["r4"]


# -- suspend and prune -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "planned_before_suspension",
    [False, True],
    ids=["planned-while-suspended", "suspended-after-planning"],
)
def test_a_suspended_function_gets_no_writes_even_when_drifted(
    emulator: EmulatorServer, planned_before_suspension: bool
) -> None:
    """Whether the plan already knows (no actions) or the function was suspended after a plan
    with actions was made, the applier writes nothing."""
    client = seed(emulator, ["r1"], aliases={"live": "1", "old": "1"})
    registry = Intercepted(aws_registry(emulator))
    drifted = function(
        NAME, [version("r1"), version("r2")], [alias("live", "r2"), alias("beta", "r1")], prune=True
    )
    suspended = dataclasses.replace(drifted, suspend=True)
    observed = observe(registry.port(), REF)
    planned = plan_function(drifted if planned_before_suspension else suspended, observed, "b")
    planned = dataclasses.replace(planned, function=suspended)
    assert planned.drift, "the function is drifted"
    assert planned.actions or not planned_before_suspension

    outcome = apply_plan(registry.port(), RepoFiles(), planned, observed, "b")

    assert outcome.converged, outcome.error
    assert outcome.actions == ()
    assert [call.operation for call in registry.calls if call.operation in WRITES] == []
    assert published_codes(client) == [SHAS["r1"]]
    assert live_alias(client, "live")[0] == SHAS["r1"]
    assert {a["Name"] for a in client.list_aliases(FunctionName=NAME)["Aliases"]} == {
        "live",
        "old",
    }


@pytest.mark.parametrize(
    ("description", "deleted"),
    [
        pytest.param(describe("moved by hand", "f" * 40), True, id="still-managed"),
        pytest.param("taken over by the payments team", False, id="no-longer-managed"),
    ],
)
def test_a_prune_does_not_delete_an_alias_that_changed_since_it_was_observed(
    emulator: EmulatorServer, description: str, deleted: bool
) -> None:
    client = seed(emulator, ["r1", "r2"], aliases={"live": "1", "old": "1"})
    registry = Intercepted(aws_registry(emulator))
    desired = function(NAME, [version("r1")], [alias("live", "r1")], prune=True)
    observed = observe(registry.port(), REF)
    planned = plan_function(desired, observed, REVISION)
    assert [type(a) for a in planned.actions] == [UpdateAlias, DeleteAlias]  # live's description
    client.update_alias(FunctionName=NAME, Name="old", FunctionVersion="2", Description=description)

    outcome = apply_plan(registry.port(), RepoFiles(), planned, observed, REVISION)

    assert outcome.converged, outcome.error
    assert outcome.replans == 1
    assert failed(outcome) == ["DeleteAlias"]
    remaining = {a["Name"]: a for a in client.list_aliases(FunctionName=NAME)["Aliases"]}
    assert ("old" not in remaining) is deleted
    if not deleted:
        assert remaining["old"]["FunctionVersion"] == "2"
        assert not is_managed(remaining["old"]["Description"])
    assert len(registry.made("delete_alias")) == (1 if deleted else 0)


# -- every write carries its precondition ----------------------------------------------------------


def test_every_write_carries_its_precondition(emulator: EmulatorServer) -> None:
    """A pass that publishes the code $LATEST holds, uploads and publishes another, and moves
    aliases: each write names the revision it was planned against, which is still current."""
    client = seed(emulator, ["r1"], latest="r2", aliases={"live": "1", "beta": "1"})
    inner = aws_registry(emulator)
    current_revisions: list[tuple[str, str | None, str]] = []

    def record_current_revision(call: Call) -> None:
        if call.operation in ("publish_version", "update_code"):
            current = inner.get_function(REF).revision_id
        elif call.operation == "update_alias":
            _, name = call.args
            current = client.get_alias(FunctionName=NAME, Name=name)["RevisionId"]
        else:
            return
        current_revisions.append((call.operation, call.kwargs.get("revision_id"), current))

    registry = Intercepted(inner, record_current_revision)
    desired = function(
        NAME,
        [version("r1"), version("r2"), version("r3")],
        [alias("live", "r2"), alias("beta", "r3", {"r2": 0.1})],
    )

    outcome = apply(registry.port(), desired)

    assert outcome.converged, outcome.error
    assert outcome.replans == 0
    assert [call.operation for call in registry.calls if call.operation in WRITES] == [
        "publish_version",  # r2, which $LATEST holds
        "update_code",  # r3
        "publish_version",
        "update_alias",
        "update_alias",
    ]
    publishes = registry.made("publish_version")
    assert [call.kwargs["code_sha256"] for call in publishes] == [SHAS["r2"], SHAS["r3"]]
    for operation, given, current in current_revisions:
        assert given is not None, f"{operation} without a RevisionId"
        assert given == current, f"{operation} with a stale RevisionId"
    assert len(current_revisions) == 5

"""A version is code and configuration, against a real registry over HTTP (the emulator and
moto): the acceptance of issue 15 for the controller.

- a declared configuration change publishes a new version and moves the alias;
- a label whose configuration matches an existing version adopts it with no write to
  ``$LATEST`` and no publish;
- a concurrent change of the configuration between the controller's update and its publish
  makes the publish fail (412), and the function is observed, planned and converged again,
  with no version of the wrong configuration published.

The function starts with version 1: package r1, Lambda's default configuration, and ``live``
(managed) on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest

from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.port import Registry
from controller.core.configuration import Configuration, environment
from controller.core.model import DesiredFunction, DesiredVersion, FunctionRef, RepoZip
from controller.core.ownership import describe
from controller.core.plan import PublishVersion
from controller.engine.reconciler import FunctionResult, reconcile_function
from controller.errors import InvalidRequest
from tests.backends import Backend, moto_breaks
from tests.engine.reconcile.support import (
    ANYWHERE,
    PACKAGES,
    SHAS,
    RepoFiles,
    alias,
    function,
)

NAME = "orders-api"
REF = FunctionRef(NAME, "us-east-1")
REVISION = "c" * 40
SECRET = "s3cr3t-api-key-0815"
PROD = Configuration(environment=environment({"STAGE": "prod"}), memory_size=256)


def seed(backend: Backend) -> AwsRegistry:
    """orders-api with r1 published as version 1, and live (managed) on it."""
    backend.create_function(NAME, package=PACKAGES["r1"], role=backend.create_role())
    client = backend.client()
    client.publish_version(FunctionName=NAME)
    client.create_alias(
        FunctionName=NAME,
        Name="live",
        FunctionVersion="1",
        Description=describe("live traffic", "0" * 40),
    )
    return AwsRegistry(AwsSettings(endpoint_url=backend.endpoint_url, update_poll_seconds=0.1))


def label(
    name: str,
    package: str = "r1",
    configuration: Configuration = PROD,
    secrets: frozenset[str] = frozenset(),
) -> DesiredVersion:
    return DesiredVersion(
        name,
        SHAS[package],
        description=f"release {name}",
        code=RepoZip(f"artifacts/{package}.zip"),
        configuration=configuration,
        secrets=secrets,
    )


def declared(*versions: DesiredVersion, on: str | None = None) -> DesiredFunction:
    target = on or versions[0].label
    return function(NAME, list(versions), [alias("live", target)])


def reconcile(registry: Registry, desired: DesiredFunction) -> FunctionResult:
    return reconcile_function(registry, desired, REVISION, in_scope=ANYWHERE, code=RepoFiles())


def version_configuration(backend: Backend, qualifier: str) -> dict[str, Any]:
    answer = backend.client().get_function_configuration(FunctionName=NAME, Qualifier=qualifier)
    return {
        "environment": answer.get("Environment", {}).get("Variables", {}),
        "memory": answer["MemorySize"],
        "architectures": answer.get("Architectures"),
    }


def live_version(backend: Backend) -> str:
    return backend.client().get_alias(FunctionName=NAME, Name="live")["FunctionVersion"]


def published_numbers(backend: Backend) -> list[str]:
    versions = backend.client().list_versions_by_function(FunctionName=NAME)["Versions"]
    return [item["Version"] for item in versions if item["Version"] != "$LATEST"]


Hook = Callable[[str], None]


@dataclass
class Recording:
    """The real registry, with every call recorded by operation and ``after`` run once each
    call has returned, where a person would act between the controller's calls."""

    registry: Registry
    after: Hook = lambda operation: None
    calls: list[str] = field(default_factory=list)

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self.registry, operation)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(operation)
            result = method(*args, **kwargs)
            self.after(operation)
            return result

        return call

    def port(self) -> Registry:
        return cast("Registry", self)


WRITES_TO_LATEST = ("publish_version", "update_configuration", "update_code")


# -- the acceptance -------------------------------------------------------------------------------


def test_a_declared_configuration_change_publishes_a_new_version_and_moves_the_alias(
    lambda_backend: Backend,
) -> None:
    registry = seed(lambda_backend)

    result = reconcile(registry, declared(label("r1-prod")))

    assert result.error is None, result.error
    assert result.outcome is not None
    assert [(type(d.action).__name__, d.outcome) for d in result.outcome.actions] == [
        ("PublishVersion", "applied"),
        ("UpdateAlias", "applied"),
    ]
    assert "(set first: environment, memorySize)" in result.outcome.actions[0].detail
    assert live_version(lambda_backend) == "2"
    assert version_configuration(lambda_backend, "2") == {
        "environment": {"STAGE": "prod"},
        "memory": 256,
        "architectures": ["x86_64"],
    }
    assert version_configuration(lambda_backend, "1")["memory"] == 128
    again = reconcile(registry, declared(label("r1-prod")))
    assert again.plan.in_sync
    assert again.plan.actions == ()


def test_a_label_whose_configuration_matches_an_existing_version_adopts_it_with_no_write(
    lambda_backend: Backend,
) -> None:
    registry = seed(lambda_backend)
    client = lambda_backend.client()
    client.update_function_configuration(
        FunctionName=NAME, MemorySize=256, Environment={"Variables": {"STAGE": "prod"}}
    )
    lambda_backend.wait_update_finished(NAME)
    client.publish_version(FunctionName=NAME)  # version 2: r1, prod
    # $LATEST then moves on: the controller must not publish it, nor put it back.
    client.update_function_configuration(FunctionName=NAME, MemorySize=512)
    lambda_backend.wait_update_finished(NAME)
    recording = Recording(registry)

    result = reconcile(recording.port(), declared(label("r1-prod")))

    assert result.error is None, result.error
    assert result.plan.missing_versions == ()
    assert not set(recording.calls) & set(WRITES_TO_LATEST), recording.calls
    assert "get_function" not in recording.calls
    assert live_version(lambda_backend) == "2"
    assert published_numbers(lambda_backend) == ["1", "2"]


@moto_breaks(
    "has no function RevisionId, so the publish after a concurrent change is not refused: it "
    "publishes the changed snapshot (which the controller then refuses to use)"
)
def test_a_concurrent_configuration_change_fails_the_publish_and_the_function_converges(
    lambda_backend: Backend,
) -> None:
    registry = seed(lambda_backend)
    client = lambda_backend.client()
    meddled: list[str] = []

    def meddle(operation: str) -> None:
        """Right after the controller's update has settled, someone changes the environment."""
        if operation == "update_configuration" and not meddled:
            meddled.append(operation)
            client.update_function_configuration(
                FunctionName=NAME, Environment={"Variables": {"STAGE": "meddled"}}
            )
            lambda_backend.wait_update_finished(NAME)

    result = reconcile(Recording(registry, after=meddle).port(), declared(label("r1-prod")))

    assert meddled
    assert result.error is None, result.error
    assert result.outcome is not None
    assert result.outcome.replans >= 1
    outcomes = [(type(d.action).__name__, d.outcome) for d in result.outcome.actions]
    assert ("PublishVersion", "failed") in outcomes
    assert outcomes[-2:] == [("PublishVersion", "applied"), ("UpdateAlias", "applied")]
    failed = next(d for d in result.outcome.actions if d.outcome == "failed")
    assert "PreconditionFailedException" in failed.detail
    for number in published_numbers(lambda_backend):
        environment_of = version_configuration(lambda_backend, number)["environment"]
        assert environment_of.get("STAGE") != "meddled", (number, environment_of)
    assert version_configuration(lambda_backend, live_version(lambda_backend))["environment"] == {
        "STAGE": "prod"
    }


# -- more than one configuration --------------------------------------------------------------


def test_labels_of_one_code_with_different_configurations_are_published_in_turn(
    lambda_backend: Backend,
) -> None:
    registry = seed(lambda_backend)
    desired = function(
        NAME,
        [
            label("small", configuration=Configuration(memory_size=256)),
            label("large", configuration=Configuration(memory_size=1024)),
        ],
        [alias("live", "small"), alias("batch", "large")],
    )

    result = reconcile(registry, desired)

    assert result.error is None, result.error
    publishes = [d for d in result.plan.actions if isinstance(d, PublishVersion)]
    assert [p.label for p in publishes] == ["small", "large"]
    batch = lambda_backend.client().get_alias(FunctionName=NAME, Name="batch")["FunctionVersion"]
    assert version_configuration(lambda_backend, live_version(lambda_backend))["memory"] == 256
    assert version_configuration(lambda_backend, batch)["memory"] == 1024
    assert reconcile(registry, desired).plan.in_sync


def test_new_code_and_a_secret_environment_are_published_and_the_secret_is_never_said(
    lambda_backend: Backend,
) -> None:
    registry = seed(lambda_backend)
    configuration = Configuration(
        environment=environment({"STAGE": "prod", "API_KEY": SECRET}), timeout=30
    )
    desired = declared(label("r2", "r2", configuration, secrets=frozenset({"API_KEY"})))

    result = reconcile(registry, desired)

    assert result.error is None, result.error
    assert version_configuration(lambda_backend, live_version(lambda_backend))["environment"] == {
        "STAGE": "prod",
        "API_KEY": SECRET,
    }
    assert result.outcome is not None
    said = [done.detail for done in result.outcome.actions] + [repr(result)]
    assert not any(SECRET in text for text in said)


@moto_breaks(
    "ignores Architectures on UpdateFunctionCode: the function stays x86_64, so nothing is "
    "published"
)
def test_a_declared_architecture_is_set_with_the_code_before_the_publish(
    lambda_backend: Backend,
) -> None:
    registry = seed(lambda_backend)
    arm = label("r1-arm", configuration=Configuration(architectures=("arm64",)))

    result = reconcile(registry, declared(arm))

    assert result.error is None, result.error
    assert version_configuration(lambda_backend, live_version(lambda_backend))["architectures"] == [
        "arm64"
    ]
    assert reconcile(registry, declared(arm)).plan.in_sync


def test_a_configuration_the_registry_does_not_apply_is_never_published(
    lambda_backend: Backend,
) -> None:
    """moto ignores EphemeralStorage on an update (rule L48); whichever registry fails to
    apply a field, the controller publishes nothing and says which field, by name."""
    registry = seed(lambda_backend)
    storage = label("r1-big", configuration=Configuration(ephemeral_storage=2048))

    result = reconcile(registry, declared(storage))

    if lambda_backend.kind == "emulator":
        assert result.error is None, result.error
        return
    assert result.error is not None
    assert "still differs in ephemeralStorage" in result.error
    assert published_numbers(lambda_backend) == ["1"]


# -- what Lambda's errors say --------------------------------------------------------------------


@moto_breaks("accepts an environment over 4 KB (rule L58)")
def test_lambdas_refusal_of_a_large_environment_reaches_no_one_with_its_values(
    lambda_backend: Backend,
) -> None:
    """Lambda's refusal quotes every variable it measured (rule L58); the adapter cuts them,
    and drops botocore's error, which keeps the text, from the chain."""
    registry = seed(lambda_backend)
    big = Configuration(environment=environment({"API_KEY": SECRET, "PADDING": "x" * 4200}))

    with pytest.raises(InvalidRequest) as refused:
        registry.update_configuration(REF, big, revision_id=None)

    assert "exceeded the 4KB limit" in str(refused.value)
    assert "String measured: (the variables, not shown)" in str(refused.value)
    assert SECRET not in str(refused.value)
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__


def test_architectures_are_not_sent_as_a_configuration_update(lambda_backend: Backend) -> None:
    registry = seed(lambda_backend)

    with pytest.raises(InvalidRequest, match="only with its code"):
        registry.update_configuration(
            REF, replace(PROD, architectures=("arm64",)), revision_id=None
        )

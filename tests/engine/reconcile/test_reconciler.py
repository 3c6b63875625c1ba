"""A pass treats each function as its own transaction.

An invalid declaration, a failed observation or a failed write stops that function alone: the
other functions are observed, planned and converged, and the pass result says which function
failed and why. Every test runs a whole pass against a real emulated registry over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from controller.adapters.git.reader import FolderCodeReader, load_folder
from controller.adapters.registry.aws import AwsRegistry, AwsSettings
from controller.adapters.registry.port import Registry
from controller.core.declarations import Declarations
from controller.core.model import FunctionRef
from controller.core.ownership import describe
from controller.engine.reconciler import PassResult, plan_pass, reconcile_pass
from controller.errors import Transient
from lambda_emulator import EmulatorServer
from tests.backends import Backend
from tests.engine.reconcile.support import (
    ANYWHERE,
    PACKAGES,
    SHAS,
    RepoFiles,
    alias,
    function,
    version,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

REVISION = "c" * 40
WRITES = ("update_code", "publish_version", "create_alias", "update_alias", "delete_alias")

ORDERS = function("orders-api", [version("r1"), version("r2")], [alias("live", "r2")])
"""The healthy function of every test: it converges by publishing r2 and moving live to it."""


@dataclass
class Recording:
    """Delegates to a real registry and records which function each call was about; ``fail``
    may raise instead of letting a call through."""

    registry: AwsRegistry
    fail: Callable[[str, FunctionRef], None] = lambda operation, ref: None
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self.registry, operation)

        def call(*args: Any, **kwargs: Any) -> Any:
            ref = args[0]
            if isinstance(ref, FunctionRef):
                self.calls.append((operation, ref.name))
                self.fail(operation, ref)
            return method(*args, **kwargs)

        return call

    def port(self) -> Registry:
        return cast("Registry", self)

    def functions_touched(self) -> set[str]:
        return {name for _, name in self.calls}

    def writes_to(self, name: str) -> list[str]:
        return [op for op, function in self.calls if function == name and op in WRITES]


def seed(emulator: EmulatorServer, name: str) -> LambdaClient:
    """``name`` with r1 published as version 1 behind a managed ``live``; $LATEST holds r2."""
    backend = Backend("emulator", emulator.endpoint_url, emulator.s3_root or Path(), emulator)
    backend.create_function(name, package=PACKAGES["r1"])
    client = backend.client()
    client.publish_version(FunctionName=name)
    client.create_alias(
        FunctionName=name, Name="live", FunctionVersion="1", Description=describe("", "0" * 40)
    )
    backend.update_code(name, PACKAGES["r2"])
    return client


def registry_of(
    emulator: EmulatorServer, fail: Callable[[str, FunctionRef], None] | None = None
) -> Recording:
    registry = AwsRegistry(AwsSettings(endpoint_url=emulator.endpoint_url, max_attempts=1))
    return Recording(registry, fail) if fail else Recording(registry)


def live_code(client: LambdaClient, name: str, alias_name: str = "live") -> str:
    """The CodeSha256 an alias runs."""
    number = client.get_alias(FunctionName=name, Name=alias_name)["FunctionVersion"]
    return client.get_function(FunctionName=name, Qualifier=number)["Configuration"]["CodeSha256"]


def outcome_of(result: PassResult, name: str) -> str | None:
    """The error of a function's outcome; ``None`` when it converged."""
    [outcome] = [o for o in result.outcomes if o.function.name == name]
    return outcome.error


def assert_orders_converged(result: PassResult, client: LambdaClient) -> None:
    assert outcome_of(result, "orders-api") is None
    assert live_code(client, "orders-api") == SHAS["r2"]


# -- one function's failure never stops another's actions ------------------------------------------


def test_a_function_in_error_does_not_stop_another_from_converging(
    emulator: EmulatorServer,
) -> None:
    """billing, planned first, declares r3 with no code source: it is in error; orders-api,
    after it, converges."""
    client = seed(emulator, "orders-api")
    seed(emulator, "billing")
    billing = function(
        "billing", [version("r1"), version("r3", with_code=False)], [alias("live", "r3")]
    )
    registry = registry_of(emulator)

    result = reconcile_pass(
        registry.port(), Declarations(REVISION, (billing, ORDERS)), RepoFiles(), in_scope=ANYWHERE
    )

    assert not result.converged
    assert outcome_of(result, "billing") == "version r3 is missing and has no code source"
    assert registry.writes_to("billing") == []
    assert live_code(client, "billing") == SHAS["r1"]
    assert_orders_converged(result, client)


def test_a_function_that_does_not_exist_does_not_stop_another_from_converging(
    emulator: EmulatorServer,
) -> None:
    client = seed(emulator, "orders-api")
    ghost = function("ghost", [version("r1")], [alias("live", "r1")])
    registry = registry_of(emulator)

    result = reconcile_pass(
        registry.port(), Declarations(REVISION, (ghost, ORDERS)), RepoFiles(), in_scope=ANYWHERE
    )

    assert not result.converged
    error = outcome_of(result, "ghost")
    assert error is not None
    assert error.startswith("function ghost does not exist in us-east-1")
    assert registry.writes_to("ghost") == []
    assert_orders_converged(result, client)


def test_a_failure_while_observing_one_function_is_that_function_s_error_only(
    emulator: EmulatorServer,
) -> None:
    client = seed(emulator, "orders-api")
    seed(emulator, "billing")
    billing = function("billing", [version("r1"), version("r2")], [alias("live", "r2")])

    def billing_unreachable(operation: str, ref: FunctionRef) -> None:
        if operation == "get_function" and ref.name == "billing":
            raise Transient(
                "Service unavailable.", code="ServiceException", operation="GetFunction"
            )

    registry = registry_of(emulator, billing_unreachable)

    result = reconcile_pass(
        registry.port(), Declarations(REVISION, (billing, ORDERS)), RepoFiles(), in_scope=ANYWHERE
    )

    assert not result.converged
    [observed_billing, _] = result.observations
    assert observed_billing.live is None
    assert (
        observed_billing.error
        == "cannot read it: GetFunction: ServiceException: Service unavailable."
    )
    assert outcome_of(result, "billing") == observed_billing.error
    assert registry.writes_to("billing") == []
    assert live_code(client, "billing") == SHAS["r1"]
    assert_orders_converged(result, client)


# -- invalid declarations are never applied --------------------------------------------------------

ORDERS_YAML = f"""\
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: orders-api
spec:
  versions:
    r1: {{codeSha256: "{SHAS["r1"]}"}}
    r2:
      codeSha256: "{SHAS["r2"]}"
      code: {{zipFile: ../artifacts/r2.zip}}
  aliases:
    live: {{version: r2}}
"""

BILLING_YAML = f"""\
apiVersion: lambda-gitops/v1
kind: Function
metadata:
  name: billing
spec:
  versions:
    r1: {{codeSha256: "{SHAS["r1"]}"}}
    r2: {{codeSha256: "{SHAS["r2"]}"}}
  aliases:
    live: {{version: r2}}
    beta: {{version: r1}}
  prunne: true
"""
"""Valid but for a typo; applied, it would move live and create beta."""

BROKEN_YAML = "apiVersion: lambda-gitops/v1\nkind: Function\nmetadata: {name: payments\n"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "declarations"
    (root / "functions").mkdir(parents=True)
    (root / "artifacts").mkdir()
    (root / "artifacts" / "r2.zip").write_bytes(PACKAGES["r2"])
    (root / "functions" / "orders.yaml").write_text(ORDERS_YAML)
    (root / "functions" / "billing.yaml").write_text(BILLING_YAML)
    (root / "functions" / "payments.yaml").write_text(BROKEN_YAML)
    return root


@pytest.mark.parametrize("only_plan", [True, False], ids=["plan", "reconcile"])
def test_invalid_declarations_fail_the_pass_and_their_functions_are_never_touched(
    emulator: EmulatorServer, repository: Path, only_plan: bool
) -> None:
    client = seed(emulator, "orders-api")
    seed(emulator, "billing")
    seed(emulator, "payments")
    declarations = load_folder(repository, default_region="us-east-1", root=repository)
    assert [f.name for f in declarations.functions] == ["orders-api"]
    registry = registry_of(emulator)

    result = (
        plan_pass(registry.port(), declarations, in_scope=ANYWHERE)
        if only_plan
        else reconcile_pass(
            registry.port(), declarations, FolderCodeReader(repository), in_scope=ANYWHERE
        )
    )

    assert not result.converged
    errors = result.declaration_errors
    assert any(e.startswith("functions/billing.yaml:") and "prunne" in e for e in errors), errors
    assert any(e.startswith("functions/payments.yaml:") for e in errors), errors
    assert registry.functions_touched() == {"orders-api"}
    assert [p.function.name for p in result.plan.functions] == ["orders-api"]
    for untouched in ("billing", "payments"):
        assert live_code(client, untouched) == SHAS["r1"]
        assert [a["Name"] for a in client.list_aliases(FunctionName=untouched)["Aliases"]] == [
            "live"
        ]
    if only_plan:
        assert result.outcomes == ()
        assert registry.writes_to("orders-api") == []
    else:
        assert_orders_converged(result, client)

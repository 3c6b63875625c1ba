"""The calls of LocalStack's Lambda tests that were recorded against AWS, made to the emulator.

Each scenario below is named by the LocalStack test whose answers ``recordings/`` holds, and
makes the calls that test made, in its order, recording each answer under the name the test
gave it; ``tests.emulator.replay`` compares them. The calls are facts about how AWS was asked,
written here from scratch: the LocalStack tests also check things of their own (invocations,
event source mappings) that are left out, and where a test waited for a state, the scenario
waits the same way, through the reads a waiter makes.

The recordings were made in account 111111111111, which the emulator takes from a 12-digit
access key id, so that ARNs compare as they are.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from lambda_emulator import EmulatorServer, Faults
from tests.emulator.replay import Compared, compare_test, load_recordings

ACCOUNT = "111111111111"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-replay-role"
ECHO = "import json\n\ndef handler(event, context):\n    return event\n"
VERSION = "import os\n\ndef handler(event, context):\n    return os.environ['AWS_REGION']\n"
UPDATE_WINDOW_SECONDS = 60.0
"""How long an update stays in progress where a test saw it in progress; no scenario waits it
out."""

Scenario = Callable[["Replay"], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(test: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under the LocalStack test id (``Class::test[param]``) it replays."""

    def register(function: Scenario) -> Scenario:
        SCENARIOS[test] = function
        return function

    return register


def package(source: str = ECHO) -> bytes:
    """A zip holding one handler file; the same source gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("handler.py", date_time=(2024, 1, 1, 0, 0, 0)), source)
    return buffer.getvalue()


def normalized(answer: Any) -> Any:
    """An answer as LocalStack snapshots it: response metadata reduced to the status."""
    if isinstance(answer, dict):
        shaped = {key: normalized(value) for key, value in answer.items()}
        metadata = answer.get("ResponseMetadata")
        if isinstance(metadata, dict):
            shaped["ResponseMetadata"] = {
                "HTTPHeaders": {},
                "HTTPStatusCode": metadata.get("HTTPStatusCode"),
            }
        return shaped
    if isinstance(answer, list):
        return [normalized(item) for item in answer]
    return answer


class Replay:
    """One scenario's run: clients in the recordings' account, and the answers they got."""

    def __init__(self, server: EmulatorServer, prefix: str) -> None:
        self.server = server
        self.prefix = prefix
        self.lambda_ = self._client(validate=True)
        self.unchecked = self._client(validate=False)
        self.answers: dict[str, Any] = {}

    def _client(self, *, validate: bool) -> Any:
        return boto3.client(
            "lambda",
            endpoint_url=self.server.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCOUNT,
            aws_secret_access_key="testing",
            config=Config(
                retries={"mode": "standard", "total_max_attempts": 1},
                parameter_validation=validate,
            ),
        )

    def close(self) -> None:
        self.lambda_.close()
        self.unchecked.close()

    def name(self, label: str = "fn") -> str:
        """A function name of this scenario's own, so that scenarios share an emulator."""
        return f"{self.prefix}-{label}"

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"

    def call(self, operation: str, /, *, client: Any = None, **parameters: Any) -> Any:
        """Make a call; its answer, or the error answer (a parameter error as its text)."""
        method = getattr(client or self.lambda_, operation)
        try:
            return normalized(method(**parameters))
        except ClientError as error:
            return normalized(error.response)
        except ParamValidationError as error:
            return str(error)

    def record(self, entry: str, operation: str, /, **parameters: Any) -> Any:
        """Make a call and keep its answer under the name the recording gives it."""
        answer = self.call(operation, **parameters)
        self.answers[entry] = answer
        return answer

    def keep(self, entry: str, answer: Any) -> Any:
        self.answers[entry] = answer
        return answer

    def wait_created(self, name: str) -> None:
        """What the tests' creation fixtures do: read until the function is no longer Pending."""
        for _ in range(50):
            configuration = self.call("get_function", FunctionName=name).get("Configuration", {})
            if configuration.get("State") != "Pending":
                return
        raise AssertionError(f"{name} stayed Pending")

    def wait_updated(self, name: str) -> None:
        """The ``function_updated_v2`` waiter, without its pauses."""
        for _ in range(50):
            configuration = self.call("get_function", FunctionName=name).get("Configuration", {})
            if configuration.get("LastUpdateStatus") != "InProgress":
                return
        raise AssertionError(f"{name} stayed InProgress")

    def create(self, name: str, **parameters: Any) -> Any:
        """CreateFunction as the tests' ``create_lambda_function_aws`` fixture makes it."""
        defaults: dict[str, Any] = {
            "Handler": "index.handler",
            "Code": {"ZipFile": package()},
            "PackageType": "Zip",
            "Role": ROLE,
            "Runtime": "python3.12",
        }
        answer = self.call("create_function", FunctionName=name, **{**defaults, **parameters})
        if "FunctionArn" in answer:
            self.wait_created(name)
        return answer

    def create_for_test(
        self,
        name: str,
        *,
        environment: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        **parameters: Any,
    ) -> Any:
        """CreateFunction as LocalStack's ``testutil.create_lambda_function`` makes it: an
        environment and tags always sent (empty by default), a 30-second timeout, and the
        answer wrapped as that helper returns it."""
        arguments: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Handler": "handler.handler",
            "Role": ROLE,
            "Code": {"ZipFile": package()},
            "Timeout": 30,
            "Environment": {"Variables": environment or {}},
            "Tags": tags or {},
        }
        answer = self.call("create_function", **{**arguments, **parameters})
        if "FunctionArn" not in answer:
            return answer
        self.wait_created(name)
        return {"CreateFunctionResponse": answer, "CreateEventSourceMappingResponse": None}

    @contextmanager
    def update_window(self, seconds: float = UPDATE_WINDOW_SECONDS) -> Iterator[None]:
        """Updates stay in progress for ``seconds`` inside the block, as on AWS."""
        self.server.faults = Faults(update_seconds=seconds)
        try:
            yield
        finally:
            self.server.faults = Faults()


# --- TestLambdaFunction --------------------------------------------------------------------------


@scenario("TestLambdaFunction::test_function_lifecycle")
def _function_lifecycle(r: Replay) -> None:
    name = r.name()
    r.keep("create_response", r.create_for_test(name, MemorySize=256, Timeout=5))
    r.record("get_function_response", "get_function", FunctionName=name)
    r.record(
        "update_func_conf_response",
        "update_function_configuration",
        FunctionName=name,
        Runtime="python3.11",
        Description="Changed-Description",
        MemorySize=512,
        Timeout=10,
        Environment={"Variables": {"ENV_A": "a"}},
    )
    r.wait_updated(name)
    r.record("get_function_response_postupdate", "get_function", FunctionName=name)
    r.record(
        "update_code_response", "update_function_code", FunctionName=name, ZipFile=package(VERSION)
    )
    r.wait_updated(name)
    r.record("get_function_response_postcodeupdate", "get_function", FunctionName=name)
    r.record("delete_response", "delete_function", FunctionName=name)
    r.record("delete_postdelete", "delete_function", FunctionName=name)


@scenario("TestLambdaFunction::test_redundant_updates")
def _redundant_updates(r: Replay) -> None:
    name = r.name()
    r.keep("create_response", r.create_for_test(name, Description="Initial description"))
    update = {"FunctionName": name, "Description": "1st update description"}
    r.record("first_update_result", "update_function_configuration", **update)
    r.wait_updated(name)
    r.record("get_fn_config_result", "get_function_configuration", FunctionName=name)
    r.record("get_fn_result", "get_function", FunctionName=name)
    r.record("redundant_update_result", "update_function_configuration", **update)
    r.wait_updated(name)
    r.record("get_fn_result_after_redundant_update", "get_function", FunctionName=name)


def _qualifier_mismatch(operation: str) -> Scenario:
    def replay(r: Replay) -> None:
        arn = r.arn("some-function")
        r.record("not_match_exception", operation, FunctionName=f"{arn}:1", Qualifier="$LATEST")
        r.record("match_exception", operation, FunctionName=f"{arn}:$LATEST", Qualifier="$LATEST")

    return replay


for _operation in ("delete_function", "get_function", "get_function_configuration"):
    scenario(f"TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[{_operation}]")(
        _qualifier_mismatch(_operation)
    )


def _missing_version(operation: str) -> Scenario:
    def replay(r: Replay) -> None:
        name = r.name("i-exist")
        r.create_for_test(name, Description="Initial description")
        r.record("version_not_found_exception", operation, FunctionName=name, Qualifier="1221")

    return replay


for _operation in ("get_function", "get_function_configuration"):
    scenario(f"TestLambdaFunction::test_ops_on_nonexisting_version[{_operation}]")(
        _missing_version(_operation)
    )


@scenario("TestLambdaFunction::test_delete_on_nonexisting_version")
def _delete_missing_version(r: Replay) -> None:
    name = r.name("i-exist")
    r.create_for_test(name, Description="Initial description")
    r.call("delete_function", FunctionName=name, Qualifier="1233")
    r.call("delete_function", FunctionName=name, Qualifier="1233")
    r.call("delete_function", FunctionName=name)
    r.record("delete_function_response_non_existent", "delete_function", FunctionName=name)
    r.record(
        "delete_function_response_non_existent_with_qualifier",
        "delete_function",
        FunctionName=name,
        Qualifier="1233",
    )


def _missing_function(operation: str) -> Scenario:
    def replay(r: Replay) -> None:
        r.record("not_found_exception", operation, FunctionName=r.name("i-dont-exist"))

    return replay


for _operation in (
    "delete_function",
    "get_function",
    "get_function_configuration",
    "get_function_code_signing_config",
    "get_function_concurrency",
):
    scenario(f"TestLambdaFunction::test_ops_on_nonexisting_fn[{_operation}]")(
        _missing_function(_operation)
    )


@scenario("TestLambdaFunction::test_lambda_code_location_zipfile")
def _code_location(r: Replay) -> None:
    name = r.name("code-function")
    r.keep("create-response-zip-file", r.create(name))
    r.record("get-function-response", "get_function", FunctionName=name)
    with r.update_window():  # AWS was still updating when the test read the function again
        r.record(
            "update-function-response",
            "update_function_code",
            FunctionName=name,
            ZipFile=package(VERSION),
        )
        r.record("get-function-response-updated", "get_function", FunctionName=name)


@scenario("TestLambdaFunction::test_create_lambda_exceptions")
def _create_exceptions(r: Replay) -> None:
    name = r.name("invalid-function")
    base = {
        "FunctionName": name,
        "Handler": "index.handler",
        "Code": {"ZipFile": package()},
        "PackageType": "Zip",
        "Role": ROLE,
        "Runtime": "python3.12",
    }
    r.record("invalid_role_arn_exc", "create_function", **{**base, "Role": "r1"})
    r.record(
        "invalid_runtime_exc", "create_function", **{**base, "Runtime": "non-existent-runtime"}
    )
    r.record("uppercase_runtime_exc", "create_function", **{**base, "Runtime": "PYTHON3.9"})
    r.record("empty_architectures", "create_function", **{**base, "Architectures": []})
    r.record(
        "multiple_architectures",
        "create_function",
        **{**base, "Architectures": ["x86_64", "arm64"]},
    )
    r.record("uppercase_architecture", "create_function", **{**base, "Architectures": ["X86_64"]})
    not_a_zip = {"ZipFile": b"this is not a zipfile, just a random string"}
    r.record(
        "invalid_zip_exc", "create_function", **{**base, "Code": not_a_zip, "Runtime": "python3.9"}
    )


@scenario("TestLambdaFunction::test_update_lambda_exceptions")
def _update_exceptions(r: Replay) -> None:
    name = r.name("invalid-function")
    r.create(name)
    update = "update_function_configuration"
    r.record("invalid_role_arn_exc", update, FunctionName=name, Role="r1")
    r.record("invalid_runtime_exc", update, FunctionName=name, Runtime="non-existent-runtime")
    r.record("uppercase_runtime_exc", update, FunctionName=name, Runtime="PYTHON3.9")


@scenario("TestLambdaFunction::test_list_functions")
def _list_functions(r: Replay) -> None:
    first, second = r.name("list-fn-1"), r.name("list-fn-2")
    r.keep("create_response_1", r.create_for_test(first, Publish=True))
    # LocalStack zipped the same handler twice, a second apart, so the two packages differed
    # (the test does not compare CodeSha256); the second package differs here too.
    r.keep("create_response_2", r.create_for_test(second, Code={"ZipFile": package(ECHO + "\n")}))
    r.record("list_functions_invalid_functionversion", "list_functions", FunctionVersion="invalid")
    pages = r.lambda_.get_paginator("list_functions")
    ours = {first, second}

    def listing(**parameters: Any) -> dict[str, Any]:
        result = pages.paginate(PaginationConfig={"PageSize": 1}, **parameters).build_full_result()
        functions = [f for f in result["Functions"] if f["FunctionName"] in ours]
        return {**result, "Functions": sorted(functions, key=lambda f: f["FunctionArn"])}

    r.keep("list_all", listing(FunctionVersion="ALL"))
    r.keep("list_default", listing())


# --- TestLambdaVersions --------------------------------------------------------------------------


@scenario("TestLambdaVersions::test_publish_version_on_create")
def _publish_on_create(r: Replay) -> None:
    name = r.name()
    r.keep("create_response", r.create(name, Publish=True))
    r.record("get_function_result", "get_function", FunctionName=name)
    r.record("get_function_version_result", "get_function", FunctionName=name, Qualifier="1")
    r.record("get_function_latest_result", "get_function", FunctionName=name, Qualifier="$LATEST")
    r.record("list_versions_result", "list_versions_by_function", FunctionName=name)
    r.record(
        "repeated_publish_response",
        "publish_version",
        FunctionName=name,
        Description="Repeated version description :)",
    )
    r.record("list_versions_result_after_publish", "list_versions_by_function", FunctionName=name)


@scenario("TestLambdaVersions::test_version_lifecycle")
def _version_lifecycle(r: Replay) -> None:
    name = r.name()
    r.keep("create_response", r.create(name, Description="No version :("))
    r.record("get_function_result", "get_function", FunctionName=name)
    r.record("list_versions_result", "list_versions_by_function", FunctionName=name)
    configure = "update_function_configuration"
    r.record("first_update_response", configure, FunctionName=name, Description="First version :)")
    r.wait_updated(name)
    r.record("first_update_get_function", "get_function", FunctionName=name)
    first = r.record(
        "first_publish_response",
        "publish_version",
        FunctionName=name,
        Description="First version description :)",
    )
    version = first.get("Version", "1")
    r.record("first_publish_get_function", "get_function", FunctionName=name, Qualifier=version)
    r.record(
        "first_publish_get_function_config",
        "get_function_configuration",
        FunctionName=name,
        Qualifier=version,
    )
    r.record(
        "second_update_response", configure, FunctionName=name, Description="Second version :))"
    )
    r.wait_updated(name)
    r.record(
        "first_publish_get_function_after_update",
        "get_function",
        FunctionName=name,
        Qualifier=version,
    )
    r.record("second_publish_response", "publish_version", FunctionName=name)
    r.record(
        "third_publish_response",
        "publish_version",
        FunctionName=name,
        Description="Third version description :)))",
    )
    r.record(
        "list_versions_result_after_third_publish", "list_versions_by_function", FunctionName=name
    )
    r.call("delete_function", FunctionName=f"{name}:{version}")
    r.record(
        "list_versions_result_after_deletion_of_first_version",
        "list_versions_by_function",
        FunctionName=name,
    )


@scenario("TestLambdaVersions::test_publish_with_wrong_sha256")
def _publish_with_wrong_sha256(r: Replay) -> None:
    name = r.name()
    r.keep("create_response", r.create(name))
    got = r.record("get_fn_response", "get_function", FunctionName=name)
    r.record(
        "publish_wrong_sha256_exc",
        "publish_version",
        FunctionName=name,
        CodeSha256="somenonexistentsha256",
    )
    sha256 = got.get("Configuration", {}).get("CodeSha256", "")
    r.record("publish_result", "publish_version", FunctionName=name, CodeSha256=sha256)


@scenario("TestLambdaVersions::test_publish_with_update")
def _publish_with_update(r: Replay) -> None:
    name = r.name()
    r.keep("create_response", r.create(name))
    r.record("get_function_result", "get_function", FunctionName=name)
    with r.update_window():
        r.record(
            "update_function_code_result",
            "update_function_code",
            FunctionName=name,
            ZipFile=package(VERSION),
            Publish=True,
        )
        r.record("get_function_version_result", "get_function", FunctionName=name, Qualifier="1")
        r.record(
            "get_function_latest_result", "get_function", FunctionName=name, Qualifier="$LATEST"
        )


# --- TestLambdaAlias -----------------------------------------------------------------------------

STAGING = {"Variables": {"testenv": "staging"}}
PROD = {"Variables": {"testenv": "prod"}}


@scenario("TestLambdaAlias::test_alias_lifecycle")
def _alias_lifecycle(r: Replay) -> None:
    name = r.name("alias-fn")
    r.keep("create_response", r.create(name, Environment=STAGING))
    r.record("publish_v1", "publish_version", FunctionName=name)
    r.call("update_function_configuration", FunctionName=name, Environment=PROD)
    r.wait_updated(name)
    r.record("publish_v2", "publish_version", FunctionName=name)
    routed = {"AdditionalVersionWeights": {"2": 0.2}}
    created = r.record(
        "create_alias_1_1",
        "create_alias",
        FunctionName=name,
        Name="aliasname1_1",
        FunctionVersion="1",
        Description="custom-alias",
        RoutingConfig=routed,
    )
    alias_arn = created.get("AliasArn", r.arn(name) + ":aliasname1_1")
    r.record("get_alias_1_1", "get_alias", FunctionName=name, Name="aliasname1_1")
    r.record("get_function_alias_1_1", "get_function", FunctionName=name, Qualifier="aliasname1_1")
    r.record("get_function_byarn_alias_1_1", "get_function", FunctionName=alias_arn)
    r.record(
        "get_function_alias_notfound_exc",
        "get_function",
        FunctionName=name,
        Qualifier="aliasdoesnotexist",
    )
    r.record(
        "get_function_alias_byarn_notfound_exc",
        "get_function",
        FunctionName=alias_arn.replace("aliasname1_1", "aliasdoesnotexist"),
    )
    alias = "create_alias"
    r.record(
        "create_alias_1_2",
        alias,
        FunctionName=name,
        Name="aliasname1_2",
        FunctionVersion="1",
        Description="custom-alias",
    )
    r.record("get_alias_1_2", "get_alias", FunctionName=name, Name="aliasname1_2")
    r.record("create_alias_1_3", alias, FunctionName=name, Name="aliasname1_3", FunctionVersion="1")
    r.record("get_alias_1_3", "get_alias", FunctionName=name, Name="aliasname1_3")
    r.record(
        "create_alias_2",
        alias,
        FunctionName=name,
        Name="aliasname2",
        FunctionVersion="2",
        Description="custom-alias",
    )
    r.record("get_alias_2", "get_alias", FunctionName=name, Name="aliasname2")
    pages = r.lambda_.get_paginator("list_aliases")
    everything = pages.paginate(FunctionName=name, PaginationConfig={"PageSize": 1})
    r.keep("list_aliases_for_fnname", everything.build_full_result())
    r.record(
        "update_alias_1_1",
        "update_alias",
        FunctionName=name,
        Name="aliasname1_1",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    r.record("get_alias_1_1_after_update", "get_alias", FunctionName=name, Name="aliasname1_1")
    r.record("list_aliases_for_fnname_after_update", "list_aliases", FunctionName=name)
    r.record("update_alias_1_2", "update_alias", FunctionName=name, Name="aliasname1_2")
    r.record("get_alias_1_2_after_update", "get_alias", FunctionName=name, Name="aliasname1_2")
    r.record("list_aliases_for_fnname_after_update_2", "list_aliases", FunctionName=name)
    r.record("list_aliases_for_version", "list_aliases", FunctionName=name, FunctionVersion="1")
    r.record("delete_alias_response", "delete_alias", FunctionName=name, Name="aliasname1_1")
    r.record("list_aliases_for_fnname_afterdelete", "list_aliases", FunctionName=name)


@scenario("TestLambdaAlias::test_non_existent_alias_deletion")
def _missing_alias_deletion(r: Replay) -> None:
    name = r.name("alias-fn")
    r.keep("create_response", r.create(name, Environment=STAGING))
    r.record("delete_alias_response", "delete_alias", FunctionName=name, Name="non-existent")


@scenario("TestLambdaAlias::test_non_existent_alias_update")
def _missing_alias_update(r: Replay) -> None:
    name = r.name("alias-fn")
    r.keep("create_response", r.create(name, Environment=STAGING))
    r.record("update_alias_response", "update_alias", FunctionName=name, Name="non-existent")


@scenario("TestLambdaAlias::test_notfound_and_invalid_routingconfigs")
def _invalid_routing(r: Replay) -> None:
    name = r.name("alias-fn")
    r.keep("create_response", r.create(name, Publish=True, Environment=STAGING))
    loose = r.unchecked
    r.record("publish_v1", "publish_version", FunctionName=name)
    r.call("update_function_configuration", FunctionName=name, Environment=PROD)
    r.wait_updated(name)
    r.record("publish_v2", "publish_version", FunctionName=name)

    def alias(entry: str, version: str, weights: dict[str, float] | None, **extra: Any) -> None:
        routing = (
            {} if weights is None else {"RoutingConfig": {"AdditionalVersionWeights": weights}}
        )
        parameters = {
            "FunctionName": name,
            "Name": "custom",
            "FunctionVersion": version,
            **routing,
            **extra,
        }
        r.keep(entry, r.call("create_alias", client=loose, **parameters))

    alias("routing_config_exc_toomany", "1", {"1": 0.8, "2": 0.2})
    alias("routing_config_exc_toohigh", "1", {"2": 2})
    alias("routing_config_exc_subzero", "1", {"2": -1})
    alias("routing_config_exc_sameversion", "1", {"1": 0.5})
    alias("target_version_doesnotexist", "10", {"2": 0.5})
    alias("routing_config_exc_version_doesnotexist", "1", {"10": 0.5})
    alias("target_version_exc_version_latest", "$LATEST", {"1": 0.5})
    alias("routing_config_exc_version_latest", "1", {"$LATEST": 0.5})
    alias("create-alias-latest", "$LATEST", None, Name="custom-latest")
    alias("routing_config_exc_fn_doesnotexist", "1", {"2": 0.5}, FunctionName=f"{name}-unknown")
    alias("create_alias_empty_routingconfig", "1", {}, Name="custom-empty-routingconfig")
    alias("create_alias_response", "1", {"2": 0.5})
    alias("routing_config_exc_already_exist", "1", {"2": 0.5})
    r.keep(
        "alias_does_not_exist_esc",
        r.call("get_alias", client=loose, FunctionName=name, Name="non-existent"),
    )


@scenario("TestLambdaAlias::test_alias_naming")
def _alias_naming(r: Replay) -> None:
    name = r.name("alias-fn")
    r.keep("create_response", r.create(name, Environment=STAGING))
    r.record("publish_v1", "publish_version", FunctionName=name)
    dated = {"FunctionName": name, "FunctionVersion": "1", "Description": "custom-alias"}
    r.record("create_alias_date", "create_alias", Name="2024-01-02", **dated)
    r.record("get_alias_date", "get_alias", FunctionName=name, Name="2024-01-02")
    r.record("create_alias_number_exception", "create_alias", Name="2024", **dated)


# --- TestLambdaRevisions -------------------------------------------------------------------------


@scenario("TestLambdaRevisions::test_function_revisions_basic")
def _revisions_basic(r: Replay) -> None:
    name = r.name()
    r.keep("create_function_response_rev1", r.create_for_test(name, Handler="index.handler"))
    active = r.record("get_function_response_rev2", "get_function", FunctionName=name)
    code = {"FunctionName": name, "ZipFile": package()}
    r.record(
        "update_function_revision_exception", "update_function_code", RevisionId="wrong", **code
    )
    revision = active.get("Configuration", {}).get("RevisionId", "")
    r.record(
        "update_function_code_response_rev3", "update_function_code", RevisionId=revision, **code
    )
    r.wait_updated(name)
    updated = r.record("get_function_response_rev4", "get_function", FunctionName=name)
    configure = {"FunctionName": name, "Runtime": "python3.8"}
    r.record(
        "update_function_configuration_revision_exception",
        "update_function_configuration",
        RevisionId="wrong",
        **configure,
    )
    revision = updated.get("Configuration", {}).get("RevisionId", "")
    r.record(
        "update_function_configuration_response_rev5",
        "update_function_configuration",
        RevisionId=revision,
        **configure,
    )
    r.wait_updated(name)
    r.record("get_function_response_rev6", "get_function", FunctionName=name)


@scenario("TestLambdaRevisions::test_function_revisions_version_and_alias")
def _revisions_of_versions_and_aliases(r: Replay) -> None:
    name = r.name()
    r.keep("create_function_response_rev1", r.create_for_test(name))
    active = r.record("get_function_active_rev2", "get_function", FunctionName=name)
    r.record(
        "publish_version_revision_exception",
        "publish_version",
        FunctionName=name,
        RevisionId="wrong",
    )
    revision = active.get("Configuration", {}).get("RevisionId", "")
    published = r.record(
        "publish_version_response_rev_v1", "publish_version", FunctionName=name, RevisionId=revision
    )
    version = published.get("Version", "1")
    r.record(
        "get_function_published_version_rev_v2",
        "get_function",
        FunctionName=name,
        Qualifier=version,
    )
    r.record("get_function_latest_rev3", "get_function", FunctionName=name)
    created = r.record(
        "create_alias_response_rev_a1",
        "create_alias",
        FunctionName=name,
        Name="revision_alias",
        FunctionVersion=version,
    )
    r.record("get_function_latest_rev4", "get_function", FunctionName=name)
    r.record(
        "get_function_published_version_rev_v3",
        "get_function",
        FunctionName=name,
        Qualifier=version,
    )
    alias = {"FunctionName": name, "Name": "revision_alias"}
    r.record("update_alias_revision_exception", "update_alias", RevisionId="wrong", **alias)
    r.record(
        "update_alias_response_rev_a2",
        "update_alias",
        Description="something changed",
        RevisionId=created.get("RevisionId", ""),
        **alias,
    )


# --- TestLambdaTag and TestLambdaTags ------------------------------------------------------------


@scenario("TestLambdaTag::test_create_tag_on_fn_create")
def _tags_on_create(r: Replay) -> None:
    name = r.name()
    r.create_for_test(name, tags={"testtag": "tag-replay"})
    got = r.record("get_function_result", "get_function", FunctionName=name)
    arn = got.get("Configuration", {}).get("FunctionArn", r.arn(name))
    r.record("list_tags_result", "list_tags", Resource=arn)


def _tagged_function(r: Replay) -> str:
    name = r.name()
    r.create_for_test(name)
    return str(r.call("get_function", FunctionName=name)["Configuration"]["FunctionArn"])


@scenario("TestLambdaTag::test_tag_lifecycle[lambda_function]")
def _tag_lifecycle(r: Replay) -> None:
    arn = _tagged_function(r)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("tag_single_response", "tag_resource", {"Tags": {"A": "tag-a"}}),
        ("tag_multiple_response", "tag_resource", {"Tags": {"B": "tag-b", "C": "tag-c"}}),
        ("tag_overlap_response", "tag_resource", {"Tags": {"C": "tag-c-newsuffix", "D": "tag-d"}}),
        ("untag_single_response", "untag_resource", {"TagKeys": ["A"]}),
        ("untag_multiple_response", "untag_resource", {"TagKeys": ["B", "C"]}),
        ("untag_nonexisting_response", "untag_resource", {"TagKeys": ["F"]}),
        ("untag_existing_and_nonexisting_response", "untag_resource", {"TagKeys": ["D", "F"]}),
    ]
    for entry, operation, parameters in steps:
        r.record(entry, operation, Resource=arn, **parameters)
        r.record(f"{entry}_listtags", "list_tags", Resource=arn)


@scenario("TestLambdaTag::test_tag_exceptions[lambda_function]")
def _tag_exceptions_of_missing_function(r: Replay) -> None:
    arn = r.arn(r.name("tagless-function-that-was-never-created"))
    r.record("not_found_exception_tag", "tag_resource", Resource=arn, Tags={"A": "B"})
    r.record("not_found_exception_untag", "untag_resource", Resource=arn, TagKeys=["A"])
    r.record("not_found_exception_list", "list_tags", Resource=arn)
    r.record("aliased_arn_exception", "list_tags", Resource=f"{arn}:alias")
    prefix, _, resource_name = arn.rpartition(":function:")
    r.record("invalid_arn_exception", "list_tags", Resource=f"{prefix}:foobar:{resource_name}")


@scenario("TestLambdaTag::test_tag_nonexisting_resource")
def _tags_of_a_deleted_function(r: Replay) -> None:
    arn = _tagged_function(r)
    r.record("pre_delete_get_function", "get_function", FunctionName=arn)
    r.call("delete_function", FunctionName=arn)
    r.record("not_found_exception_tag", "tag_resource", Resource=arn, Tags={"A": "B"})
    r.record("not_found_exception_untag", "untag_resource", Resource=arn, TagKeys=["A"])
    r.record("not_found_exception_list", "list_tags", Resource=arn)


@scenario("TestLambdaTags::test_tag_exceptions")
def _tag_exceptions(r: Replay) -> None:
    arn = _tagged_function(r)
    r.record(
        "tag_lambda_invalidarn",
        "tag_resource",
        Resource="arn:aws:something",
        Tags={"key_a": "value_a"},
    )
    missing = r.arn("doesnotexist")
    r.record("tag_lambda_doesnotexist", "tag_resource", Resource=missing, Tags={"key_a": "value_a"})
    r.record(
        "tag_lambda_qualifier_doesnotexist",
        "tag_resource",
        Resource=f"{arn}:v1",
        Tags={"key_a": "value_a"},
    )
    r.record("list_tag_lambda_empty", "list_tags", Resource=arn)
    r.record("untag_nomatch", "untag_resource", Resource=arn, TagKeys=["somekey"])
    r.record("untag_empty_keys", "untag_resource", Resource=arn, TagKeys=[])
    r.record("tag_empty_tags", "tag_resource", Resource=arn, Tags={})


@scenario("TestLambdaTags::test_tag_limits")
def _tag_limits(r: Replay) -> None:
    name = r.name("fn-tag")
    r.create_for_test(name)
    arn = r.arn(name)
    many = {f"{k}_key": f"{k}_value" for k in range(51)}
    r.record("tag_lambda_too_many_tags", "tag_resource", Resource=arn, Tags=many)
    r.record(
        "tag_response",
        "tag_resource",
        Resource=arn,
        Tags={f"{k}_key": f"{k}_value" for k in range(50)},
    )
    r.record("list_tags_response", "list_tags", Resource=arn)
    r.record("get_fn_response", "get_function", FunctionName=name)
    r.record(
        "tag_lambda_too_many_tags_additional",
        "tag_resource",
        Resource=arn,
        Tags={"a_key": "a_value"},
    )
    r.record(
        "create_function_invalid_tags",
        "create_function",
        FunctionName=r.name("fn-tag-2"),
        Handler="index.handler",
        Code={"ZipFile": package()},
        PackageType="Zip",
        Role=ROLE,
        Runtime="python3.12",
        Tags=many,
    )


@scenario("TestLambdaTags::test_tag_versions")
def _tags_of_versions(r: Replay) -> None:
    name = r.name("fn-tag")
    r.create_for_test(name)
    version = r.call("publish_version", FunctionName=name).get("Version", "1")
    arn = r.arn(name)
    tags = {"key_a": "value_a"}
    r.record("tag_resource_exception", "tag_resource", Resource=f"{arn}:{version}", Tags=tags)
    r.record("tag_resource_latest_exception", "tag_resource", Resource=f"{arn}:$LATEST", Tags=tags)


@scenario("TestLambdaTags::test_tag_lifecycle")
def _tags_in_get_function(r: Replay) -> None:
    name = r.name("fn-tag")
    r.create_for_test(name, tags={"key_a": "value_a"})
    arn = r.call("get_function", FunctionName=name)["Configuration"]["FunctionArn"]

    def snapshot(suffix: str) -> None:
        r.record(f"list_tags_response_{suffix}", "list_tags", Resource=arn)
        r.record(f"get_fn_response_{suffix}", "get_function", FunctionName=arn)

    snapshot("postfncreate")
    added = {"key_b": "value_b", "key_c": "value_c", "key_d": "value_d", "key_e": "value_e"}
    r.record("tag_resource_response", "tag_resource", Resource=arn, Tags=added)
    snapshot("postaddtags")
    r.record(
        "tag_resource_overwrite",
        "tag_resource",
        Resource=arn,
        Tags={"key_b": "value_b", "key_c": "value_x"},
    )
    snapshot("overwrite")
    r.call("untag_resource", Resource=arn, TagKeys=["key_c", "key_d"])
    snapshot("postuntag")
    r.call("untag_resource", Resource=arn, TagKeys=["key_a", "key_b", "key_e"])
    snapshot("postuntagall")
    r.call("delete_function", FunctionName=name)
    r.record("list_tags_postdelete", "list_tags", Resource=arn)


# --- TestLambdaReservedConcurrency ---------------------------------------------------------------


@scenario("TestLambdaReservedConcurrency::test_function_concurrency_exceptions")
def _concurrency_exceptions(r: Replay) -> None:
    put = "put_function_concurrency"
    r.record(
        "put_function_concurrency_with_function_name_doesnotexist",
        put,
        FunctionName="doesnotexist",
        ReservedConcurrentExecutions=1,
    )
    r.record(
        "put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency",
        put,
        FunctionName="doesnotexist",
        ReservedConcurrentExecutions=0,
    )
    name = r.name("lambda_func")
    r.create_for_test(name)
    latest = r.call("get_function_configuration", FunctionName=name, Qualifier="$LATEST")
    r.record(
        "put_function_concurrency_with_qualified_arn",
        put,
        FunctionName=latest.get("FunctionArn", ""),
        ReservedConcurrentExecutions=0,
    )


@scenario("TestLambdaReservedConcurrency::test_function_concurrency")
def _concurrency(r: Replay) -> None:
    name = r.name("lambda_func")
    r.create_for_test(name)
    put = "put_function_concurrency"
    r.record(
        "put_function_concurrency_with_reserved_0",
        put,
        FunctionName=name,
        ReservedConcurrentExecutions=0,
    )
    r.record(
        "put_function_concurrency_with_reserved_1",
        put,
        FunctionName=name,
        ReservedConcurrentExecutions=1,
    )
    r.record("get_function_concurrency", "get_function_concurrency", FunctionName=name)
    r.record("delete_response", "delete_function_concurrency", FunctionName=name)
    r.record("get_function_concurrency_after_delete", "get_function_concurrency", FunctionName=name)


@scenario("TestLambdaReservedConcurrency::test_function_concurrency_limits")
def _concurrency_limits(r: Replay) -> None:
    name = r.name("lambda_func")
    r.create_for_test(name)
    settings = r.call("get_account_settings")
    limit = int(settings.get("AccountLimit", {}).get("ConcurrentExecutions", 1000))
    put = "put_function_concurrency"
    r.record(
        "put_function_concurrency_account_limit_exceeded",
        put,
        FunctionName=name,
        ReservedConcurrentExecutions=limit + 1,
    )
    r.record(
        "put_function_concurrency_below_unreserved_min_value",
        put,
        FunctionName=name,
        ReservedConcurrentExecutions=limit,
    )


# --- TestLambdaSizeLimits ------------------------------------------------------------------------

KB = 1024


@scenario("TestLambdaSizeLimits::test_large_environment_variables_fails")
def _environment_over_4_kb(r: Replay) -> None:
    value = "x" * (4 * KB - 6 - len("LARGE_VAR"))
    r.keep(
        "failed_create_fn_result",
        r.create_for_test(r.name("large-envvar"), environment={"LARGE_VAR": value}),
    )


@scenario("TestLambdaSizeLimits::test_large_environment_fails_multiple_keys")
def _environment_over_4_kb_in_two_keys(r: Replay) -> None:
    environment = {"SMALL_VAR": "ok", "LARGE_VAR": "x" * 4064}
    r.keep(
        "failured_create_fn_result_multi_key",
        r.create_for_test(r.name("large-envvar"), environment=environment),
    )


@scenario("TestLambdaSizeLimits::test_lambda_envvars_near_limit_succeeds")
def _environment_of_4_kb(r: Replay) -> None:
    value = "x" * (4 * KB - 7 - len("LARGE_VAR"))
    name = r.name("large-envvar")
    r.keep("successful_create_fn_result", r.create_for_test(name, environment={"LARGE_VAR": value}))


# --- TestLoggingConfig ---------------------------------------------------------------------------


def _logging(r: Replay, name: str, **create: Any) -> None:
    r.keep("create_response", r.create_for_test(name, MemorySize=256, Timeout=5, **create))
    r.record("get_function_response", "get_function", FunctionName=name)
    r.record("function_config", "get_function_configuration", FunctionName=name)


def _logging_update(r: Replay, name: str, suffix: str, logging: dict[str, str]) -> None:
    r.record(
        f"updated_config{suffix}",
        "update_function_configuration",
        FunctionName=name,
        LoggingConfig=logging,
    )
    r.wait_updated(name)
    r.record(f"received_config{suffix}", "get_function_configuration", FunctionName=name)


@scenario("TestLoggingConfig::test_function_advanced_logging_configuration")
def _advanced_logging(r: Replay) -> None:
    name = r.name()
    _logging(r, name, LoggingConfig={"LogFormat": "JSON"})
    advanced = {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
        "LogGroup": "cool_lambda",
    }
    _logging_update(r, name, "", advanced)


@scenario("TestLoggingConfig::test_advanced_logging_configuration_format_switch")
def _logging_format_switch(r: Replay) -> None:
    name = r.name()
    _logging(r, name)
    _logging_update(r, name, "", {"LogFormat": "JSON"})
    _logging_update(r, name, "_v2", {"LogFormat": "Text"})


_PARTIAL_LOGGING = [
    {"LogFormat": "JSON"},
    {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"},
    {"LogFormat": "JSON", "SystemLogLevel": "DEBUG"},
    {"LogGroup": "cool_lambda"},
]


def _partial_logging(partial: dict[str, str]) -> Scenario:
    def replay(r: Replay) -> None:
        name = r.name()
        _logging(r, name)
        _logging_update(r, name, "", partial)

    return replay


for _index, _partial in enumerate(_PARTIAL_LOGGING):
    scenario(
        "TestLoggingConfig::test_function_partial_advanced_logging_configuration_update"
        f"[partial_config{_index}]"
    )(_partial_logging(_partial))


# --- running them --------------------------------------------------------------------------------


def replay(server: EmulatorServer, test: str, index: int = 0) -> dict[str, Any]:
    """Run one scenario against ``server``; the answers it recorded, by entry."""
    run = Replay(server, f"r{index}")
    try:
        SCENARIOS[test](run)
    finally:
        run.close()
    return run.answers


def replay_all(state: Path | None = None) -> list[Compared]:
    """Run every scenario on a fresh emulator and compare each with its recording."""
    recordings = load_recordings()
    with TemporaryDirectory() as folder:
        server = EmulatorServer(state or Path(folder) / "replay.sqlite")
        server.start()
        try:
            results: list[Compared] = []
            for index, test in enumerate(sorted(SCENARIOS)):
                results += compare_test(test, recordings[test], replay(server, test, index))
            return results
        finally:
            server.stop()

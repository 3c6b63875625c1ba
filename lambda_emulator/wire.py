"""Lambda's REST API on the wire: routing a request to a store call and shaping the JSON answer.

This is the thin shell between HTTP and ``EmulatorStore``: it knows the paths, query parameters,
JSON member names and success status codes of botocore's Lambda service model, and nothing of
Lambda's rules. It has no sockets either, so it can be read, and tested, as plain functions from
a request to a status and a body.

It is also the first thing hostile input meets, so nothing a client sends may make it fail other
than with a Lambda error: a body must be UTF-8 JSON, an object, nested at most
``MAX_JSON_DEPTH`` deep (judged before parsing, so that the parser never recurses further), and
free of lone surrogates, which SQLite could not store; anything else is the 400
``InvalidRequestContentException`` AWS answers a body it cannot parse with.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote

from lambda_emulator import packages
from lambda_emulator.configuration import (
    ConfigurationChange,
    FileSystemConfig,
    LoggingChange,
    VpcConfig,
    default_log_group,
    runtime_version_arn,
    vpc_id,
)
from lambda_emulator.packages import CodePackage
from lambda_emulator.store import (
    ACCOUNT_CONCURRENCY,
    ACCOUNT_LIMITS,
    AliasConfig,
    Caller,
    EmulatorStore,
    FunctionDetails,
    Page,
    VersionConfig,
)
from lambda_emulator.validation import (
    LATEST,
    LambdaApiError,
    Violation,
    invalid_parameter,
    validation_error,
)

Json = dict[str, Any]
T = TypeVar("T")

_FUNCTIONS = "/2015-03-31/functions"
_FUNCTION = "(?P<function>[^/]+)"
_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"{_FUNCTIONS}/?"), "functions"),
    (re.compile(rf"{_FUNCTIONS}/{_FUNCTION}/?"), "function"),
    (re.compile(rf"{_FUNCTIONS}/{_FUNCTION}/configuration/?"), "configuration"),
    (re.compile(rf"{_FUNCTIONS}/{_FUNCTION}/code/?"), "code"),
    (re.compile(rf"{_FUNCTIONS}/{_FUNCTION}/versions/?"), "versions"),
    (re.compile(rf"{_FUNCTIONS}/{_FUNCTION}/aliases/?"), "aliases"),
    (re.compile(rf"{_FUNCTIONS}/{_FUNCTION}/aliases/(?P<alias>[^/]+)/?"), "alias"),
    (re.compile(rf"/2020-06-30/functions/{_FUNCTION}/code-signing-config/?"), "code-signing"),
    (re.compile(r"/2017-03-31/tags/(?P<resource>[^/]+)/?"), "tags"),
    (re.compile(rf"/2019-09-30/functions/{_FUNCTION}/concurrency/?"), "concurrency-read"),
    (re.compile(rf"/2017-10-31/functions/{_FUNCTION}/concurrency/?"), "concurrency"),
    (re.compile(r"/2016-08-19/account-settings/?"), "account-settings"),
)
"""Each path of botocore's model the emulator answers; the date is the API version of the
operations behind it, which is why one resource (concurrency) has two."""
_OPERATIONS: Mapping[tuple[str, str], str] = {
    ("functions", "GET"): "ListFunctions",
    ("functions", "POST"): "CreateFunction",
    ("function", "GET"): "GetFunction",
    ("function", "DELETE"): "DeleteFunction",
    ("configuration", "GET"): "GetFunctionConfiguration",
    ("configuration", "PUT"): "UpdateFunctionConfiguration",
    ("code", "PUT"): "UpdateFunctionCode",
    ("versions", "GET"): "ListVersionsByFunction",
    ("versions", "POST"): "PublishVersion",
    ("aliases", "GET"): "ListAliases",
    ("aliases", "POST"): "CreateAlias",
    ("alias", "GET"): "GetAlias",
    ("alias", "PUT"): "UpdateAlias",
    ("alias", "DELETE"): "DeleteAlias",
    ("code-signing", "GET"): "GetFunctionCodeSigningConfig",
    ("code-signing", "PUT"): "PutFunctionCodeSigningConfig",
    ("code-signing", "DELETE"): "DeleteFunctionCodeSigningConfig",
    ("tags", "GET"): "ListTags",
    ("tags", "POST"): "TagResource",
    ("tags", "DELETE"): "UntagResource",
    ("concurrency-read", "GET"): "GetFunctionConcurrency",
    ("concurrency", "PUT"): "PutFunctionConcurrency",
    ("concurrency", "DELETE"): "DeleteFunctionConcurrency",
    ("account-settings", "GET"): "GetAccountSettings",
}
_CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/(?P<region>[^/,\s]+)/")
DEFAULT_REGION = "us-east-1"
MAX_JSON_DEPTH = 64
"""How deep a request body may nest arrays and objects. The deepest body the emulator reads
nests 3 levels (``RoutingConfig.AdditionalVersionWeights``, ``Environment.Variables``,
``VpcConfig.SubnetIds``), and no Lambda request much more;
Python's JSON parser recurses once per level and fails near 1000, at a depth that depends on how
much of the thread's stack is already used."""
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
"""A JSON string, escapes included; possessive, so that a long one is matched in one pass."""
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""The JSON escape of half a UTF-16 pair, ``\\ud800`` to ``\\udfff``."""


@dataclass(frozen=True, slots=True)
class Request:
    """An API request, routed: which operation, on what, with which parameters."""

    operation: str
    path_parameters: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    query_lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Every value of each query parameter, for those a client repeats (UntagResource's
    ``tagKeys``); ``query`` holds the last."""


@dataclass(frozen=True, slots=True)
class Response:
    """A status and a JSON body; ``None`` for the bodiless 204."""

    status: int
    body: Json | None
    error_code: str | None = None


def route(method: str, target: str, body: bytes) -> Request:
    """The operation a method and request target name; 404 or 405 when none does.

    The target is split by hand rather than by ``urlsplit``, which parses a target that starts
    with ``//`` as a host name and refuses some (``//[x``) with a ``ValueError``.
    """
    path, _, query = target.partition("#")[0].partition("?")
    for pattern, resource in _ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        operation = _OPERATIONS.get((resource, method))
        if operation is None:
            raise LambdaApiError(
                "MethodNotAllowedException",
                405,
                f"The method {method} is not allowed on {path}.",
            )
        path_parameters = {key: unquote(value) for key, value in match.groupdict().items()}
        lists = {key: tuple(values) for key, values in parse_qs(query).items()}
        parameters = {key: values[-1] for key, values in lists.items()}
        return Request(operation, path_parameters, parameters, body, lists)
    raise LambdaApiError(
        "UnknownOperationException", 404, f"No Lambda operation at {method} {path}."
    )


def caller(authorization: str | None, default_account: str) -> Caller:
    """Who made a request, and where, from its SigV4 ``Authorization`` header.

    The access key id is the credential's, the region the credential scope's. The account is the
    emulator's configured one, except that an access key id of exactly twelve digits is taken
    as the account number: a test can act in several accounts by choosing its access keys,
    since no signature is checked.
    """
    match = _CREDENTIAL.search(authorization or "")
    if match is None:
        return Caller(default_account, DEFAULT_REGION)
    key = match["key"]
    account = key if len(key) == 12 and key.isdigit() else default_account
    return Caller(account, match["region"], access_key_id=key)


class Api:
    """Runs routed requests against a store and shapes the answers as Lambda's JSON."""

    def __init__(self, store: EmulatorStore, s3_root: Path | None) -> None:
        self._store = store
        self._s3_root = s3_root
        self._handlers: Mapping[str, Callable[[Request, Caller], Response]] = {
            "ListFunctions": self._list_functions,
            "CreateFunction": self._create_function,
            "GetFunction": self._get_function,
            "DeleteFunction": self._delete_function,
            "GetFunctionConfiguration": self._get_function_configuration,
            "UpdateFunctionConfiguration": self._update_function_configuration,
            "UpdateFunctionCode": self._update_function_code,
            "ListVersionsByFunction": self._list_versions,
            "PublishVersion": self._publish_version,
            "ListAliases": self._list_aliases,
            "CreateAlias": self._create_alias,
            "GetAlias": self._get_alias,
            "UpdateAlias": self._update_alias,
            "DeleteAlias": self._delete_alias,
            "GetFunctionCodeSigningConfig": self._get_code_signing,
            "PutFunctionCodeSigningConfig": self._put_code_signing,
            "DeleteFunctionCodeSigningConfig": self._delete_code_signing,
            "ListTags": self._list_tags,
            "TagResource": self._tag_resource,
            "UntagResource": self._untag_resource,
            "GetFunctionConcurrency": self._get_concurrency,
            "PutFunctionConcurrency": self._put_concurrency,
            "DeleteFunctionConcurrency": self._delete_concurrency,
            "GetAccountSettings": self._account_settings,
        }

    def handle(self, request: Request, who: Caller) -> Response:
        """Answer one request; a refused one becomes Lambda's error response."""
        try:
            return self._handlers[request.operation](request, who)
        except LambdaApiError as error:
            return error_response(error)

    def _list_functions(self, request: Request, who: Caller) -> Response:
        page = self._store.list_functions(
            who,
            function_version=request.query.get("FunctionVersion"),
            marker=request.query.get("Marker"),
            max_items=_int_query(request.query, "MaxItems"),
        )
        return Response(200, _page(page, "Functions", _listed_config))

    def _create_function(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        code = _object(body, "Code") or {}
        dead_letter = _object(body, "DeadLetterConfig")
        config = self._store.create_function(
            who,
            _required_string(body, "FunctionName"),
            code=self._package(code),
            role=_string(body, "Role"),
            runtime=_string(body, "Runtime"),
            handler=_string(body, "Handler"),
            description=_string(body, "Description") or "",
            timeout=_integer(body, "Timeout"),
            memory_size=_integer(body, "MemorySize"),
            dead_letter_target=_string(dead_letter, "TargetArn") if dead_letter else None,
            package_type=_string(body, "PackageType") or "Zip",
            publish=_boolean(body, "Publish"),
            configuration=_configuration_change(body, architectures=True),
            tags=_string_map(body, "Tags"),
            code_signing_config_arn=_string(body, "CodeSigningConfigArn"),
        )
        return Response(201, config_json(config))

    def _get_function(self, request: Request, who: Caller) -> Response:
        details = self._store.describe_function(
            who, request.path_parameters["function"], request.query.get("Qualifier")
        )
        return Response(200, function_json(details))

    def _get_function_configuration(self, request: Request, who: Caller) -> Response:
        config = self._store.get_function(
            who, request.path_parameters["function"], request.query.get("Qualifier")
        )
        return Response(200, config_json(config))

    def _delete_function(self, request: Request, who: Caller) -> Response:
        self._store.delete_function(
            who, request.path_parameters["function"], request.query.get("Qualifier")
        )
        return Response(204, None)

    def _update_function_configuration(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        dead_letter = _object(body, "DeadLetterConfig")
        config = self._store.update_function_configuration(
            who,
            request.path_parameters["function"],
            description=_string(body, "Description"),
            role=_string(body, "Role"),
            runtime=_string(body, "Runtime"),
            handler=_string(body, "Handler"),
            timeout=_integer(body, "Timeout"),
            memory_size=_integer(body, "MemorySize"),
            dead_letter_target=(
                (_string(dead_letter, "TargetArn") or "") if dead_letter is not None else None
            ),
            revision_id=_string(body, "RevisionId"),
            configuration=_configuration_change(body, architectures=False),
        )
        return Response(200, config_json(config))

    def _update_function_code(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        config = self._store.update_function_code(
            who,
            request.path_parameters["function"],
            self._package(body),
            publish=_boolean(body, "Publish"),
            dry_run=_boolean(body, "DryRun"),
            revision_id=_string(body, "RevisionId"),
            architectures=_string_list(body, "Architectures"),
        )
        return Response(200, config_json(config))

    def _list_versions(self, request: Request, who: Caller) -> Response:
        page = self._store.list_versions(
            who,
            request.path_parameters["function"],
            marker=request.query.get("Marker"),
            max_items=_int_query(request.query, "MaxItems"),
        )
        return Response(200, _page(page, "Versions", _listed_config))

    def _publish_version(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        config = self._store.publish_version(
            who,
            request.path_parameters["function"],
            code_sha256=_string(body, "CodeSha256"),
            description=_string(body, "Description"),
            revision_id=_string(body, "RevisionId"),
        )
        return Response(201, config_json(config))

    def _list_aliases(self, request: Request, who: Caller) -> Response:
        page = self._store.list_aliases(
            who,
            request.path_parameters["function"],
            function_version=request.query.get("FunctionVersion"),
            marker=request.query.get("Marker"),
            max_items=_int_query(request.query, "MaxItems"),
        )
        return Response(200, _page(page, "Aliases", alias_json))

    def _create_alias(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        alias = self._store.create_alias(
            who,
            request.path_parameters["function"],
            _required_string(body, "Name"),
            function_version=_string(body, "FunctionVersion"),
            description=_string(body, "Description"),
            routing=_routing(body),
        )
        return Response(201, alias_json(alias))

    def _get_alias(self, request: Request, who: Caller) -> Response:
        alias = self._store.get_alias(
            who, request.path_parameters["function"], request.path_parameters["alias"]
        )
        return Response(200, alias_json(alias))

    def _update_alias(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        alias = self._store.update_alias(
            who,
            request.path_parameters["function"],
            request.path_parameters["alias"],
            function_version=_string(body, "FunctionVersion"),
            description=_string(body, "Description"),
            routing=_routing(body),
            revision_id=_string(body, "RevisionId"),
        )
        return Response(200, alias_json(alias))

    def _delete_alias(self, request: Request, who: Caller) -> Response:
        self._store.delete_alias(
            who, request.path_parameters["function"], request.path_parameters["alias"]
        )
        return Response(204, None)

    def _get_code_signing(self, request: Request, who: Caller) -> Response:
        self._store.get_function_code_signing_config(who, request.path_parameters["function"])
        return Response(200, {})

    def _put_code_signing(self, request: Request, who: Caller) -> Response:
        """Always refused: the emulator keeps no code signing configuration to attach (L56)."""
        body = _json(request.body)
        self._store.put_function_code_signing_config(
            who,
            request.path_parameters["function"],
            _required_string(body, "CodeSigningConfigArn"),
        )

    def _delete_code_signing(self, request: Request, who: Caller) -> Response:
        self._store.delete_function_code_signing_config(who, request.path_parameters["function"])
        return Response(204, None)

    def _list_tags(self, request: Request, who: Caller) -> Response:
        tags = self._store.list_tags(who, request.path_parameters["resource"])
        return Response(200, {"Tags": tags})

    def _tag_resource(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        tags = _string_map(body, "Tags")
        if tags is None:
            raise _null("Tags")
        self._store.tag_resource(who, request.path_parameters["resource"], tags)
        return Response(204, None)

    def _untag_resource(self, request: Request, who: Caller) -> Response:
        keys = request.query_lists.get("tagKeys", ())
        self._store.untag_resource(who, request.path_parameters["resource"], keys)
        return Response(204, None)

    def _get_concurrency(self, request: Request, who: Caller) -> Response:
        reserved = self._store.get_function_concurrency(who, request.path_parameters["function"])
        return Response(200, {} if reserved is None else {"ReservedConcurrentExecutions": reserved})

    def _put_concurrency(self, request: Request, who: Caller) -> Response:
        body = _json(request.body)
        reserved = _integer(body, "ReservedConcurrentExecutions")
        if reserved is None:
            raise _null("ReservedConcurrentExecutions")
        answer = self._store.put_function_concurrency(
            who, request.path_parameters["function"], reserved
        )
        return Response(200, {"ReservedConcurrentExecutions": answer})

    def _delete_concurrency(self, request: Request, who: Caller) -> Response:
        self._store.delete_function_concurrency(who, request.path_parameters["function"])
        return Response(204, None)

    def _account_settings(self, request: Request, who: Caller) -> Response:
        settings = self._store.account_settings(who)
        body = {
            "AccountLimit": {
                **ACCOUNT_LIMITS,
                "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
                "UnreservedConcurrentExecutions": settings.unreserved_concurrency,
            },
            "AccountUsage": {
                "TotalCodeSize": settings.total_code_size,
                "FunctionCount": settings.function_count,
            },
        }
        return Response(200, body)

    def _package(self, code: Json) -> CodePackage:
        """The code of a CreateFunction ``Code`` or an UpdateFunctionCode body."""
        zip_file = _string(code, "ZipFile")
        bucket = _string(code, "S3Bucket")
        if zip_file is not None:
            if bucket is not None:
                raise invalid_parameter(
                    "Please do not provide other FunctionCode parameters when providing a ZipFile."
                )
            try:
                data = base64.b64decode(zip_file, validate=True)
            except binascii.Error as error:
                raise invalid_parameter(
                    "Could not unzip uploaded file. Please check your file, then try to upload "
                    "again."
                ) from error
            return packages.from_zip(data)
        if bucket is not None:
            return packages.from_s3(
                self._s3_root,
                bucket,
                _string(code, "S3Key") or "",
                _string(code, "S3ObjectVersion"),
            )
        raise invalid_parameter("Please provide a source for function code.")


_CAPITALIZED_MESSAGE = frozenset(
    {"ResourceNotFoundException", "CodeSigningConfigNotFoundException", "ServiceException"}
)
"""Errors whose message member botocore's model spells ``Message``, as AWS sends it (L51);
the others spell it ``message``."""


def error_response(error: LambdaApiError) -> Response:
    """Lambda's error answer: botocore reads the code from ``x-amzn-ErrorType``, and the
    message from the member the error's shape names (L51)."""
    body: Json = {}
    if error.typed:
        body["Type"] = "Service" if error.status >= 500 else "User"
    body["Message" if error.code in _CAPITALIZED_MESSAGE else "message"] = error.message
    return Response(error.status, body, error.code)


def throttled_response() -> Response:
    """The 429 of a request over the rate quota, with the body AWS sends (rule L41)."""
    body = {"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded"}
    return Response(429, body, "TooManyRequestsException")


def function_json(details: FunctionDetails) -> Json:
    """GetFunction's answer: ``Tags`` only when the function has some, ``Concurrency`` only
    when it has a reservation (L53, L55)."""
    config = details.configuration
    location = (
        f"https://awslambda-{config.region}-tasks.s3.{config.region}.amazonaws.com/snapshots/"
        f"{config.function_name}-{config.code_sha256}"
    )
    body: Json = {
        "Configuration": config_json(config),
        "Code": {"RepositoryType": "S3", "Location": location},
    }
    if details.tags:
        body["Tags"] = dict(details.tags)
    if details.reserved_concurrency is not None:
        body["Concurrency"] = {"ReservedConcurrentExecutions": details.reserved_concurrency}
    return body


def config_json(config: VersionConfig) -> Json:
    """A ``FunctionConfiguration`` as GetFunctionConfiguration and the writes return it: the
    listed form with the state, and the runtime's version (L25, L49)."""
    body = _listed_config(config)
    if config.runtime is not None and config.package_type == "Zip":
        body["RuntimeVersionConfig"] = {
            "RuntimeVersionArn": runtime_version_arn(config.region, config.runtime)
        }
    body["State"] = config.state
    if config.state == "Pending":
        body["StateReason"] = "The function is being created."
        body["StateReasonCode"] = "Creating"
    if config.last_update_status is not None:
        body["LastUpdateStatus"] = config.last_update_status
    if config.last_update_status == "InProgress":
        # L28: the reason code AWS reports for a code or configuration update in progress.
        body["LastUpdateStatusReason"] = "The function is being created."
        body["LastUpdateStatusReasonCode"] = "Creating"
    return body


def _listed_config(config: VersionConfig) -> Json:
    """A ``FunctionConfiguration`` as the list operations return it: no state fields (L25)."""
    settings = config.configuration
    logging = settings.logging
    logging_json: Json = {
        "LogFormat": logging.log_format,
        "LogGroup": logging.log_group or default_log_group(config.function_name),
    }
    if logging.application_log_level is not None:
        logging_json["ApplicationLogLevel"] = logging.application_log_level
    if logging.system_log_level is not None:
        logging_json["SystemLogLevel"] = logging.system_log_level
    optimized = config.version != LATEST and settings.snap_start == "PublishedVersions"
    body: Json = {
        "FunctionName": config.function_name,
        "FunctionArn": config.function_arn,
        "Role": config.role,
        "CodeSize": config.code_size,
        "Description": config.description,
        "Timeout": config.timeout,
        "MemorySize": config.memory_size,
        "LastModified": config.last_modified,
        "CodeSha256": config.code_sha256,
        "Version": config.version,
        "TracingConfig": {"Mode": settings.tracing_mode},
        "RevisionId": config.revision_id,
        "PackageType": config.package_type,
        "Architectures": list(settings.architectures),
        "EphemeralStorage": {"Size": settings.ephemeral_storage},
        "LoggingConfig": logging_json,
        "SnapStart": {
            "ApplyOn": settings.snap_start,
            "OptimizationStatus": "On" if optimized else "Off",
        },
    }
    if config.runtime is not None:
        body["Runtime"] = config.runtime
    if config.handler is not None:
        body["Handler"] = config.handler
    if config.dead_letter_target is not None:
        body["DeadLetterConfig"] = {"TargetArn": config.dead_letter_target}
    if settings.environment is not None:
        body["Environment"] = {"Variables": dict(settings.environment)}
    if settings.layers:
        # The emulator keeps no layers, so it knows no layer's size (L59).
        body["Layers"] = [{"Arn": arn, "CodeSize": 0} for arn in settings.layers]
    if settings.vpc is not None:
        body["VpcConfig"] = {
            "SubnetIds": list(settings.vpc.subnet_ids),
            "SecurityGroupIds": list(settings.vpc.security_group_ids),
            "VpcId": vpc_id(config.account, config.region) if settings.vpc.subnet_ids else "",
            "Ipv6AllowedForDualStack": settings.vpc.ipv6_allowed_for_dual_stack,
        }
    if settings.kms_key_arn is not None:
        body["KMSKeyArn"] = settings.kms_key_arn
    if settings.file_systems:
        body["FileSystemConfigs"] = [
            {"Arn": system.arn, "LocalMountPath": system.local_mount_path}
            for system in settings.file_systems
        ]
    return body


def alias_json(alias: AliasConfig) -> Json:
    """An ``AliasConfiguration``; an empty routing is left out (rule L20)."""
    body: Json = {
        "AliasArn": alias.alias_arn,
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.routing:
        body["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.routing)}
    return body


def _page(page: Page[T], member: str, shape: Callable[[T], Json]) -> Json:
    body: Json = {member: [shape(item) for item in page.items]}
    if page.next_marker is not None:
        body["NextMarker"] = page.next_marker
    return body


def _bad_request(message: str) -> LambdaApiError:
    return LambdaApiError("InvalidRequestContentException", 400, message)


def _json(body: bytes) -> Json:
    if not body.strip():
        return {}
    return parse_object(body)


def parse_object(body: bytes) -> Json:
    """A request body as a JSON object, or the 400 AWS answers a body it cannot parse with."""
    try:
        parsed = _loads(body)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError among them
        raise _bad_request(f"Could not parse request body into json: {error}") from error
    if not isinstance(parsed, dict):
        raise _bad_request("Could not parse request body into json: expected an object")
    return parsed


def _loads(body: bytes) -> object:
    """Parse UTF-8 JSON that is not nested too deep and holds only text; ``ValueError`` if not."""
    text = body.decode("utf-8")
    if _nests_deeper_than(text, MAX_JSON_DEPTH):
        raise ValueError(f"it nests arrays or objects deeper than {MAX_JSON_DEPTH} levels")
    parsed = json.loads(text, parse_constant=_refuse_constant)
    if _SURROGATE_ESCAPE.search(text):  # decoded UTF-8 holds none; only an escape makes one
        _refuse_lone_surrogates(parsed)
    return parsed


def _nests_deeper_than(text: str, limit: int) -> bool:
    """Whether ``text`` nests arrays and objects more than ``limit`` deep.

    Strings are taken out first, since a bracket in a string nests nothing. Where ``text`` is
    not JSON the answer may be too high, never too low for the part a parser would read before
    it stops, which is all that matters. Counting brackets first settles most bodies at C speed.
    """
    skeleton = _JSON_STRING.sub("", text)
    if skeleton.count("[") + skeleton.count("{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_BRACKET.finditer(skeleton):
        depth += 1 if bracket[0] in "[{" else -1
        if depth > limit:
            return True
    return False


def _refuse_constant(name: str) -> float:
    """``NaN`` and ``Infinity`` are not JSON, though Python's parser accepts them."""
    raise ValueError(f"{name} is not a JSON value")


def _refuse_lone_surrogates(value: object) -> None:
    """Refuse strings that hold half of a UTF-16 pair (``"\\ud800"``): valid JSON escapes, but
    no text, and SQLite refuses to store them."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():  # a flag on the string, so a long base64 zip costs nothing
                item.encode("utf-8")  # raises UnicodeEncodeError, a ValueError
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _member(body: Json | None, name: str, kind: type[T], kind_name: str) -> T | None:
    value = (body or {}).get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _bad_request(f"Could not parse request body into json: {name} must be {kind_name}")
    return value


def _string(body: Json | None, name: str) -> str | None:
    return _member(body, name, str, "a string")


def _required_string(body: Json, name: str) -> str:
    value = _string(body, name)
    if value is None:
        raise _null(name)
    return value


def _null(name: str) -> LambdaApiError:
    """The ValidationException of a required member a request left out."""
    lowered = name[0].lower() + name[1:]
    return validation_error([Violation(None, lowered, "Member must not be null")])


def _string_list(body: Json | None, name: str) -> tuple[str, ...] | None:
    """A list of strings, such as ``Architectures`` or ``Layers``."""
    items = _member(body, name, list, "a list of strings")
    if items is None:
        return None
    if not all(isinstance(item, str) for item in items):
        raise _bad_request(f"Could not parse request body into json: {name} must hold strings")
    return tuple(items)


def _string_map(body: Json | None, name: str) -> dict[str, str] | None:
    """A map of strings to strings, such as ``Tags`` or ``Environment.Variables``."""
    items = _object(body, name)
    if items is None:
        return None
    if not all(isinstance(value, str) for value in items.values()):
        raise _bad_request(f"Could not parse request body into json: {name} values must be text")
    return {str(key): str(value) for key, value in items.items()}


def _configuration_change(body: Json, *, architectures: bool) -> ConfigurationChange:
    """The configuration members of a CreateFunction or UpdateFunctionConfiguration body
    (``Architectures`` is CreateFunction's and UpdateFunctionCode's only)."""
    environment = _object(body, "Environment")
    tracing = _object(body, "TracingConfig")
    storage = _object(body, "EphemeralStorage")
    snap_start = _object(body, "SnapStart")
    return ConfigurationChange(
        environment=None if environment is None else _string_map(environment, "Variables") or {},
        layers=_string_list(body, "Layers"),
        vpc=_vpc(body),
        tracing_mode=_string(tracing, "Mode"),
        ephemeral_storage=_integer(storage or {}, "Size"),
        architectures=_string_list(body, "Architectures") if architectures else None,
        logging=_logging(body),
        snap_start=_string(snap_start, "ApplyOn"),
        kms_key_arn=_string(body, "KMSKeyArn"),
        file_systems=_file_systems(body),
    )


def _vpc(body: Json) -> VpcConfig | None:
    vpc = _object(body, "VpcConfig")
    if vpc is None:
        return None
    return VpcConfig(
        _string_list(vpc, "SubnetIds") or (),
        _string_list(vpc, "SecurityGroupIds") or (),
        _boolean(vpc, "Ipv6AllowedForDualStack"),
    )


def _logging(body: Json) -> LoggingChange | None:
    logging = _object(body, "LoggingConfig")
    if logging is None:
        return None
    return LoggingChange(
        _string(logging, "LogFormat"),
        _string(logging, "ApplicationLogLevel"),
        _string(logging, "SystemLogLevel"),
        _string(logging, "LogGroup"),
    )


def _file_systems(body: Json) -> tuple[FileSystemConfig, ...] | None:
    systems = _member(body, "FileSystemConfigs", list, "a list of objects")
    if systems is None:
        return None
    if not all(isinstance(system, dict) for system in systems):
        raise _bad_request(
            "Could not parse request body into json: FileSystemConfigs must hold objects"
        )
    return tuple(
        FileSystemConfig(_string(system, "Arn") or "", _string(system, "LocalMountPath") or "")
        for system in systems
    )


def _integer(body: Json, name: str) -> int | None:
    return _member(body, name, int, "an integer")


def _boolean(body: Json, name: str) -> bool:
    return bool(_member(body, name, bool, "a boolean"))


def _object(body: Json | None, name: str) -> Json | None:
    return _member(body, name, dict, "an object")


def _routing(body: Json) -> dict[str, float | None] | None:
    routing = _object(body, "RoutingConfig")
    if routing is None:
        return None
    weights = _object(routing, "AdditionalVersionWeights") or {}
    parsed: dict[str, float | None] = {}
    for version, weight in weights.items():
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int | float)):
            raise _bad_request(
                "Could not parse request body into json: AdditionalVersionWeights values must "
                "be numbers"
            )
        parsed[str(version)] = None if weight is None else _double(weight)
    return parsed


def _double(number: float) -> float:
    """A number as Java reads it into a ``Double``: an integer too large for one is infinite,
    where Python's ``float`` raises ``OverflowError``."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _int_query(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    # int() would also take "1_000", " 12 " and digits of other scripts, none of which is how
    # a client writes an integer in a query string.
    if re.fullmatch("-?[0-9]+", value) is None:
        raise invalid_parameter(f"{name} must be an integer, not {value!r}")
    try:
        return int(value)
    except ValueError:  # more digits than int() converts
        raise invalid_parameter(f"{name} must be an integer, not {value!r}") from None


__all__ = [
    "Api",
    "Request",
    "Response",
    "caller",
    "config_json",
    "error_response",
    "function_json",
    "parse_object",
    "route",
    "throttled_response",
]

"""The boto3 adapter of the registry port: one implementation for AWS, moto and the emulator.

Everything specific to botocore lives here: clients per account and region, retry modes,
credentials from the default chain or an assumed role, pagination, waiting for an update to
finish, and the translation of botocore's exceptions into ``controller.errors``. Because the
emulated registry speaks Lambda's own REST API, the same code path, retries included, runs
against all three.

Lambda's control-plane quota is 15 requests/s per account and region (rule L40), so every HTTP
attempt, retries included, first takes a token from a ``RateLimiter`` shared by all threads; and
each logical call, and each throttled attempt, is reported to a ``RegistryObserver`` for the
metrics. Both hook into botocore's per-client events, because only there is every attempt seen.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError

from controller import __version__
from controller.adapters.logging import get_logger
from controller.adapters.registry.port import (
    ListedVersion,
    RegionVersionsPage,
    RegistryObserver,
)
from controller.adapters.registry.ratelimit import DEFAULT_REQUESTS_PER_SECOND, RateLimiter
from controller.core.configuration import (
    DEFAULT_ARCHITECTURES,
    DEFAULT_EPHEMERAL_STORAGE,
    DEFAULT_MEMORY_SIZE,
    DEFAULT_TIMEOUT,
    Configuration,
    environment,
)
from controller.core.events import WriterIdentity
from controller.core.model import (
    FUNCTION_ARN_PATTERN,
    LATEST,
    Alias,
    CodeSource,
    FunctionId,
    FunctionRef,
    FunctionState,
    PublishedVersion,
    S3Code,
    ZipCode,
    weight,
)
from controller.core.priority import is_urgent
from controller.errors import (
    AccessDenied,
    ConfigurationError,
    Conflict,
    InvalidRequest,
    LambdaGitopsError,
    NotFound,
    PreconditionFailed,
    RegistryError,
    Throttled,
    Transient,
    UpdateInProgress,
)
from controller.redaction import mask_environment

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_lambda.type_defs import (
        AliasConfigurationResponseTypeDef,
        AliasConfigurationTypeDef,
        FunctionConfigurationResponseTypeDef,
        FunctionConfigurationTypeDef,
    )
    from mypy_boto3_sts import STSClient

RetryMode = Literal["standard", "adaptive"]


@dataclass(frozen=True, slots=True)
class AssumeRole:
    """The role to assume for one account, with STS, refreshed before its credentials expire."""

    role_arn: str
    session_name: str = "lambda-gitops"
    external_id: str | None = None
    duration_seconds: int = 3600


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """How to reach Lambda: endpoint, retries, credentials per account, and update waiting."""

    endpoint_url: str | None = None
    """Another Lambda endpoint than AWS's: a moto server or the emulated registry."""
    sts_endpoint_url: str | None = None
    """Another STS endpoint than AWS's, for assumed roles."""
    retry_mode: RetryMode = "standard"
    max_attempts: int = 5
    """Attempts per call, the first included; botocore retries throttling and 5xx (rule L42)."""
    roles: Mapping[str, AssumeRole] = field(default_factory=dict)
    """Account id -> role to assume there; other accounts use the default credential chain."""
    update_poll_seconds: float = 1.0
    """How often to look at ``LastUpdateStatus`` while an update runs (``function_updated_v2``)."""
    update_timeout_seconds: float = 300.0
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    max_pool_connections: int = 20
    account: str | None = None
    """The account of the default credentials, when known without asking STS."""
    requests_per_second: float | None = DEFAULT_REQUESTS_PER_SECOND
    """Client-side pace per account and region, every attempt counted; ``None`` sends unpaced.

    Lambda's quota is 15/s per region and cannot be raised (rule L40); staying below it avoids
    spending the quota on refused requests and their backoff.
    """


class AwsRegistry:
    """The registry port over boto3, for any number of accounts and regions.

    Clients are made on first use, one per (account, region), and shared by all threads: boto3
    clients are thread-safe, sessions are not, so sessions are only touched under a lock.

    ``limiter`` paces the requests; when it is not given, one is made from
    ``settings.requests_per_second``. Several ``AwsRegistry`` objects that reach the same
    accounts must share one limiter, or together they exceed the pace. ``observer`` hears of
    every logical call and every throttled attempt.
    """

    def __init__(
        self,
        settings: AwsSettings | None = None,
        *,
        session: boto3.Session | None = None,
        observer: RegistryObserver | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings or AwsSettings()
        self._observer = observer
        self._limiter = (
            limiter if limiter is not None else RateLimiter(self._settings.requests_per_second)
        )
        self._base_session = session or boto3.Session()
        self._sessions: dict[str | None, boto3.Session] = {None: self._base_session}
        self._clients: dict[tuple[str | None, str], LambdaClient] = {}
        self._lock = threading.Lock()
        self._caller_account: str | None = None
        self._caller_arn: str | None = None
        self._caller_asked = False
        self._sleep = sleep
        self._clock = clock

    # -- who we are ----------------------------------------------------------------------------

    def caller_account(self) -> str | None:
        """The account of the default credentials, which a bare function name means.

        It is the configured one, or else STS ``GetCallerIdentity`` says, asked once (it costs
        no Lambda quota). ``None`` when STS cannot tell (no STS at the endpoint, no network):
        declarations are then compared as if a bare name could be any account's, which is safe.
        """
        if self._settings.account is not None:
            return self._settings.account
        return self._caller_identity()[0]

    def writer_identity(self) -> WriterIdentity:
        """Who this registry's writes come from, as CloudTrail names the caller of a change
        event: the principal ARN STS ``GetCallerIdentity`` answers for the default credentials
        (asked once), the session ARN of each account's assumed role, and the access key id the
        default credentials sign with now. Temporary credentials get a new key when they are
        renewed, so a caller asks again now and then. Empty where nothing is known (the emulator
        has no STS, but its callers' keys are known)."""
        arns = {arn for arn in (self._caller_identity()[1],) if arn is not None}
        arns |= {_session_arn(role) for role in self._settings.roles.values()}
        keys: set[str] = set()
        try:
            credentials = self._base_session.get_credentials()
            key = credentials.get_frozen_credentials().access_key if credentials else None
            if key:
                keys.add(key)
        except (BotoCoreError, ClientError):
            pass  # no credentials now (a renewal failed): no write is signed with them either
        return WriterIdentity(frozenset(arns - {""}), frozenset(keys))

    def _caller_identity(self) -> tuple[str | None, str | None]:
        """The account and principal ARN STS answers for the default credentials, asked once;
        ``(None, None)`` when it cannot tell."""
        with self._lock:
            if self._caller_asked:
                return self._caller_account, self._caller_arn
        account: str | None
        arn: str | None
        try:
            sts = self._base_session.client(
                "sts",
                endpoint_url=self._settings.sts_endpoint_url or self._settings.endpoint_url,
                region_name=self._base_session.region_name or "us-east-1",
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": 2},
                    connect_timeout=self._settings.connect_timeout_seconds,
                    read_timeout=5.0,
                ),
            )
            identity = sts.get_caller_identity()
            found, arn = identity.get("Account"), identity.get("Arn")
            account = found if isinstance(found, str) and found.isdigit() else None
            arn = arn if isinstance(arn, str) and arn.startswith("arn:") else None
        except (BotoCoreError, ClientError, ResponseParserError):
            # An endpoint that speaks only Lambda (the emulator) answers STS with Lambda's JSON.
            account, arn = None, None
        with self._lock:
            self._caller_account, self._caller_arn = account, arn
            self._caller_asked = True
        return account, arn

    # -- reading --------------------------------------------------------------------------------

    def get_function(self, function: FunctionRef) -> FunctionState:
        with self._calling("GetFunction", function):
            response = self._client(function).get_function(FunctionName=function.name)
        return _function_state(response["Configuration"])

    def list_functions(self, region: str, account: str | None = None) -> list[FunctionState]:
        client = self._client(FunctionRef(name="", region=region, account=account))
        with self._calling("ListFunctions", region=region):
            pages = client.get_paginator("list_functions").paginate()
            return [_function_state(item) for page in pages for item in page["Functions"]]

    def list_region_versions_page(
        self, region: str, account: str | None = None, *, marker: str | None = None
    ) -> RegionVersionsPage:
        client = self._client(FunctionRef(name="", region=region, account=account))
        # No MaxItems: Lambda answers at most 50 items a page whatever it says (rule L24).
        with self._calling("ListFunctions", region=region):
            if marker is None:
                response = client.list_functions(FunctionVersion="ALL")
            else:
                response = client.list_functions(FunctionVersion="ALL", Marker=marker)
        versions: list[ListedVersion] = []
        functions: list[FunctionId] = []
        for item in response["Functions"]:
            function = _listed_function(item, region, account)
            if item.get("Version", LATEST) == LATEST:
                functions.append(function)
            else:
                versions.append(ListedVersion(function, _published_version(item)))
        return RegionVersionsPage(tuple(versions), tuple(functions), response.get("NextMarker"))

    def list_versions(
        self, function: FunctionRef, *, fresh: bool = False
    ) -> list[PublishedVersion]:
        # Every listing is read from Lambda, so ``fresh`` changes nothing here; caching is the
        # business of ``cache.CachingRegistry``.
        del fresh
        with self._calling("ListVersionsByFunction", function):
            pages = self._client(function).get_paginator("list_versions_by_function")
            items = [
                item
                for page in pages.paginate(FunctionName=function.name)
                for item in page["Versions"]
            ]
        versions = [_published_version(item) for item in items if item["Version"] != LATEST]
        return sorted(versions, key=lambda version: version.number)

    def list_aliases(
        self, function: FunctionRef, *, function_version: str | None = None
    ) -> list[Alias]:
        arguments: dict[str, Any] = {"FunctionName": function.name}
        if function_version is not None:
            arguments["FunctionVersion"] = function_version
        with self._calling("ListAliases", function):
            pages = self._client(function).get_paginator("list_aliases").paginate(**arguments)
            aliases = [_alias(item) for page in pages for item in page["Aliases"]]
        return sorted(aliases, key=lambda alias: alias.name)

    # -- writing --------------------------------------------------------------------------------

    def publish_version(
        self,
        function: FunctionRef,
        *,
        code_sha256: str,
        revision_id: str | None = None,
        description: str | None = None,
    ) -> PublishedVersion:
        arguments: dict[str, str] = {"FunctionName": function.name, "CodeSha256": code_sha256}
        if revision_id is not None:
            arguments["RevisionId"] = revision_id
        if description is not None:
            arguments["Description"] = description
        with self._calling("PublishVersion", function):
            response = self._client(function).publish_version(**arguments)  # type: ignore[arg-type]
        return _published_version(response)

    def update_code(
        self,
        function: FunctionRef,
        code: CodeSource,
        *,
        revision_id: str | None = None,
        architectures: tuple[str, ...] | None = None,
    ) -> FunctionState:
        arguments: dict[str, Any] = {"FunctionName": function.name}
        if architectures is not None:
            arguments["Architectures"] = list(architectures)
        match code:
            case ZipCode(data=data):
                arguments["ZipFile"] = data
            case S3Code(bucket=bucket, key=key, object_version=object_version):
                arguments.update(S3Bucket=bucket, S3Key=key)
                if object_version is not None:
                    arguments["S3ObjectVersion"] = object_version
        if revision_id is not None:
            arguments["RevisionId"] = revision_id
        with self._calling("UpdateFunctionCode", function):
            self._client(function).update_function_code(**arguments)
        return self.wait_until_settled(function)

    def update_configuration(
        self, function: FunctionRef, configuration: Configuration, *, revision_id: str | None
    ) -> FunctionState:
        if configuration.architectures is not None:
            raise InvalidRequest(
                "Lambda sets a function's architectures only with its code (UpdateFunctionCode)",
                code="ArchitecturesWithCode",
                operation="UpdateFunctionConfiguration",
            )
        arguments = {"FunctionName": function.name, **_configuration_arguments(configuration)}
        if revision_id is not None:
            arguments["RevisionId"] = revision_id
        try:
            with self._calling("UpdateFunctionConfiguration", function):
                self._client(function).update_function_configuration(**arguments)
        except RegistryError as error:
            # Lambda's refusal of a large environment quotes every variable (rule L58), and
            # botocore's error, this one's cause, keeps that text: neither may reach a log.
            raise _without_environment(error, configuration) from None
        return self.wait_until_settled(function)

    def wait_until_settled(self, function: FunctionRef) -> FunctionState:
        """Poll ``$LATEST`` until no creation or update is in progress (``function_updated_v2``).

        Raises ``InvalidRequest`` if Lambda reports the update as failed, and ``Transient`` if it
        is still running after ``update_timeout_seconds``.
        """
        deadline = self._clock() + self._settings.update_timeout_seconds
        while True:
            state = self.get_function(function)
            if state.last_update_status == "Failed" or state.state == "Failed":
                raise InvalidRequest(
                    f"the last update of {function.name} failed; see its LastUpdateStatusReason",
                    code="UpdateFailed",
                    operation="GetFunction",
                )
            if state.is_settled:
                return state
            if self._clock() >= deadline:
                raise Transient(
                    f"{function.name} is still being updated after "
                    f"{self._settings.update_timeout_seconds:g} s",
                    code="UpdateTimeout",
                    operation="GetFunction",
                )
            self._sleep(self._settings.update_poll_seconds)

    def create_alias(
        self,
        function: FunctionRef,
        name: str,
        *,
        function_version: str,
        routing: Mapping[str, Decimal] | None = None,
        description: str = "",
    ) -> Alias:
        arguments: dict[str, Any] = {
            "FunctionName": function.name,
            "Name": name,
            "FunctionVersion": function_version,
            "Description": description,
        }
        if routing:
            arguments["RoutingConfig"] = _routing_config(routing)
        with self._calling("CreateAlias", function):
            response = self._client(function).create_alias(**arguments)
        return _alias(response)

    def update_alias(
        self,
        function: FunctionRef,
        name: str,
        *,
        function_version: str,
        routing: Mapping[str, Decimal] | None = None,
        description: str | None = None,
        revision_id: str,
    ) -> Alias:
        # RoutingConfig goes with every update, empty to clear it, so that a weight that named
        # the new primary version cannot survive the promotion (rule L22).
        arguments: dict[str, Any] = {
            "FunctionName": function.name,
            "Name": name,
            "FunctionVersion": function_version,
            "RoutingConfig": _routing_config(routing or {}),
            "RevisionId": revision_id,
        }
        if description is not None:
            arguments["Description"] = description
        with self._calling("UpdateAlias", function):
            response = self._client(function).update_alias(**arguments)
        return _alias(response)

    def delete_alias(self, function: FunctionRef, name: str) -> None:
        with self._calling("DeleteAlias", function):
            self._client(function).delete_alias(FunctionName=function.name, Name=name)

    def delete_version(self, function: FunctionRef, number: int) -> None:
        with self._calling("DeleteFunction", function):
            self._client(function).delete_function(
                FunctionName=function.name, Qualifier=str(number)
            )

    # -- pacing and instrumentation -------------------------------------------------------------

    @contextmanager
    def _calling(
        self, operation: str, function: FunctionRef | None = None, *, region: str | None = None
    ) -> Iterator[None]:
        """One logical call: its errors translated, its outcome and duration reported, and
        logged at debug level (``-v``) with the function it was about.

        The duration is the caller's: pages, retries, backoff and client-side pacing included.
        """
        started = self._clock()
        outcome = "success"
        try:
            with translated(operation):
                yield
        except LambdaGitopsError as error:
            outcome = outcome_of(error)
            raise
        except BaseException:
            outcome = "error"
            raise
        finally:
            seconds = self._clock() - started
            if self._observer is not None:
                self._observer.request(operation, outcome, seconds)
            get_logger("controller.adapters.registry").debug(
                "registry call",
                operation=operation,
                function=function.name if function is not None else None,
                region=function.region if function is not None else region,
                outcome=outcome,
                duration=round(seconds, 3),
            )

    def _instrument(self, client: LambdaClient, account: str | None, region: str) -> None:
        """Pace every attempt of ``client`` and count the throttled ones.

        ``before-send`` fires once per HTTP attempt, after botocore's retry backoff, so a retry
        waits for a token like any other request; ``response-received`` also fires per attempt,
        so the throttles that botocore retries are counted too, not only the last one.
        """
        events = client.meta.events
        if self._limiter.enabled:
            events.register("before-send.lambda", partial(self._pace, account, region))
        if self._observer is not None:
            events.register("response-received.lambda", self._count_throttling)

    def _pace(self, account: str | None, region: str, **_: Any) -> None:
        self._limiter.acquire(account, region, urgent=is_urgent())

    def _count_throttling(
        self,
        event_name: str,
        response_dict: Mapping[str, Any] | None = None,
        parsed_response: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        if self._observer is None or response_dict is None:
            return
        code = (parsed_response or {}).get("Error", {}).get("Code", "")
        if response_dict.get("status_code") == 429 or code in _THROTTLING_CODES:
            self._observer.throttled(event_name.rsplit(".", maxsplit=1)[-1])

    # -- clients and credentials ----------------------------------------------------------------

    def _client(self, function: FunctionRef) -> LambdaClient:
        key = (function.account, function.region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._session(function.account).client(
                    "lambda",
                    region_name=function.region,
                    endpoint_url=self._settings.endpoint_url,
                    config=self._config(),
                )
                self._instrument(client, function.account, function.region)
                self._clients[key] = client
        return client

    def _config(self) -> Config:
        settings = self._settings
        return Config(
            retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            max_pool_connections=settings.max_pool_connections,
            user_agent_extra=f"lambda-gitops/{__version__}",
        )

    def _session(self, account: str | None) -> boto3.Session:
        """The session for an account: the default chain, or the account's assumed role."""
        session = self._sessions.get(account)
        if session is not None:
            return session
        role = self._settings.roles.get(account) if account is not None else None
        if role is None:
            session = self._base_session
        else:
            sts = self._base_session.client(
                "sts",
                endpoint_url=self._settings.sts_endpoint_url,
                region_name=self._base_session.region_name or "us-east-1",
                config=self._config(),
            )
            session = assumed_role_session(sts, role)
        self._sessions[account] = session
        return session


def assumed_role_session(sts: STSClient, role: AssumeRole) -> boto3.Session:
    """A session whose credentials come from STS AssumeRole and are renewed before they expire.

    botocore's refreshable credentials call ``fetch`` again once fewer than 15 minutes of
    validity remain, so a long-running controller never signs with expired credentials.
    """

    def fetch() -> dict[str, str]:
        arguments: dict[str, Any] = {
            "RoleArn": role.role_arn,
            "RoleSessionName": role.session_name,
            "DurationSeconds": role.duration_seconds,
        }
        if role.external_id is not None:
            arguments["ExternalId"] = role.external_id
        with translated("AssumeRole"):
            credentials = sts.assume_role(**arguments)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    core = botocore.session.Session()
    resolver = core.get_component("credential_provider")
    resolver.insert_before("env", _AssumedRoleProvider(fetch))
    return boto3.Session(botocore_session=core)


def _session_arn(role: AssumeRole) -> str:
    """The ARN CloudTrail names a session of ``role`` by: ``arn:PARTITION:sts::ACCOUNT:
    assumed-role/NAME/SESSION`` (the role's path is not part of it)."""
    parts = role.role_arn.split(":", 5)
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return ""
    name = parts[5].rsplit("/", 1)[-1]
    return f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{name}/{role.session_name}"


class _AssumedRoleProvider(CredentialProvider):
    """Plugs an assumed role into botocore's credential chain, ahead of every other source."""

    METHOD = "assume-role"
    CANONICAL_NAME = "lambda-gitops-assume-role"

    def __init__(self, fetch: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._fetch = fetch

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)


# -- translating responses ------------------------------------------------------------------------


def _configuration(
    answer: FunctionConfigurationTypeDef | FunctionConfigurationResponseTypeDef,
) -> Configuration:
    """The configuration fields a declaration may pin, as Lambda answered them, with Lambda's
    defaults where an answer leaves a member out (rule L49: the answers of AWS and the
    emulator carry them all; moto's leave some out); an image function has no runtime or
    handler."""
    variables = answer.get("Environment", {}).get("Variables", {})
    return Configuration(
        environment=environment(variables),
        memory_size=answer.get("MemorySize", DEFAULT_MEMORY_SIZE),
        timeout=answer.get("Timeout", DEFAULT_TIMEOUT),
        ephemeral_storage=answer.get("EphemeralStorage", {}).get("Size", DEFAULT_EPHEMERAL_STORAGE),
        runtime=answer.get("Runtime"),
        handler=answer.get("Handler"),
        layers=tuple(layer["Arn"] for layer in answer.get("Layers", ()) if "Arn" in layer),
        architectures=tuple(answer.get("Architectures", DEFAULT_ARCHITECTURES)),
    )


def _configuration_arguments(configuration: Configuration) -> dict[str, Any]:
    """UpdateFunctionConfiguration's members for the fields ``configuration`` sets."""
    arguments: dict[str, Any] = {}
    if configuration.environment is not None:
        arguments["Environment"] = {"Variables": dict(configuration.environment)}
    if configuration.memory_size is not None:
        arguments["MemorySize"] = configuration.memory_size
    if configuration.timeout is not None:
        arguments["Timeout"] = configuration.timeout
    if configuration.ephemeral_storage is not None:
        arguments["EphemeralStorage"] = {"Size": configuration.ephemeral_storage}
    if configuration.runtime is not None:
        arguments["Runtime"] = configuration.runtime
    if configuration.handler is not None:
        arguments["Handler"] = configuration.handler
    if configuration.layers is not None:
        arguments["Layers"] = list(configuration.layers)
    return arguments


def _without_environment(error: RegistryError, sent: Configuration) -> RegistryError:
    """The same error, its message without the environment values the request sent."""
    values = [value for _, value in sent.environment or ()]
    message = mask_environment(error.message, values)
    return type(error)(message, code=error.code, operation=error.operation)


def _function_state(
    configuration: FunctionConfigurationTypeDef | FunctionConfigurationResponseTypeDef,
) -> FunctionState:
    return FunctionState(
        name=configuration["FunctionName"],
        arn=configuration["FunctionArn"],
        code_sha256=configuration["CodeSha256"],
        revision_id=configuration.get("RevisionId", ""),
        # moto and older recordings omit State for functions that are simply active.
        state=configuration.get("State", "Active"),
        last_update_status=configuration.get("LastUpdateStatus"),
        description=configuration.get("Description", ""),
        role=configuration.get("Role", ""),
        configuration=_configuration(configuration),
    )


def _published_version(
    configuration: FunctionConfigurationTypeDef | FunctionConfigurationResponseTypeDef,
) -> PublishedVersion:
    return PublishedVersion(
        number=int(configuration["Version"]),
        code_sha256=configuration["CodeSha256"],
        description=configuration.get("Description", ""),
        revision_id=configuration.get("RevisionId", ""),
        arn=configuration["FunctionArn"],
        role=configuration.get("Role", ""),
        configuration=_configuration(configuration),
    )


def _listed_function(
    configuration: FunctionConfigurationTypeDef, region: str, account: str | None
) -> FunctionId:
    """The function a listed item belongs to, from its qualified ARN (rule L43); an endpoint
    whose ARN does not parse is taken at its word for the region and account that were asked."""
    arn = configuration.get("FunctionArn", "")
    matched = FUNCTION_ARN_PATTERN.match(arn)
    if matched is not None and arn[matched.end() :][:1] in ("", ":"):
        return FunctionId(matched["account"], matched["region"], matched["name"])
    return FunctionId(account, region, configuration["FunctionName"])


def _alias(configuration: AliasConfigurationTypeDef | AliasConfigurationResponseTypeDef) -> Alias:
    weights = configuration.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
    return Alias(
        name=configuration["Name"],
        function_version=configuration["FunctionVersion"],
        routing={version: weight(value) for version, value in weights.items()},
        description=configuration.get("Description", ""),
        revision_id=configuration.get("RevisionId", ""),
        arn=configuration["AliasArn"],
    )


def _routing_config(routing: Mapping[str, Decimal]) -> dict[str, dict[str, float]]:
    return {"AdditionalVersionWeights": {version: float(w) for version, w in routing.items()}}


# -- translating errors ---------------------------------------------------------------------------

_ERRORS_BY_CODE: Mapping[str, type[RegistryError]] = {
    "ResourceNotFoundException": NotFound,
    "ResourceConflictException": Conflict,
    "PreconditionFailedException": PreconditionFailed,
    "InvalidParameterValueException": InvalidRequest,
    "ValidationException": InvalidRequest,
    "RequestTooLargeException": InvalidRequest,
    "CodeStorageExceededException": InvalidRequest,
    "TooManyRequestsException": Throttled,
    "ThrottlingException": Throttled,
    "ServiceException": Transient,
    "AccessDeniedException": AccessDenied,
    "UnrecognizedClientException": AccessDenied,
    "InvalidSignatureException": AccessDenied,
    "ExpiredTokenException": AccessDenied,
    "InvalidClientTokenId": AccessDenied,
    "SignatureDoesNotMatch": AccessDenied,
}

_THROTTLING_CODES = frozenset({"TooManyRequestsException", "ThrottlingException"})

_BUSY_MESSAGES = ("An update is in progress", "currently in the following state: Pending")


@contextmanager
def translated(operation: str) -> Iterator[None]:
    """Turn whatever botocore raises during ``operation`` into the project's error types."""
    try:
        yield
    except ClientError as error:
        raise _client_error(operation, error) from error
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise AccessDenied(
            "no usable AWS credentials: set AWS_PROFILE, the AWS_ACCESS_KEY_ID pair, or a role "
            f"({type(error).__name__})",
            code=type(error).__name__,
            operation=operation,
        ) from error
    except NoRegionError as error:
        raise ConfigurationError(
            "no AWS region: pass --region or set LAMBDA_GITOPS_REGION"
        ) from error
    except ParamValidationError as error:
        raise InvalidRequest(
            str(error), code="ParamValidationError", operation=operation
        ) from error
    except (ConnectionError, HTTPClientError) as error:
        raise Transient(str(error), code=type(error).__name__, operation=operation) from error
    except BotoCoreError as error:
        raise Transient(str(error), code=type(error).__name__, operation=operation) from error


def code_and_message(error: ClientError) -> tuple[str, str]:
    """The AWS error code and message an AWS service answered with: the code is empty when the
    answer named none, and the message is botocore's own text when the answer had none.

    Every boto3 adapter reads them the same way, then maps them to its own errors.
    """
    details = error.response.get("Error", {})
    return details.get("Code", ""), details.get("Message", "") or str(error)


def _client_error(operation: str, error: ClientError) -> RegistryError:
    code, message = code_and_message(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    kind = _ERRORS_BY_CODE.get(code)
    if kind is Conflict and any(text in message for text in _BUSY_MESSAGES):
        kind = UpdateInProgress
    elif code == "InvalidParameterValueException" and message.startswith("CodeSHA256 ("):
        # AWS reports a failed CodeSha256 precondition as an invalid parameter (rule L4); to
        # the controller it means the same as a RevisionId mismatch: $LATEST has changed.
        kind = PreconditionFailed
    if kind is None:
        kind = _error_by_status(status)
    return kind(message, code=code, operation=operation)


_ERRORS_BY_STATUS: Mapping[int, type[RegistryError]] = {
    401: AccessDenied,
    403: AccessDenied,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    429: Throttled,
}


def _error_by_status(status: int) -> type[RegistryError]:
    """The error type for a code this adapter does not know, from the HTTP status alone."""
    if status >= 500:
        return Transient
    return _ERRORS_BY_STATUS.get(status, InvalidRequest)


def outcome_of(error: LambdaGitopsError) -> str:
    """The metric label for an error: its type's name in snake case (``"precondition_failed"``).

    The error types are few and fixed, so the label set stays bounded.
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()

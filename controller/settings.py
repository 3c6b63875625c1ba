"""The controller's settings: typed, documented, loaded once at the edge.

Every setting can come from a command-line flag, a ``LAMBDA_GITOPS_*`` environment variable, the
configuration file (``--config``, YAML) or its default, in that order of precedence. Nothing else
in the package reads the environment.

Users name settings flat (``--repo``, ``LAMBDA_GITOPS_RESYNC_INTERVAL``, ``resync-interval:``),
so the model is flat too; each part of the controller takes its own group, built here and only
here: ``git`` for the Git source, ``aws`` for the registry adapter, ``loop`` for the loop,
``http`` for the endpoints and ``logging`` for the log. The group types belong to the parts that
use them.
"""

from __future__ import annotations

import json
import re
import reprlib
import secrets
import socket
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from controller.adapters.events.sqs import (
    LONG_POLL_SECONDS,
    MAX_MESSAGES,
    QueueAddress,
    queue_address,
)
from controller.adapters.git import GitSettings
from controller.adapters.http.server import HttpSettings
from controller.adapters.logging import LogFormat, LogLevel, LogSettings
from controller.adapters.registry.aws import AwsSettings
from controller.adapters.registry.cache import DEFAULT_VERSION_RESYNC_SECONDS
from controller.core.declarations.schema import region_problem
from controller.core.declarations.spelling import did_you_mean
from controller.core.election import ElectionTimings, timing_problem
from controller.core.model import REGION_PATTERN
from controller.core.retention import Retention
from controller.core.sharding import MAX_SHARDS, ordinal_of, shard_problem
from controller.engine.events import ConsumerSettings
from controller.engine.leader import Candidate
from controller.engine.loop import LoopSettings
from controller.errors import ConfigurationError
from controller.redaction import mask_text

ENV_PREFIX = "LAMBDA_GITOPS_"

KUBERNETES_NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
"""A DNS-1123 label, as Kubernetes requires of a namespace's name (63 characters at most)."""

MAX_LEASE_DURATION = 2**31 - 1
"""``leaseDurationSeconds`` is an int32 on the wire: the API server refuses anything longer."""


class Scope(BaseModel):
    """What the controller may write: globs over function ARNs, regions and accounts, and
    whether it may delete published versions at all.

    A declaration outside the scope is an error for that function, never a write.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    functions: tuple[str, ...] = Field(default=("*",), description="Globs over function ARNs.")
    regions: tuple[str, ...] = Field(default=("*",), description="Globs over region names.")
    accounts: tuple[str, ...] = Field(default=("*",), description="Globs over account ids.")
    delete_versions: bool = Field(
        default=False,
        description=(
            "Whether retention may delete published versions (DeleteFunction with a "
            "Qualifier); off, it only reports what it would delete. Keep it off unless the IAM "
            "policy has the DeleteVersionsForRetention statement."
        ),
    )

    def allows(self, arn: str) -> bool:
        """True when a function ARN ``arn:aws:lambda:REGION:ACCOUNT:function:NAME`` is in scope."""
        parts = arn.split(":")
        if len(parts) < 7:
            return False
        region, account = parts[3], parts[4]
        unqualified = ":".join(parts[:7])
        return (
            any(fnmatchcase(unqualified, pattern) for pattern in self.functions)
            and any(fnmatchcase(region, pattern) for pattern in self.regions)
            and any(fnmatchcase(account, pattern) for pattern in self.accounts)
        )


class AnalysisSources(BaseModel):
    """Where a rollout's analysis asks its checks: CloudWatch (metrics, alarms) and Prometheus."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prometheus_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="The Prometheus server that prometheus checks query (http or https URL).",
    )
    prometheus_bearer_token_file: Path | None = Field(
        default=None, description="A file holding a bearer token for the Prometheus server."
    )
    cloudwatch_endpoint_url: str | None = Field(
        default=None, description="Another CloudWatch endpoint (moto, tests); default: AWS's."
    )
    cloudwatch: bool = Field(
        default=True, description="Whether cloudwatch and alarm checks may ask CloudWatch at all."
    )
    metric_delay: float = Field(
        default=60.0, ge=0, le=900, description="Seconds Lambda's CloudWatch metrics arrive late."
    )

    def prometheus_token(self) -> str | None:
        """The bearer token from its file, or ``None`` without one."""
        if self.prometheus_bearer_token_file is None:
            return None
        try:
            token = self.prometheus_bearer_token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigurationError(
                f"analysis.prometheus_bearer_token_file {self.prometheus_bearer_token_file}: "
                f"cannot read it ({error.strerror or error}); check the path and permissions"
            ) from None
        if not token:
            raise ConfigurationError(
                f"analysis.prometheus_bearer_token_file {self.prometheus_bearer_token_file} "
                "is empty; write the token in it"
            )
        return token


SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
"""Where a pod whose service account token is mounted finds its namespace."""


class LeaderElection(BaseModel):
    """Leader election among replicas, over a Kubernetes Lease: only the leader fetches Git and
    writes to Lambda. Off by default: one replica needs none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=False, description="Elect a leader among the replicas.")
    lease_name: str = Field(
        default="lambda-gitops",
        max_length=63,
        pattern=rf"^{KUBERNETES_NAME}(\.{KUBERNETES_NAME})*$",
        description=(
            "The Lease the replicas compete for (one per controller installation); with "
            "sharding, the start of each shard's Lease name. At most 63 characters: it is "
            "also the value of a label on every Lease of the installation."
        ),
    )
    namespace: str | None = Field(
        default=None,
        description=(
            "The Lease's namespace; default: the pod's (POD_NAMESPACE, else the service "
            "account's), else 'default'."
        ),
    )
    identity: str | None = Field(
        default=None,
        description="This replica's name in the Lease; default: POD_NAME, else the host's name "
        "and a random suffix.",
    )
    lease_duration: int = Field(
        default=15,
        ge=1,
        le=MAX_LEASE_DURATION,
        description="Seconds a lease lasts without renewal (whole seconds).",
    )
    renew_deadline: float = Field(
        default=10.0, gt=0, description="Seconds a leader keeps trying to renew before it stops."
    )
    retry_period: float = Field(default=2.0, gt=0, description="Seconds between two tries.")
    kubeconfig: Path | None = Field(
        default=None,
        description="A kubeconfig file; default: KUBECONFIG, else the pod's service account.",
    )

    @field_validator("namespace")
    @classmethod
    def _namespace_name(cls, namespace: str | None) -> str | None:
        """A name Kubernetes would refuse is refused here, at start, rather than by the API
        server at the first Lease request; empty means not set, as ``candidate`` reads it."""
        if namespace and (len(namespace) > 63 or not re.fullmatch(KUBERNETES_NAME, namespace)):
            raise ValueError(
                f"{_bounded(namespace)} is not a Kubernetes namespace name: lower-case letters, "
                "digits and '-', starting and ending with a letter or digit, 63 characters at most"
            )
        return namespace

    @model_validator(mode="after")
    def _timings(self) -> LeaderElection:
        problem = timing_problem(self.lease_duration, self.renew_deadline, self.retry_period)
        if problem is not None:
            raise ValueError(problem)
        return self

    def candidate(self, environ: Mapping[str, str]) -> Candidate:
        """This replica in the election, with the downward API's ``POD_NAME`` and
        ``POD_NAMESPACE`` from ``environ`` (the process's) for what is not configured."""
        identity = (
            self.identity
            or environ.get("POD_NAME")
            or f"{socket.gethostname()}_{secrets.token_hex(4)}"
        )
        namespace = self.namespace or environ.get("POD_NAMESPACE") or _pod_namespace() or "default"
        return Candidate(
            identity=identity,
            lease_name=self.lease_name,
            namespace=namespace,
            timings=ElectionTimings(self.lease_duration, self.renew_deadline, self.retry_period),
        )


def _pod_namespace() -> str | None:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


SHARD_FIELD = "{shard}"
"""In a change-event queue's URL, the index of the shard that reads it."""


class ChangeEvents(BaseModel):
    """Change events: Lambda's calls as CloudTrail records them, routed by an EventBridge rule
    into SQS, so that a change made outside Git is reconciled within seconds rather than at the
    next resync (docs/events.md). Off without a queue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_urls: tuple[str, ...] = Field(
        default=(),
        description=(
            "The SQS queues the EventBridge rule sends Lambda's change events to "
            "(https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), one per account and region where "
            "needed; none: events off. With shards, each shard reads queues of its own: write "
            "{shard} in the URL, replaced by the shard's index."
        ),
    )
    region: str | None = Field(
        default=None,
        pattern=f"^{REGION_PATTERN.pattern}$",
        description=(
            "The region of a queue whose URL names none (a local endpoint, such as moto's); "
            "default: the controller's region."
        ),
    )
    endpoint_url: str | None = Field(
        default=None, description="Another SQS endpoint than AWS's (moto, tests)."
    )
    wait_time: int = Field(
        default=LONG_POLL_SECONDS,
        ge=1,
        le=LONG_POLL_SECONDS,
        description="Seconds a receive waits for a message (SQS long polling; 20 at most).",
    )
    max_messages: int = Field(
        default=MAX_MESSAGES,
        ge=1,
        le=MAX_MESSAGES,
        description="Messages per receive (10 at most).",
    )
    merge_window: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description=(
            "Seconds the first event of a function waits for more of the same function, all "
            "reconciled at once."
        ),
    )

    @field_validator("queue_urls")
    @classmethod
    def _queue_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if "{" in url.replace(SHARD_FIELD, "") or "}" in url.replace(SHARD_FIELD, ""):
                raise ValueError(
                    f"{_bounded(url)}: the one field a queue URL may hold is {SHARD_FIELD}, "
                    "written so (lower-case), for each shard's index; a queue's name has no braces"
                )
            queue_address(url.replace(SHARD_FIELD, "0"), "us-east-1")  # says what is wrong
        repeated = sorted({url for url in urls if urls.count(url) > 1})
        if repeated:
            raise ValueError(f"{repeated[0]!r} is listed twice; list each queue once")
        return urls

    def addresses(self, default_region: str, shard: int | None = None) -> tuple[QueueAddress, ...]:
        """Each queue with its account and region: a URL's own region, or else ``region``,
        or else ``default_region`` (the controller's); ``{shard}`` in a URL is ``shard``'s
        index (0 without sharding)."""
        index = str(shard if shard is not None else 0)
        return tuple(
            queue_address(url.replace(SHARD_FIELD, index), self.region or default_region)
            for url in self.queue_urls
        )

    def shared_by_shards(self) -> list[str]:
        """The queues every shard would read: those whose URL does not say ``{shard}``."""
        return [url for url in self.queue_urls if SHARD_FIELD not in url]

    @property
    def consumer(self) -> ConsumerSettings:
        return ConsumerSettings(merge_window=self.merge_window)


class LogFields(BaseSettings):
    """How a command logs: the settings every command reads, even one that needs no other.

    ``emulator``, ``schema`` and ``status`` load only these (``load_log_settings``), so that a
    setting of ``run`` that is wrong in the environment cannot stop them; every other command
    loads them as part of ``Settings``.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    log_level: LogLevel = Field(
        "info", description="The least severe log lines shown: debug, info, warning or error."
    )
    log_format: LogFormat = Field("auto", description="auto: JSON unless on a terminal.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        """``INFO`` and ``Debug`` mean what ``info`` and ``debug`` do, as in most tools."""
        return value.lower() if isinstance(value, str) else value

    @property
    def logging(self) -> LogSettings:
        return LogSettings(level=self.log_level, format=self.log_format)


class Settings(LogFields):
    """Where the declarations are, which registry to reconcile, and how to reach it."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    repo: str = Field(".", description="The declarations repository: a local path (or a URL).")
    ref: str = Field("HEAD", description="The branch, tag or commit whose declarations apply.")
    path: str = Field("", description="The folder inside the repository holding declarations.")
    registry: str = Field(
        "aws", description="'aws', or 'emulated:FILE' for the emulated registry kept in FILE."
    )
    endpoint_url: str | None = Field(None, description="Another Lambda endpoint (moto, tests).")
    # Before ``region``, whose check reads it.
    extra_regions: tuple[str, ...] = Field(
        (),
        description=(
            "Regions AWS Lambda is in that this controller's list (botocore's, when it was "
            "built) does not know yet, such as one launched since; any other region is refused."
        ),
    )
    region: str = Field(
        "us-east-1", description="The region of declarations that name none, and of the API."
    )
    account: str | None = Field(
        None,
        pattern=r"^[0-9]{12}$",
        description=(
            "The account of the controller's credentials, which a bare function name means; "
            "learned from STS when not set."
        ),
    )
    retry_mode: Literal["standard", "adaptive"] = Field(
        "standard", description="botocore's retry mode for Lambda calls."
    )
    max_attempts: int = Field(5, ge=1, le=20, description="Attempts per Lambda call.")
    requests_per_second: float | None = Field(
        10.0,
        gt=0,
        description="Client-side quota per account and region; Lambda allows 15/s (none: off).",
    )

    # -- the long-running controller (``run``) ------------------------------------------------
    mode: Literal["enforce", "detect"] = Field(
        "enforce", description="enforce: correct drift; detect: observe and report only."
    )
    listen: str = Field("0.0.0.0:8080", description="HOST:PORT of /metrics, /status, /webhook.")
    resync_interval: float = Field(
        300.0, gt=0, description="Seconds between passes that catch out-of-band changes."
    )
    version_resync_interval: float = Field(
        DEFAULT_VERSION_RESYNC_SECONDS,
        gt=0,
        description="Seconds after which cached version listings are read again.",
    )
    poll_interval: float = Field(
        60.0, gt=0, description="Seconds between fetches of a remote repository."
    )
    concurrency: int = Field(8, ge=1, le=64, description="Functions reconciled at once.")
    shutdown_grace: float = Field(
        30.0, ge=0, description="Seconds in-flight calls get to finish on SIGTERM."
    )
    cache_dir: Path = Field(
        Path("/tmp/lambda-gitops"),  # noqa: S108 - overridden in the chart by an emptyDir
        description="Where the controller keeps its clone of a remote repository.",
    )
    webhook_secret_file: Path | None = Field(
        None, description="A file holding the webhook's shared secret; no file: no webhook."
    )
    git_token_file: Path | None = Field(
        None, description="A file holding an HTTPS token for the repository."
    )
    git_ssh_key_file: Path | None = Field(
        None, description="An SSH private key for the repository."
    )
    git_known_hosts_file: Path | None = Field(
        None, description="known_hosts for the repository's SSH host."
    )
    retain_versions: int | None = Field(
        None,
        ge=1,
        description=(
            "How many of the newest published versions a function keeps when its declaration "
            "says no retainVersions; none: every version is kept. Deleting also needs "
            "scope.delete_versions."
        ),
    )
    scope: Scope = Field(default_factory=Scope, description="What may be written.")
    analysis: AnalysisSources = Field(
        default_factory=AnalysisSources, description="Where rollouts' checks are asked."
    )
    leader_election: LeaderElection = Field(
        default_factory=LeaderElection,
        description="Leader election among replicas (Kubernetes Lease); off by default.",
    )
    shards: int = Field(
        1,
        ge=1,
        le=MAX_SHARDS,
        description=(
            "How many shards split the fleet by (account, region), each with a leader election "
            "of its own; 1: no sharding. More than 1 needs leader_election."
        ),
    )
    shard_index: int | None = Field(
        None,
        ge=0,
        description=(
            "This process's shard, from 0; default: the ordinal that ends the pod's name "
            "(POD_NAME, as a StatefulSet names its pods: NAME-3), modulo shards."
        ),
    )
    events: ChangeEvents = Field(
        default_factory=ChangeEvents,
        description="Change events from CloudTrail through EventBridge and SQS; off by default.",
    )

    @field_validator("extra_regions")
    @classmethod
    def _region_names(cls, extra_regions: tuple[str, ...]) -> tuple[str, ...]:
        for region in extra_regions:
            if not REGION_PATTERN.fullmatch(region):
                raise ValueError(f"{region!r} is not an AWS region name such as 'eu-west-1'")
        return extra_regions

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str, info: ValidationInfo) -> str:
        problem = region_problem(region, info.data.get("extra_regions", ()))
        if problem is not None:
            raise ValueError(f"{region!r} {problem}")
        return region

    @model_validator(mode="after")
    def _shard_in_range(self) -> Settings:
        problem = shard_problem(self.shards, self.shard_index)
        if problem is not None:
            raise ValueError(problem)
        shared = self.events.shared_by_shards() if self.shards > 1 else []
        if shared:
            raise ValueError(
                f"events.queue_urls: with shards {self.shards}, {shared[0]!r} would be read by "
                "every shard, and a shard deletes the events of functions it does not own, "
                "which another shard then never sees; give each shard a queue of its own that "
                f"receives every event, and write {SHARD_FIELD} in the URL for its index "
                "(docs/events.md, With sharding)"
            )
        return self

    def shard(self, environ: Mapping[str, str]) -> int | None:
        """This process's shard with sharding on (``shards`` above 1), ``None`` without: the
        configured ``shard_index``, else the ordinal ending ``POD_NAME`` of ``environ`` (the
        process's) modulo ``shards``, so that a StatefulSet of N times R pods runs R replicas
        of each shard."""
        if self.shards == 1:
            return None
        if self.shard_index is not None:
            return self.shard_index
        pod = environ.get("POD_NAME", "")
        ordinal = ordinal_of(pod)
        if ordinal is None:
            found = (
                f"POD_NAME {_bounded(pod)} does not end in an ordinal such as lambda-gitops-3"
                if pod
                else "POD_NAME is not set"
            )
            raise ConfigurationError(
                f"shards {self.shards}: this process's shard is not known ({found}); set "
                f"shard_index (--shard-index, {ENV_PREFIX}SHARD_INDEX), or run it as a "
                "StatefulSet's pod with POD_NAME from the downward API"
            )
        return ordinal % self.shards

    # -- each part of the controller's view of these settings -----------------------------------

    @property
    def git(self) -> GitSettings:
        return GitSettings(
            repo=self.repo,
            ref=self.ref,
            cache_dir=self.cache_dir,
            poll_interval=self.poll_interval,
            token_file=self.git_token_file,
            ssh_key_file=self.git_ssh_key_file,
            known_hosts_file=self.git_known_hosts_file,
        )

    @property
    def aws(self) -> AwsSettings:
        return AwsSettings(
            endpoint_url=self.endpoint_url,
            retry_mode=self.retry_mode,
            max_attempts=self.max_attempts,
            requests_per_second=self.requests_per_second,
            account=self.account,
        )

    @property
    def retention(self) -> Retention:
        """How passes apply ``retainVersions``: this default, and the scope's switch."""
        return Retention(default=self.retain_versions, may_delete=self.scope.delete_versions)

    @property
    def loop(self) -> LoopSettings:
        return LoopSettings(
            ref=self.ref,
            path=self.path,
            region=self.region,
            mode=self.mode,
            resync_interval=self.resync_interval,
            concurrency=self.concurrency,
            shutdown_grace=self.shutdown_grace,
            in_scope=self.scope.allows,
            account=self.account,
            extra_regions=self.extra_regions,
            retention=self.retention,
        )

    @property
    def http(self) -> HttpSettings:
        return HttpSettings(listen=self.listen, webhook_secret_file=self.webhook_secret_file)


class _YamlFileSource(PydanticBaseSettingsSource):
    """Settings from the ``--config`` YAML file: a mapping of the same names, in snake_case or
    kebab-case (``endpoint-url``)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._values = _read_config(path) if path is not None else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"{path}: cannot read the configuration file: {error.strerror}"
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"{path}: cannot read the configuration file: it is not UTF-8 text ({error.reason} "
            f"at byte {error.start})"
        ) from error
    try:
        loaded = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise ConfigurationError(f"{path}: not valid YAML: {error}") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigurationError(f"{path}: the configuration must be a mapping of settings")
    # A group's settings are kebab-case too (``lease-name:``); only one level down, since no
    # group holds a mapping, and so that a YAML bomb of nested mappings is never walked.
    return {
        _snake(key): (
            {_snake(name): item for name, item in value.items()}
            if isinstance(value, dict)
            else value
        )
        for key, value in loaded.items()
    }


def _snake(key: Any) -> str:
    return str(key).replace("-", "_")


def load_settings(config: Path | None = None, **flags: Any) -> Settings:
    """Settings from the flags given (``None`` means not given), the environment, ``config``
    and the defaults, in that order; a bad value is a ``ConfigurationError`` naming it."""
    return _load(Settings, config, flags)


def load_log_settings(config: Path | None = None, **flags: Any) -> LogSettings:
    """Only the logging settings, from the same sources in the same order; what else the
    environment or ``config`` holds is not looked at."""
    return _load(LogFields, config, flags).logging


_Loaded = TypeVar("_Loaded", bound=LogFields)


def _load(model: type[_Loaded], config: Path | None, flags: dict[str, Any]) -> _Loaded:
    given = {name: value for name, value in flags.items() if value is not None}

    class _Sourced(model):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, _EnvSource(settings_cls), _YamlFileSource(settings_cls, config))

    try:
        loaded: _Loaded = _Sourced(**given)
    except ValidationError as error:
        raise ConfigurationError(_describe(error, config, model)) from error
    except SettingsError as error:
        cause = error.__cause__
        message = str(cause) if isinstance(cause, _NotJson) else f"invalid settings: {error}"
        raise ConfigurationError(mask_text(message)) from error
    return loaded


class _NotJson(ValueError):
    """A variable of a list or a group of settings whose value is not JSON.

    A ``ValueError``, so that pydantic-settings still lets a nested value that may be plain text
    be plain text; it otherwise raises its own ``SettingsError``, which names only the field, and
    carries this as its cause."""


class _EnvSource(EnvSettingsSource):
    """The ``LAMBDA_GITOPS_*`` variables, as pydantic-settings reads them, with a list or a group
    that is not JSON (``LAMBDA_GITOPS_EXTRA_REGIONS=eu-west-9``) refused naming the variable."""

    def decode_complex_value(self, field_name: str, field: FieldInfo | None, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)  # type: ignore[arg-type]
        except ValueError as error:
            variable = self._variable(field_name, value)
            raise _NotJson(
                f"{variable} {_bounded(value)} is not JSON ({error}); write a list as JSON, such "
                f"as {_bounded(json.dumps([value]))}, and a group of settings as a JSON object or "
                f"as one variable a setting ({variable}__NAME)"
            ) from error

    def _variable(self, field_name: str, value: Any) -> str:
        """The name of the variable that holds ``value`` for ``field_name``, as it is spelled in
        the environment."""
        suffix = field_name.lower()
        for name, held in self.env_vars.items():
            if held == value and name.lower().endswith(suffix):
                return name.upper()
        return f"{ENV_PREFIX}{field_name.upper()}"


class _BoundedRepr(reprlib.Repr):
    """``repr`` of what a user gave, short whatever its size (a YAML bomb, a 10 KB URL), with any
    credential in a text masked before the text is cut, so that no part of one shows."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 3, 160, 160
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 6

    def repr_str(self, x: str, level: int) -> str:
        return super().repr_str(mask_text(x), level)


def _bounded(value: Any) -> str:
    return _BoundedRepr().repr(value)


def _describe(error: ValidationError, config: Path | None, model: type[BaseModel]) -> str:
    where = f" (flags, {ENV_PREFIX}* variables or {config})" if config else ""
    # A check of several settings at once (no ``loc``) names them and their values itself.
    problems = "; ".join(
        f"{_where(problem['loc'])}: {_message(problem, model)}"
        f" (got {_bounded(problem.get('input'))})"
        if problem["loc"]
        else _message(problem, model)
        for problem in error.errors()
    )
    return mask_text(f"invalid settings{where}: {problems}")


def _where(loc: tuple[int | str, ...]) -> str:
    """The dotted path of a setting; a key that is no name (a newline, 5 KB, ``[a]``) quoted."""
    return ".".join(
        str(part) if re.fullmatch(r"[\w-]{1,80}", str(part)) else _bounded(str(part))
        for part in loc
    )


def _message(problem: Mapping[str, Any], model: type[BaseModel]) -> str:
    """pydantic's message, without the "Value error, " it puts before a validator's own, and
    with the setting meant when a name is not one."""
    if problem["type"] == "value_error":
        return str(problem["ctx"]["error"])
    if problem["type"] == "extra_forbidden":
        return f"not a setting{_suggestion(model, problem['loc'])}"
    return str(problem["msg"])


def _suggestion(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """ "; did you mean NAME?" for the setting of the same group closest to the unknown name at
    ``loc`` (``leaseName``, ``lease-duraton``), or nothing when none is close."""
    fields = model.model_fields
    for part in loc[:-1]:
        field = fields.get(str(part))
        group = field.annotation if field is not None else None
        if not (isinstance(group, type) and issubclass(group, BaseModel)):
            return ""
        fields = group.model_fields
    written = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(loc[-1])).lower().replace("-", "_")
    suggestion = did_you_mean(written, fields)
    return f"; {suggestion}" if suggestion else ""

"""The configuration a version snapshots besides its code: environment, layers, logging and more.

Lambda publishes a version as a snapshot of ``$LATEST``'s code *and* configuration, and
publishes a new one whenever any of it changed since the last (rules L2, L48): an
environment-only change is a release. Version 1 of the state file has columns for the settings
the emulator first kept (role, runtime, handler, timeout, memory, package type, dead-letter
queue); everything else a ``FunctionConfiguration`` carries in botocore's model is one
``Configuration`` value here, stored as JSON beside them and compared whole.

This module is pure: it checks what a request asks for (a ``ValidationException`` for a value
outside its shape, an ``InvalidParameterValueException`` for one AWS refuses on its merits, in
AWS's words), merges a change into the configuration as UpdateFunctionConfiguration does, and
reads and writes the stored JSON. Members AWS has added for Managed Instances and durable
functions (``CapacityProviderConfig``, ``DurableConfig``, ``TenancyConfig`` ...) and image
functions' ``ImageConfig`` are not modelled.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from lambda_emulator.validation import (
    LambdaApiError,
    Violation,
    enum_violations,
    invalid_parameter,
    java_list,
    string_violations,
)

T = TypeVar("T")

ENVIRONMENT_LIMIT_BYTES = 4096
"""Lambda's limit on a function's environment variables, measured as compact JSON (L58)."""
ENVIRONMENT_KEY_PATTERN = r"[a-zA-Z]([a-zA-Z0-9_])+"
RESERVED_ENVIRONMENT_KEYS = (
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
)
"""The environment variables Lambda sets itself and refuses to take from a function (the
Developer Guide's ``configuration-envvars`` page, "Reserved environment variables")."""
LAYERS_LIMIT = 5
LAYER_VERSION_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}"
    r":layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)
ARCHITECTURES = ("x86_64", "arm64")
TRACING_MODES = ("Active", "PassThrough")
LOG_FORMATS = ("JSON", "Text")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
DEFAULT_LOG_LEVEL = "INFO"
LOG_GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
SNAP_START_APPLY_ON = ("PublishedVersions", "None")
EPHEMERAL_STORAGE_RANGE = (512, 10240)
KMS_KEY_PATTERN = r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"
SUBNET_PATTERN = r"subnet-[0-9a-z]*"
SECURITY_GROUP_PATTERN = r"sg-[0-9a-zA-Z]*"
FILE_SYSTEM_PATTERN = (
    r"arn:aws[a-zA-Z-]*:elasticfilesystem:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}"
    r":\d{12}:access-point/fsap-[a-f0-9]{17}"
)
MOUNT_PATH_PATTERN = r"/mnt/[a-zA-Z0-9-_.]+"


@dataclass(frozen=True, slots=True)
class VpcConfig:
    """The subnets and security groups a function runs in; both empty once it is detached."""

    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    ipv6_allowed_for_dual_stack: bool = False


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """Where and how a function logs; ``log_group`` ``None`` is ``/aws/lambda/NAME``.

    The log levels exist only with the JSON format: AWS fills them in as ``INFO`` when a
    function switches to JSON, and drops them when it switches back to text (L49).
    """

    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None


@dataclass(frozen=True, slots=True)
class LoggingChange:
    """The members of a ``LoggingConfig`` a request sets; the others keep their values."""

    log_format: str | None = None
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None


@dataclass(frozen=True, slots=True)
class FileSystemConfig:
    """An EFS access point mounted into the function."""

    arn: str
    local_mount_path: str


@dataclass(frozen=True, slots=True)
class Configuration:
    """Everything a version snapshots that has no column of its own, with Lambda's defaults.

    ``environment`` is ``None`` until a request sets one: AWS leaves ``Environment`` out of
    the answers of a function created without it, and answers ``{"Variables": {}}`` once an
    empty one was set. ``layers`` are layer version ARNs.
    """

    environment: Mapping[str, str] | None = None
    layers: tuple[str, ...] = ()
    vpc: VpcConfig | None = None
    tracing_mode: str = "PassThrough"
    ephemeral_storage: int = 512
    architectures: tuple[str, ...] = ("x86_64",)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    snap_start: str = "None"
    kms_key_arn: str | None = None
    file_systems: tuple[FileSystemConfig, ...] = ()

    def updated(self, change: ConfigurationChange) -> Configuration:
        """This configuration with a request's change applied; what it leaves out stays."""
        return Configuration(
            environment=_either(change.environment, self.environment),
            layers=_either(change.layers, self.layers),
            vpc=_either(change.vpc, self.vpc),
            tracing_mode=change.tracing_mode or self.tracing_mode,
            ephemeral_storage=change.ephemeral_storage or self.ephemeral_storage,
            architectures=change.architectures or self.architectures,
            logging=_logging_updated(self.logging, change.logging),
            snap_start=change.snap_start or self.snap_start,
            kms_key_arn=(
                self.kms_key_arn if change.kms_key_arn is None else change.kms_key_arn or None
            ),
            file_systems=_either(change.file_systems, self.file_systems),
        )

    def resolved(self, function_name: str) -> Configuration:
        """The same configuration with the default log group spelled out, for comparisons."""
        group = self.logging.log_group or default_log_group(function_name)
        return replace(self, logging=replace(self.logging, log_group=group))

    def to_json(self) -> str:
        """The stored form: compact JSON with sorted keys, so equal configurations are equal
        text."""
        document: dict[str, Any] = {
            "environment": None if self.environment is None else dict(self.environment),
            "layers": list(self.layers),
            "vpc": None
            if self.vpc is None
            else {
                "subnet_ids": list(self.vpc.subnet_ids),
                "security_group_ids": list(self.vpc.security_group_ids),
                "ipv6_allowed_for_dual_stack": self.vpc.ipv6_allowed_for_dual_stack,
            },
            "tracing_mode": self.tracing_mode,
            "ephemeral_storage": self.ephemeral_storage,
            "architectures": list(self.architectures),
            "logging": {
                "log_format": self.logging.log_format,
                "application_log_level": self.logging.application_log_level,
                "system_log_level": self.logging.system_log_level,
                "log_group": self.logging.log_group,
            },
            "snap_start": self.snap_start,
            "kms_key_arn": self.kms_key_arn,
            "file_systems": [[f.arn, f.local_mount_path] for f in self.file_systems],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Configuration:
        """Read the stored form; a member it lacks has Lambda's default, so that ``{}``, what a
        file written before this column existed holds, is a function with every default."""
        stored: dict[str, Any] = json.loads(text or "{}")
        defaults = cls()
        vpc = stored.get("vpc")
        logging = stored.get("logging") or {}
        return cls(
            environment=stored.get("environment"),
            layers=tuple(stored.get("layers", ())),
            vpc=None
            if vpc is None
            else VpcConfig(
                tuple(vpc["subnet_ids"]),
                tuple(vpc["security_group_ids"]),
                bool(vpc["ipv6_allowed_for_dual_stack"]),
            ),
            tracing_mode=stored.get("tracing_mode", defaults.tracing_mode),
            ephemeral_storage=int(stored.get("ephemeral_storage", defaults.ephemeral_storage)),
            architectures=tuple(stored.get("architectures", defaults.architectures)),
            logging=LoggingConfig(
                logging.get("log_format", "Text"),
                logging.get("application_log_level"),
                logging.get("system_log_level"),
                logging.get("log_group"),
            ),
            snap_start=stored.get("snap_start", defaults.snap_start),
            kms_key_arn=stored.get("kms_key_arn"),
            file_systems=tuple(FileSystemConfig(*pair) for pair in stored.get("file_systems", ())),
        )


@dataclass(frozen=True, slots=True)
class ConfigurationChange:
    """What a CreateFunction, UpdateFunctionConfiguration or UpdateFunctionCode sets; ``None``
    is "not given". An empty ``kms_key_arn`` removes the key."""

    environment: Mapping[str, str] | None = None
    layers: tuple[str, ...] | None = None
    vpc: VpcConfig | None = None
    tracing_mode: str | None = None
    ephemeral_storage: int | None = None
    architectures: tuple[str, ...] | None = None
    logging: LoggingChange | None = None
    snap_start: str | None = None
    kms_key_arn: str | None = None
    file_systems: tuple[FileSystemConfig, ...] | None = None

    def violations(self) -> list[Violation]:
        """The values outside their shape in botocore's model, as ``ValidationException``
        violations (L58, L59, L60)."""
        return [
            *_environment_violations(self.environment),
            *_layer_violations(self.layers),
            *_vpc_violations(self.vpc),
            *enum_violations(self.tracing_mode, "tracingConfig.mode", TRACING_MODES),
            *_ephemeral_storage_violations(self.ephemeral_storage),
            *_architecture_violations(self.architectures),
            *_logging_violations(self.logging),
            *enum_violations(self.snap_start, "snapStart.applyOn", SNAP_START_APPLY_ON),
            *string_violations(
                self.kms_key_arn, "kMSKeyArn", max_length=10000, pattern=KMS_KEY_PATTERN
            ),
            *_file_system_violations(self.file_systems),
        ]

    def refusal(self, region: str) -> LambdaApiError | None:
        """The ``InvalidParameterValueException`` AWS answers a value with on its merits: an
        environment too large or naming a reserved variable (L58), layers too many, of
        another region or two versions of one layer (L59)."""
        return _environment_refusal(self.environment) or _layers_refusal(self.layers, region)


def default_log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def runtime_version_arn(region: str, runtime: str) -> str:
    """The ``RuntimeVersionArn`` of a runtime: AWS names a runtime version by a 64-digit hash;
    the emulator derives one from the runtime's name, so that it changes with the runtime."""
    digest = hashlib.sha256(runtime.encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def vpc_id(account: str, region: str) -> str:
    """The VPC of a function's subnets. The emulator keeps no VPCs: it takes every subnet of an
    account and region to be in one VPC, whose id is derived from both."""
    return "vpc-" + hashlib.sha256(f"{account}:{region}".encode()).hexdigest()[:17]


def environment_text(variables: Mapping[str, str]) -> str:
    """The environment as AWS measures it against its 4 KB limit: compact JSON (L58)."""
    return json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False)


def _either(given: T | None, current: T) -> T:
    return current if given is None else given


def _logging_updated(current: LoggingConfig, change: LoggingChange | None) -> LoggingConfig:
    """A partial LoggingConfig merged as AWS merges it (recorded in LocalStack's
    ``test_function_partial_advanced_logging_configuration_update``)."""
    if change is None:
        return current
    log_format = change.log_format or current.log_format
    group = change.log_group or current.log_group
    if log_format != "JSON":
        return LoggingConfig(log_format, None, None, group)
    return LoggingConfig(
        log_format,
        change.application_log_level or current.application_log_level or DEFAULT_LOG_LEVEL,
        change.system_log_level or current.system_log_level or DEFAULT_LOG_LEVEL,
        group,
    )


def _environment_violations(environment: Mapping[str, str] | None) -> list[Violation]:
    if environment is None or all(
        re.fullmatch(ENVIRONMENT_KEY_PATTERN, key) for key in environment
    ):
        return []
    return [
        Violation(
            "",
            "environment.variables",
            "Map keys must satisfy constraint: [Member must satisfy regular expression "
            f"pattern: {ENVIRONMENT_KEY_PATTERN}]",
            sensitive=True,
        )
    ]


def _environment_refusal(environment: Mapping[str, str] | None) -> LambdaApiError | None:
    if environment is None:
        return None
    reserved = [key for key in environment if key in RESERVED_ENVIRONMENT_KEYS]
    if reserved:
        return invalid_parameter(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            "currently not supported for modification. Reserved keys used in this request: "
            + ", ".join(reserved)
        )
    measured = environment_text(environment)
    if len(measured.encode("utf-8")) > ENVIRONMENT_LIMIT_BYTES:
        # AWS quotes the variables it measured; so does the emulator, as AWS's own answer.
        return invalid_parameter(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. String "
            f"measured: {measured}"
        )
    return None


def _layer_violations(layers: Sequence[str] | None) -> list[Violation]:
    if layers is None:
        return []
    if all(1 <= len(arn) <= 2048 and re.fullmatch(LAYER_VERSION_PATTERN, arn) for arn in layers):
        return []
    return [
        Violation(
            java_list(layers),
            "layers",
            "Member must satisfy constraint: [Member must have length less than or equal to "
            "2048, Member must have length greater than or equal to 1, Member must satisfy "
            f"regular expression pattern: {LAYER_VERSION_PATTERN}, Member must not be null]",
        )
    ]


def _layers_refusal(layers: Sequence[str] | None, region: str) -> LambdaApiError | None:
    if not layers:
        return None
    if len(layers) > LAYERS_LIMIT:
        return invalid_parameter(f"Cannot reference more than {LAYERS_LIMIT} layers.")
    seen: dict[str, str] = {}
    for arn in layers:
        parts = arn.split(":")
        if parts[3] and parts[3] != region:
            return invalid_parameter(
                "Layers are not in the same region as the function. Layers are expected to be "
                f"in region {region}."
            )
        layer = ":".join(parts[:-1])
        if layer in seen:
            return invalid_parameter(
                "Two different versions of the same layer are not allowed to be referenced in "
                f"the same function. {seen[layer]} and {arn} are versions of the same layer."
            )
        seen[layer] = arn
    return None


def _vpc_violations(vpc: VpcConfig | None) -> list[Violation]:
    if vpc is None:
        return []
    found: list[Violation] = []
    for field_name, ids, limit, pattern in (
        ("vpcConfig.subnetIds", vpc.subnet_ids, 16, SUBNET_PATTERN),
        ("vpcConfig.securityGroupIds", vpc.security_group_ids, 5, SECURITY_GROUP_PATTERN),
    ):
        if len(ids) > limit:
            found.append(
                Violation(
                    java_list(ids),
                    field_name,
                    f"Member must have length less than or equal to {limit}",
                )
            )
        if any(len(i) > 1024 or not re.fullmatch(pattern, i) for i in ids):
            found.append(
                Violation(
                    java_list(ids),
                    field_name,
                    "Member must satisfy constraint: [Member must have length less than or "
                    "equal to 1024, Member must satisfy regular expression pattern: "
                    f"{pattern}, Member must not be null]",
                )
            )
    return found


def _ephemeral_storage_violations(size: int | None) -> list[Violation]:
    low, high = EPHEMERAL_STORAGE_RANGE
    if size is None or low <= size <= high:
        return []
    bound = f"less than or equal to {high}" if size > high else f"greater than or equal to {low}"
    return [Violation(str(size), "ephemeralStorage.size", f"Member must have value {bound}")]


def _architecture_violations(architectures: Sequence[str] | None) -> list[Violation]:
    if architectures is None:
        return []
    shown = java_list(architectures)
    if len(architectures) > 1:
        return [
            Violation(shown, "architectures", "Member must have length less than or equal to 1")
        ]
    if len(architectures) < 1:
        return [
            Violation(shown, "architectures", "Member must have length greater than or equal to 1")
        ]
    if architectures[0] not in ARCHITECTURES:
        return [
            Violation(
                shown,
                "architectures",
                "Member must satisfy constraint: [Member must satisfy enum value set: "
                f"{java_list(ARCHITECTURES)}, Member must not be null]",
            )
        ]
    return []


def _logging_violations(logging: LoggingChange | None) -> list[Violation]:
    if logging is None:
        return []
    return [
        *enum_violations(logging.log_format, "loggingConfig.logFormat", LOG_FORMATS),
        *enum_violations(
            logging.application_log_level,
            "loggingConfig.applicationLogLevel",
            APPLICATION_LOG_LEVELS,
        ),
        *enum_violations(
            logging.system_log_level, "loggingConfig.systemLogLevel", SYSTEM_LOG_LEVELS
        ),
        *string_violations(
            logging.log_group,
            "loggingConfig.logGroup",
            min_length=1,
            max_length=512,
            pattern=LOG_GROUP_PATTERN,
        ),
    ]


def _file_system_violations(file_systems: Sequence[FileSystemConfig] | None) -> list[Violation]:
    if file_systems is None:
        return []
    found: list[Violation] = []
    if len(file_systems) > 1:
        found.append(
            Violation(
                java_list([f.arn for f in file_systems]),
                "fileSystemConfigs",
                "Member must have length less than or equal to 1",
            )
        )
    for system in file_systems:
        found += string_violations(
            system.arn, "fileSystemConfigs.arn", max_length=256, pattern=FILE_SYSTEM_PATTERN
        )
        found += string_violations(
            system.local_mount_path,
            "fileSystemConfigs.localMountPath",
            max_length=160,
            pattern=MOUNT_PATH_PATTERN,
        )
    return found

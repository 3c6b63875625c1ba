"""The pydantic models of one ``kind: Function`` declaration, field by field.

They check what can be checked one field at a time (patterns, lengths, weights, the shape of a
SHA-256), with messages that name the rule and say what to write instead, and they are the source
of the JSON Schema that editors and CI use. Checks that need several fields at once (an alias
naming an unknown label, routing to the alias's own version) live in the parser, which knows
where each field was written.

Field aliases carry the YAML names (``codeSha256``, ``functionName``), so that error locations and
the JSON Schema speak the language of the file rather than of this module.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from controller.core import configuration as lambda_configuration
from controller.core.declarations.regions import LAMBDA_REGIONS
from controller.core.declarations.spelling import did_you_mean
from controller.core.model import (
    FUNCTION_ARN_PATTERN,
    KEEP_ALL,
    PARTIAL_ARN_PATTERN,
    REGION_PATTERN,
    weight,
)

API_VERSION = "lambda-gitops/v1"
"""The only declaration version this controller understands."""

API_GROUP = "lambda-gitops/"
"""Documents whose ``apiVersion`` starts with this are ours; all others belong to other tools."""

KIND = "Function"

DESCRIPTION_MAX = 256
"""Lambda's limit on version and alias descriptions (rule L11)."""

ALIAS_NAME_PATTERN = re.compile(r"(?![0-9]+$)[a-zA-Z0-9_-]{1,128}")
"""Rule L10: 1 to 128 letters, digits, ``-`` or ``_``, and not made only of digits."""

LABEL_MAX = 128
"""The most characters a version label may have."""

LABEL_PATTERN = re.compile(rf"(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9._+-]{{0,{LABEL_MAX - 1}}}")
"""A version label: never all digits, so that it cannot be mistaken for a published number."""

VERSION_NUMBER_PATTERN = re.compile(r"[1-9][0-9]*")
"""A published version number as Lambda spells it: no sign, no leading zero."""

FUNCTION_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""Rule L44: a bare function name."""


EXTRA_REGIONS = "extra_regions"
"""The key of the validation context (and the name of the setting) that holds regions Lambda is
in but this controller's list does not know yet."""

METADATA_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")

SHA256_PATTERN = r"^[A-Za-z0-9+/]{43}=$"


# -- one field at a time ---------------------------------------------------------------------------


def _number_as_text(value: object) -> object:
    """YAML reads ``version: 17`` as an integer; a published version number is text to Lambda."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_code_sha256(value: str) -> str:
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(value) != 44 or len(digest) != 32:
        raise ValueError(
            f"{value!r} is not a base64 SHA-256; write the package's CodeSha256 as Lambda reports "
            "it: 44 characters ending in '=' (openssl dgst -sha256 -binary FILE.zip | base64)"
        )
    return value


def _check_description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise ValueError(
            f"the description is {len(value)} characters long; Lambda allows at most "
            f"{DESCRIPTION_MAX} (rule L11): shorten it"
        )
    return value


def _check_label(value: str) -> str:
    if value.isdigit():
        raise ValueError(
            f"version label {value!r} is made only of digits and would read as a published "
            f"version number; give it a name such as 'r{value}'"
        )
    if not LABEL_PATTERN.fullmatch(value):
        raise ValueError(
            f"version label {value!r} is not allowed: use 1 to {LABEL_MAX} letters, digits, '.', "
            "'_', '+' or '-', starting with a letter or digit"
        )
    return value


def _check_alias_name(value: str) -> str:
    if value.isdigit():
        raise ValueError(
            f"alias name {value!r} is made only of digits, which Lambda refuses (rule L10); "
            f"add a letter, such as 'v{value}'"
        )
    if not ALIAS_NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"alias name {value!r} is not one Lambda accepts (rule L10): use 1 to 128 "
            "letters, digits, '-' or '_'"
        )
    return value


_REGION_EXAMPLE = "write one such as 'eu-west-1'"


def region_problem(region: str, extra_regions: Collection[str] = ()) -> str | None:
    """Why ``region`` is no region AWS Lambda is in, as the end of a sentence that names it;
    ``None`` when it is one.

    A region is checked against the names botocore knows (``regions.LAMBDA_REGIONS``), not just
    their shape: ``eu-west-7`` looks like a region, and read as one it would send every call of
    the function to an endpoint that does not exist. A region launched after this controller's
    botocore goes in ``extra_regions``.
    """
    if region in LAMBDA_REGIONS or region in extra_regions:
        return None
    suggestion = did_you_mean(region, [*LAMBDA_REGIONS, *extra_regions])
    if not REGION_PATTERN.fullmatch(region):
        return f"is not an AWS region name; {suggestion or _REGION_EXAMPLE}"
    return (
        f"is not a region AWS Lambda is in; {suggestion + ' ' if suggestion else ''}(a region "
        f"newer than this controller goes in the {EXTRA_REGIONS} setting)"
    )


def _extra_regions(info: ValidationInfo) -> Collection[str]:
    context = info.context
    extra = context.get(EXTRA_REGIONS, ()) if isinstance(context, dict) else ()
    return extra if isinstance(extra, Collection) else ()


def _check_region(value: str, info: ValidationInfo) -> str:
    problem = region_problem(value, _extra_regions(info))
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return value


def _check_metadata_name(value: str) -> str:
    if not METADATA_NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name: use up to 253 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _check_function_name(value: str, info: ValidationInfo) -> str:
    arn = FUNCTION_ARN_PATTERN.fullmatch(value)
    if arn is not None:
        problem = region_problem(arn["region"], _extra_regions(info))
        if problem is not None:
            raise ValueError(f"the ARN's region {arn['region']!r} {problem}")
        return value
    if PARTIAL_ARN_PATTERN.fullmatch(value):
        return value
    qualified = _QUALIFIED.fullmatch(value)
    if qualified is not None:
        raise ValueError(
            f"{value!r} names the function's {qualified['qualifier']!r} qualifier; a declaration "
            "names the whole function (declare its aliases under spec.aliases): write "
            f"{qualified['function']!r}"
        )
    if value.startswith("arn:"):
        raise ValueError(
            f"{value!r} is not an unqualified Lambda function ARN (rule L44); write "
            "arn:aws:lambda:REGION:ACCOUNT:function:NAME, with a 12-digit account and no "
            "version or alias after the name"
        )
    if not FUNCTION_NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Lambda function name (rule L44): use 1 to 64 letters, digits, "
            "'-' or '_', or a function ARN"
        )
    return value


_QUALIFIED = re.compile(
    r"(?P<function>(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:[0-9]{12}:function:)?"
    r"[a-zA-Z0-9_-]{1,64}):(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128})"
)
"""A function name, partial ARN or ARN followed by a version or alias (rule L44)."""


def _to_weight(value: object) -> Decimal:
    """A routing weight must be a YAML number: ``true`` and ``"0.1"`` are mistakes, not weights."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        # pydantic reports ValueError as a validation error; a TypeError would escape it.
        raise ValueError(  # noqa: TRY004
            f"the weight {shown} is not a number; write a number such as 0.1"
        )
    exact = weight(value)
    if not exact.is_finite() or not Decimal(0) < exact < Decimal(1):
        raise ValueError(
            f"the weight {value!r} is not strictly between 0 and 1; to send all traffic to "
            "this version, make it the alias's version and remove the routing"
        )
    return exact


def _to_retained(value: object) -> int | Literal["all"]:
    """``retainVersions``: a whole YAML number of at least 1, or ``all``.

    ``true``, ``1.5`` and ``"5"`` are refused rather than read as a number, as a weight is: a
    setting that deletes versions must say exactly what it means.
    """
    what = (
        "write a whole number of at least 1 (the newest published versions to keep), or all "
        "(never delete a version)"
    )
    if value == KEEP_ALL:
        return KEEP_ALL
    if isinstance(value, bool) or not isinstance(value, int):
        shown = _shown(value)
        if isinstance(value, str) and value.strip().isdigit():
            raise ValueError(f"{shown} is text, not a number; write it without quotes")
        if isinstance(value, str) and value.strip().lower() == KEEP_ALL:
            raise ValueError(f"{shown} is not {KEEP_ALL}; write {KEEP_ALL} in lower case")
        if isinstance(value, float) and value.is_integer() and value >= 1:
            raise ValueError(f"{shown} has a decimal point; write the whole number {int(value)}")
        kind = "a whole number" if isinstance(value, float) else "a number of versions"
        # pydantic reports ValueError as a validation error; a TypeError would escape it.
        raise ValueError(f"{shown} is not {kind}; {what}")  # noqa: TRY004
    if value < 1:
        raise ValueError(f"{value} would keep no version; {what}")
    return value


CodeSha256 = Annotated[
    str,
    AfterValidator(_check_code_sha256),
    WithJsonSchema({"type": "string", "pattern": SHA256_PATTERN}),
]
Description = Annotated[
    str,
    AfterValidator(_check_description),
    WithJsonSchema({"type": "string", "maxLength": DESCRIPTION_MAX}),
]
Label = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_check_label),
    WithJsonSchema({"type": "string", "pattern": f"^{LABEL_PATTERN.pattern}$"}),
]
AliasName = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_check_alias_name),
    WithJsonSchema({"type": "string", "pattern": f"^{ALIAS_NAME_PATTERN.pattern}$"}),
]
VersionRef = Annotated[
    str,
    BeforeValidator(_number_as_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "integer", "minimum": 1},
            ]
        }
    ),
]
RoutingKey = Annotated[
    str,
    BeforeValidator(_number_as_text),
    WithJsonSchema({"type": "string", "minLength": 1}),
]
Weight = Annotated[
    Decimal,
    PlainValidator(_to_weight),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
]
Region = Annotated[
    str,
    AfterValidator(_check_region),
    WithJsonSchema({"type": "string", "pattern": f"^{REGION_PATTERN.pattern}$"}),
]
FunctionName = Annotated[
    str,
    AfterValidator(_check_function_name),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 140}),
]
MetadataName = Annotated[
    str,
    AfterValidator(_check_metadata_name),
    WithJsonSchema({"type": "string", "pattern": f"^{METADATA_NAME_PATTERN.pattern}$"}),
]
RetainedVersions = Annotated[
    int | Literal["all"],
    PlainValidator(_to_retained),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"const": KEEP_ALL}]}),
]


def _at_most_one_route(routing: dict[str, Decimal]) -> dict[str, Decimal]:
    if len(routing) > 1:
        raise ValueError(
            f"{len(routing)} entries ({', '.join(routing)}), but Lambda allows at most one "
            "additional version per alias (rule L21a); keep one"
        )
    return routing


# -- the declaration ------------------------------------------------------------------------------


class _Declared(BaseModel):
    """Every level refuses unknown fields: a typo must be an error, not a silently ignored line."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class S3Location(_Declared):
    """A deployment package in S3, as UpdateFunctionCode takes it."""

    bucket: str = Field(min_length=1, description="The S3 bucket that holds the zip file.")
    key: str = Field(min_length=1, description="The object key of the zip file.")
    object_version: str | None = Field(
        default=None,
        alias="objectVersion",
        min_length=1,
        description="The S3 object version, for a bucket with versioning.",
    )


class CodeSpec(_Declared):
    """Where a version's code comes from when no published version and not ``$LATEST`` has it."""

    zip_file: str | None = Field(
        default=None,
        alias="zipFile",
        description=(
            "A zip file in this repository, relative to the folder of the file that declares it "
            "(as kustomize and SAM's CodeUri resolve paths), read at the same commit as the "
            "declaration; '..' may climb to the repository's root but not past it, and no "
            "symbolic link may lead out of the repository."
        ),
    )
    s3: S3Location | None = Field(default=None, description="A zip file in S3.")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> CodeSpec:
        if (self.zip_file is None) == (self.s3 is None):
            raise ValueError("give exactly one of zipFile or s3 as the code source")
        return self


# -- a version's configuration --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvironmentValue:
    """One environment variable's value, and whether the declaration marks it secret.

    A secret value is never shown: not in ``plan``, ``diff``, ``reconcile``, a log line, an
    error or ``/status``. Its ``repr`` hides it too, since a value may reach a traceback.
    """

    value: str
    secret: bool = False

    def __repr__(self) -> str:
        return "EnvironmentValue(secret)" if self.secret else f"EnvironmentValue({self.value!r})"


VALUE_FROM = "valueFrom"
"""A reference to a value kept elsewhere (``valueFrom: {ssm: ...}``): a later step."""

_ENVIRONMENT_VALUE_HINT = (
    'write the value as text ("..."), or as {value: "...", secret: true} for a value that must '
    "never be shown"
)


def _to_environment_value(value: object) -> EnvironmentValue:
    """A variable's value: text, or ``{value: TEXT, secret: BOOL}``.

    No message quotes the value: it may be a secret, and a declaration error is printed, logged
    and shown in ``/status``.
    """
    if isinstance(value, str):
        return EnvironmentValue(value)
    if not isinstance(value, dict):
        # pydantic reports ValueError as a validation error; a TypeError would escape it.
        raise ValueError(  # noqa: TRY004
            f"the value is {_kind_of(value)}, not text; quote it, or {_ENVIRONMENT_VALUE_HINT}"
        )
    if VALUE_FROM in value:
        raise ValueError(
            "valueFrom (a value read from SSM Parameter Store or Secrets Manager) is not "
            'supported yet; write the value itself, as {value: "...", secret: true}'
        )
    unknown = sorted(str(key) for key in value if key not in ("value", "secret"))
    if unknown:
        raise ValueError(
            f"unknown field {unknown[0]!r} in the variable; the allowed fields are: value, secret"
        )
    text, secret = value.get("value"), value.get("secret", False)
    if not isinstance(text, str):
        shown = "missing" if "value" not in value else f"{_kind_of(text)}, not text"
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError, not TypeError
            f"the variable's value is {shown}; {_ENVIRONMENT_VALUE_HINT}"
        )
    if not isinstance(secret, bool):
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError, not TypeError
            f"secret is {_kind_of(secret)}; write true or false"
        )
    return EnvironmentValue(text, secret)


def _kind_of(value: object) -> str:
    """What a value is, without the value: ``a number``, ``a list``..."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "text" if isinstance(value, str) else "a value"


def _check_environment_name(name: str) -> str:
    if name in lambda_configuration.RESERVED_ENVIRONMENT_NAMES:
        raise ValueError(
            f"{name} is a variable Lambda sets itself, and Lambda refuses a function that sets "
            "it (rule L58); choose another name"
        )
    if not lambda_configuration.ENVIRONMENT_NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"environment variable name {_shown(name)} is not one Lambda accepts (rule L58): a "
            "letter, then at least one letter, digit or '_'"
        )
    return name


def _within_environment_limit(
    variables: dict[str, EnvironmentValue],
) -> dict[str, EnvironmentValue]:
    size = lambda_configuration.environment_size(
        {name: entry.value for name, entry in variables.items()}
    )
    limit = lambda_configuration.ENVIRONMENT_LIMIT_BYTES
    if size > limit:
        raise ValueError(
            f"the {len(variables)} variables take {size} bytes as Lambda counts them (names and "
            f"values as compact JSON, UTF-8), over its {limit}-byte limit (rule L58); move large "
            "values out of the environment"
        )
    return variables


def _whole_number(name: str, low: int, high: int, unit: str) -> Callable[[object], int]:
    """A validator of a whole YAML number within Lambda's limits for ``name``."""

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            shown = _shown(value)
            if isinstance(value, str) and value.strip().isdigit():
                raise ValueError(f"{shown} is text, not a number; write it without quotes")
            # pydantic reports ValueError as a validation error; a TypeError would escape it.
            raise ValueError(f"{shown} is not a whole number of {unit}")  # noqa: TRY004
        if not low <= value <= high:
            raise ValueError(
                f"{value} {unit} is outside Lambda's limits for {name}: {low} to {high}"
            )
        return value

    return check


def _integer_within(bounds: tuple[int, int]) -> WithJsonSchema:
    """The JSON Schema of a whole number within Lambda's ``bounds``, as ``_whole_number``
    checks it."""
    return WithJsonSchema({"type": "integer", "minimum": bounds[0], "maximum": bounds[1]})


def _check_runtime(value: str) -> str:
    runtimes = lambda_configuration.RUNTIMES
    if value in runtimes:
        return value
    if value in lambda_configuration.RETIRED_RUNTIMES:
        raise ValueError(
            f"{value!r} is a runtime Lambda no longer lets a function be created or updated "
            "with (rule L57); choose a supported one, such as "
            f"{did_you_mean_runtime(value) or 'python3.13'}"
        )
    suggestion = did_you_mean(value, runtimes)
    raise ValueError(
        f"{_shown(value)} is not a runtime Lambda accepts (rule L57)"
        + (f"; {suggestion}" if suggestion else f": one of {', '.join(sorted(runtimes))}")
    )


def did_you_mean_runtime(retired: str) -> str | None:
    """The newest supported runtime of a retired one's language: ``python3.14`` for
    ``python3.7``."""
    language = re.match(r"[a-z]+", retired)
    if language is None:
        return None
    same = [r for r in lambda_configuration.RUNTIMES if r.startswith(language[0])]
    return max(same, key=_runtime_order) if same else None


def _runtime_order(runtime: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", runtime))


def _check_handler(value: str) -> str:
    limit = lambda_configuration.HANDLER_MAX
    if not lambda_configuration.HANDLER_PATTERN.fullmatch(value) or len(value) > limit:
        raise ValueError(
            f"{_shown(value)} is not a handler Lambda accepts: 1 to {limit} characters without "
            "spaces, such as app.handler"
        )
    return value


def _to_layers(value: object) -> tuple[str, ...]:
    """Layer version ARNs, in the order Lambda applies them (rule L59)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(
            "layers must be a list of layer version ARNs, such as "
            "[arn:aws:lambda:eu-west-1:123456789012:layer:deps:7]"
        )
    limit = lambda_configuration.LAYERS_LIMIT
    if len(value) > limit:
        raise ValueError(
            f"{len(value)} layers, but Lambda allows at most {limit} (rule L59); merge some"
        )
    seen: dict[str, str] = {}
    for arn in value:
        pattern = lambda_configuration.LAYER_VERSION_PATTERN
        if len(arn) > lambda_configuration.LAYER_ARN_MAX or not pattern.fullmatch(arn):
            raise ValueError(
                f"{_shown(arn)} is not a layer version ARN (rule L59); write "
                "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"
            )
        layer = arn.rsplit(":", 1)[0]
        if layer in seen:
            raise ValueError(
                f"{seen[layer]} and {arn} are two versions of one layer, which Lambda refuses "
                "(rule L59); keep one"
            )
        seen[layer] = arn
    return tuple(value)


def _to_architectures(value: object) -> tuple[str, ...]:
    allowed = lambda_configuration.ARCHITECTURES
    if (
        not isinstance(value, list)
        or len(value) != 1
        or not isinstance(value[0], str)
        or value[0] not in allowed
    ):
        raise ValueError(
            f"architectures must be [x86_64] or [arm64]: a list of exactly one of "
            f"{', '.join(allowed)}, not {_shown(value)} (rule L60)"
        )
    return (value[0],)


EnvironmentName = Annotated[
    str,
    AfterValidator(_check_environment_name),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{lambda_configuration.ENVIRONMENT_NAME_PATTERN.pattern}$",
        }
    ),
]
EnvironmentEntry = Annotated[
    EnvironmentValue,
    PlainValidator(_to_environment_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "value": {"type": "string"},
                        "secret": {"type": "boolean"},
                    },
                    "required": ["value"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
MemorySize = Annotated[
    int,
    PlainValidator(_whole_number("memorySize", *lambda_configuration.MEMORY_RANGE, "MB")),
    _integer_within(lambda_configuration.MEMORY_RANGE),
]
Timeout = Annotated[
    int,
    PlainValidator(_whole_number("timeout", *lambda_configuration.TIMEOUT_RANGE, "seconds")),
    _integer_within(lambda_configuration.TIMEOUT_RANGE),
]
EphemeralStorage = Annotated[
    int,
    PlainValidator(
        _whole_number("ephemeralStorage", *lambda_configuration.EPHEMERAL_STORAGE_RANGE, "MB")
    ),
    _integer_within(lambda_configuration.EPHEMERAL_STORAGE_RANGE),
]
Runtime = Annotated[
    str,
    AfterValidator(_check_runtime),
    WithJsonSchema({"enum": sorted(lambda_configuration.RUNTIMES)}),
]
Handler = Annotated[
    str,
    AfterValidator(_check_handler),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": lambda_configuration.HANDLER_MAX,
            "pattern": f"^{lambda_configuration.HANDLER_PATTERN.pattern}$",
        }
    ),
]
Layers = Annotated[
    tuple[str, ...],
    PlainValidator(_to_layers),
    WithJsonSchema(
        {
            "type": "array",
            "maxItems": lambda_configuration.LAYERS_LIMIT,
            "uniqueItems": True,
            "items": {
                "type": "string",
                "maxLength": lambda_configuration.LAYER_ARN_MAX,
                "pattern": f"^({lambda_configuration.LAYER_VERSION_PATTERN.pattern})$",
            },
        }
    ),
]
Architectures = Annotated[
    tuple[str, ...],
    PlainValidator(_to_architectures),
    WithJsonSchema(
        {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {"enum": list(lambda_configuration.ARCHITECTURES)},
        }
    ),
]


class ConfigurationSpec(_Declared):
    """The configuration a version snapshots besides its code; only the fields given are
    compared with a published version and set on ``$LATEST`` before a publish."""

    environment: (
        Annotated[
            dict[EnvironmentName, EnvironmentEntry], AfterValidator(_within_environment_limit)
        ]
        | None
    ) = Field(
        default=None,
        description=(
            "The environment variables, all of them: name -> value, or name -> {value, "
            "secret: true} for a value that is never shown. {} is none."
        ),
    )
    memory_size: MemorySize | None = Field(
        default=None, alias="memorySize", description="Memory, in MB: 128 to 10240."
    )
    timeout: Timeout | None = Field(default=None, description="Timeout, in seconds: 1 to 900.")
    ephemeral_storage: EphemeralStorage | None = Field(
        default=None,
        alias="ephemeralStorage",
        description="Size of /tmp, in MB: 512 to 10240.",
    )
    runtime: Runtime | None = Field(default=None, description="The runtime, such as python3.13.")
    handler: Handler | None = Field(default=None, description="The handler, such as app.handler.")
    layers: Layers | None = Field(
        default=None,
        description="Layer version ARNs (at most 5, of the function's region), in order.",
    )
    architectures: Architectures | None = Field(
        default=None,
        description=(
            "[x86_64] or [arm64]; Lambda changes it only with the code, so a change needs the "
            "version's code source."
        ),
    )

    def as_configuration(self) -> lambda_configuration.Configuration:
        """The core's value of this block."""
        variables = self.environment
        return lambda_configuration.Configuration(
            environment=None
            if variables is None
            else lambda_configuration.environment(
                {name: entry.value for name, entry in variables.items()}
            ),
            memory_size=self.memory_size,
            timeout=self.timeout,
            ephemeral_storage=self.ephemeral_storage,
            runtime=self.runtime,
            handler=self.handler,
            layers=self.layers,
            architectures=self.architectures,
        )

    @property
    def secrets(self) -> frozenset[str]:
        """The variables marked secret."""
        variables = self.environment or {}
        return frozenset(name for name, entry in variables.items() if entry.secret)


class VersionSpec(_Declared):
    """A version that must exist, identified by its code and the configuration it declares."""

    code_sha256: CodeSha256 = Field(
        alias="codeSha256",
        description=(
            "Lambda's base64 SHA-256 of the deployment package; a published version with this "
            "CodeSha256 (and the declared configuration, if any) satisfies the label."
        ),
    )
    description: Description | None = Field(
        default=None, description="The version's description, used only when it is published."
    )
    code: CodeSpec | None = Field(
        default=None,
        description="Where the code comes from if no published version has it yet.",
    )
    configuration: ConfigurationSpec | None = Field(
        default=None,
        description=(
            "Configuration the version must have besides its code; a published version "
            "satisfies the label only with every field given here."
        ),
    )


DURATION_PATTERN = re.compile(
    r"(?=[0-9])(?:(?P<h>[0-9]{1,3})h)?(?:(?P<m>[0-9]{1,4})m)?(?:(?P<s>[0-9]{1,6})s)?"
)
"""A duration as people write one in Kubernetes and Flagger: ``30s``, ``5m``, ``1h30m``."""

DURATION_MAX = 7 * 24 * 3600
"""A week: longer than any step a rollout should hold (and a mistyped unit is caught)."""

MAX_STEPS = 20
"""Steps in one rollout, at most: the marker keeps the step's index in two digits."""

CLOUDWATCH_STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
STAT_PATTERN = re.compile(r"p(?:[0-9]{1,2}(?:\.[0-9]{1,3})?|100)")
"""A percentile statistic: ``p99``, ``p99.9``."""

METRIC_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:/#-]{1,255}")


def _to_seconds(value: object) -> float:
    """A duration: ``5m``, ``1h30m``, ``45s``, or a whole number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError, not TypeError
            f"the duration {_shown(value)} is not one; write it as 30s, 5m or 1h30m"
        )
    seconds = value if isinstance(value, int) else duration_seconds(value)
    if seconds is None:
        raise ValueError(
            f"the duration {value!r} is not one; write it as 30s, 5m or 1h30m "
            "(hours, minutes, seconds, in that order)"
        )
    if not 0 <= seconds <= DURATION_MAX:
        raise ValueError(
            f"the duration {_shown(value)} is not between 0s and {DURATION_MAX // 86400} days"
        )
    return float(seconds)


def duration_seconds(text: str) -> int | None:
    """The seconds of a duration as a declaration may write one (``5m``, ``1h30m``, or a
    whole number of seconds); ``None`` when it is none."""
    if text.isascii() and text.isdigit():
        return int(text)
    match = DURATION_PATTERN.fullmatch(text)
    if match is None:
        return None
    return 3600 * int(match["h"] or 0) + 60 * int(match["m"] or 0) + int(match["s"] or 0)


def _shown(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _to_bound(value: object) -> float:
    """A check's bound: a finite YAML number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError, not TypeError
            f"the bound {_shown(value)} is not a number; write a number such as 0.01"
        )
    bound = float(value)
    if not math.isfinite(bound):
        raise ValueError(f"the bound {_shown(value)} is not a finite number")
    return bound


def _check_stat(value: str) -> str:
    if value in CLOUDWATCH_STATS or STAT_PATTERN.fullmatch(value):
        return value
    suggestion = did_you_mean(value, CLOUDWATCH_STATS)
    raise ValueError(
        f"{value!r} is not a CloudWatch statistic; write one of {', '.join(CLOUDWATCH_STATS)} "
        f"or a percentile such as p99{'; ' + suggestion if suggestion else ''}"
    )


def _check_metric_name(value: str) -> str:
    if not METRIC_NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"{_shown(value)} is not a CloudWatch metric name: 1 to 255 letters, digits or "
            "'_.-:/#', such as Errors or Invocations"
        )
    return value


Duration = Annotated[
    float,
    PlainValidator(_to_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": f"^{DURATION_PATTERN.pattern}$"},
                {"type": "integer", "minimum": 0, "maximum": DURATION_MAX},
            ]
        }
    ),
]
Bound = Annotated[float, PlainValidator(_to_bound), WithJsonSchema({"type": "number"})]
Statistic = Annotated[
    str,
    AfterValidator(_check_stat),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(CLOUDWATCH_STATS)},
                {"type": "string", "pattern": f"^{STAT_PATTERN.pattern}$"},
            ]
        }
    ),
]
MetricName = Annotated[
    str,
    AfterValidator(_check_metric_name),
    WithJsonSchema({"type": "string", "pattern": f"^{METRIC_NAME_PATTERN.pattern}$"}),
]


class _Bounded(_Declared):
    max: Bound | None = Field(default=None, description="The highest value that passes.")
    min: Bound | None = Field(default=None, description="The lowest value that passes.")

    @model_validator(mode="after")
    def _some_bound(self) -> _Bounded:
        if self.max is None and self.min is None:
            raise ValueError("give max, min or both: the bounds the value must stay within")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}; no value could pass")
        return self


class CloudWatchCheckSpec(_Bounded):
    """A Lambda metric of the target version, from CloudWatch."""

    metric: MetricName = Field(
        description="An AWS/Lambda metric, such as Errors, Throttles or Duration."
    )
    stat: Statistic = Field(default="Sum", description="The statistic over the window.")
    ratio_to: MetricName | None = Field(
        default=None,
        alias="ratioTo",
        description="Divide by this metric's Sum over the same window (Errors / Invocations).",
    )


class PrometheusCheckSpec(_Bounded):
    """An instant query; {{version}}, {{function}} and {{alias}} are replaced before it runs."""

    query: str = Field(min_length=1, max_length=4096, description="The PromQL query.")


class AlarmCheckSpec(_Declared):
    """A CloudWatch alarm: the step fails only if it goes to ALARM after the step began."""

    name: str = Field(min_length=1, max_length=255, description="The alarm's name.")


class CheckSpec(_Declared):
    """One check of a rollout's analysis: exactly one of cloudwatch, prometheus or alarm."""

    cloudwatch: CloudWatchCheckSpec | None = None
    prometheus: PrometheusCheckSpec | None = None
    alarm: AlarmCheckSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CheckSpec:
        given = [name for name in ("cloudwatch", "prometheus", "alarm") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(
                "a check is exactly one of cloudwatch, prometheus or alarm"
                + (f", not {' and '.join(given)}" if given else "")
                + "; write each as its own list item"
            )
        return self


class AnalysisSpec(_Declared):
    """The checks that judge each step of a rollout, against the target version only."""

    interval: Duration = Field(default=60.0, description="How often the checks run: 1m.")
    min_invocations: int = Field(
        default=0,
        ge=0,
        alias="minInvocations",
        strict=True,
        description="Below this many invocations of the target in the window a ratio check "
        "is inconclusive, not failed.",
    )
    failure_limit: int = Field(
        default=1,
        ge=1,
        le=999,
        alias="failureLimit",
        strict=True,
        description="Failed checks in one step that roll the rollout back.",
    )
    checks: list[CheckSpec] = Field(
        min_length=1, max_length=20, description="The checks, each one of its kinds."
    )

    @model_validator(mode="after")
    def _interval_positive(self) -> AnalysisSpec:
        if self.interval < 1:
            raise ValueError("analysis.interval must be at least 1s")
        return self


class StepSpec(_Declared):
    """One step: the target's share of traffic, then a hold or a pause for approval."""

    weight: Weight = Field(description="The target's share of traffic, strictly between 0 and 1.")
    hold: Duration | None = Field(
        default=None, description="How long the step lasts before the next: 5m."
    )
    pause: StrictBool = Field(
        default=False,
        description="Wait at this step until the alias's approve reaches this step's number.",
    )

    @model_validator(mode="after")
    def _hold_or_pause(self) -> StepSpec:
        if self.pause and self.hold is not None:
            raise ValueError("a step holds for a time or pauses for approval, not both")
        return self


class RolloutSpec(_Declared):
    """Move the alias to its version step by step, judged by an analysis."""

    steps: list[StepSpec] = Field(
        min_length=1, max_length=MAX_STEPS, description="The steps, by increasing weight."
    )
    analysis: AnalysisSpec | None = Field(
        default=None, description="The checks that judge each step."
    )
    on_no_data: Literal["hold", "pass", "fail"] = Field(
        default="hold",
        alias="onNoData",
        description="What an inconclusive check does to a step: hold it, pass it or fail it.",
    )


class AliasSpec(_Declared):
    """Where an alias must point, optionally sending a share of traffic to a second version."""

    version: VersionRef = Field(
        description=(
            'A label from spec.versions, a published version number such as "17", or $LATEST.'
        )
    )
    routing: Annotated[dict[RoutingKey, Weight], AfterValidator(_at_most_one_route)] = Field(
        default_factory=dict,
        description=(
            "At most one entry: a label or published version number, mapped to the share of "
            "traffic it receives, strictly between 0 and 1."
        ),
        json_schema_extra={"maxProperties": 1},
    )
    description: Description = Field(default="", description="The alias's description.")
    rollout: RolloutSpec | None = Field(
        default=None,
        description="Move the alias to its version step by step (a canary), with automatic "
        "rollback; the alias's routing is then the rollout's.",
    )
    approve: int = Field(
        default=0,
        ge=0,
        le=MAX_STEPS,
        strict=True,
        description="The number of the last pause step let through; raise it to go on.",
    )
    skip: StrictBool = Field(
        default=False,
        description="Skip the rollout's steps and move the alias to its version at once.",
    )


class FunctionSpec(_Declared):
    """The versions and aliases of one Lambda function."""

    function_name: FunctionName | None = Field(
        default=None,
        alias="functionName",
        description="The function's name or unqualified ARN; defaults to metadata.name.",
    )
    region: Region | None = Field(
        default=None,
        description=(
            "The function's region, one AWS Lambda is in (or one of the controller's "
            "extra_regions setting); defaults to the controller's region, or to the ARN's region."
        ),
    )
    versions: dict[Label, VersionSpec] = Field(
        default_factory=dict, description="Versions that must exist, by label."
    )
    aliases: dict[AliasName, AliasSpec] = Field(
        default_factory=dict, description="Aliases and where they must point, by alias name."
    )
    prune: StrictBool = Field(
        default=False,
        description="Delete aliases this controller created that are no longer declared.",
    )
    suspend: StrictBool = Field(
        default=False, description="Observe and report this function, but never write to it."
    )
    adopt: StrictBool = Field(
        default=False,
        description=(
            "Aliases declared here carry the ownership marker: one write adds it to each that "
            "lacks it (an alias made by hand or by another tool, imported with lambda-gitops "
            "import), so that it can be pruned and its out-of-band changes seen."
        ),
    )
    retain_versions: RetainedVersions | None = Field(
        default=None,
        alias="retainVersions",
        description=(
            "Keep the newest N published versions and delete older ones after a successful "
            "pass, never one an alias points to or a declaration names; all: never delete one. "
            "Default: the controller's retain_versions setting (off unless set)."
        ),
    )


class Metadata(_Declared):
    """What identifies the declaration."""

    name: MetadataName = Field(
        description=("The declaration's name, unique in the repository; the default function name.")
    )


class FunctionDeclaration(_Declared):
    """One ``kind: Function`` document of the declarations repository."""

    api_version: Literal["lambda-gitops/v1"] = Field(
        alias="apiVersion", description="The declaration format: lambda-gitops/v1."
    )
    kind: Literal["Function"] = Field(description="Always Function.")
    metadata: Metadata
    spec: FunctionSpec


def is_version_number(reference: str) -> bool:
    """True for a published version number as Lambda spells it (``"17"``)."""
    return VERSION_NUMBER_PATTERN.fullmatch(reference) is not None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one Function declaration, for ``lambda-gitops schema`` and editors."""
    schema = FunctionDeclaration.model_json_schema(by_alias=True)
    _name_keys_with_property_names(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lambda-gitops Function",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def _name_keys_with_property_names(node: object) -> None:
    """Turn pydantic's ``patternProperties`` into ``propertyNames`` + ``additionalProperties``.

    pydantic renders a constrained key as ``patternProperties``, which lets any other key through
    unchecked; ``propertyNames`` makes an editor flag a bad alias name or label.
    """
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1:
            ((pattern, value_schema),) = patterns.items()
            del node["patternProperties"]
            node["propertyNames"] = {"pattern": pattern}
            node["additionalProperties"] = value_schema
        for child in node.values():
            _name_keys_with_property_names(child)
    elif isinstance(node, list):
        for child in node:
            _name_keys_with_property_names(child)

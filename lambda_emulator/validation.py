"""Lambda's request checks, with the exact codes and texts AWS answers them with.

AWS, not the SDK, checks patterns, maximums and enums (see the general notes of LAMBDA_RULES.md),
so the emulated registry has to do it itself, and in AWS's own words: a client that parses the
message, or a person comparing it with what AWS printed, must not see a difference. Everything
here is pure: it turns values into either nothing or a ``LambdaApiError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LATEST = "$LATEST"
"""The only mutable version of a function, as Lambda spells it."""

DEFAULT_ACCOUNT = "123456789012"
"""The account the emulated registry acts in unless told otherwise (the AWS documentation's own)."""


class LambdaApiError(Exception):
    """A Lambda API error as AWS sends it: an error code, an HTTP status and a message.

    The store raises it for every refused request; the HTTP layer turns it into the JSON body and
    ``x-amzn-ErrorType`` header that botocore reads, and the emulator commands print it.
    """

    def __init__(self, code: str, status: int, message: str, *, typed: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.typed = typed
        """Whether the answer's body names the error's ``Type``, as AWS's do but for a few
        (recorded: L21e's and the reserved-concurrency limits of L55)."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def not_found(message: str) -> LambdaApiError:
    """A ``ResourceNotFoundException`` (404)."""
    return LambdaApiError("ResourceNotFoundException", 404, message)


def conflict(message: str) -> LambdaApiError:
    """A ``ResourceConflictException`` (409)."""
    return LambdaApiError("ResourceConflictException", 409, message)


def invalid_parameter(message: str, *, typed: bool = True) -> LambdaApiError:
    """An ``InvalidParameterValueException`` (400)."""
    return LambdaApiError("InvalidParameterValueException", 400, message, typed=typed)


def code_signing_config_not_found(arn: str) -> LambdaApiError:
    """The 404 of a code signing configuration that does not exist (L56, recorded)."""
    return LambdaApiError(
        "CodeSigningConfigNotFoundException",
        404,
        "The code signing configuration cannot be found. Check that the provided configuration "
        f"is not deleted: {arn}.",
    )


REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


def precondition_failed() -> LambdaApiError:
    """The 412 of a RevisionId that is not the current one (rules L5, L18, L30)."""
    return LambdaApiError("PreconditionFailedException", 412, REVISION_MISMATCH)


# The patterns of botocore's Lambda service model, quoted as AWS quotes them in its messages.
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
NAMESPACED_FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
ALIAS_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
VERSION_PATTERN = r"(\$LATEST|[0-9]+)"
ADDITIONAL_VERSION_PATTERN = r"[0-9]+"
ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
HANDLER_PATTERN = r"[^\s]+"
CODE_SIGNING_CONFIG_PATTERN = (
    r"arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"code-signing-config:csc-[a-z0-9]{17}"
)
RUNTIMES = (
    "nodejs20.x",
    "python3.14",
    "provided.al2023",
    "python3.12",
    "python3.13",
    "nodejs24.x",
    "nodejs22.x",
    "java25",
    "python3.10",
    "python3.11",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "ruby3.2",
    "python3.8",
    "python3.9",
    "java17",
    "nodejs16.x",
    "dotnet10",
    "dotnet8",
    "java11",
    "dotnet6",
    "nodejs18.x",
    "provided.al2",
    "java8.al2",
)
"""The runtimes CreateFunction and UpdateFunctionConfiguration accept, in the order AWS lists
them when it refuses another (rule L57; LocalStack's recordings of January 2026)."""
DEPRECATED_RUNTIMES = (
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "java8",
    "python2.7",
    "python3.6",
    "python3.7",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
)
"""Runtimes of botocore's model that AWS no longer lets a function be created or updated with
(rule L57). Seven are recorded (java8, go1.x, provided, nodejs12.x, nodejs14.x, python3.7,
dotnetcore3.1); the others are older still, and taken to be refused the same way (unverified)."""

BARE_NAME_MAX = 64
"""A function name without account, region or qualifier is at most 64 characters (rule L44)."""

_FUNCTION_NAME_PARTS = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?"
    r"((?P<region>(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}):)?"
    r"((?P<account>\d{12}):)?(function:)?(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(:(?P<qualifier>\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
"""The service model's FunctionName pattern, with the parts named."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint, in the words of AWS's ``ValidationException``.

    A ``sensitive`` value (an environment variable's, in botocore's model) is not quoted: AWS
    says ``Value at 'environment.variables'``, so that a secret never reaches an error message.
    A value of ``None`` is a member the request left out: ``Value null at 'tagKeys'``.
    """

    value: str | None
    field: str
    constraint: str
    sensitive: bool = False

    def __str__(self) -> str:
        quoted = "" if self.sensitive else f" '{self.value}'"
        if self.value is None:  # what AWS prints for a member a request left out
            quoted = " null"
        return f"Value{quoted} at '{self.field}' failed to satisfy constraint: {self.constraint}"


def validation_error(violations: Sequence[Violation]) -> LambdaApiError:
    """The ``ValidationException`` listing every violation, as AWS words it."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(str(violation) for violation in violations)
    return LambdaApiError(
        "ValidationException", 400, f"{count} validation {noun} detected: {details}"
    )


def check(violations: Sequence[Violation]) -> None:
    """Raise the ``ValidationException`` of ``violations``, if there are any."""
    if violations:
        raise validation_error(violations)


def string_violations(
    value: str | None,
    field: str,
    *,
    min_length: int = 0,
    max_length: int | None = None,
    pattern: str | None = None,
) -> list[Violation]:
    """The length and pattern violations of one string parameter; ``None`` has none."""
    if value is None:
        return []
    found: list[Violation] = []
    if max_length is not None and len(value) > max_length:
        found.append(
            Violation(value, field, f"Member must have length less than or equal to {max_length}")
        )
    if len(value) < min_length:
        found.append(
            Violation(
                value, field, f"Member must have length greater than or equal to {min_length}"
            )
        )
    if pattern is not None and value and not re.fullmatch(pattern, value):
        found.append(
            Violation(value, field, f"Member must satisfy regular expression pattern: {pattern}")
        )
    return found


def description_violations(description: str | None) -> list[Violation]:
    """Descriptions of versions, aliases and functions are 0-256 characters (rules L1, L11)."""
    return string_violations(description, "description", max_length=256)


def max_items_violations(max_items: int | None) -> list[Violation]:
    """``MaxItems`` of the list operations is 1-10000 (rules L23, L24)."""
    if max_items is None:
        return []
    if max_items > 10000:
        return [
            Violation(
                str(max_items), "maxItems", "Member must have value less than or equal to 10000"
            )
        ]
    if max_items < 1:
        return [
            Violation(
                str(max_items), "maxItems", "Member must have value greater than or equal to 1"
            )
        ]
    return []


def java_list(values: Sequence[object]) -> str:
    """A list as Java prints it in AWS's messages: ``[x86_64, arm64]``."""
    return "[" + ", ".join(str(value) for value in values) + "]"


def enum_violations(value: str | None, field: str, allowed: Sequence[str]) -> list[Violation]:
    """A value outside an enum, quoted with the enum as AWS lists it (rule L26)."""
    if value is None or value in allowed:
        return []
    return [Violation(value, field, f"Member must satisfy enum value set: {java_list(allowed)}")]


def runtime_error(runtime: str | None) -> LambdaApiError | None:
    """AWS's refusal of a runtime it no longer supports or does not know (rule L57).

    Not a ``ValidationException``: AWS checks the runtime as a value of its own, with an
    ``InvalidParameterValueException``, and only once the request's preconditions hold (L50).
    """
    if runtime is None or runtime in RUNTIMES:
        return None
    if runtime in DEPRECATED_RUNTIMES:
        return invalid_parameter(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use a supported runtime while "
            "creating or updating functions."
        )
    return invalid_parameter(
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum "
        f"value set: {java_list(RUNTIMES)} or be a valid ARN"
    )


def routing_violations(weights: Mapping[str, float | None]) -> list[Violation]:
    """Keys must be version numbers and weights within [0.0, 1.0] (rules L21b, L21c).

    AWS quotes the whole map in Java's ``{key=value}`` form, once for the values and once for
    the keys, with every constraint of the member listed.
    """
    shown = "{" + ", ".join(f"{k}={_java_number(w)}" for k, w in weights.items()) + "}"
    field = "routingConfig.additionalVersionWeights"
    found: list[Violation] = []
    if any(w is None or not 0.0 <= w <= 1.0 for w in weights.values()):
        found.append(
            Violation(
                shown,
                field,
                "Map value must satisfy constraint: [Member must have value less than or equal "
                "to 1.0, Member must have value greater than or equal to 0.0, Member must not be "
                "null]",
            )
        )
    if any(not re.fullmatch(ADDITIONAL_VERSION_PATTERN, k) or len(k) > 1024 for k in weights):
        found.append(
            Violation(
                shown,
                field,
                "Map keys must satisfy constraint: [Member must have length less than or equal "
                "to 1024, Member must have length greater than or equal to 1, Member must "
                f"satisfy regular expression pattern: {ADDITIONAL_VERSION_PATTERN}]",
            )
        )
    return found


def _java_number(value: float | None) -> str:
    """A weight as Java prints a ``Double``: ``2.0``, ``0.5``, ``Infinity``, ``NaN``, ``null``."""
    if value is None:
        return "null"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


@dataclass(frozen=True, slots=True)
class FunctionName:
    """A ``FunctionName`` parameter taken apart: whose function, which one, which qualifier.

    ``account`` and ``region`` are ``None`` when the form given does not say (rule L44); the
    caller's own then apply.
    """

    name: str
    qualifier: str | None = None
    account: str | None = None
    region: str | None = None


def parse_function_name(value: str, *, namespaced: bool = False) -> FunctionName:
    """Check a ``FunctionName`` against its shape and split it into its parts (rule L44).

    GetFunction, GetFunctionConfiguration, DeleteFunction and ListVersionsByFunction take the
    wider ``NamespacedFunctionName`` (``namespaced``): up to 256 characters, dots allowed. A bare
    name longer than 64 characters is not a validation error here: such a function cannot exist,
    so the lookup answers 404 as AWS does.
    """
    pattern = NAMESPACED_FUNCTION_NAME_PATTERN if namespaced else FUNCTION_NAME_PATTERN
    check(
        string_violations(
            value,
            "functionName",
            min_length=1,
            max_length=256 if namespaced else 140,
            pattern=pattern,
        )
    )
    match = _FUNCTION_NAME_PARTS.fullmatch(value)
    if match is None:  # the shape check above lets no such value through
        raise validation_error(
            [
                Violation(
                    value,
                    "functionName",
                    f"Member must satisfy regular expression pattern: {pattern}",
                )
            ]
        )
    return FunctionName(
        name=match["name"],
        qualifier=match["qualifier"],
        account=match["account"],
        region=match["region"],
    )


def merge_qualifier(name: FunctionName, qualifier: str | None) -> str | None:
    """The one qualifier a request names, from the ARN or the ``Qualifier`` parameter.

    Both may be given only if they agree (rule L45). The qualifier is checked against its shape,
    and is case-sensitive: ``$latest`` is a valid shape that names nothing (rule L46).
    """
    check(
        string_violations(
            qualifier, "qualifier", min_length=1, max_length=128, pattern=QUALIFIER_PATTERN
        )
    )
    if qualifier is not None and name.qualifier is not None and qualifier != name.qualifier:
        raise invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return qualifier if qualifier is not None else name.qualifier


def alias_name_violations(name: str) -> list[Violation]:
    """An alias name is 1-128 characters and not made only of digits (rule L10)."""
    return string_violations(name, "name", min_length=1, max_length=128, pattern=ALIAS_PATTERN)


def function_version_violations(version: str | None) -> list[Violation]:
    """An alias targets ``$LATEST`` or a version number, never another alias (rule L12)."""
    return string_violations(
        version, "functionVersion", min_length=1, max_length=1024, pattern=VERSION_PATTERN
    )


def code_signing_config_violations(arn: str | None) -> list[Violation]:
    """A code signing configuration's ARN, as CreateFunction and PutFunctionCodeSigningConfig
    check its shape before finding that no such configuration exists (L56)."""
    return string_violations(
        arn, "codeSigningConfigArn", max_length=200, pattern=CODE_SIGNING_CONFIG_PATTERN
    )


def is_version_number(qualifier: str) -> bool:
    """True for a published version's qualifier: digits only."""
    return qualifier.isascii() and qualifier.isdigit()


MAX_VERSION_NUMBER = 2**63 - 1
"""The largest number the state file can hold (SQLite's INTEGER); no version gets near it."""


def version_number(qualifier: str) -> int | None:
    """The number of the published version ``qualifier`` names, or ``None`` if none can exist.

    Versions are numbered 1, 2, 3... and printed without leading zeros (rule L7), so ``0``,
    ``02`` and a number past what the state file can hold name no version: asked for, they are
    a missing version, never an error of the store (SQLite refuses integers past 2**63 - 1) and
    never another version (``02`` is not version 2).
    """
    if not is_version_number(qualifier) or qualifier.startswith("0"):
        return None
    if len(qualifier) > len(str(MAX_VERSION_NUMBER)):  # spares int() thousands of digits
        return None
    number = int(qualifier)
    return number if number <= MAX_VERSION_NUMBER else None

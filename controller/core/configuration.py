"""The configuration a version snapshots besides its code, as declarations pin it and Lambda
reports it.

Lambda publishes a version as a snapshot of ``$LATEST``'s code *and* configuration (rule L48),
so a release that changes only an environment variable or the memory is a new version. A
declaration names a version by its ``codeSha256`` and, optionally, the configuration fields
teams change per release: ``Configuration`` holds those fields, each ``None`` when it is not
declared (or, on the live side, when Lambda did not report it). Only the fields a declaration
gives are compared and set, so a declaration that says nothing of the timeout accepts any.

The values are compared as Lambda normalises them: an environment is a set of variables (``{}``
and none are the same), layers are the ARNs in their order, architectures a one-item list.

Environment values may be secrets. This module never puts one in a text: ``repr`` shows the
variables' names only, and the sentences of ``describe`` and ``changes`` show a value the
declaration marks secret as ``(secret)``. Lambda's own limits live here too (memory, timeout,
storage, runtimes, reserved variables, layers), copied from the emulator's and botocore's,
because the core imports neither; ``tests/core/test_configuration.py`` keeps the copies equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

Environment = tuple[tuple[str, str], ...]
"""Environment variables as ``(name, value)`` pairs sorted by name: one spelling per set of
variables, hashable, so that two declarations of the same variables are equal."""

MEMORY_RANGE = (128, 10240)
"""MemorySize, in MB (botocore's model allows more for Managed Instances; ordinary functions
are held to these, as the emulator holds them, rule L60)."""
TIMEOUT_RANGE = (1, 900)
"""Timeout, in seconds."""
EPHEMERAL_STORAGE_RANGE = (512, 10240)
"""EphemeralStorage.Size, in MB (rule L60)."""
ENVIRONMENT_LIMIT_BYTES = 4096
"""All environment variables together, measured as compact JSON in UTF-8 (rule L58)."""
ENVIRONMENT_NAME_PATTERN = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")
"""botocore's ``EnvironmentVariableName``: a letter, then letters, digits or ``_`` (rule L58)."""
RESERVED_ENVIRONMENT_NAMES = frozenset(
    {
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
    }
)
"""The variables Lambda sets itself and refuses to take from a function (rule L58)."""
LAYERS_LIMIT = 5
LAYER_VERSION_PATTERN = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}"
    r":layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)
"""botocore's ``LayerVersionArn``: a layer's ARN with its version number (rule L59)."""
LAYER_ARN_MAX = 2048
ARCHITECTURES = ("x86_64", "arm64")
HANDLER_MAX = 128
HANDLER_PATTERN = re.compile(r"[^\s]+")
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
"""The runtimes Lambda lets a function be created or updated with (rule L57), as the emulator
lists them (``lambda_emulator.validation.RUNTIMES``)."""
RETIRED_RUNTIMES = (
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
"""Runtimes of botocore's model that Lambda no longer accepts for a create or an update (rule
L57; ``lambda_emulator.validation.DEPRECATED_RUNTIMES``)."""

DEFAULT_MEMORY_SIZE = 128
DEFAULT_TIMEOUT = 3
DEFAULT_EPHEMERAL_STORAGE = 512
DEFAULT_ARCHITECTURES = ("x86_64",)
"""What a function has when Lambda's answer leaves the member out (rule L49)."""

SECRET = "(secret)"  # noqa: S105 - the words shown instead of a secret, not one
"""How a secret value is shown, everywhere."""


@dataclass(frozen=True, slots=True)
class Configuration:
    """The configuration fields a declaration may pin, by their meaning in Lambda.

    ``None`` is "not declared" in a declaration, and "not reported" in what Lambda answered
    (the registry adapter fills in Lambda's defaults for members an answer leaves out).
    """

    environment: Environment | None = None
    memory_size: int | None = None
    timeout: int | None = None
    ephemeral_storage: int | None = None
    runtime: str | None = None
    handler: str | None = None
    layers: tuple[str, ...] | None = None
    architectures: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        """The fields that are set, environment variables by name only: a configuration may
        end up in a traceback or a debug line, and its values may be secrets."""
        parts = [
            f"{name}={_names_only(value) if name == 'environment' else repr(value)}"
            for name, value in _set(self)
        ]
        return f"Configuration({', '.join(parts)})"

    @property
    def declared(self) -> tuple[str, ...]:
        """The YAML names of the fields that are set, in the order they are shown."""
        return tuple(YAML_NAMES[name] for name, _ in _set(self))

    @property
    def is_empty(self) -> bool:
        return self is NOTHING or not self.declared

    def satisfied_by(self, live: Configuration) -> bool:
        """Whether ``live`` has every field this configuration sets, with the same value."""
        # Most labels declare no configuration: the planner asks this of every version of a
        # label's code, so the common case is answered without looking at a field.
        if self is NOTHING:
            return True
        return all(getattr(live, name) == value for name, value in _set(self))

    def conflicts_with(self, other: Configuration) -> bool:
        """Whether some field is set in both with different values: then no one version can
        satisfy both."""
        if self is NOTHING or other is NOTHING:
            return False
        return any(
            (theirs := getattr(other, name)) is not None and theirs != value
            for name, value in _set(self)
        )

    def unmet_by(self, live: Configuration) -> Configuration:
        """The fields of this configuration that ``live`` does not have: what an update must
        set."""
        unmet = {name: value for name, value in _set(self) if getattr(live, name) != value}
        return replace(NOTHING, **unmet)

    def over(self, base: Configuration) -> Configuration:
        """``base`` with the fields this configuration sets replaced: what ``$LATEST`` holds
        after an update that sets them."""
        return base if self is NOTHING else replace(base, **dict(_set(self)))


YAML_NAMES = {
    "environment": "environment",
    "memory_size": "memorySize",
    "timeout": "timeout",
    "ephemeral_storage": "ephemeralStorage",
    "runtime": "runtime",
    "handler": "handler",
    "layers": "layers",
    "architectures": "architectures",
}
"""Each field's name in a declaration (and in plan and diff), by attribute."""

NOTHING = Configuration()
"""No field declared, or none reported."""


def environment(variables: Mapping[str, str]) -> Environment:
    """Variables in their one spelling, sorted by name."""
    return tuple(sorted(variables.items()))


def environment_size(variables: Mapping[str, str]) -> int:
    """The bytes Lambda counts against its 4 KB limit: the variables as compact JSON, UTF-8
    (rule L58; the emulator measures the same)."""
    text = json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8"))


_FIELDS = tuple(field.name for field in fields(Configuration))


def _set(configuration: Configuration) -> Iterator[tuple[str, Any]]:
    """The fields that are set, as ``(attribute, value)``, in declaration order."""
    for name in _FIELDS:
        value = getattr(configuration, name)
        if value is not None:
            yield name, value


def _names_only(variables: object) -> str:
    if not isinstance(variables, tuple):
        return repr(variables)
    return "{" + ", ".join(f"{name}: ..." for name, _ in variables) + "}"


# -- in words ------------------------------------------------------------------------------------


def describe(configuration: Configuration, secrets: Collection[str] = ()) -> list[str]:
    """The fields a configuration sets, one phrase each, as ``plan`` shows a publish:
    ``memorySize 512``, ``environment.STAGE "prod"``, ``environment.API_KEY (secret)``.

    A variable named in ``secrets`` shows no value. An empty environment reads
    ``environment {}`` (no variables).
    """
    phrases: list[str] = []
    for name, value in _set(configuration):
        key = YAML_NAMES[name]
        if name == "environment":
            assert isinstance(value, tuple)
            if not value:
                phrases.append(f"{key} {{}}")
            phrases += [
                f"{key}.{variable} {_value(variable, text, secrets)}" for variable, text in value
            ]
        else:
            phrases.append(f"{key} {_scalar(value)}")
    return phrases


def changes(
    before: Configuration,
    after: Configuration,
    secrets: Collection[str] = (),
    arrow: str = "->",
) -> list[str]:
    """What differs from ``before`` to ``after``, one phrase each, as ``diff`` shows a version
    declared anew: ``memorySize 256 -> 512``, ``environment.STAGE "dev" -> "prod"``,
    ``environment.API_KEY (secret, changed)``, ``timeout 30 -> (not declared)``.

    A variable named in ``secrets`` (marked secret at either revision) shows no value.
    """
    phrases: list[str] = []
    for name in _FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if old == new:
            continue
        key = YAML_NAMES[name]
        if name == "environment" and old is not None and new is not None:
            phrases += _environment_changes(dict(old), dict(new), secrets, arrow)
        elif name == "environment" and new is None:
            phrases.append(f"{key} no longer declared")
        elif name == "environment":
            phrases += describe(Configuration(environment=new), secrets)
        else:
            phrases.append(f"{key} {_declared_value(old)} {arrow} {_declared_value(new)}")
    return phrases


def _environment_changes(
    old: Mapping[str, str], new: Mapping[str, str], secrets: Collection[str], arrow: str
) -> list[str]:
    phrases = []
    for variable in sorted(old.keys() | new.keys()):
        key = f"environment.{variable}"
        if variable not in old:
            phrases.append(f"+{key} {_value(variable, new[variable], secrets)}")
        elif variable not in new:
            phrases.append(f"-{key}")
        elif old[variable] != new[variable]:
            if variable in secrets:
                phrases.append(f"{key} (secret, changed)")
            else:
                phrases.append(f"{key} {_quoted(old[variable])} {arrow} {_quoted(new[variable])}")
    return phrases


def _value(variable: str, text: str, secrets: Collection[str]) -> str:
    return SECRET if variable in secrets else _quoted(text)


def _declared_value(value: object) -> str:
    return "(not declared)" if value is None else _scalar(value)


def _scalar(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def as_document(configuration: Configuration, secrets: Collection[str] = ()) -> dict[str, object]:
    """The fields a configuration sets, by their YAML names, for JSON output (``plan --output
    json``, ``diff --output json``); a secret variable's value is ``(secret)``."""
    document: dict[str, object] = {}
    for name, value in _set(configuration):
        if name == "environment":
            document["environment"] = {
                variable: SECRET if variable in secrets else text for variable, text in value
            }
        else:
            document[YAML_NAMES[name]] = list(value) if isinstance(value, tuple) else value
    return document


def foreign_layer_region(arn: str, region: str) -> str | None:
    """The region of the layer version ``arn`` when it is not ``region``, the function's:
    Lambda takes layers of the function's region only (rule L59). ``None`` for a layer of that
    region, and for an AWS layer (``...:lambda:::awslayer:...``), which has no region."""
    layer_region = arn.split(":")[3]
    return layer_region if layer_region and layer_region != region else None


def yaml_fields(configuration: Configuration) -> list[tuple[str, Any]]:
    """The fields a configuration sets, as ``(YAML name, value)``, in the order they are
    written: for a program that writes a declaration (``import``, ``add-version``)."""
    return [(YAML_NAMES[name], value) for name, value in _set(configuration)]

"""Seed files: many functions, versions and aliases loaded into the emulated registry at once.

A seed file sets up a registry for a demo or a test in one step. It is parsed with ruamel.yaml,
which keeps line numbers, and validated with pydantic, so that a mistake is reported as
``seed.yaml:7: functions[1].aliases.live.version: ...``. Loading goes through the store's own
methods in one transaction: the seed obeys every Lambda rule, and a bad seed changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from controller.errors import ConfigurationError
from lambda_emulator import packages
from lambda_emulator.packages import CodePackage
from lambda_emulator.store import Caller, EmulatorStore
from lambda_emulator.validation import LambdaApiError

DEFAULT_ROLE_NAME = "lambda-gitops-emulated"
DEFAULT_RUNTIME = "python3.12"
DEFAULT_HANDLER = "app.handler"


def default_role(account: str) -> str:
    """The execution role functions get when none is given."""
    return f"arn:aws:iam::{account}:role/{DEFAULT_ROLE_NAME}"


class SeedAlias(BaseModel):
    """An alias: a version number as a string, or ``$LATEST``, with optional routing."""

    model_config = ConfigDict(extra="forbid")

    version: str
    routing: dict[str, float] | None = None
    description: str = ""

    @field_validator("version", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        """Accept ``version: 3`` as ``"3"``; YAML reads an unquoted number as an integer."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class SeedFunction(BaseModel):
    """A function, the versions to publish in order, and its aliases."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    region: str | None = None
    role: str | None = None
    code_sha256: str | None = Field(default=None, alias="codeSha256")
    zip_file: str | None = Field(default=None, alias="zipFile")
    versions: list[str] = Field(default_factory=list)
    aliases: dict[str, SeedAlias] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_code_source(self) -> SeedFunction:
        if (self.code_sha256 is None) == (self.zip_file is None):
            raise ValueError("give exactly one of codeSha256 and zipFile")
        return self


class Seed(BaseModel):
    """The whole seed file."""

    model_config = ConfigDict(extra="forbid")

    functions: list[SeedFunction]


def read_seed(path: Path) -> tuple[Seed, list[int | None]]:
    """Parse and validate a seed file, and say on which line each function starts.

    Errors name the file, the line and the field.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"cannot read the seed file {path}: {error.strerror}") from error
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as error:
        problem = " ".join(str(error).split())  # one line, as every command error is
        raise ConfigurationError(f"{path}: not valid YAML: {problem}") from error
    try:
        seed = Seed.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        line = _line_of(document, location)
        where = f"{path}:{line}" if line is not None else str(path)
        field = _dotted(location) or "(top level)"
        raise ConfigurationError(f"{where}: {field}: {first['msg']}") from error
    lines = [_line_of(document, ("functions", index)) for index in range(len(seed.functions))]
    return seed, lines


def load_seed(store: EmulatorStore, path: Path, account: str, region: str) -> int:
    """Load a seed file into the store in one transaction; returns the number of functions."""
    seed, lines = read_seed(path)
    codes = [_code_of(path, function) for function in seed.functions]
    with store.transaction():
        for index, (function, code) in enumerate(zip(seed.functions, codes, strict=True)):
            try:
                _load_function(store, function, code, Caller(account, function.region or region))
            except LambdaApiError as error:
                where = f"{path}:{lines[index]}" if lines[index] is not None else str(path)
                raise ConfigurationError(
                    f"{where}: functions[{index}] ({function.name}): {error}"
                ) from error
    return len(seed.functions)


def _load_function(
    store: EmulatorStore, function: SeedFunction, code: CodePackage, caller: Caller
) -> None:
    store.create_function(
        caller,
        function.name,
        code=code,
        role=function.role or default_role(caller.account),
        runtime=DEFAULT_RUNTIME,
        handler=DEFAULT_HANDLER,
    )
    current = code.sha256
    for sha256 in function.versions:
        if sha256 != current:
            store.update_function_code(caller, function.name, packages.from_sha256(sha256))
            current = sha256
        store.publish_version(caller, function.name)
    if current != code.sha256:  # $LATEST ends with the function's own code
        store.update_function_code(caller, function.name, code)
    for name, alias in function.aliases.items():
        store.create_alias(
            caller,
            function.name,
            name,
            function_version=alias.version,
            description=alias.description,
            routing=alias.routing,
        )


def _code_of(path: Path, function: SeedFunction) -> CodePackage:
    try:
        if function.zip_file is not None:
            zip_path = path.parent / function.zip_file
            try:
                data = zip_path.read_bytes()
            except OSError as error:
                raise ConfigurationError(
                    f"{path}: function {function.name}: cannot read zipFile {zip_path}: "
                    f"{error.strerror}"
                ) from error
            return packages.from_zip(data)
        return packages.from_sha256(function.code_sha256 or "")
    except LambdaApiError as error:
        raise ConfigurationError(f"{path}: function {function.name}: {error.message}") from error


def _dotted(location: Sequence[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(document: Any, location: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest node of ``location`` that the YAML document has."""
    line: int | None = None
    node = document
    for part in location:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(part, int) and isinstance(node, list):
                if lc is not None:
                    line = lc.item(part)[0] + 1
                node = node[part]
            elif isinstance(node, dict) and part in node:
                if lc is not None:
                    line = lc.key(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    if line is None and getattr(document, "lc", None) is not None:
        line = document.lc.line + 1
    return line

"""From the bytes of the declaration files to desired state, with every error at ``file:line``.

This is the pure half of the declarations: it takes ``(file name, bytes)`` pairs and a view of
the repository (for ``code.zipFile`` paths) and reads no Git and no file system of its own, so the
loader for a commit and the loader for a folder give the same answer for the same bytes.

The outcome distinguishes three things because the controller treats them differently:

- a **valid** function goes ahead;
- an **invalid** function (the YAML parsed but the declaration is wrong) is not touched and keeps
  its last applied revision, while the other functions, even in the same file, go ahead;
- a **broken file** (the YAML does not parse) hides which functions it declares, so the caller
  keeps every function that the file declared at the last good revision, and never reads the
  file's silence as "these functions were removed".

Line numbers come from ruamel.yaml's round-trip loader, which keeps the position of every key:
pydantic's error locations (``spec.aliases.live.version``) are walked back through the loaded
mappings to the line of the offending key.
"""

from __future__ import annotations

import types
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from controller.declarations.paths import (
    PathNotFound,
    PathOutsideRepository,
    RepositoryTree,
    resolve_repository_path,
)
from controller.declarations.schema import (
    API_GROUP,
    API_VERSION,
    FUNCTION_ARN_PATTERN,
    FUNCTION_NAME_PATTERN,
    KIND,
    REGION_PATTERN,
    AliasSpec,
    CodeSpec,
    FunctionDeclaration,
    FunctionSpec,
    VersionSpec,
    is_version_number,
)
from controller.errors import ConfigurationError
from controller.model import (
    LATEST,
    DeclaredCode,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionRef,
    RepoZip,
    S3Code,
    SourceLocation,
)

Loc = tuple[str | int, ...]
"""A path into a document, as pydantic reports it: ``("spec", "aliases", "live", "version")``."""


@dataclass(frozen=True, slots=True)
class DeclarationError:
    """One problem in the declarations, printed as ``FILE:LINE: message``."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class InvalidFunction:
    """A declaration that parsed as YAML but is wrong: its function is not touched.

    ``name`` and ``ref`` are filled in as far as the declaration allows, so that the caller can
    keep that function at its last applied revision; either may be ``None`` when the declaration
    is too broken to say.
    """

    name: str | None
    ref: FunctionRef | None
    location: SourceLocation
    errors: tuple[DeclarationError, ...]

    @property
    def key(self) -> str:
        """``metadata.name``, or ``FILE:LINE`` of the document when it has no usable name."""
        return self.name if self.name is not None else str(self.location)


@dataclass(frozen=True, slots=True)
class Declarations:
    """The desired state at one revision, with everything that kept part of it from being read."""

    revision: str
    """The commit's SHA, or ``""`` for a plain folder."""
    functions: tuple[DesiredFunction, ...] = ()
    """The valid declarations, in file and document order."""
    invalid: tuple[InvalidFunction, ...] = ()
    """Declarations that must not be applied, in file and document order."""
    broken_files: tuple[DeclarationError, ...] = ()
    """One error per file that did not parse; ``location.file`` names the file."""

    @property
    def errors(self) -> tuple[DeclarationError, ...]:
        """Every error, sorted by file and line."""
        every = [*self.broken_files, *(e for bad in self.invalid for e in bad.errors)]
        return tuple(sorted(every, key=lambda e: (e.location.file, e.location.line, e.message)))

    @property
    def is_valid(self) -> bool:
        return not self.invalid and not self.broken_files


def parse_declarations(
    files: Iterable[tuple[str, bytes]],
    *,
    default_region: str,
    tree: RepositoryTree,
    revision: str = "",
) -> Declarations:
    """Parse and validate the declaration files; ``files`` are ``(path, bytes)`` pairs.

    The paths are relative to the repository's root and appear as they are in messages; the
    files are read in sorted path order whatever order they come in, so the result is
    deterministic. ``default_region`` is the controller's region, used when a declaration names
    none; an invalid one is a ``ConfigurationError`` because it is no declaration's fault.
    """
    if not REGION_PATTERN.fullmatch(default_region):
        raise ConfigurationError(
            f"the default region {default_region!r} is not an AWS region name such as 'eu-west-1'"
        )
    broken: list[DeclarationError] = []
    candidates: list[_Candidate] = []
    for name, data in sorted(files, key=lambda pair: pair[0]):
        try:
            documents = _read_documents(name, data)
        except _Unparsable as unparsable:
            broken.append(unparsable.error)
            continue
        for document in documents:
            candidate = _check_document(document, default_region, tree)
            if candidate is not None:
                candidates.append(candidate)
    _flag_duplicates(candidates)
    return Declarations(
        revision=revision,
        functions=tuple(c.function for c in candidates if c.function and not c.errors),
        invalid=tuple(
            InvalidFunction(c.name, c.ref, c.location, tuple(c.errors))
            for c in candidates
            if c.errors
        ),
        broken_files=tuple(broken),
    )


# -- YAML -----------------------------------------------------------------------------------------


class _Unparsable(Exception):
    def __init__(self, error: DeclarationError) -> None:
        super().__init__(str(error))
        self.error = error


class _DeclarationConstructor(RoundTripConstructor):
    """The round-trip constructor, but reading timestamps as text.

    Alias names such as ``2024-01-02`` are allowed by Lambda; YAML would otherwise turn them into
    dates. A subclass keeps the change away from every other user of ruamel.yaml.
    """


_DeclarationConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _DeclarationConstructor.construct_yaml_str
)


@dataclass(frozen=True, slots=True)
class _Document:
    file: str
    root: CommentedMap
    """The document as loaded, with the line of every key."""
    plain: dict[str, Any]
    """The same content as plain Python values, which is what pydantic validates."""

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.file, self.root.lc.line + 1)

    def at(self, loc: Loc) -> SourceLocation:
        return SourceLocation(self.file, _line_of(self.root, loc))


def _read_documents(name: str, data: bytes) -> list[_Document]:
    """The mapping documents of one file; empty documents and other shapes are not ours."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _Unparsable(
            DeclarationError(
                SourceLocation(name, line),
                f"the file is not UTF-8 text (byte {error.start}); save it as UTF-8",
            )
        ) from error
    yaml = YAML(typ="rt")
    yaml.Constructor = _DeclarationConstructor
    try:
        roots = list(yaml.load_all(text))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "the YAML is malformed"
        raise _Unparsable(
            DeclarationError(
                SourceLocation(name, line),
                f"YAML syntax error: {problem}; until the file parses, every function it "
                "declared stays as last applied",
            )
        ) from error
    except YAMLError as error:
        raise _Unparsable(
            DeclarationError(SourceLocation(name, 1), f"YAML error: {error}")
        ) from error
    documents = []
    for root in roots:
        if isinstance(root, CommentedMap):
            try:
                plain = _plain(root, set())
            except RecursionError as error:
                raise _Unparsable(
                    DeclarationError(
                        SourceLocation(name, root.lc.line + 1),
                        "the document refers to itself through a YAML alias; remove the cycle",
                    )
                ) from error
            documents.append(_Document(name, root, plain))
    return documents


def _plain(node: Any, open_nodes: set[int]) -> Any:
    """ruamel.yaml's values as plain ``dict``, ``list``, ``str``, ``int``, ``float`` and ``bool``.

    Integer keys become text so that ``17: 0.1`` in ``routing`` means version ``"17"``; a YAML
    alias that contains itself is refused instead of recursing forever.
    """
    if isinstance(node, dict | list):
        if id(node) in open_nodes:
            raise RecursionError("a YAML alias contains itself")
        open_nodes.add(id(node))
        try:
            if isinstance(node, dict):
                return {_plain_key(k): _plain(v, open_nodes) for k, v in node.items()}
            return [_plain(item, open_nodes) for item in node]
        finally:
            open_nodes.discard(id(node))
    # ruamel.yaml's scalars subclass the built-in types to remember their style; bool first,
    # because it is also an int.
    for scalar_type in (bool, int, float, str):
        if isinstance(node, scalar_type):
            return scalar_type(node)
    return node


def _plain_key(key: Any) -> Any:
    if isinstance(key, int | float) and not isinstance(key, bool):
        return str(key)
    return _plain(key, set())


def _line_of(root: CommentedMap, loc: Loc) -> int:
    """The 1-based line of the deepest key of ``loc`` that the document has.

    A missing field points at its parent's key; an error about a mapping key (pydantic's
    ``[key]`` marker) points at that key.
    """
    line: int = root.lc.line
    node: Any = root
    for part in loc:
        if isinstance(node, CommentedMap):
            key = next((k for k in node if k == part or _plain_key(k) == part), _ABSENT)
            if key is _ABSENT:
                break
            line = node.lc.key(key)[0]
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0]
            node = node[part]
        else:
            break
    return line + 1


_ABSENT = object()


# -- one document ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    """A ``kind: Function`` document on its way to becoming valid or invalid.

    It keeps the lines that the checks across documents may need, not the document: a
    round-trip YAML tree costs some 20 KB, and holding every one until the last file is read
    made the peak memory of a large repository grow by that much per function.
    """

    location: SourceLocation
    name_at: SourceLocation
    """Where ``metadata.name`` is."""
    identity_at: SourceLocation
    """Where the function is named: ``spec.functionName``, or else ``metadata.name``."""
    name: str | None
    ref: FunctionRef | None
    function: DesiredFunction | None
    errors: list[DeclarationError] = field(default_factory=list)


def _check_document(
    document: _Document, default_region: str, tree: RepositoryTree
) -> _Candidate | None:
    """Validate one document, or ``None`` when it belongs to another tool."""
    plain = document.plain
    api_version, kind = plain.get("apiVersion"), plain.get("kind")
    if not isinstance(api_version, str) or not api_version.startswith(API_GROUP):
        return None
    name, ref = _best_effort_identity(plain, default_region)
    candidate = _Candidate(
        document.location,
        document.at(("metadata", "name")),
        document.at(_identity_loc(plain)),
        name,
        ref,
        None,
    )
    if kind != KIND:
        # Another tool's document never carries our apiVersion, so this is a typo or a newer
        # format; ignoring it would silently drop a function.
        candidate.errors.append(
            _error(
                document,
                ("kind",),
                f"kind: {kind!r} is not a kind of {api_version}; the only kind is {KIND}",
            )
        )
        return candidate
    if api_version != API_VERSION:
        candidate.errors.append(
            _error(
                document,
                ("apiVersion",),
                f"apiVersion: {api_version!r} is unknown to this controller; write "
                f"{API_VERSION}, or upgrade the controller",
            )
        )
        return candidate
    try:
        declaration = FunctionDeclaration.model_validate(plain)
    except ValidationError as invalid:
        candidate.errors.extend(
            DeclarationError(document.at(_without_key_marker(e["loc"])), _describe(e))
            for e in invalid.errors()
        )
        return candidate
    issues: list[tuple[Loc, str]] = []
    candidate.function = _desired_function(declaration, document, default_region, tree, issues)
    candidate.errors.extend(_error(document, loc, message) for loc, message in issues)
    return candidate


def _error(document: _Document, loc: Loc, message: str) -> DeclarationError:
    return DeclarationError(document.at(loc), message)


def _best_effort_identity(
    plain: Mapping[str, Any], default_region: str
) -> tuple[str | None, FunctionRef | None]:
    """The name and function of a declaration as far as it can be read, valid or not.

    An invalid declaration still names a function that the controller must leave alone, and
    the duplicate check must see it.
    """
    metadata, spec = plain.get("metadata"), plain.get("spec")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    name = name if isinstance(name, str) and name else None
    spec = spec if isinstance(spec, dict) else {}
    function_name = spec.get("functionName", name)
    region = spec.get("region", default_region)
    if not isinstance(function_name, str) or not isinstance(region, str):
        return name, None
    arn = FUNCTION_ARN_PATTERN.fullmatch(function_name)
    if arn is not None:
        return name, FunctionRef(function_name, arn["region"], arn["account"])
    if FUNCTION_NAME_PATTERN.fullmatch(function_name) and REGION_PATTERN.fullmatch(region):
        return name, FunctionRef(function_name, region)
    return name, None


def _desired_function(
    declaration: FunctionDeclaration,
    document: _Document,
    default_region: str,
    tree: RepositoryTree,
    issues: list[tuple[Loc, str]],
) -> DesiredFunction:
    """The desired state of a declaration whose fields are each valid; problems that involve
    several fields are appended to ``issues``."""
    spec = declaration.spec
    versions = {
        label: DesiredVersion(
            label=label,
            code_sha256=version.code_sha256,
            description=version.description,
            code=_declared_code(label, version.code, tree, issues),
        )
        for label, version in spec.versions.items()
    }
    aliases: dict[str, DesiredAlias] = {}
    for alias_name, alias in spec.aliases.items():
        _check_alias_version(alias_name, alias, spec, issues)
        _check_routing(alias_name, alias, spec, issues)
        aliases[alias_name] = DesiredAlias(
            name=alias_name,
            version=alias.version,
            routing=dict(alias.routing),
            description=alias.description,
        )
    return DesiredFunction(
        name=declaration.metadata.name,
        ref=_function_ref(declaration, default_region, issues),
        versions=versions,
        aliases=aliases,
        prune=spec.prune,
        suspend=spec.suspend,
        location=document.location,
    )


def _function_ref(
    declaration: FunctionDeclaration, default_region: str, issues: list[tuple[Loc, str]]
) -> FunctionRef:
    spec = declaration.spec
    if spec.function_name is None:
        name = declaration.metadata.name
        if not FUNCTION_NAME_PATTERN.fullmatch(name):
            issues.append(
                (
                    ("metadata", "name"),
                    f"metadata.name {name!r} is also the function name, and is not one Lambda "
                    "accepts (rule L44: 1 to 64 letters, digits, '-' or '_'); set "
                    "spec.functionName",
                )
            )
        return FunctionRef(name, spec.region or default_region)
    arn = FUNCTION_ARN_PATTERN.fullmatch(spec.function_name)
    if arn is None:
        return FunctionRef(spec.function_name, spec.region or default_region)
    if spec.region is not None and spec.region != arn["region"]:
        issues.append(
            (
                ("spec", "region"),
                f"spec.region {spec.region!r} contradicts the region {arn['region']!r} of "
                "spec.functionName; remove spec.region or correct the ARN",
            )
        )
    return FunctionRef(spec.function_name, arn["region"], arn["account"])


def _declared_code(
    label: str,
    code: CodeSpec | None,
    tree: RepositoryTree,
    issues: list[tuple[Loc, str]],
) -> DeclaredCode | None:
    if code is None:
        return None
    if code.s3 is not None:
        return S3Code(code.s3.bucket, code.s3.key, code.s3.object_version)
    # The schema guarantees that a code source without s3 has a zipFile.
    zip_file = code.zip_file or ""
    loc: Loc = ("spec", "versions", label, "code", "zipFile")
    try:
        return RepoZip(resolve_repository_path(zip_file, tree))
    except (PathOutsideRepository, PathNotFound) as refused:
        issues.append((loc, f"spec.versions.{label}.code.zipFile: {refused}"))
        return None


def _check_alias_version(
    alias_name: str, alias: AliasSpec, spec: FunctionSpec, issues: list[tuple[Loc, str]]
) -> None:
    version = alias.version
    if version == LATEST or version in spec.versions or is_version_number(version):
        return
    issues.append(
        (
            ("spec", "aliases", alias_name, "version"),
            f"spec.aliases.{alias_name}.version {version!r} "
            f"{_unknown_reference(version, spec.versions)}",
        )
    )


def _check_routing(
    alias_name: str, alias: AliasSpec, spec: FunctionSpec, issues: list[tuple[Loc, str]]
) -> None:
    where = f"spec.aliases.{alias_name}.routing"
    if alias.routing and alias.version == LATEST:
        issues.append(
            (
                ("spec", "aliases", alias_name, "routing"),
                f"{where}: an alias on $LATEST cannot split traffic (rule L21e); publish the "
                "version and point the alias at its label or number",
            )
        )
    for target in alias.routing:
        loc: Loc = ("spec", "aliases", alias_name, "routing", target)
        problem = _routing_problem(target, alias.version, spec.versions)
        if problem:
            issues.append((loc, f"{where}: {problem}"))


def _routing_problem(target: str, version: str, versions: Mapping[str, VersionSpec]) -> str:
    if target == LATEST:
        return (
            "traffic cannot be routed to $LATEST (rule L21c); route to a label or a published "
            "version number"
        )
    if target not in versions and not is_version_number(target):
        return f"{target!r} {_unknown_reference(target, versions)}"
    if target == version:
        return (
            f"{target!r} is the alias's own version (rule L21d); route to another version or "
            "remove the routing"
        )
    if _same_code(target, version, versions):
        return (
            f"{target!r} has the same codeSha256 as {version!r}, the alias's own version, so "
            "both resolve to one version (rule L21d); route to another version"
        )
    return ""


def _same_code(label: str, other: str, versions: Mapping[str, VersionSpec]) -> bool:
    if label not in versions or other not in versions:
        return False
    return versions[label].code_sha256 == versions[other].code_sha256


def _unknown_reference(reference: str, versions: Mapping[str, VersionSpec]) -> str:
    labels = ", ".join(versions) or "none"
    if reference.isdigit():
        return (
            f"is not a published version number (write it without leading zeros); labels: {labels}"
        )
    return (
        f"is not a label of spec.versions (labels: {labels}) nor a published version number; "
        'declare the label or write a number such as "17"'
    )


# -- across documents -----------------------------------------------------------------------------


def _flag_duplicates(candidates: Sequence[_Candidate]) -> None:
    """Refuse every declaration of a name or a function that is declared more than once.

    Applying either copy would be a guess, so all copies are invalid until one is removed.
    A function is identified by account, region and bare name: the same name in two accounts is
    two functions.
    """
    by_name: dict[str, list[_Candidate]] = defaultdict(list)
    by_function: dict[tuple[str | None, str, str], list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.name is not None:
            by_name[candidate.name].append(candidate)
        if candidate.ref is not None:
            by_function[_function_identity(candidate.ref)].append(candidate)
    named_twice: set[int] = set()
    for name, group in by_name.items():
        for candidate in group if len(group) > 1 else ():
            named_twice.add(id(candidate))
            others = _other_places(candidate, group, by_name=True)
            candidate.errors.append(
                DeclarationError(
                    candidate.name_at,
                    f"metadata.name {name!r} is also declared at {others}; names must be "
                    "unique in the repository",
                )
            )
    for (_, region, function_name), group in by_function.items():
        for candidate in group if len(group) > 1 else ():
            if id(candidate) in named_twice:
                continue
            candidate.errors.append(
                DeclarationError(
                    candidate.identity_at,
                    f"function {function_name!r} in {region} is also declared at "
                    f"{_other_places(candidate, group, by_name=False)}; declare each function once",
                )
            )


def _function_identity(ref: FunctionRef) -> tuple[str | None, str, str]:
    arn = FUNCTION_ARN_PATTERN.fullmatch(ref.name)
    return (ref.account, ref.region, arn["name"] if arn else ref.name)


def _identity_loc(plain: Mapping[str, Any]) -> Loc:
    spec = plain.get("spec")
    if isinstance(spec, dict) and "functionName" in spec:
        return ("spec", "functionName")
    return ("metadata", "name")


def _other_places(candidate: _Candidate, group: Sequence[_Candidate], *, by_name: bool) -> str:
    return ", ".join(
        str(other.name_at if by_name else other.identity_at)
        for other in group
        if other is not candidate
    )


# -- pydantic's errors in the file's terms --------------------------------------------------------


def _without_key_marker(loc: Sequence[str | int]) -> Loc:
    return tuple(part for part in loc if part != "[key]")


def _describe(error: Mapping[str, Any]) -> str:  # noqa: PLR0911 - one return per error type
    """One pydantic error as a sentence that names the field, the value and what to do."""
    loc = _without_key_marker(error["loc"])
    path = _dotted(loc)
    value = _short(error.get("input"))
    match error["type"]:
        case "extra_forbidden":
            parent = _dotted(loc[:-1]) or "the document"
            allowed = ", ".join(_allowed_fields(loc[:-1]))
            return f"unknown field {loc[-1]!r} in {parent}; the allowed fields are: {allowed}"
        case "missing":
            return f"{path} is missing; it is required"
        case "value_error" | "assertion_error":
            return f"{path}: {error['ctx']['error']}"
        case "literal_error":
            return f"{path} must be {error['ctx']['expected']}, not {value}"
        case "string_type":
            return f"{path} must be text, not {value}; quote it"
        case "bool_type":
            return f"{path} must be true or false, not {value}"
        case "dict_type" | "model_type" | "model_attributes_type":
            return f"{path} must be a mapping of fields, not {value}"
        case "string_too_short":
            return f"{path} must not be empty"
        case _:
            return f"{path}: {error['msg']} (the value is {value})"


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_fields(loc: Loc) -> list[str]:
    """The YAML names of the fields of the model found at ``loc``, for "unknown field" errors."""
    current: Any = FunctionDeclaration
    for part in loc:
        model = _model_in(current)
        if model is not None:
            fields = {(f.alias or n): f for n, f in model.model_fields.items()}
            if part not in fields:
                return []
            current = fields[str(part)].annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    model = _model_in(current)
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model in ``annotation``, also inside ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        for member in get_args(annotation):
            model = _model_in(member)
            if model is not None:
                return model
    return None

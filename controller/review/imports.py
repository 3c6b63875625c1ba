"""Declarations written from live Lambda, for ``lambda-gitops import``: adopting a fleet.

A team with hundreds of functions in production cannot start using the controller if every
``CodeSha256`` has to be copied by hand. ``import`` reads what the registry holds and writes,
per function, a declaration that says exactly that: the versions the aliases use (primary and
routing), each labelled from a template (``v17``), with its code and description, and each
alias with its version, routing and description. Such a declaration is in sync the moment it
is written: ``plan`` shows no change and the first reconcile writes nothing, because the
comparison ignores the ownership marker that an alias made by hand lacks. Handing the aliases
to the controller is a separate step that ``plan`` shows first: ``adopt: true`` (``--adopt``).

A folder that already declares a function (in any file, under any name: functions are matched
by account, region and name, as the parser identifies them) is never rewritten: what is
missing is added with the splice edits of ``promote`` and ``add-version`` (``review.edits``),
which keep every comment and refuse an edit that would make anything invalid, and nothing
declared is changed. A declared alias that differs from live stays as declared, for ``plan`` to
show.

The module has three parts, in this order:

- ``read_functions``: the only I/O, through the registry port (paginated and paced by its
  adapter), kept small so that a cheaper way to read a whole region can replace it;
- the pure text of one function's declaration (``declaration_text``), which leaves out, with
  the reason, an alias that no declaration can say (routing to a version with its own
  version's code, a weight of 0 or 1), since a declaration the planner refuses would stop the
  whole function;
- ``plan_import``: every function's outcome and every file's new content, worked out in
  memory and checked before anything is written: each new file is parsed and planned against
  the function it came from, and must be in sync, and each edit of a declared file is checked
  against that file; the whole folder, parsed once, must then hold no error it did not hold
  before.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import ValidationError

from controller.adapters.logging import get_logger
from controller.adapters.registry.port import Registry
from controller.adapters.registry.priming import read_region
from controller.core.configuration import YAML_NAMES, Configuration, foreign_layer_region
from controller.core.declarations import Declarations, InvalidFunction, RepositoryTree
from controller.core.declarations.parser import DEFAULT_LIMITS, ParseCache
from controller.core.declarations.schema import (
    ALIAS_NAME_PATTERN,
    API_VERSION,
    DESCRIPTION_MAX,
    KIND,
    LABEL_MAX,
    LABEL_PATTERN,
    METADATA_NAME_PATTERN,
    ConfigurationSpec,
)
from controller.core.model import (
    LATEST,
    Alias,
    DesiredFunction,
    DesiredVersion,
    FunctionId,
    FunctionRef,
    ObservedFunction,
    PublishedVersion,
)
from controller.core.ownership import declared_part
from controller.core.plan import ADOPT_DRIFT
from controller.core.planner import plan_function
from controller.engine.applier import InScope
from controller.engine.reconciler import Progress
from controller.errors import (
    AccessDenied,
    EditRefused,
    InvalidRequest,
    NotFound,
    RegistryError,
)
from controller.review import edits, plans, yamltext
from controller.review.edits import Edit, SourceFile

VERSION_FIELD = "{version}"
"""The placeholder of a label template, replaced by the published version's number."""

DEFAULT_TEMPLATE = f"v{VERSION_FIELD}"

OUT_OF_SCOPE = "out of the configured scope (scope.functions, scope.regions, scope.accounts)"


# -- reading the registry -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveFunction:
    """One function as the registry holds it: what its declaration is written from."""

    name: str
    region: str
    arn: str
    """The unqualified function ARN Lambda reported: where the declaration came from."""
    versions: tuple[PublishedVersion, ...]
    aliases: tuple[Alias, ...]

    @property
    def identity(self) -> FunctionId:
        return FunctionRef(self.arn or self.name, self.region).identity

    def observed(self) -> ObservedFunction:
        """The function as the planner sees it (``$LATEST`` is not needed: nothing is missing)."""
        ref = FunctionRef(self.name, self.region)
        return ObservedFunction(ref, None, self.versions, self.aliases)


@dataclass(frozen=True, slots=True)
class NotImported:
    """A function asked for that is not imported, and why: outside the scope (skipped, no
    error), or unreadable (an error)."""

    name: str
    region: str
    reason: str
    error: bool


Reading = LiveFunction | NotImported

ProgressFor = Callable[[int], AbstractContextManager[Progress | None]]
"""Given how many functions will be read, a progress display to advance once per function."""


def read_functions(
    registry: Registry,
    region: str,
    names: Sequence[str] | None,
    *,
    in_scope: InScope,
    progress: ProgressFor | None = None,
    concurrency: int = 8,
) -> list[Reading]:
    """The functions ``names`` (names or ARNs; an ARN is read in its own region), or with
    ``None`` every function of ``region``, each with its published versions and aliases.

    Every function of a region, with every version of each, is read from the region's
    ListFunctions pages (``FunctionVersion=ALL``, 50 versions a page, ``$LATEST`` among them:
    0.06 request a function where each has two published versions, as ``bench/import_fleet.py``
    measures); where that listing is refused (a policy without ``lambda:ListFunctions`` on
    ``*``), the functions are listed and each one's versions read on its own. A named function
    is read with GetFunction, which also says whether it exists, and ListVersionsByFunction.
    Functions outside the scope are not read further. Then each costs one ListAliases, read
    ``concurrency`` functions at a time under the adapter's rate limit. A function that cannot
    be read is a ``NotImported`` error and the others go on; a region that cannot be listed
    raises.
    """
    if names is None:
        targets = _every_function(registry, region)
    else:
        targets = [_Target(_named(name, region)) for name in dict.fromkeys(names)]
    shown = progress(len(targets)) if progress is not None else nullcontext(None)
    readings: list[Reading] = []
    with shown as advance, ThreadPoolExecutor(max(1, concurrency), "import") as pool:
        pending = [pool.submit(_read, registry, target, in_scope) for target in targets]
        for done in as_completed(pending):
            reading = done.result()
            readings.append(reading)
            if advance is not None:
                advance(reading.name)
    return sorted(readings, key=lambda reading: (reading.region, reading.name))


@dataclass(frozen=True, slots=True)
class _Target:
    """A function to read, with what a region listing already told of it."""

    ref: FunctionRef
    arn: str | None = None
    """The unqualified function ARN, when a listing gave it."""
    versions: tuple[PublishedVersion, ...] | None = None
    """Its published versions, when a complete region listing gave them."""


def _every_function(registry: Registry, region: str) -> list[_Target]:
    """Every function of the region, with its versions when the region listing allows it."""
    try:
        listing = read_region(registry, region)
    except (AccessDenied, InvalidRequest) as refused:
        get_logger("controller.review.imports").info(
            "region listing refused; listing versions per function",
            region=region,
            error=str(refused),
        )
    else:
        return [
            _Target(FunctionRef(function.name, region), function.arn, versions)
            for function, versions in listing.by_function().items()
        ]
    listed = sorted(registry.list_functions(region), key=lambda state: state.name)
    return [_Target(FunctionRef(state.name, region), _unqualified(state.arn)) for state in listed]


def _named(name: str, region: str) -> FunctionRef:
    """A function named on the command line: an ARN is called in its own region."""
    identity = FunctionRef(name, region).identity
    return FunctionRef(name, identity.region)


def _unqualified(arn: str) -> str:
    return ":".join(arn.split(":")[:7])


def _read(registry: Registry, target: _Target, in_scope: InScope) -> Reading:
    ref, shown = target.ref, target.ref.bare_name
    try:
        name, arn = shown, target.arn
        if arn is None:
            state = registry.get_function(ref)
            name = state.name or shown
            arn = _unqualified(state.arn) if state.arn else ref.identity.arn
        if not in_scope(arn):
            return NotImported(name, ref.region, OUT_OF_SCOPE, error=False)
        # A function named by an ARN is called by it, since the ARN may name another account.
        named_by_arn = ref.identity.account is not None
        found = FunctionRef(ref.name if named_by_arn else name, ref.region)
        versions = target.versions
        if versions is None:
            versions = tuple(registry.list_versions(found, fresh=True))
        aliases = registry.list_aliases(found)
    except NotFound:
        return NotImported(shown, ref.region, f"no function {shown} in {ref.region}", error=True)
    except RegistryError as error:
        return NotImported(shown, ref.region, f"cannot be read: {error}", error=True)
    return LiveFunction(name, ref.region, arn, versions, tuple(aliases))


# -- labels ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelTemplate:
    """How an imported version is labelled: the template with ``{version}`` replaced by its
    number (``v{version}``, ``release-{version}``)."""

    text: str = DEFAULT_TEMPLATE

    @classmethod
    def parse(cls, text: str) -> LabelTemplate:
        """The template, once it is sure to make a valid label of every version number;
        ``ValueError`` with what to write otherwise."""
        if VERSION_FIELD not in text:
            raise ValueError(
                f"{text!r} has no {VERSION_FIELD}, so every version would get the same label; "
                f"write one such as 'v{VERSION_FIELD}'"
            )
        template = cls(text)
        for number in (17, 1_000_000_000):
            label = template.label(number)
            if len(label) > LABEL_MAX:
                raise ValueError(
                    f"the template makes a label of {len(label)} characters of version {number}; "
                    f"a version label has at most {LABEL_MAX}: shorten the text around "
                    f"{VERSION_FIELD}"
                )
            if not LABEL_PATTERN.fullmatch(label):
                raise ValueError(
                    f"{text!r} makes {label!r} of version {number}, which is not a version "
                    "label: use letters, digits, '.', '_', '+' or '-' around {version}, "
                    "starting with a letter or digit, not digits alone (such as 'v{version}')"
                )
        return template

    def label(self, number: int) -> str:
        return self.text.replace(VERSION_FIELD, str(number))


def _unique(label: str, taken: Collection[str]) -> str:
    """``label``, or ``label-2``, ``label-3``... when a declared version already has it."""
    candidate, suffix = label, 2
    while candidate in taken:
        candidate, suffix = f"{label}-{suffix}", suffix + 1
    return candidate


# -- one function's declaration (pure) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the command line asks of every function."""

    template: LabelTemplate = field(default_factory=LabelTemplate)
    all_versions: bool = False
    """Declare every published version, not only those the aliases use."""
    adopt: bool = False
    """Write ``adopt: true``, so that the controller marks the aliases as its own."""
    force: bool = False
    """Overwrite an existing file that does not declare the function."""
    with_environment: bool = False
    """Declare each version's environment variables too, every value marked ``secret: true``
    (``--with-environment``). Off by default: environment values are often secrets, and a
    value written into a declaration is in Git for anyone who can read the repository."""


@dataclass(frozen=True, slots=True)
class _AliasDeclaration:
    """A live alias as a declaration says it: labels instead of numbers."""

    name: str
    version: str
    routing: Mapping[str, Decimal]
    description: str


@dataclass(frozen=True, slots=True)
class _NewVersion:
    """A label to declare, with the version it was named after and what it declares of it."""

    label: str
    version: PublishedVersion
    configuration: Configuration
    """The version's configuration as the declaration says it (``_written``)."""

    @property
    def description(self) -> str:
        """The version's description, or nothing where a declaration may not say it (over
        Lambda's 256 characters, as a registry laxer than Lambda may report one): a
        description is used only to publish, so leaving it out changes no comparison."""
        described = self.version.description
        return described if len(described) <= DESCRIPTION_MAX else ""


@dataclass(frozen=True, slots=True)
class _Contents:
    """What a function's declaration holds, before it is text or an edit."""

    versions: tuple[_NewVersion, ...]
    """The new labels, by version number."""
    aliases: tuple[_AliasDeclaration, ...]
    """By name."""
    left_out: Mapping[str, str]
    """Each live alias no declaration can say, by name, with a sentence saying why."""
    notes: tuple[str, ...] = ()
    """What else a person must know of what was written: configuration fields left out,
    environment values written into Git."""


def _written(version: PublishedVersion, options: ImportOptions, region: str) -> Configuration:
    """What a declaration says of a version's configuration: every field Lambda reports
    (memory, timeout, ephemeral storage, runtime, handler, layers, architectures), the
    environment only ``with_environment``, and no field a declaration of a function in
    ``region`` may not say (a runtime Lambda retired since, a layer of another region...), so
    that what is written is valid and in sync."""
    configuration = version.configuration
    if not options.with_environment:
        configuration = replace(configuration, environment=None)
    refused = {
        attribute: None
        for attribute, name in YAML_NAMES.items()
        if (value := getattr(configuration, attribute)) is not None
        and not _declarable(name, value, region)
    }
    return replace(configuration, **refused)


def _declarable(name: str, value: object, region: str) -> bool:
    """Whether a declaration may say ``value`` for the configuration field ``name``, as
    ``validate`` decides: through the schema's own model, and for layers the parser's rule
    that they be of the function's region."""
    if isinstance(value, tuple) and name == "environment":
        written: object = dict(value)
    elif isinstance(value, tuple):
        written = list(value)
    else:
        written = value
    try:
        ConfigurationSpec.model_validate({name: written})
    except ValidationError:
        return False
    layers = value if name == "layers" and isinstance(value, tuple) else ()
    return all(foreign_layer_region(arn, region) is None for arn in layers)


def _contents(
    live: LiveFunction,
    options: ImportOptions,
    *,
    declared: Sequence[DesiredVersion] = (),
    taken: Collection[str] = (),
) -> _Contents:
    """The versions and aliases to declare for ``live``.

    ``declared`` are the versions the folder declares already, and ``taken`` every label
    already used: a version one of them is satisfied by gets no new label, and a new label is
    made unique. A version is declared once per code and configuration as written (under the
    number of its lowest version), for the aliases that are declared, or for every published
    version with ``all_versions``.
    """
    by_number = {version.version: version for version in live.versions}
    releases = _Releases(declared, options, live.region)
    problems = {alias.name: _alias_problem(alias, by_number, releases) for alias in live.aliases}
    kept = [alias for alias in sorted(live.aliases, key=_name) if problems[alias.name] is None]
    used = [
        by_number[number]
        for alias in kept
        for number in (alias.function_version, *alias.effective_routing)
        if number != LATEST
    ]
    if options.all_versions:
        used = list(live.versions)
    names = set(taken)
    new: list[_NewVersion] = []
    notes: list[str] = []
    for version in sorted(used, key=lambda version: version.number):
        if releases.label_of(version) is not None:
            continue
        label = _unique(options.template.label(version.number), names)
        configuration = releases.written(version)
        releases.add(label, version, configuration)
        names.add(label)
        new.append(_NewVersion(label, version, configuration))
        notes += _version_notes(label, version, configuration, options)
    aliases = tuple(_declared_alias(alias, by_number, releases) for alias in kept)
    left_out = {
        alias.name: f"alias {alias.name} is not declared: it {problem}"
        for alias in sorted(live.aliases, key=_name)
        if (problem := problems[alias.name]) is not None
    }
    return _Contents(tuple(new), aliases, left_out, tuple(notes))


class _Releases:
    """The label each published version goes by: one the folder declares that it satisfies,
    or the new one made for its code and written configuration.

    The same versions are asked about many times (an alias's version, its routing, the check
    of each route), so the declared versions are indexed by code, and what is written of a
    version is worked out once."""

    def __init__(
        self, declared: Sequence[DesiredVersion], options: ImportOptions, region: str
    ) -> None:
        self._declared: dict[str, list[DesiredVersion]] = defaultdict(list)
        for version in declared:
            self._declared[version.code_sha256].append(version)
        self._options = options
        self._region = region
        self._written: dict[int, Configuration] = {}
        self._new: dict[tuple[str, Configuration], str] = {}

    def label_of(self, version: PublishedVersion) -> str | None:
        existing = self._satisfied(version)
        if existing is not None:
            return existing.label
        return self._new.get((version.code_sha256, self.written(version)))

    def add(self, label: str, version: PublishedVersion, configuration: Configuration) -> None:
        self._new[(version.code_sha256, configuration)] = label

    def declared_as(self, version: PublishedVersion) -> Configuration:
        """The configuration the version's label declares, whichever label that is."""
        existing = self._satisfied(version)
        return existing.configuration if existing is not None else self.written(version)

    def written(self, version: PublishedVersion) -> Configuration:
        """What a declaration of a new label says of the version's configuration."""
        written = self._written.get(version.number)
        if written is None:
            written = self._written[version.number] = _written(version, self._options, self._region)
        return written

    def _satisfied(self, version: PublishedVersion) -> DesiredVersion | None:
        """The first declared version that ``version`` satisfies, if any."""
        same_code = self._declared.get(version.code_sha256, ())
        return next((d for d in same_code if d.is_satisfied_by(version)), None)


def _version_notes(
    label: str, version: PublishedVersion, written: Configuration, options: ImportOptions
) -> list[str]:
    """What a person must know of what was written for ``label``."""
    notes = []
    reported = version.configuration
    if not options.with_environment:
        reported = replace(reported, environment=None)
    left = [name for name in reported.declared if name not in written.declared]
    if len(version.description) > DESCRIPTION_MAX:
        left.insert(0, "description")
    if left:
        notes.append(
            f"version {label}: {', '.join(left)} not declared: outside what a declaration may "
            "say (lambda-gitops validate names the limits), so any value satisfies the label"
        )
    if written.environment:
        notes.append(
            f"version {label}: {len(written.environment)} environment variable"
            f"{'s' if len(written.environment) != 1 else ''} written, each marked secret: true: "
            "the values are now in the file, readable by anyone who can read the repository; "
            "move real secrets out of it"
        )
    return notes


def _name(alias: Alias) -> str:
    return alias.name


def _alias_problem(
    alias: Alias, by_number: Mapping[str, PublishedVersion], releases: _Releases
) -> str | None:
    """Why no declaration can say what ``alias`` does, so that it is left out; ``None`` when
    one can. Lambda itself allows none of these but the weights of 0 and 1 and the routing to
    a version no declaration tells apart from the alias's own; the others come from a registry
    laxer than Lambda."""
    routing = alias.effective_routing
    if not ALIAS_NAME_PATTERN.fullmatch(alias.name):
        return "has a name Lambda refuses (rule L10)"
    if len(declared_part(alias.description)) > DESCRIPTION_MAX:
        return f"has a description over {DESCRIPTION_MAX} characters (rule L11)"
    if alias.function_version != LATEST and alias.function_version not in by_number:
        return f"points at version {alias.function_version}, which is not listed"
    if len(routing) > 1:
        return f"routes to {len(routing)} versions; a declaration routes to one (rule L21a)"
    if routing and alias.function_version == LATEST:
        return "is on $LATEST and routes traffic elsewhere, which Lambda refuses (rule L21e)"
    problems = (
        _route_problem(alias, n, share, by_number, releases) for n, share in routing.items()
    )
    return next((problem for problem in problems if problem is not None), None)


def _route_problem(
    alias: Alias,
    number: str,
    share: Decimal,
    by_number: Mapping[str, PublishedVersion],
    releases: _Releases,
) -> str | None:
    """Why the routing entry ``number: share`` of ``alias`` cannot be declared, or ``None``."""
    if number not in by_number:
        return f"routes to version {number}, which is not listed"
    if not Decimal(0) < share < Decimal(1):
        return (
            f"sends {share} of its traffic to version {number}; a declared weight is strictly "
            "between 0 and 1"
        )
    routed, primary = by_number[number], by_number[alias.function_version]
    if routed.code_sha256 == primary.code_sha256 and not releases.declared_as(
        routed
    ).conflicts_with(releases.declared_as(primary)):
        return (
            f"routes to version {number}, which runs the same code as its version "
            f"{alias.function_version}, with the same configuration as declared: a declaration "
            "names a version by its code and configuration, and the controller refuses routing "
            "between two versions of one code and configuration (rule L21d); point the alias "
            "at one version, then import it again"
        )
    return None


def _declared_alias(
    alias: Alias, by_number: Mapping[str, PublishedVersion], releases: _Releases
) -> _AliasDeclaration:
    def label(number: str) -> str:
        if number == LATEST:
            return number
        named = releases.label_of(by_number[number])
        assert named is not None, "every version an alias uses has a label by now"
        return named

    return _AliasDeclaration(
        alias.name,
        label(alias.function_version),
        {label(number): share for number, share in alias.effective_routing.items()},
        declared_part(alias.description),
    )


@dataclass(frozen=True, slots=True)
class Generated:
    """A new declaration file's text, and what it says in numbers."""

    text: str
    versions: int
    aliases: int
    left_out: tuple[str, ...]
    """The aliases left out, and why."""
    notes: tuple[str, ...] = ()
    """What else a person must know of what was written (``_Contents.notes``)."""


def metadata_name(function_name: str) -> str:
    """The declaration's ``metadata.name``: the function's name, unless it starts with a
    character a name may not (``_`` or ``-``), when ``function-`` is put before it."""
    if METADATA_NAME_PATTERN.fullmatch(function_name):
        return function_name
    return f"function-{function_name.lstrip('_-')}"


def declaration_text(
    live: LiveFunction,
    options: ImportOptions,
    *,
    imported_at: datetime,
    account: str | None = None,
    name: str | None = None,
) -> Generated:
    """The declaration of ``live``, in the layout of the README's example: a comment saying
    where and when it came from, the versions by number, the aliases by name.

    ``name`` is its ``metadata.name`` (``metadata_name`` of the function's name by default).
    ``spec.region`` is always written, so that the file means the same whatever region the
    controller runs in; ``spec.functionName`` only when ``metadata.name`` is not the
    function's name, or when the function is in an account other than ``account`` (the
    default credentials'), where the ARN says which.
    """
    contents = _contents(live, options)
    name = metadata_name(live.name) if name is None else name
    identity = live.identity
    other_account = account is not None and identity.account not in (None, account)
    function_name = live.arn if other_account else (live.name if name != live.name else None)
    stamp = imported_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"# Imported by lambda-gitops import from {live.arn or live.name} on {stamp}"]
    lines += [f"# {_comment(sentence)}" for sentence in contents.left_out.values()]
    lines += [f"apiVersion: {API_VERSION}", f"kind: {KIND}", "metadata:", f"  name: {_plain(name)}"]
    lines.append("spec:")
    if function_name is not None:
        lines.append(f"  functionName: {_plain(function_name)}")
    lines.append(f"  region: {_plain(live.region)}")
    if contents.versions:
        lines.append("  versions:")
    for new in contents.versions:
        version = new.version
        lines += [f"    {_plain(new.label)}:", f"      codeSha256: {_quoted(version.code_sha256)}"]
        if new.description:
            lines.append(f"      description: {_quoted(new.description)}")
        lines += _configuration_lines(new.configuration)
    if contents.aliases:
        lines.append("  aliases:")
    for alias in contents.aliases:
        lines += [f"    {_plain(alias.name)}:", f"      version: {_plain(alias.version)}"]
        if alias.routing:
            lines.append(f"      routing: {edits.routing_text(alias.routing)}")
        if alias.description:
            lines.append(f"      description: {_quoted(alias.description)}")
    if options.adopt:
        lines.append("  adopt: true")
    return Generated(
        "\n".join(lines) + "\n",
        len(contents.versions),
        len(contents.aliases),
        tuple(contents.left_out.values()),
        contents.notes,
    )


def _configuration_lines(configuration: Configuration) -> list[str]:
    """The ``configuration:`` block of a version, in block style; each environment value
    marked secret."""
    if configuration.is_empty:
        return []
    fields = edits.configuration_fields(configuration, _every_variable(configuration))
    return edits.block("configuration", fields, "      ", "  ")


def _every_variable(configuration: Configuration) -> frozenset[str]:
    """The environment variables an import marks secret: all of them, since it cannot tell
    which values are secrets."""
    return frozenset(dict(configuration.environment or ()))


def _comment(text: str) -> str:
    """``text`` as the rest of a comment line: a character that is no printable one (a line
    break in a name only a lax registry accepts) would end the comment or the YAML stream."""
    return "".join(char if char.isprintable() else "?" for char in text)


def _plain(value: str) -> str:
    """A name, label or region, unquoted unless YAML would read it as something else."""
    return yamltext.scalar(value, like=None)


def _quoted(value: str) -> str:
    return yamltext.scalar(value, like=None, quoted_by_default=True)


# -- the import of a fleet into a folder (pure) ---------------------------------------------------


Kind = Literal["written", "merged", "unchanged", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one function asked for."""

    name: str
    region: str
    kind: Kind
    detail: str
    """The line that says it, naming the file."""
    notes: tuple[str, ...] = ()
    """Warnings: the aliases left out, and why."""

    @property
    def line(self) -> str:
        return f"{self.name} ({self.region}): {self.detail}"


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """Every function's outcome, and the new content of every file to write."""

    outcomes: tuple[Outcome, ...]
    writes: tuple[Edit, ...]
    """One per file, its whole new content; ``before`` is empty for a new file (or the bytes
    it replaces, with ``--force``)."""
    warnings: tuple[str, ...] = ()
    """What the folder holds that the import could not read (files that do not parse)."""

    def count(self, kind: Kind) -> int:
        return sum(1 for outcome in self.outcomes if outcome.kind == kind)


@dataclass(frozen=True, slots=True)
class Folder:
    """The folder imported into, as the edit commands see a repository: its declaration files
    (paths from the repository's root), the view of the repository the parser needs, and
    which paths are taken by anything at all."""

    files: tuple[SourceFile, ...]
    tree: RepositoryTree
    subpath: str
    """The folder, from the repository's root (``""`` for the root itself)."""
    occupied: Callable[[str], bool]
    """Whether something (a file, a folder, a link) is already at a path from the root."""


def file_for(live: LiveFunction, *, by_region: bool, subpath: str) -> str:
    """``FOLDER/NAME.yaml``, or ``FOLDER/REGION/NAME.yaml`` when several regions are imported."""
    parts = [subpath] if subpath else []
    parts += [live.region] if by_region else []
    return posixpath.join(*parts, f"{live.name}.yaml")


def plan_import(
    folder: Folder,
    readings: Iterable[Reading],
    options: ImportOptions,
    *,
    imported_at: datetime,
    default_region: str,
    by_region: bool,
    account: str | None = None,
    extra_regions: Collection[str] = (),
) -> ImportPlan:
    """The outcome of importing each function into ``folder``, and the files to write.

    Raises ``EditRefused`` when the folder with every change would hold an error it did not
    hold before, which the per-function checks should make impossible: nothing is written then.
    """
    unique = _unique_functions(readings)
    importer = _Importer(
        folder,
        options,
        _Where(default_region, tuple(extra_regions), account, by_region),
        imported_at,
        own_names={
            (reading.region, reading.name)
            for reading in unique
            if isinstance(reading, LiveFunction) and metadata_name(reading.name) == reading.name
        },
    )
    outcomes = [importer.outcome(reading) for reading in unique]
    importer.check_whole_folder()
    return ImportPlan(tuple(outcomes), importer.writes(), importer.warnings())


def _unique_functions(readings: Iterable[Reading]) -> list[Reading]:
    """Each function once, however many times (and spellings) it was asked for."""
    seen: set[FunctionId] = set()
    unique: list[Reading] = []
    for reading in readings:
        if isinstance(reading, LiveFunction):
            if reading.identity in seen:
                continue
            seen.add(reading.identity)
        unique.append(reading)
    return unique


@dataclass(frozen=True, slots=True)
class _Where:
    """What the import's parses and files depend on besides the folder and the options."""

    default_region: str
    extra_regions: tuple[str, ...]
    account: str | None
    by_region: bool


class _Importer:
    """The folder as the import changes it, function by function, in memory."""

    def __init__(
        self,
        folder: Folder,
        options: ImportOptions,
        where: _Where,
        imported_at: datetime,
        own_names: Collection[tuple[str, str]] = (),
    ) -> None:
        self._folder = folder
        self._options = options
        self._region = where.default_region
        self._extra_regions = where.extra_regions
        self._account = where.account
        self._by_region = where.by_region
        self._imported_at = imported_at
        # The functions imported under their own names, by region: a name made for another
        # function (``function-orders`` for ``_orders``) must not take one of them.
        self._own_names = frozenset(own_names)
        # Every parse shares one cache, so that checking each change parses only what changed.
        self._cache = ParseCache()
        self._files = {file.path: file for file in folder.files}
        # Each path by its case-folded spelling, so that no new file differs from another only
        # in case (``_path_for``).
        self._folded = {path.casefold(): path for path in sorted(self._files)}
        self._original = dict(self._files)
        self._before = self._parse(self._files.values())
        self._names = {(f.ref.identity.region, f.name) for f in self._before.functions}
        self._names |= {
            (bad.ref.identity.region, bad.name)
            for bad in self._before.invalid
            if bad.name is not None and bad.ref is not None
        }
        # The declarations by region and bare name, read once: finding each function's is then
        # a look-up, not a scan of the whole folder.
        self._declared: dict[tuple[str, str], list[DesiredFunction]] = defaultdict(list)
        for function in self._before.functions:
            self._declared[_key(function.ref.identity)].append(function)
        self._invalid: dict[tuple[str, str], list[InvalidFunction]] = defaultdict(list)
        for bad in self._before.invalid:
            if bad.ref is not None:
                self._invalid[_key(bad.ref.identity)].append(bad)

    def _parse(self, files: Iterable[SourceFile]) -> Declarations:
        return edits.parse_folder(
            list(files),
            default_region=self._region,
            tree=self._folder.tree,
            extra_regions=self._extra_regions,
            cache=self._cache,
        )

    def outcome(self, reading: Reading) -> Outcome:
        if isinstance(reading, NotImported):
            kind: Kind = "failed" if reading.error else "skipped"
            return Outcome(reading.name, reading.region, kind, reading.reason)
        identity = reading.identity
        declared = [
            function
            for function in self._declared.get(_key(identity), ())
            if function.ref.identity.same_function(identity)
        ]
        invalid = [
            bad
            for bad in self._invalid.get(_key(identity), ())
            if bad.ref is not None and bad.ref.identity.same_function(identity)
        ]
        if invalid:
            places = ", ".join(str(bad.location) for bad in invalid)
            return self._failed(
                reading,
                f"{places} declares it, but not validly: correct it (lambda-gitops validate "
                "shows how) and import again",
            )
        if declared:
            return self._merge(reading, declared[0])
        return self._write(reading)

    def _failed(self, live: LiveFunction, why: str) -> Outcome:
        return Outcome(live.name, live.region, "failed", why)

    # -- a new file -------------------------------------------------------------------------------

    def _write(self, live: LiveFunction) -> Outcome:
        path = self._path_for(live)
        name = self._metadata_name(live)
        if (live.region, name) in self._names:
            return self._failed(
                live,
                f"metadata.name {name!r} is already used in {live.region} by a declaration of "
                "another function; rename that one, then import again",
            )
        replaced = self._files.get(path)
        if (replaced is not None or self._folder.occupied(path)) and not self._options.force:
            return self._failed(
                live,
                f"{path} exists and does not declare this function; give --force to overwrite it",
            )
        generated = declaration_text(
            live, self._options, imported_at=self._imported_at, account=self._account, name=name
        )
        data = generated.text.encode("utf-8")
        problem = self._too_large(path, data) or self._not_in_sync(path, data, live)
        if problem is not None:
            return self._failed(live, problem)
        self._files[path] = SourceFile(path, data)
        self._folded.setdefault(path.casefold(), path)
        self._names.add((live.region, name))
        overwritten = (
            " (overwritten)" if replaced is not None or self._folder.occupied(path) else ""
        )
        detail = (
            f"{path}: written{overwritten}, {plans.counted(generated.versions, 'version')} and "
            f"{plans.counted(generated.aliases, 'alias')}"
        )
        notes = (*generated.left_out, *generated.notes)
        return Outcome(live.name, live.region, "written", detail, notes)

    def _path_for(self, live: LiveFunction) -> str:
        """``file_for`` the function, or ``NAME-2.yaml``, ``NAME-3.yaml``... when a file of the
        folder, or one this import writes, has that path but for case: ``Orders`` and
        ``orders`` are two functions Lambda accepts, and the file systems of macOS and Windows
        (and a Git checkout on them) cannot hold their files apart, so that one would
        overwrite the other."""
        path = file_for(live, by_region=self._by_region, subpath=self._folder.subpath)
        stem = path.removesuffix(".yaml")
        candidate, suffix = path, 2
        while self._folded.get(candidate.casefold(), candidate) != candidate:
            candidate, suffix = f"{stem}-{suffix}.yaml", suffix + 1
        return candidate

    def _metadata_name(self, live: LiveFunction) -> str:
        """The function's name, or where that cannot be a ``metadata.name`` (``_orders``,
        ``-orders`` and ``function-orders`` are three functions Lambda accepts), one made from
        it that no declaration and no other function of this import in its region uses:
        ``function-orders``, else ``function-orders-2``..."""
        name = metadata_name(live.name)
        if name == live.name:
            return name
        candidate, suffix = name, 2
        while self._name_taken(live.region, candidate):
            candidate, suffix = f"{name}-{suffix}", suffix + 1
        return candidate

    def _name_taken(self, region: str, name: str) -> bool:
        return (region, name) in self._names or (region, name) in self._own_names

    def _too_large(self, path: str, data: bytes) -> str | None:
        """Why the new file is more than the parser reads, or ``None``. One function is one
        document, so the parser's advice to split the file is no help here: the import says
        what would make the declaration smaller instead."""
        limit = DEFAULT_LIMITS.file_bytes
        if len(data) <= limit:
            return None
        smaller = [
            flag
            for flag, given in (
                ("--all-versions", self._options.all_versions),
                ("--with-environment", self._options.with_environment),
            )
            if given
        ]
        what = (
            f"import it without {' or '.join(smaller)}"
            if smaller
            else "declare it by hand, with fewer versions"
        )
        return (
            f"{path}: not written: the declaration would be {len(data)} bytes, over the {limit} "
            f"a declaration file may hold; {what}"
        )

    def _not_in_sync(self, path: str, data: bytes, live: LiveFunction) -> str | None:
        """Why the new file does not declare ``live`` as it is, or ``None`` when it does: it
        must parse alone into that one valid function, and plan in sync with it (adoptions
        aside, which ``--adopt`` asks for)."""
        parsed = self._parse([SourceFile(path, data)])
        if parsed.errors or len(parsed.functions) != 1:
            shown = "; ".join(str(error) for error in parsed.errors) or "no function"
            return f"the declaration written from it would be invalid ({shown}); please report"
        (desired,) = parsed.functions
        plan = plan_function(desired, live.observed(), "")
        if plan.matches_declarations:
            return None
        changes = "; ".join(
            f"{entry.alias} {entry.kind}" for entry in plan.drift if entry.kind != ADOPT_DRIFT
        )
        return (
            f"the declaration written from it would not be in sync ({plan.error or changes}); "
            "please report"
        )

    # -- a function already declared --------------------------------------------------------------

    def _merge(self, live: LiveFunction, desired: DesiredFunction) -> Outcome:
        """Add what the declaration lacks: versions with code no label has, aliases it does
        not declare, and ``adopt: true`` when asked; everything declared stays as it is."""
        path = desired.location.file if desired.location is not None else ""
        contents = _contents(
            live,
            self._options,
            declared=tuple(desired.versions.values()),
            taken=desired.versions,
        )
        saved = dict(self._files)
        added: list[str] = []
        try:
            for new in contents.versions:
                self._edit(
                    edits.add_version,
                    desired,
                    new.label,
                    new.version.code_sha256,
                    description=new.description or None,
                    configuration=new.configuration,
                    secrets=_every_variable(new.configuration),
                )
                added.append(f"version {new.label}")
            for alias in contents.aliases:
                if alias.name in desired.aliases:
                    continue
                self._edit(
                    edits.add_alias,
                    desired,
                    alias.name,
                    alias.version,
                    routing=alias.routing,
                    description=alias.description,
                )
                added.append(f"alias {alias.name}")
            if (
                self._options.adopt
                and not desired.adopt
                and self._edit(edits.declare_adoption, desired)
            ):
                added.append("adopt: true")
        except EditRefused as refused:
            self._files = saved
            return self._failed(live, f"{path}: not merged: {refused}")
        # An alias declared by hand stays as declared, whether an import could say it or not.
        notes = tuple(
            sentence for name, sentence in contents.left_out.items() if name not in desired.aliases
        ) + (contents.notes if added else ())
        if not added:
            detail = f"{path}: unchanged, it declares everything imported"
            return Outcome(live.name, live.region, "unchanged", detail, notes)
        detail = f"{path}: merged, added {', '.join(added)}"
        return Outcome(live.name, live.region, "merged", detail, notes)

    def _edit(
        self,
        edit: Callable[..., Edit],
        desired: DesiredFunction,
        *arguments: object,
        **keywords: object,
    ) -> bool:
        """Make one edit of the function's file in memory; whether it changed anything.

        The edit is checked against that file alone, not the whole folder: these edits add a
        version, an alias or ``adopt`` and change no name or identity, so they cannot clash
        with another file, and ``check_whole_folder`` parses the whole folder once at the end
        anyway. Checking each edit against the whole folder made a merge into a folder of F
        functions take time in F squared."""
        path = desired.location.file if desired.location is not None else None
        edited = [self._files[path]] if path is not None else list(self._files.values())
        made = edit(
            edited,
            desired.name,
            *arguments,
            default_region=self._region,
            tree=self._folder.tree,
            extra_regions=self._extra_regions,
            in_file=path,
            cache=self._cache,
            **keywords,
        )
        if made.changed:
            self._files[made.path] = SourceFile(made.path, made.after)
        return made.changed

    # -- the whole folder -------------------------------------------------------------------------

    def check_whole_folder(self) -> None:
        """Refuse everything if the folder as changed holds an error it did not hold before."""
        after = self._parse(self._files.values())
        known = {(error.location.file, error.message) for error in self._before.errors}
        new = [error for error in after.errors if (error.location.file, error.message) not in known]
        if new:
            shown = "; ".join(str(error) for error in new)
            raise EditRefused(
                f"nothing was written, because the imported declarations would make the folder "
                f"invalid: {shown}; please report"
            )

    def writes(self) -> tuple[Edit, ...]:
        changed = []
        for path, file in sorted(self._files.items()):
            original = self._original.get(path)
            if original is None or original.data != file.data:
                before = original.data if original is not None else b""
                changed.append(Edit(path, before, file.data, ""))
        return tuple(changed)

    def warnings(self) -> tuple[str, ...]:
        return tuple(
            f"{error.location.file} does not parse, so the functions it declares are not known "
            f"to the import: {error.message}"
            for error in self._before.broken_files
        )


def _key(identity: FunctionId) -> tuple[str, str]:
    """What two identities of one function share whatever their accounts (``same_function``)."""
    return identity.region, identity.name

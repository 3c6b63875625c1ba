"""Editing declaration files in place, for ``promote``, ``add-version`` and ``import``.

A pipeline that promotes a release writes to files that people also edit and review, so an edit
must change nothing but the value it is about: comments, key order, quoting, indentation, line
endings and the missing newline at the end of a file all stay as they were. Re-dumping a
round-trip YAML document does not promise that (it re-flows flow mappings, re-quotes scalars and
re-spaces comments), so this module uses ruamel.yaml only to find where things are, through the
nodes of its composer, which carry the exact character span of every scalar and mapping. The edit
itself is a splice of the original text: a value's span replaced, or lines inserted or removed
with the indentation their neighbours use.

Nothing is trusted to be right because the splice looked right. The edited file is parsed
together with the rest of the folder by the project's own declarations parser, so every rule the
controller applies (labels, weights, routing, hashes, cross-file duplicates) decides whether the
edit stands, and the resulting desired state is checked to say what the command meant. Only then
is the file replaced, atomically. The functions that decide are pure (bytes in, bytes out); the
reading and writing are in ``review.files``.

``import`` adds to a declaration that exists only what it lacks, with the same splices:
``add_version``, ``add_alias`` (after the last alias, in its style) and ``declare_adoption``
(``adopt: true`` at the end of the spec); none of them changes a value that is declared.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import posixpath
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# The loader's own file discovery and folder view are used, rather than copies of them, so that
# an edit is validated against exactly the files that ``load_folder`` and ``validate`` read.
from controller.core.configuration import NOTHING, Configuration, describe, yaml_fields
from controller.core.declarations import Declarations, RepositoryTree, parse_declarations
from controller.core.declarations.parser import ParseCache, parse_sources
from controller.core.declarations.parser import SourceFile as ParsedSource
from controller.core.declarations.schema import API_GROUP, KIND, duration_seconds
from controller.core.model import (
    DesiredFunction,
    FunctionRef,
    RepoZip,
    S3Code,
    SourceLocation,
    weight,
)
from controller.errors import EditRefused
from controller.review import presets, yamltext

Fields = list[tuple[str, "str | Fields"]]
"""A new entry's fields (a version's, an alias's, a ``configuration`` block's) as ``(key, YAML
text)``; a mapping (``code``, ``code.s3``, ``environment``) holds its own ``(key, value)``
pairs."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One declaration file: its path from the repository's root, and its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Edit:
    """The new content of one file, and the line that tells the user what changed."""

    path: str
    before: bytes
    after: bytes
    summary: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


# -- the commands' logic --------------------------------------------------------------------------


def promote(
    files: Sequence[SourceFile],
    function: str,
    alias: str,
    target: str,
    weight_text: str | None,
    *,
    rollout: presets.Preset | None = None,
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str] = (),
) -> Edit:
    """Move ``alias`` of ``function`` to ``target``, or with ``weight_text`` route that share of
    its traffic to ``target`` while it stays on its version (a canary step).

    ``rollout`` writes the alias's ``rollout:`` block from a preset as the alias moves: a new
    block holds only the steps, and in an existing one only ``steps`` is replaced, so that its
    analysis (the service's own checks) and other settings survive; a preset of no steps
    (``none``, ``AllAtOnce``) removes the block, with the ``approve`` and ``skip`` that only
    mean something under one. Without ``rollout`` an existing block is left as it is.

    Moving the version while the alias has a rollout also sets a declared ``approve`` back to
    0: the approvals were given to the steps of the old target, and a new target starts its
    rollout again at step 1, where a pause must be approved anew.
    """
    if weight_text is not None and rollout is not None:
        raise EditRefused(
            "--weight and --rollout do not go together: a rollout sets the alias's routing "
            "itself, step by step; give one of them"
        )
    found = _find_function(files, function)
    alias_key, alias_node = _alias_entry(found, alias)
    version = yamltext.entry(alias_node, "version")
    if version is None or not isinstance(version[1], ScalarNode):
        raise EditRefused(f"{found.file.path}: alias {alias!r} has no version to move; add one")
    yamltext.refuse_shared(version[0], version[1], f"spec.aliases.{alias}.version")
    if weight_text is None:
        return _move(
            files,
            found,
            _AliasAt(alias, alias_key, alias_node, (version[0], version[1])),
            target,
            rollout,
            default_region=default_region,
            tree=tree,
            extra_regions=extra_regions,
        )
    text = found.text.content
    current = version[1].value
    routing = yamltext.entry(alias_node, "routing")
    splices: list[yamltext.Splice] = []
    share = yamltext.plain_weight(weight_text)
    entry = f"{yamltext.scalar(target, like=None)}: {share}"
    if routing is None:
        routing_entry = f"routing: {{{entry}}}"
        splices.append(yamltext.add_entry(text, alias_node, version, routing_entry, found.text.eol))
    else:
        splices.extend(yamltext.set_routing(text, routing, target, share))
    before = yamltext.show_routing(routing[1]) if routing is not None else "none"
    summary = (
        f"{found.file.path}: {alias}: stays on {current}, routing {before} -> {{{target}: {share}}}"
    )
    unchanged = f"{found.file.path}: {alias} already routes {share} to {target}"

    def expected(desired: DesiredFunction) -> bool:
        moved = desired.aliases.get(alias)
        return (
            moved is not None
            and moved.version == current
            and dict(moved.routing) == {target: weight(share)}
        )

    return _checked(
        files,
        found,
        splices,
        summary=summary,
        unchanged=unchanged,
        expected=expected,
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
    )


def add_version(
    files: Sequence[SourceFile],
    function: str,
    label: str,
    code_sha256: str,
    *,
    description: str | None = None,
    zip_file: str | None = None,
    s3: S3Code | None = None,
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str] = (),
    in_file: str | None = None,
    cache: ParseCache | None = None,
    configuration: Configuration = NOTHING,
    secrets: frozenset[str] = frozenset(),
) -> Edit:
    """Declare ``label`` under ``spec.versions`` of ``function``, after the last version.

    ``zip_file``, a path from the repository's root, is recorded as ``code.zipFile``, written
    from the folder of the declaration file as the loader reads it (``../dist/r43.zip`` for a
    declaration in ``functions/``); ``s3`` as ``code.s3`` (``bucket``, ``key`` and, when it has
    one, ``objectVersion``). A version has at most one code source, so at most one of them may
    be given.

    ``configuration`` is written as the version's ``configuration`` block, each environment
    variable named in ``secrets`` as ``{value: ..., secret: true}``.

    ``in_file`` looks for the function in that file only (for a caller that knows where it is
    declared, as ``import`` does: one ``metadata.name`` may be used in two regions); ``cache``
    lets the validation of many edits in a row parse only the files that changed.
    """
    if zip_file is not None and s3 is not None:
        raise EditRefused(
            "a version has one code source: give a zip file or an S3 object, not both"
        )
    code = RepoZip(zip_file) if zip_file is not None else s3
    found = _find_function(files, function, in_file=in_file)
    written = _from_folder_of(found.file, code)
    spec = _spec_of(found)
    versions = yamltext.entry(spec[1], "versions")
    if versions is not None:
        yamltext.refuse_shared(versions[0], versions[1], "spec.versions")
        if not isinstance(versions[1], MappingNode) and not yamltext.is_empty(versions[1]):
            raise EditRefused(
                f"{found.file.path}: spec.versions of {found.name!r} is not a mapping of labels; "
                "correct it first"
            )
        existing = yamltext.entry(versions[1], label)
        if existing is not None:
            return _existing_label(found, label, existing[1], code_sha256)
    fields = _version_fields(found, versions, code_sha256, description, written)
    if not configuration.is_empty:
        fields.append(("configuration", configuration_fields(configuration, secrets)))
    splices = [
        _insert_entry(
            found.text, spec, ("versions", versions), yamltext.scalar(label, like=None), fields
        )
    ]
    source = f", code {_show_s3(s3)}" if s3 is not None else ""
    configured = "".join(f", {phrase}" for phrase in describe(configuration, secrets))
    summary = (
        f"{found.file.path}: {found.name}: version {label} added (codeSha256 {code_sha256}"
        f"{source}{configured})"
    )

    def expected(desired: DesiredFunction) -> bool:
        added = desired.versions.get(label)
        return (
            added is not None
            and added.code_sha256 == code_sha256
            and added.description == description
            and added.code == code
            and added.configuration == configuration
            and added.secrets == secrets
        )

    return _checked(
        files,
        found,
        splices,
        summary=summary,
        unchanged="",
        expected=expected,
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
        cache=cache,
    )


def add_alias(
    files: Sequence[SourceFile],
    function: str,
    alias: str,
    version: str,
    *,
    routing: Mapping[str, Decimal] | None = None,
    description: str = "",
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str] = (),
    in_file: str | None = None,
    cache: ParseCache | None = None,
) -> Edit:
    """Declare ``alias`` under ``spec.aliases`` of ``function``, after the last alias: on
    ``version`` (a label, a published number or ``$LATEST``), with ``routing`` (``{label:
    weight}``) and ``description`` when given. An alias already declared is refused, whatever
    it says: this adds, it never changes what is declared (``promote`` moves an alias).

    ``in_file`` and ``cache`` are as for ``add_version``.
    """
    routes = dict(routing or {})
    found = _find_function(files, function, in_file=in_file)
    spec = _spec_of(found)
    aliases = yamltext.entry(spec[1], "aliases")
    if aliases is not None:
        yamltext.refuse_shared(aliases[0], aliases[1], "spec.aliases")
        if not isinstance(aliases[1], MappingNode) and not yamltext.is_empty(aliases[1]):
            raise EditRefused(
                f"{found.file.path}: spec.aliases of {found.name!r} is not a mapping of alias "
                "names; correct it first"
            )
        if yamltext.entry(aliases[1], alias) is not None:
            raise EditRefused(
                f"{found.file.path}: {found.name!r} already declares alias {alias!r}; move it "
                "with promote"
            )
    fields = _alias_fields(aliases, version, routes, description)
    splices = [
        _insert_entry(
            found.text, spec, ("aliases", aliases), yamltext.scalar(alias, like=None), fields
        )
    ]
    shown = "".join(f" + {float(w) * 100:g}% to {label}" for label, w in routes.items())
    summary = f"{found.file.path}: {found.name}: alias {alias} added (on {version}{shown})"

    def expected(desired: DesiredFunction) -> bool:
        added = desired.aliases.get(alias)
        return (
            added is not None
            and added.version == version
            and dict(added.routing) == {label: weight(w) for label, w in routes.items()}
            and added.description == description
        )

    return _checked(
        files,
        found,
        splices,
        summary=summary,
        unchanged="",
        expected=expected,
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
        cache=cache,
    )


def declare_adoption(
    files: Sequence[SourceFile],
    function: str,
    *,
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str] = (),
    in_file: str | None = None,
    cache: ParseCache | None = None,
) -> Edit:
    """Add ``adopt: true`` at the end of the spec of ``function``, so that the controller marks
    its aliases as its own (``spec.adopt``). A declared ``adopt``, true or false, is left as
    it is: someone wrote it.

    ``in_file`` and ``cache`` are as for ``add_version``.
    """
    found = _find_function(files, function, in_file=in_file)
    _, spec = _spec_of(found)
    declared = yamltext.entry(spec, "adopt")
    if declared is not None:
        written = declared[1].value if isinstance(declared[1], ScalarNode) else "a mapping"
        data = found.file.data
        summary = f"{found.file.path}: {found.name}: adopt is already declared ({written})"
        return Edit(found.file.path, data, data, summary)
    text = found.text
    splice = yamltext.add_entry(text.content, spec, spec.value[-1], "adopt: true", text.eol)
    return _checked(
        files,
        found,
        [splice],
        summary=f"{found.file.path}: {found.name}: adopt: true added",
        unchanged="",
        expected=lambda desired: desired.adopt,
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
        cache=cache,
    )


def _alias_fields(
    aliases: yamltext.Pair | None,
    version: str,
    routing: Mapping[str, Decimal],
    description: str,
) -> Fields:
    """A new alias's fields as ``(key, YAML text)``, quoted as the other aliases' are."""
    declared = (
        [value for _, value in aliases[1].value]
        if aliases is not None and isinstance(aliases[1], MappingNode)
        else []
    )

    def scalar(value: str, field_name: str, *, quoted_by_default: bool = False) -> str:
        return yamltext.scalar(
            value,
            like=_last_scalar(declared, (field_name,)),
            quoted_by_default=quoted_by_default,
        )

    fields: Fields = [("version", scalar(version, "version"))]
    if routing:
        fields.append(("routing", routing_text(routing)))
    if description:
        fields.append(("description", scalar(description, "description", quoted_by_default=True)))
    return fields


def routing_text(routing: Mapping[str, Decimal]) -> str:
    """``{v18: 0.1}``: an alias's routing in flow style, each weight as a plain decimal (as
    Lambda reports it)."""
    entries = (
        f"{yamltext.scalar(label, like=None)}: {yamltext.plain_weight(str(share))}"
        for label, share in routing.items()
    )
    return "{" + ", ".join(entries) + "}"


def _from_folder_of(file: SourceFile, code: RepoZip | S3Code | None) -> RepoZip | S3Code | None:
    """``code`` as the declaration in ``file`` writes it: a zip file from the file's folder."""
    if not isinstance(code, RepoZip):
        return code
    return RepoZip(posixpath.relpath(code.path, posixpath.dirname(file.path) or "."))


def code_sha256(package: bytes) -> str:
    """Lambda's ``CodeSha256`` of a deployment package: the base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")


# -- finding the declaration ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    file: SourceFile
    text: yamltext.Text
    document: MappingNode
    name: str


def _find_function(
    files: Sequence[SourceFile], function: str, *, in_file: str | None = None
) -> _Found:
    """The document declaring ``function``: by ``metadata.name``, or else by the function name
    in ``spec.functionName`` (bare or inside an ARN) when only one document has it; only in
    the file ``in_file`` when it is given."""
    by_name: list[_Found] = []
    by_function: list[_Found] = []
    unreadable: list[str] = []
    searched = [file for file in files if in_file is None or file.path == in_file]
    for file in sorted(searched, key=lambda f: f.path):
        try:
            text = yamltext.Text.of(file.data)
            documents = list(YAML(typ="rt").compose_all(text.content))
        except (UnicodeDecodeError, YAMLError):
            unreadable.append(file.path)
            continue
        for document in documents:
            identity = _identity(document)
            if identity is None:
                continue
            name, function_name = identity
            found = _Found(file, text, document, name)
            if name == function:
                by_name.append(found)
            elif function_name is not None and _bare(function_name) == function:
                by_function.append(found)
    candidates = by_name or by_function
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        places = ", ".join(f"{c.file.path} ({c.name})" for c in candidates)
        raise EditRefused(
            f"function {function!r} is declared more than once ({places}); name it by its "
            "metadata.name, and keep one declaration per function"
        )
    hint = f"; these files do not parse: {', '.join(unreadable)}" if unreadable else ""
    raise EditRefused(f"no declaration has metadata.name or spec.functionName {function!r}{hint}")


def _identity(document: Node) -> tuple[str, str | None] | None:
    """``(metadata.name, spec.functionName)`` of one of our Function documents, else ``None``."""
    if not isinstance(document, MappingNode):
        return None
    api_version, kind = (
        yamltext.scalar_at(document, "apiVersion"),
        yamltext.scalar_at(document, "kind"),
    )
    if api_version is None or not api_version.startswith(API_GROUP) or kind != KIND:
        return None
    metadata = yamltext.entry(document, "metadata")
    name = yamltext.scalar_at(metadata[1], "name") if metadata is not None else None
    if name is None:
        return None
    spec = yamltext.entry(document, "spec")
    return name, yamltext.scalar_at(spec[1], "functionName") if spec is not None else None


def _bare(function_name: str) -> str:
    return FunctionRef(function_name, region="").bare_name


def _spec_of(found: _Found) -> tuple[ScalarNode, MappingNode]:
    spec = yamltext.entry(found.document, "spec")
    if spec is None or not isinstance(spec[1], MappingNode) or not spec[1].value:
        raise EditRefused(f"{found.file.path}: {found.name!r} has no spec mapping; add one")
    yamltext.refuse_shared(spec[0], spec[1], "spec")
    return spec[0], spec[1]


def _alias_entry(found: _Found, alias: str) -> tuple[ScalarNode, MappingNode]:
    """The key and the mapping of ``spec.aliases.<alias>``."""
    aliases = yamltext.entry(_spec_of(found)[1], "aliases")
    declared = aliases[1] if aliases is not None else None
    pair = yamltext.entry(declared, alias) if isinstance(declared, MappingNode) else None
    if pair is None:
        names = ", ".join(yamltext.keys(declared)) if isinstance(declared, MappingNode) else ""
        raise EditRefused(
            f"{found.file.path}: {found.name!r} has no alias {alias!r} (aliases: "
            f"{names or 'none'}); declare it first"
        )
    if not isinstance(pair[1], MappingNode):
        raise EditRefused(
            f"{found.file.path}: spec.aliases.{alias} is not a mapping with a version; correct it"
        )
    yamltext.refuse_shared(pair[0], pair[1], f"spec.aliases.{alias}")
    return pair[0], pair[1]


# -- moving an alias, and its rollout -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _AliasAt:
    name: str
    key: ScalarNode
    node: MappingNode
    version: tuple[ScalarNode, ScalarNode]


@dataclass(slots=True)
class _Move:
    """What moving one alias changes, gathered before the summary is written."""

    splices: list[yamltext.Splice] = field(default_factory=list)
    removed: list[yamltext.Pair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kept_analysis: bool = False
    reset_approve: bool = False


def _move(
    files: Sequence[SourceFile],
    found: _Found,
    alias: _AliasAt,
    target: str,
    rollout: presets.Preset | None,
    *,
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str],
) -> Edit:
    """Point the alias at ``target`` alone: its version set, its routing removed, its rollout
    written or removed from ``rollout``, or left as it is without one."""
    text, node = found.text.content, alias.node
    current = alias.version[1].value
    routing = yamltext.entry(node, "routing")
    declared = yamltext.entry(node, "rollout")
    if declared is not None:
        yamltext.refuse_shared(declared[0], declared[1], f"spec.aliases.{alias.name}.rollout")
    move = _Move()
    if current != target:
        move.splices.append(
            yamltext.replace(alias.version[1], yamltext.scalar(target, like=alias.version[1]))
        )
    if routing is not None:
        move.notes.append(f"routing {yamltext.show_routing(routing[1])} removed")
    if rollout is None:
        if routing is not None:
            move.removed.append(routing)
    else:
        _set_rollout(move, found, alias, rollout, routing=routing, declared=declared)
    has_rollout = declared is not None if rollout is None else not rollout.removes
    if has_rollout and current != target:
        _restart(move, alias, target)
    move.splices.extend(yamltext.remove_entries(text, node, move.removed))
    path = found.file.path
    head = f"{current} -> {target}" if current != target else f"stays on {target}"
    with_rollout = (
        ""
        if rollout is None
        else " and no rollout"
        if rollout.removes
        else f" and rollout {rollout.name}"
    )
    return _checked(
        files,
        found,
        [s for s in move.splices if text[s.start : s.end] != s.replacement],
        summary=f"{path}: {alias.name}: {', '.join([head, *move.notes])}",
        unchanged=f"{path}: {alias.name} is already on {target} with no routing{with_rollout}",
        expected=_moved_as_asked(alias.name, target, rollout, move),
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
    )


def _set_rollout(
    move: _Move,
    found: _Found,
    alias: _AliasAt,
    rollout: presets.Preset,
    *,
    routing: yamltext.Pair | None,
    declared: yamltext.Pair | None,
) -> None:
    """Add to ``move`` the writing of the preset's rollout block, or its removal."""
    if rollout.removes:
        if routing is not None:
            move.removed.append(routing)
        if declared is not None:
            # approve and skip mean nothing without a rollout (and skip alone is an error).
            extra = {key: yamltext.entry(alias.node, key) for key in ("approve", "skip")}
            move.removed.extend([declared, *(pair for pair in extra.values() if pair is not None)])
            names = ["rollout", *(key for key, pair in extra.items() if pair is not None)]
            listed = " and ".join([", ".join(names[:-1]), names[-1]]) if names[1:] else names[0]
            move.notes.append(f"{listed} removed ({rollout.name})")
        return
    analysis = yamltext.entry(declared[1], "analysis") if declared is not None else None
    move.kept_analysis = analysis is not None
    if declared is None:
        written = _new_rollout(found, alias, routing, rollout)
    else:
        if routing is not None:
            move.removed.append(routing)
        steps = yamltext.entry(declared[1], "steps")
        if steps is not None and _same_steps(steps[1], rollout):
            return  # written differently, perhaps, but these are the preset's steps
        written = [_into_rollout(found, alias, declared, rollout)]
    text = found.text.content
    if yamltext.apply(text, written) != text:
        move.splices.extend(written)
        kept = ", analysis kept" if move.kept_analysis else ""
        move.notes.append(f"rollout {rollout.name} ({rollout.describe()}){kept}")


def _restart(move: _Move, alias: _AliasAt, target: str) -> None:
    """A new target under a rollout: ``approve`` back to 0, and a word about ``skip``."""
    approve = yamltext.entry(alias.node, "approve")
    if approve is not None and isinstance(approve[1], ScalarNode) and approve[1].value != "0":
        yamltext.refuse_shared(approve[0], approve[1], f"spec.aliases.{alias.name}.approve")
        move.splices.append(yamltext.replace(approve[1], "0"))
        move.notes.append(f"approve {approve[1].value} -> 0 (a new target starts at step 1)")
        move.reset_approve = True
    skip = yamltext.entry(alias.node, "skip")
    if skip is not None and _is_true(skip[1]):
        move.notes.append(f"note: skip is true, so {target} is moved to at once, without steps")


def _moved_as_asked(
    alias: str, target: str, rollout: presets.Preset | None, move: _Move
) -> Callable[[DesiredFunction], bool]:
    """Whether the edited declaration has the alias on ``target`` with the rollout asked."""
    steps = tuple((s.weight, float(s.seconds), False) for s in rollout.steps) if rollout else ()

    def expected(desired: DesiredFunction) -> bool:
        moved = desired.aliases.get(alias)
        if moved is None or moved.version != target or moved.routing:
            return False
        if move.reset_approve and moved.approve != 0:
            return False
        if rollout is None:
            return True
        if rollout.removes or moved.rollout is None:
            return rollout.removes and moved.rollout is None
        return tuple((s.weight, s.hold, s.pause) for s in moved.rollout.steps) == steps and (
            moved.rollout.analysis is not None or not move.kept_analysis
        )

    return expected


def _new_rollout(
    found: _Found, alias: _AliasAt, routing: yamltext.Pair | None, preset: presets.Preset
) -> list[yamltext.Splice]:
    """A ``rollout:`` block of the preset's steps, after the alias's version, or in the place
    of its routing, which a rollout replaces (the routing was a canary by hand)."""
    text, eol, node = found.text.content, found.text.eol, alias.node
    if node.flow_style:
        entry = f"rollout: {{steps: {_flow_steps(preset, None)}}}"
        if routing is not None:
            start = routing[0].start_mark.index
            return [yamltext.Splice(start, yamltext.entry_end(text, *routing), entry)]
        end = yamltext.entry_end(text, *alias.version)
        return [yamltext.Splice(end, end, f", {entry}")]
    step = _step(alias.key, node)
    offset = _sequence_offset(text, found.document, default=step)
    indent = yamltext.indent_before(text, alias.version[0])
    lines = [
        f"{indent}rollout:",
        f"{indent}{step}steps:",
        *_block_steps(preset, indent + step + offset, None),
    ]
    if routing is None:
        end = yamltext.entry_end(text, *alias.version)
        return [yamltext.insert_lines(text, end, lines, eol)]
    yamltext.indent_before(text, routing[0])
    start = yamltext.line_start(text, routing[0].start_mark.index)
    end, _ = yamltext.line_end(text, yamltext.entry_end(text, *routing))
    return [yamltext.Splice(start, end, eol.join(lines))]


def _into_rollout(
    found: _Found, alias: _AliasAt, declared: yamltext.Pair, preset: presets.Preset
) -> yamltext.Splice:
    """The preset's steps in the alias's ``rollout:`` block: its ``steps`` replaced, added
    first when it has none, or the whole value when it is no mapping (``rollout:`` alone)."""
    text, eol = found.text.content, found.text.eol
    offset = _sequence_offset(text, found.document, default=_step(alias.key, alias.node))
    key, value = declared
    if isinstance(value, MappingNode) and value.value:
        steps = yamltext.entry(value, "steps")
        if steps is not None:
            yamltext.refuse_shared(steps[0], steps[1], f"spec.aliases.{alias.name}.rollout.steps")
            return _replace_steps(
                text, eol, steps, preset, in_flow=bool(value.flow_style), indent_step=offset
            )
        first = value.value[0][0]
        if value.flow_style:
            start = first.start_mark.index
            return yamltext.Splice(start, start, f"steps: {_flow_steps(preset, None)}, ")
        indent = yamltext.indent_before(text, first)
        lines = [f"{indent}steps:", *_block_steps(preset, indent + offset, None)]
        start = yamltext.line_start(text, first.start_mark.index)
        return yamltext.Splice(start, start, "".join(line + eol for line in lines))
    colon = text.index(":", key.end_mark.index) + 1
    if alias.node.flow_style:
        end = yamltext.entry_end(text, key, value)
        return yamltext.Splice(colon, end, f" {{steps: {_flow_steps(preset, None)}}}")
    end, _ = yamltext.line_end(text, yamltext.entry_end(text, key, value))
    indent = yamltext.indent_before(text, key) + _step(alias.key, alias.node)
    lines = [f"{indent}steps:", *_block_steps(preset, indent + offset, None)]
    return yamltext.Splice(colon, end, "".join(eol + line for line in lines))


def _replace_steps(
    text: str,
    eol: str,
    steps: yamltext.Pair,
    preset: presets.Preset,
    *,
    in_flow: bool,
    indent_step: str,
) -> yamltext.Splice:
    """The splice that makes ``steps`` the preset's, in the style of the list it replaces: a
    flow list stays one, a block list keeps its dashes' indentation and its items' style."""
    key, value = steps
    like = _first_hold(value)
    if isinstance(value, SequenceNode) and value.flow_style:
        return yamltext.replace(value, _flow_steps(preset, like))
    colon = text.index(":", key.end_mark.index) + 1
    if in_flow:
        end = yamltext.entry_end(text, key, value)
        return yamltext.Splice(colon, end, f" {_flow_steps(preset, like)}")
    end, _ = yamltext.line_end(text, yamltext.entry_end(text, key, value))
    items = value.value if isinstance(value, SequenceNode) else []
    if not items:  # ``steps:`` with nothing, or with something that is no list
        indent = yamltext.indent_before(text, key) + indent_step
        lines = _block_steps(preset, indent, like)
        return yamltext.Splice(colon, end, "".join(eol + line for line in lines))
    # A block list: from the end of the ``steps:`` line (its comment kept) to its last item's.
    start, _ = yamltext.line_end(text, key.end_mark.index)
    first = items[0]
    dash = text.rfind("-", 0, first.start_mark.index)
    dash_indent = text[yamltext.line_start(text, dash) : dash]
    if dash_indent.strip(" "):
        dash_indent = yamltext.indent_before(text, key) + indent_step
    if yamltext.is_block(first):
        column = int(first.value[0][0].start_mark.column)
        lines = _block_items(preset, dash_indent, " " * (column - len(dash_indent)), like)
    else:
        lines = _block_steps(preset, dash_indent, like)
    return yamltext.Splice(start, end, "".join(eol + line for line in lines))


def _step_items(preset: presets.Preset, like: ScalarNode | None) -> list[tuple[str, str]]:
    return [
        (format(step.weight, "f"), yamltext.scalar(step.hold, like=like)) for step in preset.steps
    ]


def _flow_steps(preset: presets.Preset, like: ScalarNode | None) -> str:
    items = ", ".join(f"{{weight: {w}, hold: {h}}}" for w, h in _step_items(preset, like))
    return f"[{items}]"


def _block_steps(preset: presets.Preset, indent: str, like: ScalarNode | None) -> list[str]:
    """Each step as ``- {weight: 0.1, hold: 5m}`` on its own line, as the examples write them."""
    return [f"{indent}- {{weight: {w}, hold: {h}}}" for w, h in _step_items(preset, like)]


def _block_items(
    preset: presets.Preset, indent: str, inside: str, like: ScalarNode | None
) -> list[str]:
    """Each step as a block mapping under its dash, its keys ``inside`` past the dash."""
    lines = []
    for w, h in _step_items(preset, like):
        lines.extend([f"{indent}-{inside[1:]}weight: {w}", f"{indent}{inside}hold: {h}"])
    return lines


def _same_steps(steps: Node, preset: presets.Preset) -> bool:
    """Whether the declared steps are the preset's: the same weights and holds, nothing else."""
    items = steps.value if isinstance(steps, SequenceNode) else []
    return len(items) == len(preset.steps) and all(
        _same_step(item, step) for item, step in zip(items, preset.steps, strict=True)
    )


def _same_step(item: Node, step: presets.PresetStep) -> bool:
    if not isinstance(item, MappingNode) or sorted(yamltext.keys(item)) != ["hold", "weight"]:
        return False
    declared, hold = yamltext.entry(item, "weight"), yamltext.scalar_at(item, "hold")
    if declared is None or not isinstance(declared[1], ScalarNode) or declared[1].style:
        return False  # a quoted weight is text, which no step has
    try:
        share = Decimal(declared[1].value)
    except InvalidOperation:
        return False
    return share == step.weight and hold is not None and (duration_seconds(hold) == step.seconds)


def _first_hold(steps: Node) -> ScalarNode | None:
    """The first ``hold`` of the steps there are, whose quoting new holds copy."""
    for item in steps.value if isinstance(steps, SequenceNode) else []:
        try:
            hold = yamltext.entry(item, "hold")
        except EditRefused:  # a merge key: no example of quoting
            continue
        if hold is not None and isinstance(hold[1], ScalarNode):
            return hold[1]
    return None


def _sequence_offset(text: str, document: Node, *, default: str) -> str:
    """How far the file indents a block list's dashes past its key (``steps:`` then ``  -``),
    from the first block list it has; ``default`` when it has none."""
    pending: list[Node] = [document]
    while pending:
        node = pending.pop(0)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(value, SequenceNode) and not value.flow_style and value.value:
                    dash = text.rfind("-", 0, value.value[0].start_mark.index)
                    column = dash - yamltext.line_start(text, dash)
                    if dash >= 0 and column >= key.start_mark.column:
                        return " " * (column - int(key.start_mark.column))
                pending.append(value)
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)
    return default


def _is_true(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None and node.value in _TRUE


_TRUE = ("true", "True", "TRUE")


# -- a new version --------------------------------------------------------------------------------


def _existing_label(found: _Found, label: str, declared: Node, code_sha256: str) -> Edit:
    declared_sha256 = yamltext.scalar_at(declared, "codeSha256")
    if declared_sha256 == code_sha256:
        data = found.file.data
        return Edit(
            found.file.path,
            data,
            data,
            f"{found.file.path}: {found.name}: version {label} is already declared with this "
            "codeSha256; nothing to change",
        )
    raise EditRefused(
        f"{found.file.path}: {found.name!r} already declares version {label!r} with codeSha256 "
        f"{declared_sha256!r}, not {code_sha256!r}; a label names one package: choose a new label"
    )


def _version_fields(
    found: _Found,
    versions: yamltext.Pair | None,
    code_sha256: str,
    description: str | None,
    code: RepoZip | S3Code | None,
) -> Fields:
    """The new version's fields as ``(key, YAML text)``, quoted as the other versions are."""
    declared = (
        [value for _, value in versions[1].value]
        if versions is not None and isinstance(versions[1], MappingNode)
        else []
    )

    def scalar(value: str, *path: str, quoted_by_default: bool = False) -> str:
        return yamltext.scalar(
            value, like=_last_scalar(declared, path), quoted_by_default=quoted_by_default
        )

    fields: Fields = [("codeSha256", scalar(code_sha256, "codeSha256", quoted_by_default=True))]
    if description is not None:
        fields.append(("description", scalar(description, "description", quoted_by_default=True)))
    if isinstance(code, RepoZip):
        fields.append(("code", [("zipFile", scalar(code.path, "code", "zipFile"))]))
    elif code is not None:
        location: Fields = [
            ("bucket", scalar(code.bucket, "code", "s3", "bucket")),
            ("key", scalar(code.key, "code", "s3", "key")),
        ]
        if code.object_version is not None:
            location.append(
                ("objectVersion", scalar(code.object_version, "code", "s3", "objectVersion"))
            )
        fields.append(("code", [("s3", location)]))
    return fields


def configuration_fields(configuration: Configuration, secrets: frozenset[str]) -> Fields:
    """A version's ``configuration`` block as fields: numbers as they are, lists in flow
    style, text quoted where YAML would read it otherwise, and each environment value quoted
    (a secret one as ``{value: ..., secret: true}``)."""
    fields: Fields = []
    for name, value in yaml_fields(configuration):
        if name == "environment" and not value:
            fields.append((name, "{}"))
        elif name == "environment":
            variables: Fields = []
            for variable, text in value:
                quoted = yamltext.scalar(text, like=None, quoted_by_default=True)
                shown = f"{{value: {quoted}, secret: true}}" if variable in secrets else quoted
                variables.append((yamltext.scalar(variable, like=None), shown))
            fields.append((name, variables))
        elif isinstance(value, tuple):
            items = ", ".join(yamltext.scalar(item, like=None) for item in value)
            fields.append((name, f"[{items}]"))
        elif isinstance(value, str):
            fields.append((name, yamltext.scalar(value, like=None)))
        else:
            fields.append((name, str(value)))
    return fields


def _last_scalar(declared: Sequence[Node], path: Sequence[str]) -> ScalarNode | None:
    """The scalar at ``path`` in the last version that has one, whose quoting a new value of
    the same field copies; ``None`` when no version has it."""
    like: ScalarNode | None = None
    for version in declared:
        node: Node | None = version
        for key in path:
            try:
                pair = yamltext.entry(node, key)
            except EditRefused:  # a merge key: this version is no example of quoting
                pair = None
            node = pair[1] if pair is not None else None
        if isinstance(node, ScalarNode):
            like = node
    return like


def _show_s3(location: S3Code) -> str:
    version = (
        f" (objectVersion {location.object_version})" if location.object_version is not None else ""
    )
    return f"s3://{location.bucket}/{location.key}{version}"


def _insert_entry(
    text: yamltext.Text,
    spec: yamltext.Pair,
    section: tuple[str, yamltext.Pair | None],
    key: str,
    fields: Fields,
) -> yamltext.Splice:
    """The splice that adds ``key`` (a version label or an alias name) with its ``fields`` to
    the ``section_name`` mapping of the spec (``versions``, ``aliases``), after its last entry,
    in the style of its neighbours; the section itself is added when the spec has none."""
    content, (spec_key, spec_value) = text.content, spec
    flow = f"{key}: {_flow(fields)}"
    if not isinstance(spec_value, MappingNode):
        raise EditRefused("spec is not a mapping")
    section_name, pair = section
    if pair is None:
        return _insert_section(text, (spec_key, spec_value), section_name, key, fields)
    section_key, mapping = pair
    if yamltext.is_empty(mapping):
        colon = content.index(":", section_key.end_mark.index) + 1
        return yamltext.Splice(colon, colon, f" {{{flow}}}")
    if not isinstance(mapping, MappingNode) or not mapping.value:
        return yamltext.Splice(mapping.start_mark.index, mapping.end_mark.index, f"{{{flow}}}")
    last_key, last_value = mapping.value[-1]
    end = yamltext.entry_end(content, last_key, last_value)
    if mapping.flow_style:
        return yamltext.Splice(end, end, f", {flow}")
    indent = yamltext.indent_before(content, last_key)
    if isinstance(last_value, MappingNode) and last_value.flow_style:
        return yamltext.insert_lines(content, end, [f"{indent}{flow}"], text.eol)
    step = (
        _step(last_key, last_value)
        if yamltext.is_block(last_value)
        else _step(section_key, mapping)
    )
    return yamltext.insert_lines(content, end, block(key, fields, indent, step), text.eol)


def _insert_section(
    text: yamltext.Text,
    spec_entry: tuple[Node, MappingNode],
    section_name: str,
    key: str,
    fields: Fields,
) -> yamltext.Splice:
    """The splice that adds the ``section_name`` mapping, with the one new entry, to a spec
    that has none: ``versions`` before the aliases, ``aliases`` after the rest."""
    content, (spec_key, spec) = text.content, spec_entry
    last = spec.value[-1]
    if spec.flow_style:
        end = yamltext.entry_end(content, *last)
        return yamltext.Splice(end, end, f", {section_name}: {{{key}: {_flow(fields)}}}")
    indent = yamltext.indent_before(content, spec.value[0][0])
    step = _step(spec_key, spec)
    lines = [f"{indent}{section_name}:", *block(key, fields, indent + step, step)]
    aliases = yamltext.entry(spec, "aliases") if section_name == "versions" else None
    if aliases is None:
        return yamltext.insert_lines(content, yamltext.entry_end(content, *last), lines, text.eol)
    # Versions come before the aliases that refer to them, as in every example.
    yamltext.indent_before(content, aliases[0])
    start = yamltext.line_start(content, aliases[0].start_mark.index)
    return yamltext.Splice(start, start, "".join(line + text.eol for line in lines))


def _step(key: Node, mapping: Node) -> str:
    """How far the children of a block mapping are indented past their parent's key."""
    if not isinstance(mapping, MappingNode) or not yamltext.is_block(mapping):
        return "  "
    child_column: int = mapping.value[0][0].start_mark.column
    return " " * max(child_column - int(key.start_mark.column), 1)


def block(label: str, fields: Fields, indent: str, step: str) -> list[str]:
    """``label`` and its ``fields`` as block-style lines, each level ``step`` further in."""
    lines = [f"{indent}{label}:"]
    for key, value in fields:
        if isinstance(value, list):
            lines.extend(block(key, value, indent + step, step))
        elif yamltext.needs_explicit_key(key):
            lines.extend([f"{indent}{step}? {key}", f"{indent}{step}: {value}"])
        else:
            lines.append(f"{indent}{step}{key}: {value}")
    return lines


def _flow(fields: Fields) -> str:
    return "{" + ", ".join(_flow_entry(key, value) for key, value in fields) + "}"


def _flow_entry(key: str, value: str | Fields) -> str:
    text = value if isinstance(value, str) else _flow(value)
    return f"? {key} : {text}" if yamltext.needs_explicit_key(key) else f"{key}: {text}"


# -- validation -----------------------------------------------------------------------------------


def _checked(
    files: Sequence[SourceFile],
    found: _Found,
    splices: Sequence[yamltext.Splice],
    *,
    summary: str,
    unchanged: str,
    expected: Callable[[DesiredFunction], bool],
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str],
    cache: ParseCache | None = None,
) -> Edit:
    """The edit, once the whole folder with the edited file parses and the edited function is
    valid and says what the command meant; otherwise ``EditRefused`` with the parser's errors."""
    data = found.file.data
    if not splices:
        return Edit(found.file.path, data, data, unchanged)
    edited = found.text.encoded(yamltext.apply(found.text.content, splices))
    before = parse_folder(
        files, default_region=default_region, tree=tree, extra_regions=extra_regions, cache=cache
    )
    after = parse_folder(
        [SourceFile(found.file.path, edited) if f.path == found.file.path else f for f in files],
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
        cache=cache,
    )
    # Errors elsewhere that were there before the edit are not this edit's doing and do not
    # block it; every error of the edited function does, and so does any new one. The function
    # is the document of that name in the edited file: one name may be used in two regions.
    known = {(e.location.file, e.message) for e in before.errors}
    problems = [
        *(
            e
            for bad in after.invalid
            if _is_edited(found, bad.name, bad.location)
            for e in bad.errors
        ),
        *(e for e in after.errors if (e.location.file, e.message) not in known),
    ]
    if problems:
        shown = "; ".join(dict.fromkeys(str(e) for e in problems))
        raise EditRefused(
            f"{found.file.path} is left unchanged, because the edit would make the declarations "
            f"invalid: {shown}"
        )
    desired = next((f for f in after.functions if _is_edited(found, f.name, f.location)), None)
    if desired is None or not expected(desired):
        raise EditRefused(
            f"{found.file.path}: the edited declaration of {found.name!r} does not say what was "
            "asked (is a value shared with another place?); edit it by hand"
        )
    return Edit(found.file.path, data, edited, summary)


def _is_edited(found: _Found, name: str | None, location: SourceLocation | None) -> bool:
    """Whether the declaration ``name`` at ``location`` is the one the edit is about."""
    return name == found.name and (location is None or location.file == found.file.path)


def parse_folder(
    files: Sequence[SourceFile],
    *,
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str] = (),
    cache: ParseCache | None = None,
) -> Declarations:
    """The declarations of ``files``, as the loader reads them; with ``cache``, a file whose
    path and bytes were parsed before (by this or an earlier call) is not parsed again."""
    if cache is None:
        return parse_declarations(
            [(f.path, f.data) for f in files],
            default_region=default_region,
            tree=tree,
            extra_regions=extra_regions,
        )
    return parse_sources(
        [
            ParsedSource(f.path, functools.partial(_content, f.data), _content_key(f.data))
            for f in files
        ],
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
        cache=cache,
    )


def _content(data: bytes) -> bytes:
    return data


def _content_key(data: bytes) -> str:
    """What identifies a file's bytes in a ``ParseCache``, as a blob id does for a commit."""
    return hashlib.sha256(data).hexdigest()

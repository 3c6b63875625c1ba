"""Editing declaration files in place, for the ``promote`` and ``add-version`` commands.

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
reading and writing are the two small functions at the end.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

# The loader's own file discovery and folder view are used, rather than copies of them, so that
# an edit is validated against exactly the files that ``load_folder`` and ``validate`` read.
from controller.core.declarations import RepositoryTree, parse_declarations
from controller.core.declarations.schema import API_GROUP, KIND
from controller.core.model import DesiredFunction, FunctionRef, RepoZip, S3Code, weight
from controller.errors import EditRefused
from controller.review import yamltext

_Fields = list[tuple[str, "str | _Fields"]]
"""A new version's fields as ``(key, YAML text)``; a mapping (``code``, ``code.s3``) holds its
own ``(key, value)`` pairs."""


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
    default_region: str,
    tree: RepositoryTree,
    extra_regions: Collection[str] = (),
) -> Edit:
    """Move ``alias`` of ``function`` to ``target``, or with ``weight_text`` route that share of
    its traffic to ``target`` while it stays on its version (a canary step)."""
    found = _find_function(files, function)
    text = found.text.content
    alias_node = _alias_of(found, alias)
    version = yamltext.entry(alias_node, "version")
    if version is None or not isinstance(version[1], ScalarNode):
        raise EditRefused(f"{found.file.path}: alias {alias!r} has no version to move; add one")
    yamltext.refuse_shared(version[0], version[1], f"spec.aliases.{alias}.version")
    current = version[1].value
    routing = yamltext.entry(alias_node, "routing")
    splices: list[yamltext.Splice] = []
    if weight_text is None:
        if current != target:
            splices.append(yamltext.replace(version[1], yamltext.scalar(target, like=version[1])))
        if routing is not None:
            splices.append(yamltext.remove_entry(text, alias_node, routing))
        routed = (
            f", routing {yamltext.show_routing(routing[1])} removed" if routing is not None else ""
        )
        summary = f"{found.file.path}: {alias}: {current} -> {target}{routed}"
        unchanged = f"{found.file.path}: {alias} is already on {target} with no routing"

        def expected(desired: DesiredFunction) -> bool:
            moved = desired.aliases.get(alias)
            return moved is not None and moved.version == target and not moved.routing

    else:
        share = yamltext.plain_weight(weight_text)
        entry = f"{yamltext.scalar(target, like=None)}: {share}"
        if routing is None:
            routing_entry = f"routing: {{{entry}}}"
            splices.append(
                yamltext.add_entry(text, alias_node, version, routing_entry, found.text.eol)
            )
        else:
            splices.extend(yamltext.set_routing(text, routing, target, share))
        before = yamltext.show_routing(routing[1]) if routing is not None else "none"
        summary = (
            f"{found.file.path}: {alias}: stays on {current}, routing {before} -> "
            f"{{{target}: {share}}}"
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
) -> Edit:
    """Declare ``label`` under ``spec.versions`` of ``function``, after the last version.

    ``zip_file``, a path from the repository's root, is recorded as ``code.zipFile``, written
    from the folder of the declaration file as the loader reads it (``../dist/r43.zip`` for a
    declaration in ``functions/``); ``s3`` as ``code.s3`` (``bucket``, ``key`` and, when it has
    one, ``objectVersion``). A version has at most one code source, so at most one of them may
    be given.
    """
    if zip_file is not None and s3 is not None:
        raise EditRefused(
            "a version has one code source: give a zip file or an S3 object, not both"
        )
    code = RepoZip(zip_file) if zip_file is not None else s3
    found = _find_function(files, function)
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
    splices = [
        _insert_version(found.text, spec, versions, yamltext.scalar(label, like=None), fields)
    ]
    source = f", code {_show_s3(s3)}" if s3 is not None else ""
    summary = (
        f"{found.file.path}: {found.name}: version {label} added (codeSha256 {code_sha256}{source})"
    )

    def expected(desired: DesiredFunction) -> bool:
        added = desired.versions.get(label)
        return added is not None and added.code_sha256 == code_sha256 and added.code == code

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
    )


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


def _find_function(files: Sequence[SourceFile], function: str) -> _Found:
    """The document declaring ``function``: by ``metadata.name``, or else by the function name
    in ``spec.functionName`` (bare or inside an ARN) when only one document has it."""
    by_name: list[_Found] = []
    by_function: list[_Found] = []
    unreadable: list[str] = []
    for file in sorted(files, key=lambda f: f.path):
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


def _alias_of(found: _Found, alias: str) -> MappingNode:
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
    return pair[1]


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
) -> _Fields:
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

    fields: _Fields = [("codeSha256", scalar(code_sha256, "codeSha256", quoted_by_default=True))]
    if description is not None:
        fields.append(("description", scalar(description, "description", quoted_by_default=True)))
    if isinstance(code, RepoZip):
        fields.append(("code", [("zipFile", scalar(code.path, "code", "zipFile"))]))
    elif code is not None:
        location: _Fields = [
            ("bucket", scalar(code.bucket, "code", "s3", "bucket")),
            ("key", scalar(code.key, "code", "s3", "key")),
        ]
        if code.object_version is not None:
            location.append(
                ("objectVersion", scalar(code.object_version, "code", "s3", "objectVersion"))
            )
        fields.append(("code", [("s3", location)]))
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


def _insert_version(
    text: yamltext.Text,
    spec: yamltext.Pair,
    versions: yamltext.Pair | None,
    label: str,
    fields: _Fields,
) -> yamltext.Splice:
    """The splice that adds the version after the last one, in the style of its neighbours."""
    content, (spec_key, spec_value) = text.content, spec
    flow = f"{label}: {_flow(fields)}"
    if not isinstance(spec_value, MappingNode):
        raise EditRefused("spec is not a mapping")
    if versions is None:
        return _insert_versions_key(text, spec_key, spec_value, label, fields)
    versions_key, mapping = versions
    if yamltext.is_empty(mapping):
        colon = content.index(":", versions_key.end_mark.index) + 1
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
        else _step(versions_key, mapping)
    )
    return yamltext.insert_lines(content, end, _block(label, fields, indent, step), text.eol)


def _insert_versions_key(
    text: yamltext.Text, spec_key: Node, spec: MappingNode, label: str, fields: _Fields
) -> yamltext.Splice:
    """The splice that adds ``versions:`` with the one new version to a spec that has none."""
    content = text.content
    last = spec.value[-1]
    if spec.flow_style:
        end = yamltext.entry_end(content, *last)
        return yamltext.Splice(end, end, f", versions: {{{label}: {_flow(fields)}}}")
    indent = yamltext.indent_before(content, spec.value[0][0])
    step = _step(spec_key, spec)
    lines = [f"{indent}versions:", *_block(label, fields, indent + step, step)]
    aliases = yamltext.entry(spec, "aliases")
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


def _block(label: str, fields: _Fields, indent: str, step: str) -> list[str]:
    lines = [f"{indent}{label}:"]
    for key, value in fields:
        if isinstance(value, list):
            lines.extend(_block(key, value, indent + step, step))
        else:
            lines.append(f"{indent}{step}{key}: {value}")
    return lines


def _flow(fields: _Fields) -> str:
    parts = [f"{key}: {value if isinstance(value, str) else _flow(value)}" for key, value in fields]
    return "{" + ", ".join(parts) + "}"


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
) -> Edit:
    """The edit, once the whole folder with the edited file parses and the edited function is
    valid and says what the command meant; otherwise ``EditRefused`` with the parser's errors."""
    data = found.file.data
    if not splices:
        return Edit(found.file.path, data, data, unchanged)
    edited = found.text.encoded(yamltext.apply(found.text.content, splices))
    before = parse_declarations(
        [(f.path, f.data) for f in files],
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
    )
    after = parse_declarations(
        [(f.path, edited if f.path == found.file.path else f.data) for f in files],
        default_region=default_region,
        tree=tree,
        extra_regions=extra_regions,
    )
    # Errors elsewhere that were there before the edit are not this edit's doing and do not
    # block it; every error of the edited function does, and so does any new one.
    known = {(e.location.file, e.message) for e in before.errors}
    problems = [
        *(e for bad in after.invalid if bad.name == found.name for e in bad.errors),
        *(e for e in after.errors if (e.location.file, e.message) not in known),
    ]
    if problems:
        shown = "; ".join(dict.fromkeys(str(e) for e in problems))
        raise EditRefused(
            f"{found.file.path} is left unchanged, because the edit would make the declarations "
            f"invalid: {shown}"
        )
    desired = next((f for f in after.functions if f.name == found.name), None)
    if desired is None or not expected(desired):
        raise EditRefused(
            f"{found.file.path}: the edited declaration of {found.name!r} does not say what was "
            "asked (is a value shared with another place?); edit it by hand"
        )
    return Edit(found.file.path, data, edited, summary)

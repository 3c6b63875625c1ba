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
import codecs
import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from controller.declarations import RepositoryTree, parse_declarations

# The loader's own file discovery and folder view are used, rather than copies of them, so that
# an edit is validated against exactly the files that ``load_folder`` and ``validate`` read.
from controller.declarations.loader import FolderTree, declaration_files
from controller.declarations.schema import API_GROUP, KIND
from controller.errors import ConfigurationError, EditRefused
from controller.model import FUNCTION_ARN_PATTERN, DesiredFunction, RepoZip, S3Code, weight

_Fields = list[tuple[str, "str | _Fields"]]
"""A new version's fields as ``(key, YAML text)``; a mapping (``code``, ``code.s3``) holds its
own ``(key, value)`` pairs."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PLAIN_CANDIDATE = re.compile(r"[A-Za-z0-9$][A-Za-z0-9._+\-/=$]*")
"""Text that may be written without quotes, if YAML also reads it back as that same text."""


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
) -> Edit:
    """Move ``alias`` of ``function`` to ``target``, or with ``weight_text`` route that share of
    its traffic to ``target`` while it stays on its version (a canary step)."""
    found = _find_function(files, function)
    text = found.text.content
    alias_node = _alias_of(found, alias)
    version = _entry(alias_node, "version")
    if version is None or not isinstance(version[1], ScalarNode):
        raise EditRefused(f"{found.file.path}: alias {alias!r} has no version to move; add one")
    _refuse_shared(version[0], version[1], f"spec.aliases.{alias}.version")
    current = version[1].value
    routing = _entry(alias_node, "routing")
    splices: list[_Splice] = []
    if weight_text is None:
        if current != target:
            splices.append(_replace(version[1], _scalar(target, like=version[1])))
        if routing is not None:
            splices.append(_remove_entry(text, alias_node, routing))
        routed = f", routing {_show_routing(routing[1])} removed" if routing is not None else ""
        summary = f"{found.file.path}: {alias}: {current} -> {target}{routed}"
        unchanged = f"{found.file.path}: {alias} is already on {target} with no routing"

        def expected(desired: DesiredFunction) -> bool:
            moved = desired.aliases.get(alias)
            return moved is not None and moved.version == target and not moved.routing

    else:
        share = _weight(weight_text)
        entry = f"{_scalar(target, like=None)}: {share}"
        if routing is None:
            routing_entry = f"routing: {{{entry}}}"
            splices.append(_add_entry(text, alias_node, version, routing_entry, found.text.eol))
        else:
            splices.extend(_set_routing(text, routing, target, share))
        before = _show_routing(routing[1]) if routing is not None else "none"
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
) -> Edit:
    """Declare ``label`` under ``spec.versions`` of ``function``, after the last version.

    ``zip_file`` is recorded as ``code.zipFile``: a path from the repository's root; ``s3`` as
    ``code.s3`` (``bucket``, ``key`` and, when it has one, ``objectVersion``). A version has at
    most one code source, so at most one of them may be given.
    """
    if zip_file is not None and s3 is not None:
        raise EditRefused(
            "a version has one code source: give a zip file or an S3 object, not both"
        )
    code = RepoZip(zip_file) if zip_file is not None else s3
    found = _find_function(files, function)
    spec = _spec_of(found)
    versions = _entry(spec[1], "versions")
    if versions is not None:
        _refuse_shared(versions[0], versions[1], "spec.versions")
        if not isinstance(versions[1], MappingNode) and not _is_empty(versions[1]):
            raise EditRefused(
                f"{found.file.path}: spec.versions of {found.name!r} is not a mapping of labels; "
                "correct it first"
            )
        existing = _entry(versions[1], label)
        if existing is not None:
            return _existing_label(found, label, existing[1], code_sha256)
    fields = _version_fields(found, versions, code_sha256, description, code)
    splices = [_insert_version(found.text, spec, versions, _scalar(label, like=None), fields)]
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
    )


def code_sha256(package: bytes) -> str:
    """Lambda's ``CodeSha256`` of a deployment package: the base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")


# -- finding the declaration ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    """A file's text without its byte order mark, and how to turn it back into the same bytes."""

    content: str
    bom: bool
    eol: str
    """The file's first line break, used for every inserted line."""

    @classmethod
    def of(cls, data: bytes) -> _Text:
        bom = data.startswith(codecs.BOM_UTF8)
        content = data[len(codecs.BOM_UTF8) if bom else 0 :].decode("utf-8")
        first_break = _LINE_BREAK.search(content)
        return cls(content, bom, first_break.group() if first_break else "\n")

    def encoded(self, content: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + content.encode("utf-8")


@dataclass(frozen=True, slots=True)
class _Found:
    file: SourceFile
    text: _Text
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
            text = _Text.of(file.data)
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
    api_version, kind = _scalar_at(document, "apiVersion"), _scalar_at(document, "kind")
    if api_version is None or not api_version.startswith(API_GROUP) or kind != KIND:
        return None
    metadata = _entry(document, "metadata")
    name = _scalar_at(metadata[1], "name") if metadata is not None else None
    if name is None:
        return None
    spec = _entry(document, "spec")
    return name, _scalar_at(spec[1], "functionName") if spec is not None else None


def _bare(function_name: str) -> str:
    arn = FUNCTION_ARN_PATTERN.fullmatch(function_name)
    return arn["name"] if arn else function_name


def _spec_of(found: _Found) -> tuple[ScalarNode, MappingNode]:
    spec = _entry(found.document, "spec")
    if spec is None or not isinstance(spec[1], MappingNode) or not spec[1].value:
        raise EditRefused(f"{found.file.path}: {found.name!r} has no spec mapping; add one")
    _refuse_shared(spec[0], spec[1], "spec")
    return spec[0], spec[1]


def _alias_of(found: _Found, alias: str) -> MappingNode:
    aliases = _entry(_spec_of(found)[1], "aliases")
    declared = aliases[1] if aliases is not None else None
    pair = _entry(declared, alias) if isinstance(declared, MappingNode) else None
    if pair is None:
        names = ", ".join(_keys(declared)) if isinstance(declared, MappingNode) else ""
        raise EditRefused(
            f"{found.file.path}: {found.name!r} has no alias {alias!r} (aliases: "
            f"{names or 'none'}); declare it first"
        )
    if not isinstance(pair[1], MappingNode):
        raise EditRefused(
            f"{found.file.path}: spec.aliases.{alias} is not a mapping with a version; correct it"
        )
    _refuse_shared(pair[0], pair[1], f"spec.aliases.{alias}")
    return pair[1]


# -- nodes ----------------------------------------------------------------------------------------

_Pair = tuple[ScalarNode, Node]


def _entry(mapping: Node | None, key: str) -> _Pair | None:
    """The key and value nodes of ``key`` written directly in ``mapping``."""
    if not isinstance(mapping, MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    if any(isinstance(k, ScalarNode) and k.value == "<<" for k, _ in mapping.value):
        # The key may come from a merged mapping, which lives elsewhere and may be shared.
        raise EditRefused(
            f"the mapping at line {mapping.start_mark.line + 1} uses a YAML merge key (<<); "
            f"edit {key!r} by hand"
        )
    return None


def _keys(mapping: MappingNode) -> list[str]:
    return [k.value for k, _ in mapping.value if isinstance(k, ScalarNode)]


def _scalar_at(mapping: Node | None, key: str) -> str | None:
    pair = _entry(mapping, key)
    if pair is None or not isinstance(pair[1], ScalarNode):
        return None
    return str(pair[1].value)


def _refuse_shared(key: ScalarNode, value: Node, where: str) -> None:
    """Refuse to edit a value that a YAML anchor shares, or that is itself an alias (``*x``):
    changing its text would change, or fail to change, other places too."""
    if value.anchor is not None or value.start_mark.index < key.end_mark.index:
        raise EditRefused(
            f"{where} at line {key.start_mark.line + 1} is shared through a YAML anchor or "
            "alias; edit it by hand"
        )


def _is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None and node.value == ""


def _is_block(node: Node) -> bool:
    return isinstance(node, MappingNode) and not node.flow_style and bool(node.value)


def _end(text: str, key: Node, value: Node) -> int:
    """Where the entry ``key: value`` ends: after its last character, not at the next token.

    A block mapping's own end mark is the start of whatever follows it (comments included), and
    an empty value's marks point past the line, so both are worked out from their parts.
    """
    if _is_empty(value):
        return text.index(":", key.end_mark.index) + 1
    if _is_block(value):
        last_key, last_value = value.value[-1]
        return _end(text, last_key, last_value)
    return int(value.end_mark.index)


def _line_start(text: str, index: int) -> int:
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def _line_end(text: str, index: int) -> tuple[int, int]:
    """The end of the line holding ``index``: before its line break, and after it."""
    found = _LINE_BREAK.search(text, index)
    return (found.start(), found.end()) if found else (len(text), len(text))


def _indent_before(text: str, node: Node) -> str:
    """The indentation of a block key, which must be the first thing on its line."""
    start = _line_start(text, node.start_mark.index)
    indent = text[start : node.start_mark.index]
    if indent.strip(" "):
        raise EditRefused(
            f"line {node.start_mark.line + 1} holds more than one key; put {node.value!r} on "
            "a line of its own"
        )
    return indent


# -- splices --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Splice:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str


def _apply(text: str, splices: Sequence[_Splice]) -> str:
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        text = text[: splice.start] + splice.replacement + text[splice.end :]
    return text


def _replace(node: Node, replacement: str) -> _Splice:
    return _Splice(node.start_mark.index, node.end_mark.index, replacement)


def _insert_lines(text: str, after: int, lines: Sequence[str], eol: str) -> _Splice:
    """Insert whole lines after the line that holds ``after``, also at a last line that has no
    line break (which then still has none)."""
    before_break, after_break = _line_end(text, after)
    if before_break == after_break:
        return _Splice(before_break, before_break, "".join(eol + line for line in lines))
    return _Splice(after_break, after_break, "".join(line + eol for line in lines))


def _remove_entry(text: str, mapping: MappingNode, pair: _Pair) -> _Splice:
    """Remove ``key: value`` from ``mapping``: its lines in a block mapping, or the entry and
    one separating comma in a flow mapping."""
    key, value = pair
    end = _end(text, key, value)
    if not mapping.flow_style:
        _indent_before(text, key)
        start = _line_start(text, key.start_mark.index)
        before_break, after_break = _line_end(text, end)
        if before_break == after_break and start > 0:
            # The entry is the last line and has no line break: take the one before it instead,
            # so that the file still ends without one.
            start -= 2 if text[start - 2 : start] == "\r\n" else 1
        return _Splice(start, after_break, "")
    index = next(i for i, (k, _) in enumerate(mapping.value) if k is key)
    if index > 0:
        previous_key, previous_value = mapping.value[index - 1]
        start = _end(text, previous_key, previous_value)
        splice = _Splice(start, end, "")
        checked = text[start : key.start_mark.index]
    else:
        following = mapping.value[index + 1][0].start_mark.index
        splice = _Splice(key.start_mark.index, following, "")
        checked = text[end:following]
    if "#" in checked:
        raise EditRefused(
            f"a comment at line {key.start_mark.line + 1} sits between the entries of a flow "
            "mapping; edit it by hand"
        )
    return splice


def _add_entry(text: str, mapping: MappingNode, after: _Pair, entry: str, eol: str) -> _Splice:
    """Add ``entry`` (``key: value`` on one line) to ``mapping``, just after the entry ``after``."""
    end = _end(text, *after)
    if mapping.flow_style:
        return _Splice(end, end, f", {entry}")
    indent = _indent_before(text, after[0])
    return _insert_lines(text, end, [indent + entry], eol)


def _set_routing(text: str, routing: _Pair, target: str, share: str) -> list[_Splice]:
    """Make the routing ``{target: share}``, keeping a one-entry block mapping in block style
    (and its comments), and replacing anything else as one flow mapping."""
    key, value = routing
    target_text = _scalar(target, like=None)
    if _is_block(value) and isinstance(value, MappingNode) and len(value.value) == 1:
        ((route_key, route_weight),) = value.value
        return [_replace(route_key, target_text), _replace(route_weight, share)]
    flow = f"{{{target_text}: {share}}}"
    if isinstance(value, MappingNode) and value.flow_style:
        return [_replace(value, flow)]
    colon = text.index(":", key.end_mark.index) + 1
    return [_Splice(colon, _end(text, key, value), f" {flow}")]


def _show_routing(value: Node) -> str:
    if not isinstance(value, MappingNode):
        return "{}"
    return "{" + ", ".join(f"{k.value}: {v.value}" for k, v in value.value) + "}"


# -- a new version --------------------------------------------------------------------------------


def _existing_label(found: _Found, label: str, declared: Node, code_sha256: str) -> Edit:
    declared_sha256 = _scalar_at(declared, "codeSha256")
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
    versions: _Pair | None,
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
        return _scalar(
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
                pair = _entry(node, key)
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
    text: _Text,
    spec: _Pair,
    versions: _Pair | None,
    label: str,
    fields: _Fields,
) -> _Splice:
    """The splice that adds the version after the last one, in the style of its neighbours."""
    content, (spec_key, spec_value) = text.content, spec
    flow = f"{label}: {_flow(fields)}"
    if not isinstance(spec_value, MappingNode):
        raise EditRefused("spec is not a mapping")
    if versions is None:
        return _insert_versions_key(text, spec_key, spec_value, label, fields)
    versions_key, mapping = versions
    if _is_empty(mapping):
        colon = content.index(":", versions_key.end_mark.index) + 1
        return _Splice(colon, colon, f" {{{flow}}}")
    if not isinstance(mapping, MappingNode) or not mapping.value:
        return _Splice(mapping.start_mark.index, mapping.end_mark.index, f"{{{flow}}}")
    last_key, last_value = mapping.value[-1]
    end = _end(content, last_key, last_value)
    if mapping.flow_style:
        return _Splice(end, end, f", {flow}")
    indent = _indent_before(content, last_key)
    if isinstance(last_value, MappingNode) and last_value.flow_style:
        return _insert_lines(content, end, [f"{indent}{flow}"], text.eol)
    step = _step(last_key, last_value) if _is_block(last_value) else _step(versions_key, mapping)
    return _insert_lines(content, end, _block(label, fields, indent, step), text.eol)


def _insert_versions_key(
    text: _Text, spec_key: Node, spec: MappingNode, label: str, fields: _Fields
) -> _Splice:
    """The splice that adds ``versions:`` with the one new version to a spec that has none."""
    content = text.content
    last = spec.value[-1]
    if spec.flow_style:
        end = _end(content, *last)
        return _Splice(end, end, f", versions: {{{label}: {_flow(fields)}}}")
    indent = _indent_before(content, spec.value[0][0])
    step = _step(spec_key, spec)
    lines = [f"{indent}versions:", *_block(label, fields, indent + step, step)]
    aliases = _entry(spec, "aliases")
    if aliases is None:
        return _insert_lines(content, _end(content, *last), lines, text.eol)
    # Versions come before the aliases that refer to them, as in every example.
    _indent_before(content, aliases[0])
    start = _line_start(content, aliases[0].start_mark.index)
    return _Splice(start, start, "".join(line + text.eol for line in lines))


def _step(key: Node, mapping: Node) -> str:
    """How far the children of a block mapping are indented past their parent's key."""
    if not isinstance(mapping, MappingNode) or not _is_block(mapping):
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


# -- scalars --------------------------------------------------------------------------------------


def _scalar(value: str, *, like: ScalarNode | None, quoted_by_default: bool = False) -> str:
    """``value`` as YAML text, in the quoting style of the scalar it replaces or resembles.

    A published version number is always quoted, so that it stays text (``"17"``); anything
    YAML would not read back as the same text unquoted is quoted too.
    """
    style = like.style if like is not None else ('"' if quoted_by_default else None)
    must_quote = value.isdigit() or not _reads_back_plain(value)
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or must_quote:
        return json.dumps(value, ensure_ascii=False)
    return value


def _reads_back_plain(value: str) -> bool:
    if not _PLAIN_CANDIDATE.fullmatch(value):
        return False
    try:
        loaded = YAML(typ="safe").load(f"key: {value}\n")
    except YAMLError:
        return False
    return isinstance(loaded, dict) and loaded.get("key") == value


def _weight(weight_text: str) -> str:
    """The weight as a plain decimal; whether it is in range is the parser's rule to apply."""
    try:
        share = Decimal(weight_text.strip())
    except InvalidOperation:
        share = Decimal("NaN")
    if not share.is_finite():
        raise EditRefused(f"--weight {weight_text!r} is not a number; write one such as 0.1")
    return format(share, "f")


# -- validation -----------------------------------------------------------------------------------


def _checked(
    files: Sequence[SourceFile],
    found: _Found,
    splices: Sequence[_Splice],
    *,
    summary: str,
    unchanged: str,
    expected: Callable[[DesiredFunction], bool],
    default_region: str,
    tree: RepositoryTree,
) -> Edit:
    """The edit, once the whole folder with the edited file parses and the edited function is
    valid and says what the command meant; otherwise ``EditRefused`` with the parser's errors."""
    data = found.file.data
    if not splices:
        return Edit(found.file.path, data, data, unchanged)
    edited = found.text.encoded(_apply(found.text.content, splices))
    before = parse_declarations(
        [(f.path, f.data) for f in files], default_region=default_region, tree=tree
    )
    after = parse_declarations(
        [(f.path, edited if f.path == found.file.path else f.data) for f in files],
        default_region=default_region,
        tree=tree,
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


# -- reading and writing --------------------------------------------------------------------------


def read_folder(root: Path, subpath: str) -> tuple[list[SourceFile], RepositoryTree]:
    """The declaration files under ``subpath`` of the repository at ``root``, as
    ``load_folder`` reads them, and the view of the repository its checks need."""
    base = root.resolve()
    if not base.is_dir():
        raise ConfigurationError(f"the repository {root} is not a folder")
    folder = (base / subpath).resolve()
    if not folder.is_relative_to(base) or not folder.exists():
        raise ConfigurationError(
            f"the declarations path {subpath!r} is not a folder inside the repository {root}"
        )
    files = [
        SourceFile(file.relative_to(base).as_posix(), file.read_bytes())
        for file in declaration_files(folder)
    ]
    return files, FolderTree(base)


def write_atomically(root: Path, edit: Edit) -> None:
    """Replace the file in one rename, so that a reader (or a crash) never sees half of it."""
    target = root.resolve() / edit.path
    mode = target.stat().st_mode
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(edit.after)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise EditRefused(f"could not write {edit.path}: {error}") from error

"""From the bytes of the declaration files to desired state, with every error at ``file:line``.

This is the pure half of the declarations: it takes ``(file name, bytes)`` pairs and a view of
the repository (for ``code.zipFile`` paths, each relative to the folder of its file) and reads no
Git and no file system of its own, so the loader for a commit and the loader for a folder give
the same answer for the same bytes.

The outcome distinguishes four things because the controller treats them differently:

- a **valid** function goes ahead;
- an **invalid** function (the YAML parsed but the declaration is wrong) is not touched and keeps
  its last applied revision, while the other functions, even in the same file, go ahead;
- a **broken file** (the YAML does not parse) hides which functions it declares, so the caller
  keeps every function that the file declared at the last good revision, and never reads the
  file's silence as "these functions were removed";
- an **ignored** document (another tool's, an empty one, one that is not a mapping) is no
  declaration at all; it is listed, with why, for ``validate -v``, so that no input is dropped
  without a word. A document that looks meant as a declaration (its ``kind`` is ``Function``, or
  its ``apiVersion`` is a near miss of ``lambda-gitops/v1``) is never ignored: it is invalid,
  with a did-you-mean.

Line numbers come from ruamel.yaml's round-trip loader, which keeps the position of every key:
pydantic's error locations (``spec.aliases.live.version``) are walked back through the loaded
mappings to the line of the offending key.
"""

from __future__ import annotations

import functools
import operator
import posixpath
import re
import threading
import types
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from controller.core.analysis import (
    AlarmCheck,
    Bounds,
    Check,
    CloudWatchCheck,
    PrometheusCheck,
)
from controller.core.configuration import NOTHING, foreign_layer_region
from controller.core.declarations.paths import (
    EntryKind,
    PathNotFound,
    PathOutsideRepository,
    RepositoryTree,
    resolve_repository_path,
)
from controller.core.declarations.schema import (
    API_GROUP,
    API_VERSION,
    EXTRA_REGIONS,
    FUNCTION_NAME_PATTERN,
    KIND,
    AliasSpec,
    CheckSpec,
    CodeSpec,
    FunctionDeclaration,
    FunctionSpec,
    VersionSpec,
    is_version_number,
    region_problem,
)
from controller.core.declarations.spelling import close_matches, did_you_mean
from controller.core.model import (
    FUNCTION_ARN_PATTERN,
    LATEST,
    PARTIAL_ARN_PATTERN,
    REGION_PATTERN,
    DeclaredCode,
    DesiredAlias,
    DesiredFunction,
    DesiredVersion,
    FunctionId,
    FunctionRef,
    RepoZip,
    S3Code,
    SourceLocation,
)
from controller.core.rollout import Analysis, Rollout, Step
from controller.errors import ConfigurationError

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
class IgnoredDocument:
    """A document that is no declaration, printed as ``FILE:LINE: ignored: reason``."""

    location: SourceLocation
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: ignored: {self.reason}"


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
    ignored: tuple[IgnoredDocument, ...] = ()
    """The documents of the files that parsed that are no declarations, in file and document
    order: other tools' documents, empty ones, ones that are not mappings."""

    @property
    def errors(self) -> tuple[DeclarationError, ...]:
        """Every error, sorted by file and line."""
        every = [*self.broken_files, *(e for bad in self.invalid for e in bad.errors)]
        return tuple(sorted(every, key=lambda e: (e.location.file, e.location.line, e.message)))

    @property
    def is_valid(self) -> bool:
        return not self.invalid and not self.broken_files


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """What one revision may cost to read, whatever is in it.

    The declarations come from whoever can push to the repository, and every file under the
    path is read, another tool's included; without bounds a 500-byte YAML alias bomb or a
    50 MB file would hold a pass for minutes and the process's memory past its limit. Each
    bound is far above what a real declaration needs (a ``Function`` document is about 1 KB,
    five levels deep and a few dozen values) and turns into a ``FILE:LINE`` error for that file
    alone, never into a stalled pass.
    """

    file_bytes: int = 1024 * 1024
    """Largest file read; a larger one is refused unread."""
    documents: int = 1000
    """YAML documents per file."""
    depth: int = 32
    """Nesting of mappings and sequences, counted as written and again after aliases expand."""
    values: int = 100_000
    """Values in one file once its YAML aliases are expanded: an alias bomb stops here."""
    revision_bytes: int = 64 * 1024 * 1024
    """Bytes of declaration files in one revision; past it the files left are refused unread."""


DEFAULT_LIMITS = ParseLimits()


@dataclass(frozen=True, slots=True)
class Unread:
    """A file the loader did not read because of its size: it is reported, not parsed."""

    size: int
    past_revision_budget: bool = False
    """True when the file itself is small enough but the revision's files together are not."""


FileContent = bytes | Unread


class SourceFile(NamedTuple):
    """One declaration file to parse: its path, what identifies its content, and how to read it.

    ``key`` is the content's identity when the caller knows one (the Git blob id): with a
    ``ParseCache``, a file whose path and key were parsed before is not read again. ``size`` is
    the content's size when known without reading it, for the revision's byte budget.
    """

    path: str
    read: Callable[[], FileContent]
    key: str | None = None
    size: int | None = None


class Listing(NamedTuple):
    """The declaration files of one revision under one folder, sorted: ``(path, key)``."""

    revision: str
    folder: str
    files: tuple[tuple[str, str], ...]


class ParseCache:
    """What each declaration file parsed into, by path and content (the Git blob id), so that
    a commit that changes one file parses one file.

    A file's result also depends on the repository around it (a ``code.zipFile`` it names, and
    the symbolic links on the way there): the queries the parse made of the repository are kept
    with it and asked again of the next revision's, and a different answer means parsing again.
    At most ``max_files`` results are kept, the oldest dropped first, so memory is bounded
    whatever the history; a lookup is a plain dictionary read (a warm read of ten thousand
    files does ten thousand of them), and only storing takes the lock.
    """

    def __init__(self, max_files: int = 50_000) -> None:
        self._max_files = max_files
        self._results: dict[tuple[str, str], _FileResult] = {}
        self._sizes: dict[str, int] = {}
        self._where: _Where | None = None
        self._lock = threading.Lock()
        self.listing: Listing | None = None
        """The last revision's files, kept by the reader so that it can list the next
        revision's by their difference."""
        self.parsed = 0
        """How many files were parsed rather than found (for tests and benchmarks)."""

    def bind(self, where: _Where) -> None:
        """Results hold for one controller region, account and region list: another one (a
        changed setting) starts the cache afresh."""
        with self._lock:
            if self._where != where:
                self._results = {}
                self._where = where

    def lookup(self, key: tuple[str, str], tree: RepositoryTree) -> _FileResult | None:
        """The result kept for ``key``, if the repository still answers its queries alike."""
        found = self._results.get(key)
        if found is None or (found.queries and not all(q.holds(tree) for q in found.queries)):
            return None
        return found

    @property
    def sizes(self) -> Mapping[str, int]:
        """The size remembered for each content key (a blob id), so that a revision's byte
        budget is counted without asking Git again for what it cannot change."""
        return self._sizes

    def remember_size(self, key: str, size: int) -> None:
        with self._lock:
            self._sizes[key] = size
            _bound(self._sizes, self._max_files)

    def store(self, key: tuple[str, str], result: _FileResult) -> None:
        """Keep ``result`` for ``key``, dropping the oldest past the bound."""
        with self._lock:
            self.parsed += 1
            self._results.pop(key, None)
            self._results[key] = result
            _bound(self._results, self._max_files)


def _bound(entries: dict[Any, Any], most: int) -> None:
    """Drop the oldest entries (dictionaries keep insertion order) past ``most``."""
    while len(entries) > most:
        del entries[next(iter(entries))]


def parse_declarations(
    files: Iterable[tuple[str, FileContent]],
    *,
    default_region: str,
    tree: RepositoryTree,
    revision: str = "",
    default_account: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    extra_regions: Collection[str] = (),
) -> Declarations:
    """Parse and validate the declaration files; ``files`` are ``(path, bytes)`` pairs.

    The paths are relative to the repository's root and appear as they are in messages; the
    files are read in sorted path order whatever order they come in, so the result is
    deterministic. ``default_region`` is the controller's region, used when a declaration names
    none; an invalid one is a ``ConfigurationError`` because it is no declaration's fault.
    ``default_account`` is the account of the controller's own credentials, which a bare
    function name means; when it is not known, a bare name is taken to possibly be the same
    function as an ARN with any account, so that two spellings of one function are never both
    applied. A file the loader left ``Unread``, or one past ``limits``, is an error of its own.
    A region is one AWS Lambda is in (``regions.LAMBDA_REGIONS``) or one of ``extra_regions``,
    the controller's setting for regions launched after its botocore.
    """
    return parse_sources(
        [SourceFile(name, functools.partial(_given, data)) for name, data in files],
        default_region=default_region,
        tree=tree,
        revision=revision,
        default_account=default_account,
        limits=limits,
        extra_regions=extra_regions,
    )


def parse_sources(
    files: Iterable[SourceFile],
    *,
    default_region: str,
    tree: RepositoryTree,
    revision: str = "",
    default_account: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    extra_regions: Collection[str] = (),
    cache: ParseCache | None = None,
) -> Declarations:
    """``parse_declarations`` for files read only when needed: with ``cache``, a file already
    parsed at the same path and content (and whose repository queries still hold) is reused,
    and the checks across files (one declaration per function) run over every file's result.
    The result is the same as parsing every file anew."""
    problem = region_problem(default_region, extra_regions)
    if problem is not None:
        raise ConfigurationError(f"the default region {default_region!r} {problem}")
    where = _Where(default_region, default_account, frozenset(extra_regions))
    if cache is not None:
        cache.bind(where)
    results = [
        _file_result(source, where, tree, limits, cache) for source in sorted(files, key=_path)
    ]
    # The checks across files add their errors beside each file's own, which a cached file's
    # result keeps as the file alone made them. They are counted first, in C: in a valid
    # repository no key repeats, and every file's own parts are taken as they are.
    shared_keys = _repeated(Counter(chain.from_iterable(map(_function_keys, results))))
    shared_names = _repeated(Counter(chain.from_iterable(map(_names, results))))
    if shared_keys or shared_names:
        results = _with_duplicates(results, shared_keys, shared_names)
    return Declarations(
        revision=revision,
        functions=tuple(chain.from_iterable(map(_valid, results))),
        invalid=tuple(chain.from_iterable(map(_invalid, results))),
        broken_files=tuple(filter(None, map(_broken, results))),
        ignored=tuple(chain.from_iterable(map(_ignored, results))),
    )


def _with_duplicates(
    results: list[_FileResult], shared_keys: set[str], shared_names: set[str]
) -> list[_FileResult]:
    """``results`` with the duplicate declarations among them made invalid: only the files
    that declare a repeated function or name are looked at again."""
    involved = [
        index
        for index, result in enumerate(results)
        if not shared_keys.isdisjoint(result.function_keys)
        or not shared_names.isdisjoint(result.names)
    ]
    duplicates = _duplicates(
        [candidate for index in involved for candidate in results[index].candidates],
        shared_keys,
        shared_names,
    )
    changed = list(results)
    for index in involved:
        result = results[index]
        changed[index] = _assembled(
            result.candidates,
            result.ignored,
            result.broken,
            result.queries,
            {id(c): duplicates[id(c)] for c in result.candidates if id(c) in duplicates},
        )
    return changed


def _given(data: FileContent) -> FileContent:
    return data


@dataclass(frozen=True, slots=True)
class _Query:
    """One question the parse of a file asked of the repository, and the answer it got."""

    method: Literal["kind", "symlink_target", "where"]
    path: str
    answer: object

    def holds(self, tree: RepositoryTree) -> bool:
        return _ask(tree, self.method, self.path) == self.answer


def _ask(tree: RepositoryTree, method: str, path: str) -> object:
    if method == "kind":
        return tree.kind(path)
    if method == "symlink_target":
        return tree.symlink_target(path)
    return tree.where


class _RecordingTree:
    """The repository as a file's parse sees it, remembering every question asked."""

    def __init__(self, tree: RepositoryTree) -> None:
        self._tree = tree
        self.queries: list[_Query] = []

    @property
    def where(self) -> str:
        answer = self._tree.where
        self.queries.append(_Query("where", "", answer))
        return answer

    def kind(self, path: str) -> EntryKind | None:
        answer = self._tree.kind(path)
        self.queries.append(_Query("kind", path, answer))
        return answer

    def symlink_target(self, path: str) -> str:
        answer = self._tree.symlink_target(path)
        self.queries.append(_Query("symlink_target", path, answer))
        return answer


@dataclass(frozen=True, slots=True)
class _FileResult:
    """What one file parsed into, before the checks across files, with its parts ready for
    assembly: a warm read of ten thousand files only joins them."""

    candidates: tuple[_Candidate, ...]
    ignored: tuple[IgnoredDocument, ...]
    broken: DeclarationError | None
    queries: tuple[_Query, ...]
    valid: tuple[DesiredFunction, ...]
    invalid: tuple[InvalidFunction, ...]
    function_keys: tuple[str, ...]
    """``_Candidate.function_key`` of each candidate that has one."""
    names: tuple[str, ...]
    """``metadata.name`` of each candidate that has one."""


def _assembled(
    candidates: tuple[_Candidate, ...] = (),
    ignored: tuple[IgnoredDocument, ...] = (),
    broken: DeclarationError | None = None,
    queries: tuple[_Query, ...] = (),
    more_errors: Mapping[int, Sequence[DeclarationError]] | None = None,
) -> _FileResult:
    """A file's result; ``more_errors`` are the checks across files', by ``id`` of candidate."""
    extra = more_errors or {}
    valid, invalid = [], []
    for c in candidates:
        errors = [*c.errors, *extra.get(id(c), ())]
        if errors:
            invalid.append(InvalidFunction(c.name, c.ref, c.location, tuple(errors)))
        elif c.function is not None:
            valid.append(c.function)
    return _FileResult(
        candidates,
        ignored,
        broken,
        queries,
        tuple(valid),
        tuple(invalid),
        tuple(c.function_key for c in candidates if c.function_key is not None),
        tuple(c.name for c in candidates if c.name is not None),
    )


_path = operator.attrgetter("path")
_function_keys = operator.attrgetter("function_keys")
_names = operator.attrgetter("names")
_valid = operator.attrgetter("valid")
_invalid = operator.attrgetter("invalid")
_broken = operator.attrgetter("broken")
_ignored = operator.attrgetter("ignored")


def _file_result(
    source: SourceFile,
    where: _Where,
    tree: RepositoryTree,
    limits: ParseLimits,
    cache: ParseCache | None,
) -> _FileResult:
    key = (source.path, source.key) if cache is not None and source.key else None
    if key is not None and cache is not None:
        found = cache.lookup(key, tree)
        if found is not None:
            return found
    recording = _RecordingTree(tree)
    try:
        documents, others = _read_documents(source.path, source.read(), limits)
    except _Unparsable as unparsable:
        result = _assembled(broken=unparsable.error)
    else:
        candidates = tuple(_check_document(document, where, recording) for document in documents)
        result = _assembled(candidates, tuple(others), None, tuple(recording.queries))
    if key is not None and cache is not None:
        cache.store(key, result)
    return result


# -- YAML -----------------------------------------------------------------------------------------


class _Unparsable(Exception):
    def __init__(self, error: DeclarationError) -> None:
        super().__init__(str(error))
        self.error = error


class _DeclarationConstructor(RoundTripConstructor):
    """The round-trip constructor, reading timestamps as text and failing only in YAML's terms.

    Alias names such as ``2024-01-02`` are allowed by Lambda; YAML would otherwise turn them into
    dates. A value whose tag its text does not fit (``!!int abc``, ``!!bool maybe``, a bare
    ``!!int``) makes ruamel.yaml's constructors raise plain ``ValueError``, ``KeyError`` or
    ``IndexError``; each is turned here into a ``ConstructorError`` at the value's line, so the
    file gets a ``FILE:LINE`` error. A subclass keeps the change away from every other user of
    ruamel.yaml.
    """

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        self.last_mark = node.start_mark
        try:
            return super().construct_object(node, deep=deep)
        except YAMLError:
            raise
        except Exception as error:  # any failure of a constructor is the file's
            # The value is not quoted: it may be an environment value marked secret, and at
            # this point nothing is known of the document it sits in. The line says where.
            raise ConstructorError(
                None,
                None,
                f"the value at this line is not a valid {_tag_name(node.tag)}; correct the value "
                "or remove the tag",
                node.start_mark,
            ) from error


_DeclarationConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _DeclarationConstructor.construct_yaml_str
)


class _DeclarationComposer(Composer):
    """The composer, remembering the line each document starts on.

    An empty document loads as ``None``, which has no line of its own; ``validate -v`` names
    the line of its ``---`` when it lists the document as ignored.
    """

    document_line = 1

    def compose_document(self) -> Any:
        self.document_line = _mark_line(self.parser.peek_event().start_mark)
        return super().compose_document()


def _tag_name(tag: Any) -> str:
    text = str(getattr(tag, "value", tag) or "")
    return "!!" + text.removeprefix("tag:yaml.org,2002:") if text.startswith("tag:yaml") else text


def _reason(error: BaseException) -> str:
    """An exception as ``Type: message``, short enough for one error line."""
    message = str(error)
    if len(message) > 120:
        message = message[:117] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


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

    @property
    def folder(self) -> str:
        """The folder of the file, from the repository's root: where its paths start."""
        return posixpath.dirname(self.file)

    def at(self, loc: Loc) -> SourceLocation:
        return SourceLocation(self.file, _line_of(self.root, loc))


def _read_documents(
    name: str, data: FileContent, limits: ParseLimits
) -> tuple[list[_Document], list[IgnoredDocument]]:
    """The documents of one file that are, or were meant as, declarations, and the others.

    Whatever the bytes, this returns documents or raises ``_Unparsable`` with the file's line:
    a file that cannot be read stalls the functions it declared, never the pass.
    """
    if isinstance(data, Unread) and data.past_revision_budget:
        raise _Unparsable(
            _file_error(
                name,
                1,
                f"not read: the declaration files of this revision hold more than "
                f"{limits.revision_bytes} bytes in all; narrow the declarations path or move "
                "other files out of it",
            )
        )
    if isinstance(data, Unread) or len(data) > limits.file_bytes:
        size = data.size if isinstance(data, Unread) else len(data)
        raise _Unparsable(
            DeclarationError(
                SourceLocation(name, 1),
                f"the file is {size} bytes; declaration files may hold at most "
                f"{limits.file_bytes} bytes: split it, or move it out of the declarations path",
            )
        )
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
    yaml.Composer = _DeclarationComposer
    yaml.max_depth = limits.depth
    documents = []
    ignored = []
    budget = _Budget(limits)
    try:
        for count, root in enumerate(yaml.load_all(text), start=1):
            _check_document_count(name, count, root, limits)
            if isinstance(root, CommentedMap) and _meant_as_ours(root):
                plain = _plain_document(name, root, budget)
                documents.append(_Document(name, root, plain))
            else:
                collection = isinstance(root, CommentedMap | CommentedSeq)
                line = _root_line(root) if collection else yaml.composer.document_line
                ignored.append(IgnoredDocument(SourceLocation(name, line), _why_ignored(root)))
        if not documents and not ignored:
            ignored.append(
                IgnoredDocument(
                    SourceLocation(name, 1),
                    "no YAML document (the file is empty, or holds only comments)",
                )
            )
    except _Unparsable:
        raise
    except MaxDepthExceededError as error:
        raise _Unparsable(
            _file_error(
                name,
                _mark_line(error.problem_mark),
                f"the YAML is nested more than {limits.depth} levels deep; a declaration needs "
                "about five",
            )
        ) from error
    except ConstructorError as error:
        raise _Unparsable(
            _file_error(
                name,
                _mark_line(error.problem_mark or error.context_mark),
                f"YAML error: {error.problem or 'a value cannot be read'}; until the file reads, "
                "every function it declared stays as last applied",
            )
        ) from error
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "the YAML is malformed"
        raise _Unparsable(
            DeclarationError(
                SourceLocation(name, _mark_line(mark)),
                f"YAML syntax error: {problem}; until the file parses, every function it "
                "declared stays as last applied",
            )
        ) from error
    except Exception as error:  # nothing in one file may stop the others
        # Whatever else ruamel.yaml raises (an unhashable key, a recursion, a bug of its own) is
        # this file's error, at the last line the constructor reached.
        mark = getattr(yaml.constructor, "last_mark", None)
        raise _Unparsable(
            _file_error(
                name,
                _mark_line(mark),
                f"the YAML cannot be read ({_reason(error)}); until the file reads, every "
                "function it declared stays as last applied",
            )
        ) from error
    return documents, ignored


API_VERSION_CUTOFF = 0.8
"""How near an ``apiVersion`` must be to ``lambda-gitops/v1`` to be read as a misspelling of it:
``lambda-gitop/v1`` and ``Lambda-Gitops/v1`` are, ``lambda.services.k8s.aws/v1alpha1`` is not."""


def _meant_as_ours(root: CommentedMap) -> bool:
    """Whether a document is, or was meant as, a declaration, judged before its values are
    expanded, from its ``apiVersion`` and ``kind`` alone.

    It is when its ``apiVersion`` is ours, when it is a near miss of ours, or when its ``kind``
    is ``Function``: read as another tool's, a typo would silently drop the function. Every
    other document is another tool's and is never converted, so its size and aliases cost
    nothing.
    """
    api_version, kind = root.get("apiVersion"), root.get("kind")
    if kind == KIND:
        return True
    return isinstance(api_version, str) and (
        api_version.startswith(API_GROUP) or _near_api_version(api_version)
    )


def _near_api_version(api_version: str) -> bool:
    return bool(close_matches(api_version, [API_VERSION], cutoff=API_VERSION_CUTOFF))


def _why_ignored(root: Any) -> str:
    """Why a document is none of ours, for ``validate -v``; only scalars are shown, so that
    explaining a document costs no more than skipping it."""
    if root is None:
        return "an empty document"
    if not isinstance(root, CommentedMap):
        return f"the document is {_shape(root)}, not a mapping: not a lambda-gitops document"
    header = ", ".join(
        f"{key} {_shown_scalar(root[key])}" if key in root else f"no {key}"
        for key in ("apiVersion", "kind")
    )
    return f"{header}: not a lambda-gitops document"


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "text" if isinstance(value, str) else "a value"


_PLAIN_WORD = re.compile(r"[\w./:@+-]{1,60}")


def _shown_scalar(value: Any) -> str:
    """A value as ``validate -v`` names it: never cut short, since a cut secret could not be
    masked by value, and a long text or a collection only by what it is."""
    if isinstance(value, str) and _PLAIN_WORD.fullmatch(value):
        return value
    if isinstance(value, str) and len(value) > 60:
        return "(a long text)"
    return _shown_value(value)


def _shown_value(value: Any) -> str:
    """A value in full, as a message quotes it (a secret pasted there stays whole, so that the
    masking of logs and ``/status`` finds it), or a collection by what it is."""
    if value is None or isinstance(value, str | int | float):
        return repr(value)
    return f"({_shape(value)})"


def _check_document_count(name: str, count: int, root: Any, limits: ParseLimits) -> None:
    if count > limits.documents:
        raise _Unparsable(
            _file_error(
                name,
                _root_line(root),
                f"the file holds more than {limits.documents} YAML documents; split it",
            )
        )


def _file_error(name: str, line: int, message: str) -> DeclarationError:
    return DeclarationError(SourceLocation(name, line), message)


def _mark_line(mark: Any) -> int:
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else 1


def _root_line(root: Any) -> int:
    lc = getattr(root, "lc", None)
    return lc.line + 1 if lc is not None and isinstance(lc.line, int) else 1


class _Budget:
    """The values a file may still expand to, shared by its documents."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.left = limits.values


class _OverBudget(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _plain_document(name: str, root: CommentedMap, budget: _Budget) -> dict[str, Any]:
    try:
        plain: dict[str, Any] = _plain(root, set(), budget, 0)
    except _OverBudget as over:
        raise _Unparsable(_file_error(name, _root_line(root), over.message)) from None
    return plain


def _plain(node: Any, open_nodes: set[int], budget: _Budget, depth: int) -> Any:
    """ruamel.yaml's values as plain ``dict``, ``list``, ``str``, ``int``, ``float`` and ``bool``.

    Integer keys become text so that ``17: 0.1`` in ``routing`` means version ``"17"``. YAML
    aliases are expanded here, so this is where their cost is bounded: a value that contains
    itself, a file that expands past ``ParseLimits.values`` values, or nesting past
    ``ParseLimits.depth`` once expanded, is refused before it costs more.
    """
    budget.left -= 1
    if budget.left < 0:
        raise _OverBudget(
            f"the file expands to more than {budget.limits.values} values through YAML aliases "
            "(an alias bomb?); write the values out, or remove the aliases"
        )
    if isinstance(node, dict | list):
        if depth >= budget.limits.depth:
            raise _OverBudget(
                f"the YAML is nested more than {budget.limits.depth} levels deep once its "
                "aliases are expanded; remove the aliases"
            )
        if id(node) in open_nodes:
            raise _OverBudget(
                "the document refers to itself through a YAML alias; remove the cycle"
            )
        open_nodes.add(id(node))
        try:
            if isinstance(node, dict):
                return {
                    _plain_key(k, budget): _plain(v, open_nodes, budget, depth + 1)
                    for k, v in node.items()
                }
            return [_plain(item, open_nodes, budget, depth + 1) for item in node]
        finally:
            open_nodes.discard(id(node))
    # ruamel.yaml's scalars subclass the built-in types to remember their style; bool first,
    # because it is also an int.
    for scalar_type in (bool, int, float, str):
        if isinstance(node, scalar_type):
            return scalar_type(node)
    return node


def _plain_key(key: Any, budget: _Budget | None = None) -> Any:
    if isinstance(key, int | float) and not isinstance(key, bool):
        return str(key)
    return _plain(key, set(), budget or _Budget(DEFAULT_LIMITS), 0)


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
    identity: FunctionId | None = None
    """``ref.identity``, computed once: the checks across files ask it of every candidate."""
    function_key: str | None = None
    """Region and name of ``identity`` in one string (hashed once, unlike a tuple): two
    declarations of one function share it."""

    def __post_init__(self) -> None:
        if self.ref is not None and self.identity is None:
            self.identity = self.ref.identity
        if self.identity is not None:
            self.function_key = f"{self.identity.region} {self.identity.name}"


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a declaration that names no region or account is: the controller's own."""

    region: str
    account: str | None
    extra_regions: frozenset[str] = frozenset()
    """Regions Lambda is in that ``regions.LAMBDA_REGIONS`` does not list yet."""


def _check_document(document: _Document, where: _Where, tree: RepositoryTree) -> _Candidate:
    """Validate one document that is, or was meant as, a declaration."""
    plain = document.plain
    name, ref = _best_effort_identity(plain, where)
    candidate = _Candidate(
        document.location,
        document.at(("metadata", "name")),
        document.at(_identity_loc(plain)),
        name,
        ref,
        None,
    )
    # A wrong apiVersion or kind is a typo or a newer format, never another tool's document
    # (those were set aside unread): ignoring it would silently drop a function.
    candidate.errors.extend(_header_errors(document))
    if candidate.errors:
        return candidate
    try:
        declaration = FunctionDeclaration.model_validate(
            plain, context={EXTRA_REGIONS: where.extra_regions}
        )
    except ValidationError as invalid:
        candidate.errors.extend(
            DeclarationError(document.at(_without_key_marker(e["loc"])), _describe(e))
            for e in invalid.errors()
        )
        return candidate
    issues: list[tuple[Loc, str]] = []
    candidate.function = _desired_function(declaration, document, where, tree, issues)
    candidate.errors.extend(_error(document, loc, message) for loc, message in issues)
    return candidate


def _error(document: _Document, loc: Loc, message: str) -> DeclarationError:
    return DeclarationError(document.at(loc), message)


def _header_errors(document: _Document) -> list[DeclarationError]:
    """What is wrong with the ``apiVersion`` and ``kind`` of a document meant as ours."""
    plain = document.plain
    errors = []
    if plain.get("apiVersion") != API_VERSION:
        loc, message = _api_version_problem(plain)
        errors.append(_error(document, loc, message))
    kind = plain.get("kind")
    if kind != KIND:
        errors.append(_error(document, ("kind",), _kind_problem(kind, "kind" in plain)))
    return errors


def _api_version_problem(plain: Mapping[str, Any]) -> tuple[Loc, str]:
    api_version = plain.get("apiVersion")
    meant = f"did you mean {API_VERSION!r}?"
    if "apiVersion" not in plain:
        keys = [key for key in plain if isinstance(key, str)]
        misspelled = close_matches("apiVersion", keys, cutoff=API_VERSION_CUTOFF)
        if misspelled:
            return (misspelled[0],), (
                f"apiVersion is missing and {misspelled[0]!r} is no field; did you mean "
                f"apiVersion: {API_VERSION}?"
            )
        return ("apiVersion",), (
            f"apiVersion is missing; did you mean apiVersion: {API_VERSION}? (every kind: "
            f"{KIND} document under the declarations path is read as a declaration)"
        )
    if not isinstance(api_version, str):
        return ("apiVersion",), f"apiVersion must be text, not {_shown_value(api_version)}; {meant}"
    if api_version.startswith(API_GROUP):
        return ("apiVersion",), (
            f"apiVersion: {api_version!r} is unknown to this controller; {meant} (a newer "
            "format needs a newer controller)"
        )
    if _near_api_version(api_version):
        return ("apiVersion",), f"apiVersion: {api_version!r} is not this controller's; {meant}"
    return ("apiVersion",), (
        f"apiVersion: {api_version!r} is not this controller's, but the kind is {KIND}; "
        f"{meant} (another tool's {KIND} belongs outside the declarations path)"
    )


def _kind_problem(kind: Any, written: bool) -> str:
    if not written:
        return f"kind is missing; add kind: {KIND}"
    suggestion = did_you_mean(kind, [KIND]) if isinstance(kind, str) else ""
    return (
        f"kind: {_shown_value(kind)} is not a kind of {API_VERSION}; "
        f"{suggestion or f'the only kind is {KIND}'}"
    )


def _best_effort_identity(
    plain: Mapping[str, Any], where: _Where
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
    region = spec.get("region", where.region)
    if not isinstance(function_name, str) or not isinstance(region, str):
        return name, None
    if not REGION_PATTERN.fullmatch(region):
        region = where.region
    return name, _normalised_ref(function_name, region, where)


def _normalised_ref(function_name: str, region: str, where: _Where) -> FunctionRef | None:
    """The function a spelling names, in one form per kind of spelling, or ``None``.

    A full ARN is kept as it is (its region and account win); a partial ARN,
    ``ACCOUNT:function:NAME``, becomes the full ARN in ``region``, as Lambda reads it; a bare
    name is the controller's own account in ``region``. Every ``FunctionRef`` therefore carries
    the account it acts in whenever that is known, so that one function has one identity and
    one rate limit however it was written.
    """
    arn = FUNCTION_ARN_PATTERN.fullmatch(function_name)
    if arn is not None:
        if not REGION_PATTERN.fullmatch(arn["region"]):
            return None
        return FunctionRef(function_name, arn["region"], arn["account"])
    partial = PARTIAL_ARN_PATTERN.fullmatch(function_name)
    if partial is not None:
        full = FunctionId(partial["account"], region, partial["name"]).arn
        return FunctionRef(full, region, partial["account"])
    if FUNCTION_NAME_PATTERN.fullmatch(function_name):
        return FunctionRef(function_name, region, where.account)
    return None


def _desired_function(
    declaration: FunctionDeclaration,
    document: _Document,
    where: _Where,
    tree: RepositoryTree,
    issues: list[tuple[Loc, str]],
) -> DesiredFunction:
    """The desired state of a declaration whose fields are each valid; problems that involve
    several fields are appended to ``issues``."""
    spec = declaration.spec
    ref = _function_ref(declaration, where, issues)
    versions = {
        label: DesiredVersion(
            label=label,
            code_sha256=version.code_sha256,
            description=version.description,
            code=_declared_code(label, version.code, document.folder, tree, issues),
            configuration=(
                version.configuration.as_configuration()
                if version.configuration is not None
                else NOTHING
            ),
            secrets=version.configuration.secrets if version.configuration else frozenset(),
        )
        for label, version in spec.versions.items()
    }
    for label, version in versions.items():
        _check_layer_regions(label, version, ref.identity.region, issues)
    aliases: dict[str, DesiredAlias] = {}
    for alias_name, alias in spec.aliases.items():
        _check_alias_version(alias_name, alias, spec, issues)
        _check_routing(alias_name, alias, spec, issues)
        _check_rollout(alias_name, alias, issues)
        aliases[alias_name] = DesiredAlias(
            name=alias_name,
            version=alias.version,
            routing=dict(alias.routing),
            description=alias.description,
            rollout=_rollout(alias),
            approve=alias.approve,
        )
    return DesiredFunction(
        name=declaration.metadata.name,
        ref=ref,
        versions=versions,
        aliases=aliases,
        prune=spec.prune,
        suspend=spec.suspend,
        adopt=spec.adopt,
        location=document.location,
        retain_versions=spec.retain_versions,
    )


def _check_layer_regions(
    label: str, version: DesiredVersion, region: str, issues: list[tuple[Loc, str]]
) -> None:
    """A layer of another region than the function's is refused by Lambda (rule L59)."""
    for index, arn in enumerate(version.configuration.layers or ()):
        layer_region = foreign_layer_region(arn, region)
        if layer_region is not None:
            issues.append(
                (
                    ("spec", "versions", label, "configuration", "layers", index),
                    f"spec.versions.{label}.configuration.layers: {arn} is a layer of "
                    f"{layer_region}, but the function is in {region}; Lambda takes layers of "
                    "the function's region only (rule L59)",
                )
            )


def _function_ref(
    declaration: FunctionDeclaration, where: _Where, issues: list[tuple[Loc, str]]
) -> FunctionRef:
    spec = declaration.spec
    region = spec.region or where.region
    function_name = spec.function_name
    if function_name is None:
        function_name = declaration.metadata.name
        if not FUNCTION_NAME_PATTERN.fullmatch(function_name):
            issues.append(
                (
                    ("metadata", "name"),
                    f"metadata.name {function_name!r} is also the function name, and is not one "
                    "Lambda accepts (rule L44: 1 to 64 letters, digits, '-' or '_'); set "
                    "spec.functionName",
                )
            )
            return FunctionRef(function_name, region, where.account)
    arn = FUNCTION_ARN_PATTERN.fullmatch(function_name)
    if arn is not None and spec.region is not None and spec.region != arn["region"]:
        issues.append(
            (
                ("spec", "region"),
                f"spec.region {spec.region!r} contradicts the region {arn['region']!r} of "
                "spec.functionName; remove spec.region or correct the ARN",
            )
        )
    ref = _normalised_ref(function_name, region, where)
    # The schema has checked the spelling, so a ref can always be made.
    return ref if ref is not None else FunctionRef(function_name, region, where.account)


def _declared_code(
    label: str,
    code: CodeSpec | None,
    folder: str,
    tree: RepositoryTree,
    issues: list[tuple[Loc, str]],
) -> DeclaredCode | None:
    """The code source of a version; a zip file is read from ``folder``, the declaration
    file's."""
    if code is None:
        return None
    if code.s3 is not None:
        return S3Code(code.s3.bucket, code.s3.key, code.s3.object_version)
    # The schema guarantees that a code source without s3 has a zipFile.
    zip_file = code.zip_file or ""
    loc: Loc = ("spec", "versions", label, "code", "zipFile")
    try:
        return RepoZip(resolve_repository_path(zip_file, tree, folder=folder))
    except (PathOutsideRepository, PathNotFound) as refused:
        hint = _from_the_root_hint(zip_file, folder, tree) if folder else ""
        issues.append((loc, f"spec.versions.{label}.code.zipFile: {refused}{hint}"))
        return None


def _from_the_root_hint(zip_file: str, folder: str, tree: RepositoryTree) -> str:
    """When a path is right from the repository's root, as zipFile paths once were read, how to
    write it from the declaration file's folder."""
    try:
        from_root = resolve_repository_path(zip_file, tree)
    except (PathOutsideRepository, PathNotFound):
        return ""
    relative = posixpath.relpath(from_root, folder)
    return (
        f"; zipFile is relative to the folder of its file ({folder}/): to name {from_root!r}, "
        f"write {relative!r}"
    )


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


def _check_rollout(alias_name: str, alias: AliasSpec, issues: list[tuple[Loc, str]]) -> None:
    where: Loc = ("spec", "aliases", alias_name)
    if alias.rollout is None:
        if alias.skip:
            issues.append(
                (
                    (*where, "skip"),
                    f"spec.aliases.{alias_name}.skip: there is no rollout to skip; remove skip "
                    "or declare a rollout",
                )
            )
        return
    steps = alias.rollout.steps
    for index in range(1, len(steps)):
        before, after = steps[index - 1].weight, steps[index].weight
        if after <= before:
            issues.append(
                (
                    (*where, "rollout", "steps", index, "weight"),
                    f"spec.aliases.{alias_name}.rollout.steps: step {index + 1}'s weight "
                    f"{after} is not above step {index}'s {before}; the weights must increase",
                )
            )
    if alias.routing:
        issues.append(
            (
                (*where, "routing"),
                f"spec.aliases.{alias_name}: a rollout sets the alias's routing itself, step by "
                "step (Lambda allows one routing entry, rule L21a); remove routing or rollout",
            )
        )
    if alias.version == LATEST:
        issues.append(
            (
                (*where, "rollout"),
                f"spec.aliases.{alias_name}.rollout: an alias on $LATEST cannot split traffic "
                "(rule L21e), so it cannot roll out; point it at a label or a published number",
            )
        )


def _rollout(alias: AliasSpec) -> Rollout | None:
    """The rollout block as the core's values."""
    spec = alias.rollout
    if spec is None:
        return None
    steps = tuple(
        Step(weight=step.weight, hold=step.hold or 0.0, pause=step.pause) for step in spec.steps
    )
    analysis = None
    if spec.analysis is not None:
        analysis = Analysis(
            checks=tuple(_check(check) for check in spec.analysis.checks),
            interval=spec.analysis.interval,
            min_invocations=spec.analysis.min_invocations,
            failure_limit=spec.analysis.failure_limit,
            on_no_data=spec.on_no_data,
        )
    return Rollout(steps=steps, analysis=analysis, skip=alias.skip)


def _check(check: CheckSpec) -> Check:
    if check.cloudwatch is not None:
        metric = check.cloudwatch
        bounds = Bounds(max=metric.max, min=metric.min)
        return CloudWatchCheck(metric.metric, metric.stat, bounds, metric.ratio_to)
    if check.prometheus is not None:
        query = check.prometheus
        return PrometheusCheck(query.query, Bounds(max=query.max, min=query.min))
    # The schema guarantees exactly one kind.
    assert check.alarm is not None
    return AlarmCheck(check.alarm.name)


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
    if _same_release(target, version, versions):
        return (
            f"{target!r} has the same codeSha256 as {version!r}, the alias's own version, and "
            "no configuration field declared in both tells them apart, so both may resolve to "
            "one version (rule L21d); route to another version"
        )
    return ""


def _same_release(label: str, other: str, versions: Mapping[str, VersionSpec]) -> bool:
    """Whether two labels may resolve to one published version: the same code, and no field
    declared in both with different values."""
    if label not in versions or other not in versions:
        return False
    one, two = versions[label], versions[other]
    if one.code_sha256 != two.code_sha256:
        return False
    mine = one.configuration.as_configuration() if one.configuration else NOTHING
    theirs = two.configuration.as_configuration() if two.configuration else NOTHING
    return not mine.conflicts_with(theirs)


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


def _duplicates(
    candidates: Sequence[_Candidate], shared_keys: set[str], shared_names: set[str]
) -> dict[int, list[DeclarationError]]:
    """The errors of every declaration of a function that is declared more than once, and of
    every ``metadata.name`` used twice in one account and region, by ``id`` of the candidate.

    Applying either copy would be a guess (and applying both makes the alias flap between them
    at every pass), so all copies are invalid until one is removed. Functions are compared by
    identity, whatever their spelling: a bare name, a partial ARN and a full ARN of the same
    function collide. The same name in two regions or two accounts is two functions.
    """
    found: dict[int, list[DeclarationError]] = {}
    by_function: dict[str, list[_Candidate]] = defaultdict(list)
    by_name: dict[str, list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.function_key in shared_keys:
            by_function[candidate.function_key].append(candidate)
        if candidate.name in shared_names:
            by_name[candidate.name].append(candidate)
    for group in by_function.values():
        if len(group) < 2:
            continue
        for candidate in group:
            others = [o for o in group if o is not candidate and _same_function(candidate, o)]
            if others:
                found[id(candidate)] = [
                    DeclarationError(
                        candidate.identity_at,
                        f"function {_shown_identity(candidate)} is also declared at "
                        f"{_places(others, by_name=False)}; declare each function once"
                        f"{_account_hint(candidate, others)}",
                    )
                ]
    for name, group in by_name.items():
        if len(group) < 2:
            continue
        for candidate in group:
            if id(candidate) in found:
                continue
            others = [o for o in group if o is not candidate and _same_place(candidate, o)]
            if others:
                found[id(candidate)] = [
                    DeclarationError(
                        candidate.name_at,
                        f"metadata.name {name!r} is also declared at "
                        f"{_places(others, by_name=True)}; names must be unique in an account "
                        "and region",
                    )
                ]
    return found


def _repeated(counts: Counter[Any]) -> set[Any]:
    return {key for key, count in counts.items() if count > 1 and key is not None}


def _same_function(one: _Candidate, other: _Candidate) -> bool:
    # Only candidates with a ref are grouped by function.
    assert one.ref is not None
    assert other.ref is not None
    return one.ref.identity.same_function(other.ref.identity)


def _same_place(one: _Candidate, other: _Candidate) -> bool:
    """Whether two declarations may be in one account and region; unknown means maybe."""
    if one.ref is None or other.ref is None:
        return True
    mine, theirs = one.ref.identity, other.ref.identity
    if mine.region != theirs.region:
        return False
    return mine.account is None or theirs.account is None or mine.account == theirs.account


def _shown_identity(candidate: _Candidate) -> str:
    assert candidate.ref is not None
    identity = candidate.ref.identity
    account = f" of account {identity.account}" if identity.account else ""
    return f"{identity.name!r} in {identity.region}{account}"


def _account_hint(candidate: _Candidate, others: Sequence[_Candidate]) -> str:
    """When the collision rests on an account nobody configured, say how to tell them apart."""
    accounts = {c.ref.account for c in (candidate, *others) if c.ref is not None}
    if None not in accounts or len(accounts) == 1:
        return ""
    return (
        " (a bare function name means the controller's own account, which is not known here: "
        "if these are different accounts, set `account` in the configuration)"
    )


def _identity_loc(plain: Mapping[str, Any]) -> Loc:
    spec = plain.get("spec")
    if isinstance(spec, dict) and "functionName" in spec:
        return ("spec", "functionName")
    return ("metadata", "name")


def _places(others: Sequence[_Candidate], *, by_name: bool) -> str:
    return ", ".join(str(other.name_at if by_name else other.identity_at) for other in others)


# -- pydantic's errors in the file's terms --------------------------------------------------------


def _without_key_marker(loc: Sequence[str | int]) -> Loc:
    return tuple(part for part in loc if part != "[key]")


_SENTENCES = {
    "string_too_long": "is too long: at most {max_length} characters",
    "greater_than_equal": "must be at least {ge}, not {value}",
    "less_than_equal": "must be at most {le}, not {value}",
    "int_type": "must be a whole number, not {value}",
    "list_type": "must be a list, not {value}",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "may have at most {max_length} items",
}
"""The rest of the sentence for pydantic's other errors, filled from the error's context."""


def _describe(error: Mapping[str, Any]) -> str:  # noqa: PLR0911 - one return per error type
    """One pydantic error as a sentence that names the field, the value and what to do."""
    loc = _without_key_marker(error["loc"])
    path = _dotted(loc)
    value = _short(error.get("input")) if not _in_environment(loc) else _UNSHOWN
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
        case kind if kind in _SENTENCES:
            return f"{path} {_SENTENCES[kind].format(value=value, **error.get('ctx', {}))}"
        case _:
            return f"{path}: {error['msg']} (the value is {value})"


_UNSHOWN = "a value not shown here (environment values may be secrets)"


def _in_environment(loc: Loc) -> bool:
    """Whether an error is about a version's environment, whose values are never quoted: a
    value may be a secret, and errors are printed, logged and shown in ``/status``."""
    return any(
        loc[index : index + 2] == ("configuration", "environment") for index in range(len(loc))
    )


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

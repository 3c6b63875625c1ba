"""The declarations: YAML in Git turned into desired state, or into errors at ``file:line``.

This package is where a person's intent enters the controller, so it is strict: unknown fields,
impossible alias names, weights out of range and references to undeclared labels are errors with
the file, the line and what to write instead. It is split by job:

- ``schema``: the pydantic models of one ``kind: Function`` document, and its JSON Schema;
- ``parser``: pure, bytes in, ``Declarations`` out (valid functions, invalid ones, broken files);
- ``paths``: keeps ``code.zipFile`` inside the repository;
- ``loader``: the only I/O, reading files from a Git commit or from a folder.
"""

from controller.declarations.loader import (
    CodeReader,
    CommitCodeReader,
    FolderCodeReader,
    load_commit,
    load_folder,
    read_repo_file,
)
from controller.declarations.parser import (
    DeclarationError,
    Declarations,
    InvalidFunction,
    parse_declarations,
)
from controller.declarations.paths import RepositoryTree
from controller.declarations.schema import FunctionDeclaration, json_schema

__all__ = [
    "CodeReader",
    "CommitCodeReader",
    "DeclarationError",
    "Declarations",
    "FolderCodeReader",
    "FunctionDeclaration",
    "InvalidFunction",
    "RepositoryTree",
    "json_schema",
    "load_commit",
    "load_folder",
    "parse_declarations",
    "read_repo_file",
]

"""The declarations: YAML in Git turned into desired state, or into errors at ``file:line``.

This package is where a person's intent enters the controller, so it is strict: unknown fields,
impossible alias names, weights out of range and references to undeclared labels are errors with
the file, the line and what to write instead. It is the pure half, bytes in and desired state
out, with no Git and no file system; ``controller.adapters.git.reader`` reads the bytes from a
commit or a folder. It is split by job:

- ``schema``: the pydantic models of one ``kind: Function`` document, and its JSON Schema;
- ``parser``: ``Declarations`` from bytes (valid functions, invalid ones, broken files), within
  bounded work;
- ``paths``: keeps ``code.zipFile`` inside the repository, read from its file's folder;
- ``regions``: the regions Lambda is in, copied from botocore (generated);
- ``spelling``: the did-you-mean of an error about a near miss.
"""

from controller.core.declarations.parser import (
    DeclarationError,
    Declarations,
    IgnoredDocument,
    InvalidFunction,
    ParseLimits,
    parse_declarations,
)
from controller.core.declarations.paths import RepositoryTree
from controller.core.declarations.schema import FunctionDeclaration, json_schema

__all__ = [
    "DeclarationError",
    "Declarations",
    "FunctionDeclaration",
    "IgnoredDocument",
    "InvalidFunction",
    "ParseLimits",
    "RepositoryTree",
    "json_schema",
    "parse_declarations",
]

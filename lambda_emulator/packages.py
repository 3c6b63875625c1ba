"""Deployment packages: turning a zip file, an S3 object or a bare hash into code Lambda knows.

Lambda identifies code by ``CodeSha256``, the base64 of the SHA-256 of the package bytes, and
reports its ``CodeSize``. The emulator stores only those two numbers, never the bytes. S3 is
stood in for by a local folder: the object ``s3://BUCKET/KEY`` is the file ``S3_ROOT/BUCKET/KEY``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lambda_emulator.validation import (
    Violation,
    check,
    invalid_parameter,
    string_violations,
)


@dataclass(frozen=True, slots=True)
class CodePackage:
    """Code as Lambda reports it: its ``CodeSha256`` and ``CodeSize``."""

    sha256: str
    size: int


def from_zip(data: bytes) -> CodePackage:
    """The package of zip bytes; anything that is not a zip file is refused as AWS refuses it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise invalid_parameter(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from error
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return CodePackage(sha256=digest, size=len(data))


def from_s3(s3_root: Path | None, bucket: str, key: str, version: str | None) -> CodePackage:
    """The package stored at ``S3_ROOT/BUCKET/KEY``, answering a missing one as S3 does.

    Object versions are accepted and checked for shape but not kept apart: the stand-in bucket
    holds one version of each key.
    """
    check(
        [
            *string_violations(
                bucket, "s3Bucket", min_length=3, max_length=63, pattern=r"[0-9A-Za-z\.\-_]*(?<!\.)"
            ),
            *string_violations(key, "s3Key", min_length=1, max_length=1024),
            *string_violations(version, "s3ObjectVersion", min_length=1, max_length=1024),
        ]
    )
    bucket_folder = s3_root / bucket if s3_root is not None else None
    if bucket_folder is None or not bucket_folder.is_dir():
        raise invalid_parameter(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: "
            f"The specified bucket does not exist (bucket {bucket!r})"
        )
    target = (bucket_folder / key).resolve()
    if not target.is_relative_to(bucket_folder.resolve()) or not target.is_file():
        raise invalid_parameter(
            "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
            f"The specified key does not exist. (bucket {bucket!r}, key {key!r})"
        )
    return from_zip(target.read_bytes())


def from_sha256(sha256: str) -> CodePackage:
    """A package built elsewhere, known only by its hash; its size is unknown and shown as 0.

    Only the Python API and the emulator commands offer this; over HTTP, as on AWS, code is
    always uploaded.
    """
    try:
        raw = base64.b64decode(sha256, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        check(
            [
                Violation(
                    sha256,
                    "codeSha256",
                    "Member must be the base64 of a SHA-256 digest (44 characters ending in '=')",
                )
            ]
        )
    return CodePackage(sha256=sha256, size=0)

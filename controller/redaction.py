"""The masking rules, in one place: what every log line, error message and ``/status`` field
goes through before anyone sees it.

A credential reaches the controller as a token in the environment or a file, as the userinfo of
``--repo``, or as the webhook's shared secret, and it can come back out in many places: a log
field, an exception's message or traceback, git's stderr, a status field, click's complaint
about an argument. Masking each of those places by hand would miss the next one, so the
controller applies the same rules to everything it shows instead.

The rules deliberately do not parse URLs. The URL a user is told about is, more often than not,
one that does not parse (a port of ``80a`` or ``99999``, an unclosed IPv6 bracket), and a rule
that gives up when ``urlsplit`` raises shows such a URL, password and all. Instead:

- In anything shaped ``scheme://userinfo@``, the userinfo is everything from ``://`` to the last
  ``@`` before the authority ends (at whitespace, ``/``, ``?`` or ``#``, as git and curl read
  it). It is removed whole, because a lone user there is often a token
  (``https://TOKEN@host/``); only an SSH URL keeps its login (``ssh://git@host``).
- Git's scp-like ``user:password@host:path`` loses its password; ``git@host:repo`` is a login
  and stays.
- A query parameter whose name looks like a secret (``access_token``, ``sig``) has its value
  masked.
- A known secret value (the Git token, a password taken out of ``--repo``, the base64 of a
  Basic header, the webhook secret) is masked wherever it appears, percent-encoded or not.

A known secret shorter than ``MIN_SECRET_LENGTH`` is not masked by value: masking every ``a``
in every log line would make the log unreadable and protect nothing, since so short a secret is
no secret. The URL rules still remove it from any URL it is part of.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

MASK = "***"
MIN_SECRET_LENGTH = 4
SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})

_SENSITIVE_WORDS = r"token|secret|passw|pwd|key|sig|auth|credential|session"
_SECRET_PARAMETER = re.compile(_SENSITIVE_WORDS, re.IGNORECASE)
_SECRET_FIELD_WORDS = ("token", "secret", "password", "authorization", "credential")

_AUTHORITY_END = re.compile(r"[\s/?#]")
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)?://(?P<userinfo>[^\s/?#]*)@")
# The login must start a word: in "a/u:p@h:x" git sees a path, and inside a URL the URL rule
# has already done the work. What follows the "@" is only looked ahead at (a host, then a
# colon), so that the password alone goes.
_SCP_PASSWORD = re.compile(r"(?<![^\s'\"(<\[{=,;])(?P<login>[^\s:@/'\"]+):[^\s/]*@(?=[^\s@/]*:)")
# A fragment counts too: some servers hand a token back as "#access_token=...".
_QUERY_SECRET_IN_TEXT = re.compile(
    rf"([?&#][^=&\s]*(?:{_SENSITIVE_WORDS})[^=&\s]*=)[^&\s'\"]+", re.IGNORECASE
)


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter called ``name`` (``access_token``, ``X-Amz-Signature``) is one
    whose value must be masked."""
    return bool(_SECRET_PARAMETER.search(name))


def is_secret_field(name: str) -> bool:
    """Whether a log field called ``name`` says that it holds a secret (``token``, ...).

    Narrower than ``is_secret_parameter``: log fields are named by this project, and a field
    such as ``author`` or ``cache_key`` must stay readable.
    """
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_FIELD_WORDS)


def mask_text(text: str) -> str:
    """``text`` without URL userinfo, scp-like passwords or secret query values, wherever they
    appear in it and however many there are."""
    text = _URL_USERINFO.sub(_without_userinfo, text)
    text = _SCP_PASSWORD.sub(r"\g<login>@", text)
    return _QUERY_SECRET_IN_TEXT.sub(rf"\1{MASK}", text)


def _without_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match["scheme"] or "", match["userinfo"]
    if userinfo == MASK:
        return match[0]  # masked already (``mask_url``), and saying so
    login = userinfo.split(":", 1)[0]
    if scheme.lower() in SSH_SCHEMES and login:
        return f"{scheme}://{login}@"
    return f"{scheme}://"


def mask_url(url: str) -> str:
    """One repository address (a URL or scp-like) without anything that may be a credential.

    Stricter than ``mask_text``, because the whole text is known to be a single address. When
    an ``@`` comes after the authority has ended, where the userinfo ends cannot be trusted (a
    password with an unencoded ``/`` in it, or a URL that does not parse), so everything from
    ``://`` to the last ``@`` is replaced by the mask. An scp-like address keeps its login and
    loses anything after a ``:`` before the last ``@``.
    """
    scheme, separator, rest = url.partition("://")
    userinfo, at, host_and_path = (rest if separator else url).rpartition("@")
    if separator and at and _AUTHORITY_END.search(userinfo):
        return f"{mask_text(scheme)}://{MASK}@{mask_text(host_and_path)}"
    if not separator and at and ":" in userinfo:
        return mask_text(f"{userinfo.split(':', 1)[0]}@{host_and_path}")
    return mask_text(url)


def url_secrets(url: str) -> list[str]:
    """The credentials written into a repository address, as written and percent-decoded.

    A password is a credential; so is a lone user, except in an SSH address, where it is the
    login. Like ``mask_url`` this reads up to the last ``@``, so a password that breaks the URL's
    syntax is still found.
    """
    scheme, separator, rest = url.partition("://")
    if separator:
        userinfo, at, _ = rest.rpartition("@")
        is_ssh = scheme.lower() in SSH_SCHEMES
    else:
        userinfo, at, _ = url.rpartition("@")
        is_ssh = True  # scp-like syntax is always SSH
    if not at or not userinfo:
        return []
    login, colon, password = userinfo.partition(":")
    written = [password] if colon else ([] if is_ssh else [login])
    return [form for value in written for form in dict.fromkeys((value, unquote(value))) if form]


class Redactor:
    """Masks known secret values and the patterns of ``mask_text``, in a text or in JSON-like
    values (the fields of a log event, a ``/status`` document)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longer secrets first, so that a secret containing another is masked whole.
        known = sorted(
            {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH},
            key=len,
            reverse=True,
        )
        self._known = re.compile("|".join(map(_any_encoding, known))) if known else None

    def __call__(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(MASK, text)
        return mask_text(text)

    def mask(self, value: Any) -> Any:
        """``value`` with every string in it masked, mapping keys and nested containers
        included. A sequence or set becomes a list, as JSON shows it; an object of another kind
        becomes its masked ``repr``, which is what the log renderers would have shown."""
        if isinstance(value, str):
            return self(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {self.mask(key): self.mask(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.mask(item) for item in value]
        return self(repr(value))

    def mask_mapping(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """``document`` masked recursively, keys kept as they are at the top."""
        return {key: self.mask(value) for key, value in document.items()}


def _any_encoding(secret: str) -> str:
    """A pattern for ``secret`` with any of its characters percent-encoded, in either case of
    hex digits, and a space also as ``+``: the forms a secret takes in a URL or a form body."""
    parts = []
    for character in secret:
        encoded = "".join(f"%{byte:02X}" for byte in character.encode("utf-8", "replace"))
        alternatives = [re.escape(character), f"(?i:{encoded})"]
        if character == " ":
            alternatives.append(r"\+")
        parts.append(f"(?:{'|'.join(alternatives)})")
    return "".join(parts)


MEASURED = "String measured:"
"""Where Lambda's refusal of an environment over 4 KB starts quoting every variable (rule L58)."""


def mask_environment(text: str, values: Iterable[str]) -> str:
    """``text`` without the environment values a request sent.

    Lambda's refusal of an environment larger than 4 KB quotes all of the variables it measured
    (``... exceeded the 4KB limit. String measured: {"API_KEY":"..."}``), however the JSON
    escapes them, so everything after ``String measured:`` is cut. Any other message that
    quoted a value sent would have it masked where it appears, as the known secrets of
    ``Redactor`` are; a value shorter than ``MIN_SECRET_LENGTH`` is left, for the same reason.
    """
    head, found, _ = text.partition(MEASURED)
    if found:
        text = f"{head}{MEASURED} (the variables, not shown)"
    return Redactor(values)(text)

"""Credentials for a Git remote, and the display URL that keeps them out of everything shown.

A credential reaches git only through the environment of the git child process. It never goes
on a command line (anyone on the machine can read those with ``ps``), never into the cache
clone's configuration (which outlives the process), and never into a log line, a metric or an
error message: every URL shown is passed through ``redact``, and every text git prints through a
``Redactor`` (``controller.redaction``, where the masking rules live) that also masks the secret
values themselves, wherever they appear. ``secrets_of`` names those values, so that the log and
``/status`` can be given the very same list.

An HTTPS token is sent as an ``http.<origin>.extraHeader`` set through ``GIT_CONFIG_*``
variables, scoped to the repository's origin. An SSH key and a known-hosts file go into
``GIT_SSH_COMMAND``, with strict host-key checking: an unknown host is refused rather than
trusted on first use, because the first use of a controller is exactly when nobody is watching.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from controller.errors import ConfigurationError
from controller.redaction import (
    MASK,
    SSH_SCHEMES,
    Redactor,
    is_secret_parameter,
    mask_text,
    mask_url,
    url_secrets,
)

TOKEN_VARIABLE = "LAMBDA_GITOPS_GIT_TOKEN"  # noqa: S105 - the variable's name, not a token
USERNAME_VARIABLE = "LAMBDA_GITOPS_GIT_USERNAME"
REMOTE_NAME = "lambda-gitops"
"""The remote's name in git commands; its URL lives only in the child's environment."""

_HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_USERNAME = "x-access-token"


@dataclass(frozen=True)
class GitCredentials:
    """What the controller presents to a remote. The token is left out of ``repr`` on purpose."""

    https_token: str | None = field(default=None, repr=False)
    https_username: str = _DEFAULT_USERNAME
    ssh_key_file: Path | None = None
    ssh_known_hosts_file: Path | None = None

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str],
        *,
        token_file: Path | None = None,
        ssh_key_file: Path | None = None,
        known_hosts_file: Path | None = None,
    ) -> GitCredentials:
        """Credentials from ``LAMBDA_GITOPS_GIT_TOKEN`` (and ``..._USERNAME``) or from files.

        A token file, when given, wins over the environment variable: it is the more deliberate
        choice (a mounted Kubernetes secret). A file that is missing or empty is a configuration
        error, reported without its content.
        """
        token = environ.get(TOKEN_VARIABLE) or None
        if token_file is not None:
            token = _read_token(token_file)
        for path in (ssh_key_file, known_hosts_file):
            if path is not None and not path.is_file():
                raise ConfigurationError(f"{path} does not exist or is not a file")
        return cls(
            https_token=token,
            https_username=environ.get(USERNAME_VARIABLE) or _DEFAULT_USERNAME,
            ssh_key_file=ssh_key_file,
            ssh_known_hosts_file=known_hosts_file,
        )


NO_CREDENTIALS = GitCredentials()


def _read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigurationError(
            f"cannot read the Git token file {path}: {error.strerror}"
        ) from error
    if not token:
        raise ConfigurationError(f"the Git token file {path} is empty")
    return token


def redact(url: str) -> str:
    """``url`` without its credentials: safe to log, to export as a label and to hash.

    A URL that parses keeps its shape. HTTP(S) and most other URLs lose their whole userinfo,
    because a lone "user" there is often a token (``https://TOKEN@host/...``); SSH URLs keep a
    user name, which is a login (the ``git`` of ``ssh://git@host/repo``), and lose a password.
    Query parameters whose name looks like a secret (``access_token``, ``sig``, ...) have their
    value masked. Anything else (a port that is not a number, a bracket left open, an ``@`` after
    the authority, scp-like syntax) goes through ``mask_url``, which gives up the shape rather
    than the masking: whatever the input, what comes out carries no credential.
    """
    parts = _split(url)
    if parts is None or "@" in parts.path + parts.query + parts.fragment:
        return mask_url(url)
    netloc = _host_port(parts)
    if parts.username and parts.scheme in SSH_SCHEMES:
        netloc = f"{parts.username}@{netloc}"
    return mask_text(urlunsplit(parts._replace(netloc=netloc, query=_masked_query(parts.query))))


def _split(url: str) -> SplitResult | None:
    if "://" not in url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - an invalid port raises here, and such a URL is not parsed
    except ValueError:
        return None
    return parts


def _host_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port is None else f"{host}:{parts.port}"


def _masked_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(name, MASK if is_secret_parameter(name) else value) for name, value in pairs]
    return urlencode(masked, safe="*")


def secrets_of(url: str, credentials: GitCredentials) -> list[str]:
    """Every value that must never be shown for a remote at ``url`` reached with
    ``credentials``: the token and the credentials written into the URL, each also as the base64
    of the Basic header git sends, and the values of secret query parameters.

    The masking of percent-encoded forms is the ``Redactor``'s, so they are not listed here.
    """
    secrets = url_secrets(url)
    pairs: list[tuple[str, str]] = []
    if credentials.https_token:
        secrets.append(credentials.https_token)
        pairs += [
            (credentials.https_username, credentials.https_token),
            (_DEFAULT_USERNAME, credentials.https_token),
        ]
    parts = _split(url)
    if parts is not None:
        embedded = _embedded_credentials(parts)
        if embedded is not None:
            pairs.append(embedded)
        secrets += [value for name, value in parse_qsl(parts.query) if is_secret_parameter(name)]
    return secrets + [_basic(username, token) for username, token in pairs]


def _embedded_credentials(parts: SplitResult) -> tuple[str, str] | None:
    """The user name and token an HTTP(S) URL carries in its userinfo, if it carries any."""
    if parts.scheme not in _HTTP_SCHEMES or parts.username is None:
        return None
    if parts.password is not None:
        return unquote(parts.username), unquote(parts.password)
    # A lone user in an HTTPS URL is how GitHub and others take a token.
    return _DEFAULT_USERNAME, unquote(parts.username)


def _basic(username: str, token: str) -> str:
    return base64.b64encode(f"{username}:{token}".encode()).decode()


@dataclass(frozen=True)
class RemoteAccess:
    """Everything git needs to reach one remote, and how to show it without its credentials."""

    display_url: str
    environment: Mapping[str, str] = field(repr=False)
    redactor: Redactor = field(repr=False)


def remote_access(
    url: str, credentials: GitCredentials, inherited: Mapping[str, str]
) -> RemoteAccess:
    """The display URL, the git child's extra environment, and a redactor for ``url``.

    Credentials embedded in an HTTP(S) URL are taken out of it and sent the same way as a token
    from the environment; they win over ``credentials``, being the more specific. The remote's
    URL itself goes through the environment too, so that not even a query-string token appears
    on a command line that ``git fetch`` is started with.

    A URL that does not parse (a port that is not a number from 0 to 65535, an IPv6 host
    without its brackets) is a ``ConfigurationError``: git refuses it at every fetch, so no
    amount of waiting would help, and its credentials could not be taken out of it and sent as a
    header. The error names the URL redacted and quotes none of it otherwise: where a password
    holds an unencoded ``/``, the parser's "port" is part of that password.
    """
    parts = _split(url)
    if parts is None and "://" in url:
        raise ConfigurationError(
            f"the repository URL {redact(url)} does not parse: a port must be a number from 0 "
            "to 65535, an IPv6 host must be in brackets, and a '/', '?' or '#' in a user name "
            "or password must be percent-encoded"
        )
    fetch_url = url
    config: list[tuple[str, str]] = []
    if parts is not None and parts.scheme in _HTTP_SCHEMES:
        embedded = _embedded_credentials(parts)
        username, token = embedded or (credentials.https_username, credentials.https_token)
        origin = f"{parts.scheme}://{_host_port(parts)}"
        fetch_url = urlunsplit(parts._replace(netloc=_host_port(parts)))
        if token:
            header = f"Authorization: Basic {_basic(username, token)}"
            config.append((f"http.{origin}/.extraHeader", header))
    config.insert(0, (f"remote.{REMOTE_NAME}.url", fetch_url))
    environment = _config_environment(config, inherited)
    environment.update(_ssh_environment(url, credentials))
    return RemoteAccess(
        display_url=redact(url),
        environment=environment,
        redactor=Redactor(secrets_of(url, credentials)),
    )


def _config_environment(
    config: list[tuple[str, str]], inherited: Mapping[str, str]
) -> dict[str, str]:
    """``GIT_CONFIG_*`` variables for ``config``, after any the parent process already set."""
    try:
        start = int(inherited.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        start = 0
    environment = {"GIT_CONFIG_COUNT": str(start + len(config))}
    for offset, (key, value) in enumerate(config):
        environment[f"GIT_CONFIG_KEY_{start + offset}"] = key
        environment[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    return environment


def _ssh_environment(url: str, credentials: GitCredentials) -> dict[str, str]:
    """``GIT_SSH_COMMAND`` for an SSH remote: batch mode, strict host keys, the given key."""
    parts = _split(url)
    is_ssh = parts.scheme in SSH_SCHEMES if parts is not None else is_scp_like(url)
    if not is_ssh:
        return {}
    command = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
    if credentials.ssh_key_file is not None:
        command += ["-i", str(credentials.ssh_key_file), "-o", "IdentitiesOnly=yes"]
    if credentials.ssh_known_hosts_file is not None:
        command += ["-o", f"UserKnownHostsFile={credentials.ssh_known_hosts_file}"]
    return {"GIT_SSH_COMMAND": shlex.join(command)}


_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?:\[[^\]]+\]|[^/:\s]+):(?!//)")


def is_scp_like(repo: str) -> bool:
    """Whether ``repo`` is Git's scp-like SSH syntax, ``[user@]host:path``."""
    return bool(_SCP_LIKE.match(repo)) and "://" not in repo

"""Credentials reach git and nothing else: not a log, an error, a display URL or the cache."""

from __future__ import annotations

import base64
import logging
import re
import shlex
from pathlib import Path

import pytest

from controller.adapters.git import GitCredentials, SourceError, open_source, redact
from controller.adapters.git.credentials import remote_access
from controller.errors import ConfigurationError
from controller.redaction import Redactor
from tests.adapters.git.conftest import TOKEN, HttpRemote, commit, git


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:tok3n@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://tok3n@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("http://u:p@127.0.0.1:8080/r.git", "http://127.0.0.1:8080/r.git"),
        ("ssh://git:pw@host:2222/r.git", "ssh://git@host:2222/r.git"),
        ("ssh://git@host/r.git", "ssh://git@host/r.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://host/r.git?access_token=tok3n&x=1", "https://host/r.git?access_token=***&x=1"),
        ("https://[::1]:8443/r.git", "https://[::1]:8443/r.git"),
        ("file:///srv/repo.git", "file:///srv/repo.git"),
    ],
)
def test_redact_removes_credentials_from_urls(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_the_redactor_masks_secrets_and_url_credentials_anywhere_in_a_text() -> None:
    redactor = Redactor(["tok3n"])
    text = "fatal: unable to access 'https://u:pw@host/r.git/': tok3n rejected ?token=abc"
    assert (
        redactor(text) == "fatal: unable to access 'https://host/r.git/': *** rejected ?token=***"
    )


def test_credentials_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    from_env = GitCredentials.from_environment({"LAMBDA_GITOPS_GIT_TOKEN": "t1"})
    assert from_env.https_token == "t1"
    assert "t1" not in repr(from_env)
    token_file = tmp_path / "token"
    token_file.write_text("t2\n")
    from_file = GitCredentials.from_environment(
        {"LAMBDA_GITOPS_GIT_TOKEN": "t1"}, token_file=token_file
    )
    assert from_file.https_token == "t2"
    token_file.write_text("")
    with pytest.raises(ConfigurationError, match="is empty"):
        GitCredentials.from_environment({}, token_file=token_file)
    with pytest.raises(ConfigurationError, match="does not exist"):
        GitCredentials.from_environment({}, ssh_key_file=tmp_path / "missing")


def test_ssh_uses_the_key_and_known_hosts_strictly(tmp_path: Path) -> None:
    credentials = GitCredentials(
        ssh_key_file=tmp_path / "id_ed25519", ssh_known_hosts_file=tmp_path / "known_hosts"
    )
    access = remote_access("git@github.com:org/repo.git", credentials, {})
    command = shlex.split(access.environment["GIT_SSH_COMMAND"])
    assert command[:1] == ["ssh"]
    assert "StrictHostKeyChecking=yes" in command
    assert "BatchMode=yes" in command
    assert ["-i", str(tmp_path / "id_ed25519")] == command[5:7]
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in command


def test_git_config_variables_already_set_by_the_parent_are_kept() -> None:
    access = remote_access(
        "https://host/r.git", GitCredentials(https_token="t"), {"GIT_CONFIG_COUNT": "2"}
    )
    assert access.environment["GIT_CONFIG_COUNT"] == "4"
    assert access.environment["GIT_CONFIG_KEY_2"] == "remote.lambda-gitops.url"
    assert access.environment["GIT_CONFIG_KEY_3"] == "http.https://host/.extraHeader"


def _assert_token_nowhere(token: str, *texts: str, cache: Path) -> None:
    encoded = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    for text in texts:
        assert token not in text
        assert encoded not in text
    for path in cache.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert token.encode() not in content, path
            assert encoded.encode() not in content, path


def test_a_token_clones_and_fetches_and_is_never_shown(
    http_remote: HttpRemote,
    work: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "cache"
    source = open_source(
        http_remote.url, "main", cache_dir=cache, credentials=GitCredentials(https_token=TOKEN)
    )
    assert source.sync().sha == git(work, "rev-parse", "HEAD")
    second = commit(work, "second")
    git(work, "push", "--quiet", "origin", "main")
    assert source.sync().sha == second
    expected = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert f"Basic {expected}" in http_remote.authorizations
    captured = capsys.readouterr()
    _assert_token_nowhere(
        TOKEN,
        source.display_url,
        repr(source),
        caplog.text,
        captured.out,
        captured.err,
        cache=cache,
    )


@pytest.mark.parametrize("token", [None, "wrong-token-value"])
def test_a_missing_or_wrong_token_fails_without_showing_it(
    http_remote: HttpRemote,
    tmp_path: Path,
    token: str | None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "cache"
    source = open_source(
        http_remote.url, "main", cache_dir=cache, credentials=GitCredentials(https_token=token)
    )
    with pytest.raises(
        SourceError, match=re.escape("fetching main from http://127.0.0.1")
    ) as failure:
        source.sync()
    assert source.revision is None
    if token is not None:
        captured = capsys.readouterr()
        _assert_token_nowhere(
            token, str(failure.value), caplog.text, captured.out, captured.err, cache=cache
        )


def test_a_url_with_embedded_credentials_works_and_is_redacted(
    http_remote: HttpRemote,
    work: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "cache"
    secret_url = http_remote.url.replace("http://", f"http://deploy:{TOKEN}@")
    source = open_source(secret_url, "main", cache_dir=cache)
    assert source.display_url == http_remote.url
    assert source.sync().sha == git(work, "rev-parse", "HEAD")
    expected = base64.b64encode(f"deploy:{TOKEN}".encode()).decode()
    assert f"Basic {expected}" in http_remote.authorizations
    captured = capsys.readouterr()
    _assert_token_nowhere(TOKEN, caplog.text, captured.out, captured.err, cache=cache)


def test_a_failure_through_a_url_with_credentials_does_not_show_them(
    tmp_path: Path, origin: Path
) -> None:
    """The remote is unreachable; git's message names the URL, and only the redacted one."""
    secret_url = f"http://deploy:{TOKEN}@127.0.0.1:1/{origin.name}"
    source = open_source(secret_url, "main", cache_dir=tmp_path / "cache")
    with pytest.raises(SourceError) as failure:
        source.sync()
    assert TOKEN not in str(failure.value)
    assert "127.0.0.1:1" in str(failure.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://u:SECRETPASS@127.0.0.1:80a/x.git",
        "http://u:SECRETPASS@127.0.0.1:99999/x.git",
        "https://SECRETPASS@[::1/x.git",
        "http://u:SECRET/PASS@127.0.0.1/x.git",
    ],
)
def test_a_remote_url_that_does_not_parse_is_refused_without_showing_its_password(
    url: str, tmp_path: Path
) -> None:
    """Git refuses such a URL at every fetch; waiting would not help, so it stops the start."""
    with pytest.raises(ConfigurationError, match="does not parse") as failure:
        open_source(url, "main", cache_dir=tmp_path / "cache")
    assert "SECRET" not in str(failure.value)
    assert "PASS" not in str(failure.value)


def test_gits_messages_lose_a_password_the_url_parser_read_as_a_port_and_path() -> None:
    """In ``u:12/SECRETPASS@host`` the parser sees host ``u``, port 12 and a path: git tries
    that host, and its message quotes the URL as given."""
    url = "http://u:12/SECRETPASS@127.0.0.1/x.git"
    access = remote_access(url, GitCredentials(), {})
    assert "SECRETPASS" not in access.display_url
    message = access.redactor(f"fatal: unable to access '{url}/': Could not resolve host: u")
    assert "SECRETPASS" not in message

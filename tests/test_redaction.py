"""The masking rules: no credential survives them, whether or not the URL around it parses.

The tables are the cases found in review and their neighbours (ports that are not numbers,
IPv6 brackets, percent-encoding, several URLs in one text, scp-like addresses). The properties
say the same for any secret: embedded as the userinfo of a URL, or as the password of an
scp-like address, with any text around it, it never comes out.

A property's secret is drawn without whitespace, ``/``, ``?`` and ``#``, which end a URL's
authority for git and curl as for the rules, without ``@``, so that removing a userinfo cannot
put the secret back together from its neighbours (an ``@`` in a password is in the tables), and
without ``*``, the mask's own character. Each example assumes that the secret occurs only once,
where it was embedded: a secret that also happens to be spelled by the text around it is not
one that leaked.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from controller.adapters.git import GitCredentials, redact
from controller.adapters.git.credentials import secrets_of
from controller.redaction import (
    MASK,
    Redactor,
    is_secret_field,
    mask_environment,
    mask_text,
    mask_url,
    url_secrets,
)

PROPERTIES = settings(max_examples=300, deadline=None)

secrets = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"),
        blacklist_characters="/?#@*\x85",
    ),
    min_size=4,
    max_size=24,
)
words = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
hosts = st.one_of(
    st.builds(lambda name: f"{name}.example", words),
    st.sampled_from(["127.0.0.1", "[::1]", "[fe80::1%25eth0]", "host", "[::1"]),
)
# The last port is 80 in full-width digits, which int() reads but git does not.
ports = st.sampled_from(["", ":80", ":80a", ":99999", ":", ":-1", ":\uff18\uff10"])
schemes = st.one_of(
    st.sampled_from(["http", "https", "ssh", "git+ssh", "git", "ftp", "file", "HTTPS"]), words
)
junk = st.text(max_size=30)


# -- tables ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://u:PASS@host:80a/x.git", "http://host:80a/x.git"),
        ("http://u:PASS@host:99999/x.git", "http://host:99999/x.git"),
        ("https://TOKEN@host:80a/x.git", "https://host:80a/x.git"),
        ("http://u:PASS@[::1]:80a/x.git", "http://[::1]:80a/x.git"),
        ("http://u:PASS@[::1/x.git", "http://[::1/x.git"),
        ("http://u:PASS@::1:80/x.git", "http://::1:80/x.git"),
        ("http://u:PA%2FSS@host:80a/x.git", "http://host:80a/x.git"),
        ("http://u:P@SS@host:80a/x.git", "http://host:80a/x.git"),
        ("http://u:P@SS@host/x.git", "http://host/x.git"),
        ("http://u:PA/SS@host/x.git", f"http://{MASK}@host/x.git"),
        ("http://u:12/SS@host/x.git", f"http://{MASK}@host/x.git"),
        ("http://u:PA?SS@host/x.git", f"http://{MASK}@host/x.git"),
        ("http://u:PA SS@host:80a/x.git", f"http://{MASK}@host:80a/x.git"),
        ("ssh://git:PASS@host:22a/r.git", "ssh://git@host:22a/r.git"),
        ("ftp://u:PASS@host/r.git", "ftp://host/r.git"),
        ("https://host:x/r.git?access_token=PASS&x=1", "https://host:x/r.git?access_token=***&x=1"),
        ("u:PASS@host:repo.git", "u@host:repo.git"),
        ("u:P@SS:word@host:repo.git", "u@host:repo.git"),
        ("git@host:repo.git", "git@host:repo.git"),
        ("https://host/@scope/r.git", f"https://{MASK}@scope/r.git"),
    ],
)
def test_redact_takes_credentials_out_of_urls_that_do_not_parse(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "fatal: unable to access 'http://u:PASS@127.0.0.1:80a/x.git/': bad URL",
            "fatal: unable to access 'http://127.0.0.1:80a/x.git/': bad URL",
        ),
        (
            "from https://TOKEN@[::1]:99999/a.git and http://u:PASS@h/b.git, then ssh://g:PASS@h/c",
            "from https://[::1]:99999/a.git and http://h/b.git, then ssh://g@h/c",
        ),
        ("x_http://u:PASS@h/x", "x_http://h/x"),
        ("repo=http://u:PASS@h/x;next=https://T0KEN@h2/y", "repo=http://h/x;next=https://h2/y"),
        ("--repo 'u:PASS@host:org/r.git'", "--repo 'u@host:org/r.git'"),
        ("clone git@host:org/r.git", "clone git@host:org/r.git"),
        ("https://host/r.git?x=1&private_token=PASS", "https://host/r.git?x=1&private_token=***"),
        ("https://host/cb#access_token=PASS", "https://host/cb#access_token=***"),
        ("https://host/path/user@example.com", "https://host/path/user@example.com"),
        ("at 12:30 the pass ran", "at 12:30 the pass ran"),
    ],
)
def test_mask_text_masks_every_url_in_a_text(text: str, shown: str) -> None:
    assert mask_text(text) == shown


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("http://u:PASS@host:80a/x.git", ["PASS"]),
        ("https://TOKEN@host/x.git", ["TOKEN"]),
        ("http://u:PA%2FSS@host/x.git", ["PA%2FSS", "PA/SS"]),
        ("http://u:PA/SS@host/x.git", ["PA/SS"]),
        ("ssh://git@host/r.git", []),
        ("ssh://git:PASS@host/r.git", ["PASS"]),
        ("git@host:r.git", []),
        ("u:PASS@host:r.git", ["PASS"]),
        ("https://host/r.git", []),
    ],
)
def test_url_secrets_finds_the_credentials_written_in_an_address(
    url: str, found: list[str]
) -> None:
    assert url_secrets(url) == found


def test_a_known_secret_is_masked_in_any_percent_encoding_and_short_ones_are_not() -> None:
    redactor = Redactor(["s3cret/v@lue x", "abc"])
    text = "s3cret/v@lue x, s3cret%2Fv%40lue%20x, s3cret%2fv%40lue+x, %73%33cret/v@lue x; abc"
    assert redactor(text) == f"{MASK}, {MASK}, {MASK}, {MASK}; abc"
    assert redactor("http://u:abc@host/x") == "http://host/x"


def test_secrets_of_lists_the_token_its_basic_forms_and_the_urls_credentials() -> None:
    credentials = GitCredentials(https_token="env-token-1", https_username="deploy")
    found = secrets_of("https://u:url-pass@host/r.git?sig=query-sig", credentials)

    def basic(user: str, token: str) -> str:
        return base64.b64encode(f"{user}:{token}".encode()).decode()

    for value in (
        "env-token-1",
        "url-pass",
        "query-sig",
        basic("deploy", "env-token-1"),
        basic("x-access-token", "env-token-1"),
        basic("u", "url-pass"),
    ):
        assert value in found


def test_mask_masks_nested_values_and_keys_and_shows_other_objects_as_their_repr() -> None:
    redactor = Redactor(["known-secret"])

    class Holder:
        def __repr__(self) -> str:
            return "Holder(known-secret)"

    masked = redactor.mask(
        {
            "url": "https://TOKEN@h/x",
            "nested": [{"https://u:PASS@h:80a/": ("known-secret", 3, None, True)}],
            "object": Holder(),
        }
    )
    assert masked == {
        "url": "https://h/x",
        "nested": [{"https://h:80a/": [MASK, 3, None, True]}],
        "object": f"Holder({MASK})",
    }


@pytest.mark.parametrize("name", ["token", "git_token", "webhookSecret", "Authorization"])
def test_a_field_named_for_a_secret_is_one(name: str) -> None:
    assert is_secret_field(name)


@pytest.mark.parametrize("name", ["function", "author", "repository", "error", "revision"])
def test_an_ordinary_field_is_not_a_secret(name: str) -> None:
    assert not is_secret_field(name)


# -- properties -----------------------------------------------------------------------------------


@PROPERTIES
@given(
    before=junk,
    scheme=schemes,
    user=words,
    secret=secrets,
    host=hosts,
    port=ports,
    after=junk,
)
def test_a_password_in_a_url_never_survives_mask_text(
    *, before: str, scheme: str, user: str, secret: str, host: str, port: str, after: str
) -> None:
    text = f"{before}{scheme}://{user}:{secret}@{host}{port}{after}"
    assume(text.count(secret) == 1)
    assert secret not in mask_text(text)
    assert secret not in Redactor()(text)


@PROPERTIES
@given(
    before=junk,
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    secret=secrets,
    host=hosts,
    port=ports,
    after=junk,
)
def test_a_token_alone_in_an_http_url_never_survives_mask_text(
    *, before: str, scheme: str, secret: str, host: str, port: str, after: str
) -> None:
    text = f"{before}{scheme}://{secret}@{host}{port}{after}"
    assume(text.count(secret) == 1)
    assert secret not in mask_text(text)


@PROPERTIES
@given(
    before=junk,
    login=words,
    secret=secrets,
    host=hosts,
    path=junk,
    after=junk,
)
def test_an_scp_like_password_never_survives_mask_text(
    *, before: str, login: str, secret: str, host: str, path: str, after: str
) -> None:
    text = f"{before} {login}:{secret}@{host}:{path} {after}"
    assume(text.count(secret) == 1)
    assert secret not in mask_text(text)


@PROPERTIES
@given(
    scheme=schemes,
    userinfo=st.one_of(
        st.builds(lambda user, secret: (f"{user}:{secret}", secret), words, secrets),
        st.builds(lambda secret: (secret, secret), secrets),
    ),
    host=hosts,
    port=ports,
    rest=junk,
)
def test_redact_never_returns_a_credential_of_a_url(
    *, scheme: str, userinfo: tuple[str, str], host: str, port: str, rest: str
) -> None:
    written, secret = userinfo
    url = f"{scheme}://{written}@{host}{port}{rest}"
    assume(url.count(secret) == 1)
    if written == secret:  # a lone user is a credential, except as an SSH login
        assume(scheme.lower() not in {"ssh", "git+ssh", "ssh+git"})
    assert secret not in redact(url)
    assert secret not in mask_url(url)


@PROPERTIES
@given(login=words, secret=secrets, host=hosts, path=junk)
def test_redact_never_returns_an_scp_like_password(
    *, login: str, secret: str, host: str, path: str
) -> None:
    address = f"{login}:{secret}@{host}:{path}"
    assume(address.count(secret) == 1)
    assert secret not in redact(address)


@PROPERTIES
@given(before=junk, secret=secrets, between=junk, after=junk)
def test_a_known_secret_never_survives_as_written_or_percent_encoded(
    *, before: str, secret: str, between: str, after: str
) -> None:
    encoded = quote(secret, safe="")
    lowered = re.sub(r"%[0-9A-F]{2}", lambda escape: escape[0].lower(), encoded)
    text = f"{before}{secret}{between}{encoded}{between}{lowered}{after}"
    masked = Redactor([secret])(text)
    for form in (secret, encoded, lowered):
        assert form not in masked


@PROPERTIES
@given(
    secret=secrets,
    document=st.recursive(
        st.one_of(st.none(), st.integers(), junk),
        lambda children: st.one_of(
            st.lists(children, max_size=3), st.dictionaries(junk, children, max_size=3)
        ),
        max_leaves=8,
    ),
)
def test_a_known_secret_never_survives_anywhere_in_a_document(
    *, secret: str, document: Any
) -> None:
    planted = {"a": [document, f"x{secret}y"], f"k{secret}": {"b": secret}}
    assert not [text for text in _strings(Redactor([secret]).mask(planted)) if secret in text]


def _strings(value: Any) -> list[str]:
    """Every string in ``value``: itself, or the keys and items of its containers."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for pair in value.items() for item in pair for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


# -- environment values in Lambda's messages ------------------------------------------------------


def test_lambdas_refusal_of_a_large_environment_loses_every_variable_it_quoted() -> None:
    message = (
        "Lambda was unable to configure your environment variables because the environment "
        'variables you have provided exceeded the 4KB limit. String measured: {"API_KEY":'
        '"k-\\u00e9-4711","ON":"on"}'
    )

    masked = mask_environment(message, ["k-é-4711", "on"])

    assert masked.endswith("exceeded the 4KB limit. String measured: (the variables, not shown)")
    assert "4711" not in masked


def test_a_value_sent_is_masked_wherever_else_a_message_quotes_it() -> None:
    masked = mask_environment("Value k-4711 at 'x' is refused; so is on", ["k-4711", "on"])

    assert masked == f"Value {MASK} at 'x' is refused; so is on"


@PROPERTIES
@given(secret=secrets, before=st.text(max_size=20), after=st.text(max_size=40))
def test_no_value_sent_survives_a_refusal_that_measures_it(
    *, secret: str, before: str, after: str
) -> None:
    text = f'{before}String measured: {{"K":"{secret}"}}{after}'
    assume(secret not in before)
    assert secret not in mask_environment(text, [secret])

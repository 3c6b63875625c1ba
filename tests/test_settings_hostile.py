"""Hostile and mistaken settings: whatever a flag, a ``LAMBDA_GITOPS_*`` variable or the
configuration file holds, loading it either succeeds or is one ``ConfigurationError`` that names
the setting and its value, short, with no credential in it, and refuses at start what Kubernetes
or AWS would only refuse at the first request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.errors import ConfigurationError
from controller.settings import Settings, load_settings

PROPERTIES = settings(max_examples=150, deadline=None)
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/lambda-gitops-events"
PASSWORD = "pa55w0rd-s3cret"
LONGEST_MESSAGE = 2_000


@pytest.fixture(autouse=True)
def _no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"LAMBDA_GITOPS_{name.upper()}", raising=False)


def outcome(**flags: Any) -> str | None:
    """The refusal's message, or ``None`` when the settings load."""
    try:
        load_settings(**flags)
    except ConfigurationError as error:
        return str(error)
    return None


def refusal(**flags: Any) -> str:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(**flags)
    return str(refused.value)


# -- variables that are not JSON --------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LAMBDA_GITOPS_EXTRA_REGIONS", "eu-west-9"),
        ("LAMBDA_GITOPS_EVENTS__QUEUE_URLS", QUEUE),
        ("LAMBDA_GITOPS_LEADER_ELECTION", "enabled"),
        ("LAMBDA_GITOPS_SCOPE__REGIONS", "eu-*"),
    ],
)
def test_a_list_or_group_variable_that_is_not_json_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """pydantic-settings raised its own SettingsError, naming only the field, as a traceback."""
    monkeypatch.setenv(variable, value)
    message = refusal()
    assert message.startswith(f"{variable} {value!r} is not JSON")
    assert json.dumps([value]) in message


def test_a_queue_url_variable_written_as_json_is_read() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMBDA_GITOPS_EVENTS__QUEUE_URLS", json.dumps([QUEUE]))
        assert load_settings().events.queue_urls == (QUEUE,)


def test_a_variable_that_is_not_json_shows_no_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "LAMBDA_GITOPS_EVENTS__QUEUE_URLS",
        f"https://user:{PASSWORD}@sqs.us-east-1.amazonaws.com/123456789012/q",
    )
    assert PASSWORD not in refusal()


# -- queue URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{PASSWORD}@sqs.us-east-1.amazonaws.com/123456789012/q",
        f"https://{PASSWORD}@sqs.us-east-1.amazonaws.com/123456789012/q",
        f"https://sqs.us-east-1.amazonaws.com/123456789012/q?X-Amz-Security-Token={PASSWORD}",
        f"https://sqs.us-east-1.amazonaws.com/123456789012/q?access_token={PASSWORD}",
        f"ftp://user:{PASSWORD}@sqs.us-east-1.amazonaws.com/123456789012/q",
    ],
)
def test_a_refused_queue_url_is_named_without_its_credential(url: str) -> None:
    message = refusal(events={"queue_urls": [url]})
    assert message.startswith("invalid settings: events.queue_urls:")
    assert PASSWORD not in message


@pytest.mark.parametrize("field", ["{Shard}", "{shard", "shard}", "{0}", "{shard.__class__}", "{}"])
def test_a_brace_other_than_shard_in_a_queue_url_is_named_as_such(field: str) -> None:
    message = refusal(events={"queue_urls": [f"{QUEUE}-{field}"]})
    assert "the one field a queue URL may hold is {shard}" in message


def test_shard_written_twice_still_gives_each_shard_a_queue_of_its_own() -> None:
    """Not a mistake worth refusing: "{shard}{shard}" names shard 1's queue "11" and shard 11's
    "1111", so no two shards share a queue."""
    loaded = load_settings(
        shards=12, shard_index=1, events={"queue_urls": [f"{QUEUE}-{{shard}}{{shard}}"]}
    )
    [address] = loaded.events.addresses(loaded.region, 1)
    assert address.url.endswith("-11")


def test_a_queue_url_of_10_kb_is_refused_in_a_message_of_bounded_length() -> None:
    message = refusal(events={"queue_urls": [f"{QUEUE}/{'q' * 10_000}"]})
    assert "events.queue_urls" in message
    assert len(message) < 12_000  # the URL once, in the validator's own words, at most


@PROPERTIES
@given(url=st.text(max_size=300))
def test_any_queue_url_loads_or_is_refused_naming_the_setting(url: str) -> None:
    message = outcome(events={"queue_urls": [url]})
    assert message is None or message.startswith("invalid settings: events.queue_urls")


# -- numbers from the environment ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("LAMBDA_GITOPS_SHARDS", "abc", "shards"),
        ("LAMBDA_GITOPS_SHARDS", "1e3", "shards"),
        ("LAMBDA_GITOPS_SHARDS", "-1", "shards"),
        ("LAMBDA_GITOPS_SHARDS", "9" * 5_000, "shards"),
        ("LAMBDA_GITOPS_SHARD_INDEX", "9" * 5_000, "shard_index"),
        ("LAMBDA_GITOPS_RETAIN_VERSIONS", "9" * 5_000, "retain_versions"),
        ("LAMBDA_GITOPS_LEADER_ELECTION__LEASE_DURATION", "nan", "leader_election.lease_duration"),
        ("LAMBDA_GITOPS_LEADER_ELECTION__LEASE_DURATION", "inf", "leader_election.lease_duration"),
        ("LAMBDA_GITOPS_LEADER_ELECTION__LEASE_DURATION", "0", "leader_election.lease_duration"),
        ("LAMBDA_GITOPS_LEADER_ELECTION__RENEW_DEADLINE", "nan", "leader_election.renew_deadline"),
        ("LAMBDA_GITOPS_LEADER_ELECTION__RETRY_PERIOD", "-1", "leader_election.retry_period"),
        ("LAMBDA_GITOPS_LEADER_ELECTION__RENEW_DEADLINE", "inf", "leader_election"),
    ],
)
def test_a_number_that_cannot_be_is_refused_naming_the_setting_in_a_short_message(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, setting: str
) -> None:
    monkeypatch.setenv(variable, value)
    message = refusal()
    assert f"{setting}:" in message
    assert len(message) < LONGEST_MESSAGE


def test_a_lease_longer_than_kubernetes_holds_is_refused_at_start() -> None:
    """leaseDurationSeconds is an int32: the API server would refuse the first Lease written."""
    message = refusal(leader_election={"lease_duration": 2**31, "renew_deadline": 10})
    assert "leader_election.lease_duration: Input should be less than or equal to 2147483647" in (
        message
    )
    assert load_settings(leader_election={"lease_duration": 2**31 - 1}).leader_election


# -- Kubernetes names ---------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", ["Ops", "a.b", "ops_1", "-ops", "o" * 64, "ops\n"])
def test_a_namespace_kubernetes_refuses_is_refused_at_start(namespace: str) -> None:
    message = refusal(leader_election={"namespace": namespace})
    assert message.startswith("invalid settings: leader_election.namespace:")
    assert "is not a Kubernetes namespace name" in message


def test_an_empty_namespace_means_the_pods() -> None:
    election = load_settings(leader_election={"namespace": ""}).leader_election
    assert election.candidate({"POD_NAMESPACE": "ops"}).namespace == "ops"


@pytest.mark.parametrize("lease_name", ["Lambda", "", "x" * 64, "a..b", "a_b"])
def test_a_lease_name_kubernetes_refuses_is_refused_at_start(lease_name: str) -> None:
    assert "leader_election.lease_name" in refusal(leader_election={"lease_name": lease_name})


@PROPERTIES
@given(namespace=st.text(max_size=80))
def test_any_namespace_loads_only_if_kubernetes_would_take_it(namespace: str) -> None:
    message = outcome(leader_election={"namespace": namespace})
    if message is None:
        assert len(namespace) <= 63
        assert all(character in "abcdefghijklmnopqrstuvwxyz0123456789-" for character in namespace)
    else:
        assert message.startswith("invalid settings: leader_election.namespace")


# -- POD_NAME -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod", "shard"), [("lambda-gitops-007", 3), ("lambda-gitops-4", 0), ("lambda-gitops-5", 1)]
)
def test_a_pods_ordinal_with_leading_zeros_is_its_number(pod: str, shard: int) -> None:
    loaded = load_settings(shards=4, leader_election={"enabled": True})
    assert loaded.shard({"POD_NAME": pod}) == shard


@pytest.mark.parametrize(
    "pod", ["lambda-gitops", "pod-99999999999999999999", "pod-" + "9" * 5_000, "pod-٣", ""]
)
def test_a_pod_name_without_an_ordinal_says_what_to_set_in_a_short_message(pod: str) -> None:
    loaded = load_settings(shards=4, leader_election={"enabled": True})
    with pytest.raises(ConfigurationError, match="set shard_index") as refused:
        loaded.shard({"POD_NAME": pod})
    assert len(str(refused.value)) < LONGEST_MESSAGE


# -- the configuration file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("shard: 3\n", "shard: not a setting; did you mean 'shards' or 'shard_index'?"),
        ("retain-version: 3\n", "retain_version: not a setting; did you mean 'retain_versions'?"),
        (
            "leader_election:\n  leaseName: x\n",
            "leader_election.leaseName: not a setting; did you mean 'lease_name'?",
        ),
        (
            "events:\n  queue_url: []\n",
            "events.queue_url: not a setting; did you mean 'queue_urls'?",
        ),
        ("leader_elections:\n  enabled: true\n", "did you mean 'leader_election'?"),
        ("zzz: 1\n", "zzz: not a setting (got 1)"),
    ],
)
def test_a_misspelled_key_says_which_setting_it_probably_means(
    tmp_path: Path, text: str, said: str
) -> None:
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as refused:
        load_settings(path)
    assert said in str(refused.value)


def test_a_groups_settings_may_be_kebab_case_like_the_top_levels(tmp_path: Path) -> None:
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text(
        "leader-election:\n  lease-name: ours\n  lease-duration: 20\n"
        f"events:\n  queue-urls: [{QUEUE}]\nscope:\n  delete-versions: true\n"
    )
    loaded = load_settings(path)
    assert (loaded.leader_election.lease_name, loaded.leader_election.lease_duration) == (
        "ours",
        20,
    )
    assert loaded.events.queue_urls == (QUEUE,)
    assert loaded.scope.delete_versions


def test_a_yaml_bomb_is_refused_in_a_short_message(tmp_path: Path) -> None:
    """Nine levels of nine aliases: 387 million strings, were the message to show them all."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    lines += ["leader_election: {enabled: *l8}"]
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigurationError) as refused:
        load_settings(path)
    assert "l8: not a setting" in str(refused.value)
    assert len(str(refused.value)) < 10 * LONGEST_MESSAGE


def test_a_nested_yaml_bomb_of_mappings_is_not_walked(tmp_path: Path) -> None:
    lines = ["m0: &m0 {a: x, b: x, c: x, d: x, e: x, f: x, g: x, h: x, i: x}"]
    lines += [
        f"m{i}: &m{i} {{{', '.join(f'{key}: *m{i - 1}' for key in 'abcdefghi')}}}"
        for i in range(1, 9)
    ]
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigurationError, match="m8: not a setting"):
        load_settings(path)


@PROPERTIES
@given(
    values=st.dictionaries(
        st.sampled_from(
            [
                "shards",
                "shard_index",
                "retain_versions",
                "leader_election",
                "events",
                "extra_regions",
            ]
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=12,
        ),
        max_size=4,
    )
)
def test_any_values_of_these_settings_load_or_are_one_configuration_error(
    values: dict[str, Any],
) -> None:
    message = outcome(**values) or ""
    assert "\n" not in message
    assert len(message) < 10 * LONGEST_MESSAGE


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LAMBDA_GITOPS_EXTRA_REGIONS", "eu-west-9"),
        (
            "LAMBDA_GITOPS_EVENTS__QUEUE_URLS",
            f"https://u:{PASSWORD}@sqs.us-east-1.amazonaws.com/1/q",
        ),
    ],
)
def test_a_command_given_such_a_variable_prints_one_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str
) -> None:
    from click.testing import CliRunner

    from controller.cli import main as cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(cli.main, ["plan"])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {variable} ")
    assert result.output.count("\n") == 1
    assert PASSWORD not in result.output

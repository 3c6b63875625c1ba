"""Settings come from a flag, then a ``LAMBDA_GITOPS_*`` variable, then the configuration file,
then the default; whatever is wrong with them is a ConfigurationError that says what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller.adapters.logging import LogSettings
from controller.core.retention import Retention
from controller.errors import ConfigurationError
from controller.settings import Settings, load_log_settings, load_settings

CONFIG = """\
region: eu-west-1
endpoint-url: http://file.example:4566
retry_mode: adaptive
max_attempts: 7
ref: from-file
log-level: warning
"""


@pytest.fixture(autouse=True)
def _no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"LAMBDA_GITOPS_{name.upper()}", raising=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("region", ("ap-south-1", "us-west-2", "eu-west-1", "us-east-1")),
        ("endpoint_url", ("http://flag:1", "http://env:2", "http://file.example:4566", None)),
        ("max_attempts", (3, 9, 7, 5)),
        ("retry_mode", ("standard", "adaptive", "adaptive", "standard")),
        ("ref", ("from-flag", "from-env", "from-file", "HEAD")),
        ("log_level", ("debug", "error", "warning", "info")),
    ],
)
def test_a_flag_beats_the_environment_beats_the_file_beats_the_default(
    monkeypatch: pytest.MonkeyPatch, config: Path, field: str, values: tuple[Any, Any, Any, Any]
) -> None:
    """``values``: the flag's, the variable's, the file's and the default."""
    flag, variable, from_file, default = values
    assert getattr(load_settings(), field) == default
    assert getattr(load_settings(config), field) == from_file
    monkeypatch.setenv(f"LAMBDA_GITOPS_{field.upper()}", str(variable))
    assert getattr(load_settings(config), field) == variable
    assert getattr(load_settings(config, **{field: flag}), field) == flag


def test_a_flag_given_as_none_is_a_flag_not_given(config: Path) -> None:
    settings = load_settings(config, region=None, endpoint_url=None, max_attempts=None)
    assert (settings.region, settings.endpoint_url, settings.max_attempts) == (
        "eu-west-1",
        "http://file.example:4566",
        7,
    )


def test_settings_the_file_leaves_out_keep_their_defaults(config: Path) -> None:
    settings = load_settings(config)
    assert (settings.repo, settings.path, settings.registry) == (".", "", "aws")


def test_an_unknown_key_in_the_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("region: eu-west-1\nendpont-url: http://typo\n")
    with pytest.raises(ConfigurationError, match="endpont_url") as raised:
        load_settings(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("max_attempts", "0", "0"),
        ("max-attempts", "21", "21"),
        ("retry_mode", "fast", "'fast'"),
    ],
)
def test_a_bad_value_in_the_file_names_the_field_and_the_value(
    tmp_path: Path, key: str, value: str, shown: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"{key}: {value}\n")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert key.replace("-", "_") in message
    assert f"(got {shown})" in message


@pytest.mark.parametrize(
    ("field", "value"), [("max_attempts", "0"), ("retry_mode", "fast"), ("max_attempts", "many")]
)
def test_a_bad_value_in_the_environment_names_the_field_and_the_value(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    monkeypatch.setenv(f"LAMBDA_GITOPS_{field.upper()}", value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert field in str(raised.value)
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize(("field", "value"), [("max_attempts", 0), ("retry_mode", "fast")])
def test_a_bad_flag_names_the_field_and_the_value(field: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(**{field: value})
    assert f"{field}: " in str(raised.value)
    assert f"(got {value!r})" in str(raised.value)


@pytest.mark.parametrize(
    ("make", "why"),
    [
        pytest.param(lambda path: None, "cannot read", id="missing"),
        pytest.param(lambda path: path.mkdir(), "cannot read", id="a-folder"),
        pytest.param(
            lambda path: path.write_bytes(b"region: \xff\xfe\n"), "not UTF-8", id="not-utf-8"
        ),
        pytest.param(lambda path: path.write_text("region: [eu-west-1\n"), "YAML", id="not-yaml"),
        pytest.param(lambda path: path.write_text("- eu-west-1\n"), "mapping", id="a-list"),
        pytest.param(lambda path: path.write_text("eu-west-1\n"), "mapping", id="a-string"),
    ],
)
def test_a_config_file_that_cannot_be_used_is_an_error_naming_it(
    tmp_path: Path, make: Any, why: str
) -> None:
    path = tmp_path / "lambda-gitops.yaml"
    make(path)
    with pytest.raises(ConfigurationError) as raised:
        load_settings(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert why in str(raised.value)


def test_an_empty_config_file_means_every_default(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing set yet\n")
    assert load_settings(path).model_dump() == load_settings().model_dump()


@pytest.mark.parametrize("written", ["DEBUG", "Debug", "debug"])
def test_a_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    monkeypatch.setenv("LAMBDA_GITOPS_LOG_LEVEL", written)
    assert load_settings().log_level == "debug"
    assert load_log_settings().level == "debug"


def test_an_unknown_log_level_names_the_setting_and_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDA_GITOPS_LOG_LEVEL", "verbose")
    with pytest.raises(ConfigurationError, match=r"log_level: .*\(got 'verbose'\)"):
        load_log_settings()


def test_the_log_settings_come_from_the_same_sources_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch, config: Path
) -> None:
    assert load_log_settings() == LogSettings("info", "auto")
    assert load_log_settings(config) == LogSettings("warning", "auto")
    monkeypatch.setenv("LAMBDA_GITOPS_LOG_FORMAT", "console")
    assert load_log_settings(config) == LogSettings("warning", "console")
    assert load_log_settings(config, log_level="error") == LogSettings("error", "console")
    assert load_settings(config, log_level="error").logging == LogSettings("error", "console")


def test_the_log_settings_alone_ignore_every_other_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``emulator`` and ``status`` must not fail because a setting of ``run`` is wrong."""
    monkeypatch.setenv("LAMBDA_GITOPS_MAX_ATTEMPTS", "many")
    path = tmp_path / "config.yaml"
    path.write_text("log-level: debug\nnot-a-setting: 1\n")
    assert load_log_settings(path).level == "debug"
    with pytest.raises(ConfigurationError):
        load_settings(path)


@pytest.mark.parametrize(
    ("region", "suggestion"),
    [
        ("eu-west-7", "did you mean 'eu-west-1', 'eu-west-2' or 'eu-west-3'?"),
        ("us-est-1", "did you mean 'us-east-1'"),
        ("euwest1", "did you mean 'eu-west-1'"),
    ],
)
def test_a_region_lambda_is_not_in_is_refused_naming_the_setting(
    region: str, suggestion: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(region=region)
    message = str(raised.value)
    assert message.startswith(f"invalid settings: region: {region!r} is not ")
    assert suggestion in message


def test_a_region_newer_than_the_controller_is_accepted_from_extra_regions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text("extra-regions: [eu-west-7]\nregion: eu-west-7\n")
    monkeypatch.setenv("LAMBDA_GITOPS_EXTRA_REGIONS", '["ap-east-9"]')

    assert load_settings(path, region="ap-east-9").extra_regions == ("ap-east-9",)
    assert load_settings(path, region="ap-east-9").loop.extra_regions == ("ap-east-9",)
    monkeypatch.delenv("LAMBDA_GITOPS_EXTRA_REGIONS")
    assert load_settings(path).region == "eu-west-7"


def test_extra_regions_must_be_region_names() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(extra_regions=("Europe",))
    assert "extra_regions: 'Europe' is not an AWS region name" in str(raised.value)


# -- version retention: the default N and the scope's switch -----------------------------------


def test_retention_is_off_unless_set_and_deletes_nothing_unless_the_scope_allows() -> None:
    settings = load_settings()

    assert settings.retain_versions is None
    assert settings.scope.delete_versions is False
    assert settings.retention == Retention(default=None, may_delete=False)
    assert settings.loop.retention == settings.retention


def test_retention_comes_from_the_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("retain-versions: 10\nscope:\n  delete_versions: true\n")

    assert load_settings(path).retention == Retention(default=10, may_delete=True)
    monkeypatch.setenv("LAMBDA_GITOPS_RETAIN_VERSIONS", "3")
    monkeypatch.setenv("LAMBDA_GITOPS_SCOPE__DELETE_VERSIONS", "false")
    assert load_settings(path).retention == Retention(default=3, may_delete=False)


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_a_retain_versions_that_keeps_nothing_is_refused_naming_it(
    tmp_path: Path, value: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"retain_versions: {value}\n")

    with pytest.raises(ConfigurationError) as raised:
        load_settings(path)
    assert "retain_versions" in str(raised.value)


# -- leader election --------------------------------------------------------------------------


def test_leader_election_is_off_by_default_with_controller_runtimes_timings() -> None:
    election = load_settings().leader_election
    assert not election.enabled
    candidate = election.candidate({"POD_NAME": "lg-7d9f-x2", "POD_NAMESPACE": "gitops"})
    assert (candidate.identity, candidate.namespace, candidate.lease) == (
        "lg-7d9f-x2",
        "gitops",
        "gitops/lambda-gitops",
    )
    timings = candidate.timings
    assert (timings.lease_duration, timings.renew_deadline, timings.retry_period) == (15, 10, 2)


def test_leader_election_comes_from_nested_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDA_GITOPS_LEADER_ELECTION__ENABLED", "true")
    monkeypatch.setenv("LAMBDA_GITOPS_LEADER_ELECTION__LEASE_NAME", "lg-shard-0")
    monkeypatch.setenv("LAMBDA_GITOPS_LEADER_ELECTION__LEASE_DURATION", "30")
    election = load_settings().leader_election
    assert election.enabled
    assert election.lease_name == "lg-shard-0"
    assert election.lease_duration == 30


def test_without_the_downward_api_a_replica_is_named_after_its_host_uniquely() -> None:
    election = load_settings().leader_election
    first, second = election.candidate({}), election.candidate({})
    assert first.identity != second.identity
    assert first.identity.rsplit("_", 1)[0] == second.identity.rsplit("_", 1)[0]
    configured = load_settings(leader_election={"identity": "me", "namespace": "ops"})
    candidate = configured.leader_election.candidate({"POD_NAME": "pod", "POD_NAMESPACE": "ns"})
    assert (candidate.identity, candidate.namespace) == ("me", "ops")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"lease_duration": 10, "renew_deadline": 10},
            "leader_election: lease_duration 10 must be greater than renew_deadline 10",
        ),
        (
            {"renew_deadline": 2, "retry_period": 2},
            "leader_election: renew_deadline 2 must be greater than 1.2 x retry_period 2",
        ),
        ({"lease_name": "Not A Name"}, "leader_election.lease_name: String should match"),
        ({"lease_duration": 1.5}, "leader_election.lease_duration"),
    ],
)
def test_election_settings_that_cannot_work_are_refused_naming_them(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=r"^invalid settings") as refused:
        load_settings(leader_election=values)
    assert message in str(refused.value)


# -- sharding ---------------------------------------------------------------------------------


def test_without_shards_a_process_has_no_shard_whatever_its_pod_name() -> None:
    settings = load_settings()
    assert (settings.shards, settings.shard_index) == (1, None)
    assert settings.shard({"POD_NAME": "lambda-gitops-3"}) is None


def test_a_shard_comes_from_its_setting_before_the_pods_ordinal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDA_GITOPS_SHARDS", "4")
    monkeypatch.setenv("LAMBDA_GITOPS_SHARD_INDEX", "2")
    assert load_settings().shard({"POD_NAME": "lambda-gitops-3"}) == 2
    assert load_settings(shard_index=1).shard({}) == 1


@pytest.mark.parametrize(
    ("pod", "shard"), [("lambda-gitops-0", 0), ("lambda-gitops-3", 3), ("lg-7", 3)]
)
def test_a_statefulset_pods_ordinal_modulo_the_shards_is_its_shard(pod: str, shard: int) -> None:
    """So that a StatefulSet of 8 pods runs two replicas of each of 4 shards."""
    assert load_settings(shards=4).shard({"POD_NAME": pod}) == shard


@pytest.mark.parametrize(
    ("environ", "found"),
    [
        ({}, "POD_NAME is not set"),
        ({"POD_NAME": "lambda-gitops-5d8c7f9b4-x2x7q"}, "does not end in an ordinal"),
    ],
)
def test_a_shard_that_cannot_be_told_says_what_to_set(environ: dict[str, str], found: str) -> None:
    with pytest.raises(
        ConfigurationError, match=r"^shards 3: this process's shard is not known"
    ) as refused:
        load_settings(shards=3).shard(environ)
    assert found in str(refused.value)
    assert "LAMBDA_GITOPS_SHARD_INDEX" in str(refused.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"shards": 3, "shard_index": 3}, "shard_index 3 must be between 0 and 2 (shards is 3)"),
        ({"shard_index": 1}, "shard_index 1 must be between 0 and 0 (shards is 1)"),
        ({"shards": 0}, "shards: Input should be greater than or equal to 1"),
        ({"shards": 257}, "shards: Input should be less than or equal to 256"),
    ],
)
def test_shards_that_cannot_be_are_refused_naming_them(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=r"^invalid settings") as refused:
        load_settings(**values)
    assert message in str(refused.value)


def test_a_lease_name_too_long_for_a_label_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"leader_election\.lease_name"):
        load_settings(leader_election={"lease_name": "a" * 64})


# -- change events --------------------------------------------------------------------------


def test_change_events_are_off_without_a_queue_and_poll_as_sqs_allows() -> None:
    events = load_settings().events
    assert events.queue_urls == ()
    assert (events.wait_time, events.max_messages, events.merge_window) == (20, 10, 1.0)
    assert events.consumer.merge_window == 1.0


def test_change_events_come_from_nested_variables_and_a_queue_url_gives_its_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "LAMBDA_GITOPS_EVENTS__QUEUE_URLS",
        '["https://sqs.eu-west-1.amazonaws.com/123456789012/lambda-gitops-events",'
        ' "http://127.0.0.1:5000/210987654321/local"]',
    )
    monkeypatch.setenv("LAMBDA_GITOPS_EVENTS__MERGE_WINDOW", "0.5")
    settings = load_settings(region="us-west-2")
    assert settings.events.merge_window == 0.5
    assert [(a.account, a.region) for a in settings.events.addresses(settings.region)] == [
        ("123456789012", "eu-west-1"),
        ("210987654321", "us-west-2"),  # names no region: the controller's
    ]
    local = load_settings(
        events={"queue_urls": ["http://127.0.0.1:5000/210987654321/q"], "region": "ap-south-1"}
    )
    assert [a.region for a in local.events.addresses("us-east-1")] == ["ap-south-1"]


def test_the_queue_flag_keeps_the_other_event_settings_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``run --events-queue-url`` gives ``events.queue_urls``; the group's other settings
    still come from the environment and the file."""
    monkeypatch.setenv("LAMBDA_GITOPS_EVENTS__ENDPOINT_URL", "http://127.0.0.1:5000")
    settings = load_settings(events={"queue_urls": ["http://127.0.0.1:5000/123456789012/q"]})
    assert settings.events.endpoint_url == "http://127.0.0.1:5000"
    assert settings.events.queue_urls == ("http://127.0.0.1:5000/123456789012/q",)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"queue_urls": ["lambda-gitops-events"]}, "is not an SQS queue URL"),
        (
            {"queue_urls": ["https://sqs.us-east-1.amazonaws.com/lambda-gitops-events"]},
            "the path must be /ACCOUNT/QUEUE-NAME",
        ),
        (
            {"queue_urls": ["http://h:1/123456789012/q", "http://h:1/123456789012/q"]},
            "is listed twice",
        ),
        ({"wait_time": 21}, "events.wait_time"),
        ({"max_messages": 11}, "events.max_messages"),
        ({"merge_window": -1}, "events.merge_window"),
        ({"queue": "x"}, "events.queue: not a setting; did you mean 'queue_urls'?"),
    ],
)
def test_event_settings_that_cannot_work_are_refused_naming_them(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=r"^invalid settings") as refused:
        load_settings(events=values)
    assert message in str(refused.value)


def test_run_takes_the_queue_flag_once_per_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from controller.cli import main as cli

    seen: list[Settings] = []

    def run_controller(settings: Settings, stop: object) -> bool:
        seen.append(settings)
        return True

    monkeypatch.setattr(cli, "run_controller", run_controller)
    monkeypatch.setattr("signal.signal", lambda *_: None)  # leave pytest's handlers be
    first, second = "http://h:1/123456789012/a", "http://h:1/123456789012/b"
    result = CliRunner().invoke(
        cli.main, ["run", "--events-queue-url", first, "--events-queue-url", second]
    )
    assert result.exit_code == 0, result.output
    assert seen[0].events.queue_urls == (first, second)
    CliRunner().invoke(cli.main, ["run"])
    assert seen[1].events.queue_urls == ()


def test_with_shards_each_queue_url_names_the_shard_or_is_refused() -> None:
    """One queue read by every shard would lose events: a shard deletes what it does not own."""
    shared = "https://sqs.eu-west-1.amazonaws.com/123456789012/lambda-gitops-events"
    with pytest.raises(ConfigurationError, match=r"would be read by every shard") as refused:
        load_settings(shards=3, events={"queue_urls": [shared]})
    assert "{shard}" in str(refused.value)
    assert load_settings(events={"queue_urls": [shared]}).events.queue_urls == (shared,)


def test_a_queue_url_with_shard_is_each_shards_own_queue() -> None:
    template = "https://sqs.eu-west-1.amazonaws.com/123456789012/lambda-gitops-events-{shard}"
    settings = load_settings(shards=3, shard_index=2, events={"queue_urls": [template]})
    [address] = settings.events.addresses(settings.region, settings.shard({}))
    assert address.url.endswith("/lambda-gitops-events-2")
    assert (address.account, address.region) == ("123456789012", "eu-west-1")
    [alone] = load_settings(events={"queue_urls": [template]}).events.addresses("us-east-1")
    assert alone.url.endswith("/lambda-gitops-events-0")

"""The Prometheus recorder exposes DESIGN.md's series, and only while they mean something.

Every test reads the exposition text the way Prometheus does, parsed by prometheus_client's own
parser, from a fresh ``CollectorRegistry``, so that no test sees another's series.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

import controller
from controller.adapters.metrics import FunctionStatus, Metrics, RolloutSeries
from controller.core.model import SYNC_STATUSES
from tests.conftest import require_tool

DESIGN_TABLE = {
    # name: (type, labels), exactly as DESIGN.md's "Metrics" table gives them.
    "lambda_gitops_alias_drift": ("gauge", {"function", "region", "alias"}),
    "lambda_gitops_aliases_drifted": ("gauge", set()),
    "lambda_gitops_out_of_band_changes_total": ("counter", {"function", "region", "alias"}),
    "lambda_gitops_function_sync_status": ("gauge", {"function", "region", "status"}),
    "lambda_gitops_reconcile_total": ("counter", {"outcome"}),
    "lambda_gitops_reconcile_duration_seconds": ("histogram", set()),
    "lambda_gitops_last_successful_reconcile_timestamp_seconds": ("gauge", set()),
    "lambda_gitops_actions_total": ("counter", {"action", "outcome"}),
    "lambda_gitops_registry_requests_total": ("counter", {"operation", "outcome"}),
    "lambda_gitops_registry_request_duration_seconds": ("histogram", {"operation"}),
    "lambda_gitops_registry_throttles_total": ("counter", {"operation"}),
    "lambda_gitops_source_revision_info": ("gauge", {"revision", "ref"}),
    "lambda_gitops_source_fetch_failures_total": ("counter", set()),
    "lambda_gitops_source_last_fetch_timestamp_seconds": ("gauge", set()),
    "lambda_gitops_declaration_errors": ("gauge", set()),
    "lambda_gitops_build_info": ("gauge", {"version"}),
    # Issue 13's, for progressive delivery.
    "lambda_gitops_rollout_weight": ("gauge", {"function", "region", "alias"}),
    "lambda_gitops_rollout_step": ("gauge", {"function", "region", "alias"}),
    "lambda_gitops_rollout_phase": ("gauge", {"function", "region", "alias", "phase"}),
    "lambda_gitops_analysis_checks_total": ("counter", {"kind", "result"}),
    # Issue 14's, for version retention.
    "lambda_gitops_function_versions": ("gauge", {"function", "region"}),
    "lambda_gitops_versions_deleted_total": ("counter", {"function", "region"}),
    # Issue 16's, for leader election (DESIGN.md's table has the gauge; the issue adds the
    # counter).
    "lambda_gitops_leader": ("gauge", {"shard"}),
    "lambda_gitops_leader_transitions_total": ("counter", {"shard"}),
    # Issue 16's, for sharding: the functions a shard owns, per shard.
    "lambda_gitops_shard_functions": ("gauge", {"shard"}),
    # Issue 17's, for change events.
    "lambda_gitops_events_total": ("counter", {"result"}),
    "lambda_gitops_event_lag_seconds": ("histogram", set()),
}


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry(), version="1.2.3")


def exercise(metrics: Metrics) -> None:
    """Call every recording method once, so that every family has at least one series."""
    metrics.pass_finished(success=True, seconds=0.4, finished_at=1_700_000_000.0)
    metrics.action_finished("publish", "applied")
    metrics.registry_request("ListAliases", "success", 0.02)
    metrics.registry_throttled("UpdateAlias")
    metrics.source_revision("0123abcd", "main")
    metrics.source_fetch(ok=True, at=1_700_000_001.0)
    metrics.declaration_errors(2)
    metrics.analysis_check("cloudwatch", "pass")
    metrics.leadership("0", leading=True)
    metrics.shard_functions("0", 1)
    metrics.event_received("matched", lag=1.5)
    metrics.functions(
        [
            FunctionStatus(
                "orders-api",
                "eu-west-1",
                "drifted",
                {"live": True, "canary": False},
                rollouts={"live": RolloutSeries("progressing", 2, 0.25)},
                versions=7,
                versions_deleted=3,
            )
        ]
    )


def scrape(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def samples(metrics: Metrics, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """The series of one sample name in the exposition, by their labels."""
    found: dict[frozenset[tuple[str, str]], float] = {}
    for family in text_string_to_metric_families(scrape(metrics)):
        for sample in family.samples:
            if sample.name == name:
                found[frozenset(sample.labels.items())] = sample.value
    return found


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def design_name(family_name: str, family_type: str) -> str:
    """The parser drops a counter's ``_total``; DESIGN.md names the counter with it."""
    return f"{family_name}_total" if family_type == "counter" else family_name


def test_names_types_and_labels_are_exactly_design_md() -> None:
    """Every family in DESIGN.md's table, with its type and labels, and no other family."""
    metrics = Metrics(CollectorRegistry())
    exercise(metrics)
    exposed: dict[str, tuple[str, set[str]]] = {}
    for family in text_string_to_metric_families(scrape(metrics)):
        names = {key for sample in family.samples for key in sample.labels} - {"le"}
        exposed[design_name(family.name, family.type)] = (family.type, names)
        assert family.documentation.strip(), f"{family.name} has no HELP text"
    assert exposed == DESIGN_TABLE


def test_no_created_series_are_exposed(metrics: Metrics) -> None:
    """prometheus_client's ``*_created`` gauges are not in DESIGN.md, so they are not exposed."""
    exercise(metrics)
    assert "_created" not in scrape(metrics)


def test_counters_known_up_front_exist_at_zero_from_the_first_scrape(metrics: Metrics) -> None:
    assert samples(metrics, "lambda_gitops_reconcile_total") == {
        labels(outcome="success"): 0.0,
        labels(outcome="failure"): 0.0,
    }
    assert samples(metrics, "lambda_gitops_actions_total") == {
        labels(action=action, outcome=outcome): 0.0
        for action in ("publish", "create", "update", "delete", "delete_version")
        for outcome in ("applied", "failed")
    } | {labels(action="delete_version", outcome="skipped"): 0.0}
    assert samples(metrics, "lambda_gitops_source_fetch_failures_total") == {labels(): 0.0}
    assert samples(metrics, "lambda_gitops_declaration_errors") == {labels(): 0.0}
    assert samples(metrics, "lambda_gitops_reconcile_duration_seconds_count") == {labels(): 0.0}


def test_leadership_is_one_gauge_per_shard_and_a_count_of_acquisitions(metrics: Metrics) -> None:
    metrics.leadership("0", leading=False)
    assert samples(metrics, "lambda_gitops_leader") == {labels(shard="0"): 0.0}
    assert samples(metrics, "lambda_gitops_leader_transitions_total") == {labels(shard="0"): 0.0}
    metrics.leadership("0", leading=True)
    metrics.leadership_acquired("0")
    assert samples(metrics, "lambda_gitops_leader") == {labels(shard="0"): 1.0}
    assert samples(metrics, "lambda_gitops_leader_transitions_total") == {labels(shard="0"): 1.0}


def test_a_shard_counts_the_functions_it_owns_and_no_series_exists_without_sharding(
    metrics: Metrics,
) -> None:
    assert samples(metrics, "lambda_gitops_shard_functions") == {}
    metrics.shard_functions("2", 0)
    assert samples(metrics, "lambda_gitops_shard_functions") == {labels(shard="2"): 0.0}
    metrics.shard_functions("2", 17)
    assert samples(metrics, "lambda_gitops_shard_functions") == {labels(shard="2"): 17.0}


def test_change_events_are_counted_by_result_from_zero_and_their_lag_observed(
    metrics: Metrics,
) -> None:
    assert samples(metrics, "lambda_gitops_events_total") == {
        labels(result=result): 0.0 for result in ("matched", "unmanaged", "self", "malformed")
    }
    metrics.event_received("matched", lag=0.4)
    metrics.event_received("self", lag=-2.0)  # clocks a little apart: counted as no lag
    metrics.event_received("malformed")
    registry = metrics.registry
    assert registry.get_sample_value("lambda_gitops_events_total", {"result": "matched"}) == 1
    assert registry.get_sample_value("lambda_gitops_events_total", {"result": "malformed"}) == 1
    assert registry.get_sample_value("lambda_gitops_event_lag_seconds_count") == 2
    assert registry.get_sample_value("lambda_gitops_event_lag_seconds_sum") == 0.4
    with pytest.raises(ValueError, match="unknown event result"):
        metrics.event_received("UpdateAlias20150331")


@pytest.mark.parametrize("lag", [float("nan"), float("inf"), float("-inf")])
def test_a_lag_that_is_no_number_of_seconds_is_not_observed(metrics: Metrics, lag: float) -> None:
    """One NaN or infinity would spoil the histogram's sum for as long as the process lives."""
    metrics.event_received("matched", lag=lag)
    registry = metrics.registry
    assert registry.get_sample_value("lambda_gitops_events_total", {"result": "matched"}) == 1
    assert registry.get_sample_value("lambda_gitops_event_lag_seconds_count") == 0
    assert registry.get_sample_value("lambda_gitops_event_lag_seconds_sum") == 0


def test_event_lag_buckets_span_a_tenth_of_a_second_to_five_minutes(metrics: Metrics) -> None:
    buckets = {
        float(dict(key)["le"]) for key in samples(metrics, "lambda_gitops_event_lag_seconds_bucket")
    }
    assert min(buckets) == 0.1
    assert max(buckets - {float("inf")}) == 300.0


def test_build_info_names_the_version() -> None:
    assert samples(Metrics(version="1.2.3"), "lambda_gitops_build_info") == {
        labels(version="1.2.3"): 1.0
    }
    assert samples(Metrics(), "lambda_gitops_build_info") == {
        labels(version=controller.__version__): 1.0
    }


def test_a_pass_is_counted_and_timed_and_only_a_success_moves_the_timestamp(
    metrics: Metrics,
) -> None:
    registry = metrics.registry
    metrics.pass_finished(success=True, seconds=0.2, finished_at=100.0)
    metrics.pass_finished(success=False, seconds=30.0, finished_at=200.0)
    assert registry.get_sample_value("lambda_gitops_reconcile_total", {"outcome": "success"}) == 1
    assert registry.get_sample_value("lambda_gitops_reconcile_total", {"outcome": "failure"}) == 1
    assert registry.get_sample_value("lambda_gitops_reconcile_duration_seconds_count") == 2
    assert registry.get_sample_value("lambda_gitops_reconcile_duration_seconds_sum") == 30.2
    timestamp = "lambda_gitops_last_successful_reconcile_timestamp_seconds"
    assert registry.get_sample_value(timestamp) == 100.0


def test_reconcile_buckets_span_ten_milliseconds_to_ten_minutes(metrics: Metrics) -> None:
    buckets = {
        float(dict(key)["le"])
        for key in samples(metrics, "lambda_gitops_reconcile_duration_seconds_bucket")
    }
    assert min(buckets) == 0.01
    assert max(buckets - {float("inf")}) == 600.0


def test_actions_are_counted_and_an_unknown_one_is_refused(metrics: Metrics) -> None:
    metrics.action_finished("update", "applied")
    metrics.action_finished("update", "failed")
    metrics.action_finished("update", "failed")
    registry = metrics.registry
    name = "lambda_gitops_actions_total"
    assert registry.get_sample_value(name, {"action": "update", "outcome": "applied"}) == 1
    assert registry.get_sample_value(name, {"action": "update", "outcome": "failed"}) == 2
    with pytest.raises(ValueError, match="unknown action"):
        metrics.action_finished("rename", "applied")
    with pytest.raises(ValueError, match="unknown action outcome"):
        metrics.action_finished("update", "ResourceConflictException: the alias is busy")


def test_a_version_deletion_lambda_refused_is_counted_as_skipped(metrics: Metrics) -> None:
    metrics.action_finished("delete_version", "applied")
    metrics.action_finished("delete_version", "skipped")
    name = "lambda_gitops_actions_total"
    registry = metrics.registry
    assert registry.get_sample_value(name, {"action": "delete_version", "outcome": "applied"}) == 1
    assert registry.get_sample_value(name, {"action": "delete_version", "outcome": "skipped"}) == 1


def test_versions_per_function_and_deletions_come_and_go_with_the_function(
    metrics: Metrics,
) -> None:
    """The version count is a gauge once the function has been read; the deletions a counter
    every declared function has from 0; both disappear with the function."""
    metrics.functions(
        [
            FunctionStatus("orders-api", "eu-west-1", "synced", {}, versions=5, versions_deleted=2),
            FunctionStatus("billing", "eu-west-1", "error", {}),
        ]
    )
    assert samples(metrics, "lambda_gitops_function_versions") == {
        labels(function="orders-api", region="eu-west-1"): 5.0
    }
    assert samples(metrics, "lambda_gitops_versions_deleted_total") == {
        labels(function="orders-api", region="eu-west-1"): 2.0,
        labels(function="billing", region="eu-west-1"): 0.0,
    }
    metrics.functions([FunctionStatus("billing", "eu-west-1", "synced", {}, versions=1)])
    assert samples(metrics, "lambda_gitops_function_versions") == {
        labels(function="billing", region="eu-west-1"): 1.0
    }
    assert "orders-api" not in scrape(metrics)


def test_registry_requests_and_throttles_are_counted_per_operation(metrics: Metrics) -> None:
    metrics.registry_request("ListAliases", "success", 0.01)
    metrics.registry_request("ListAliases", "success", 0.03)
    metrics.registry_request("UpdateAlias", "throttled", 1.5)
    metrics.registry_throttled("UpdateAlias")
    registry = metrics.registry
    assert samples(metrics, "lambda_gitops_registry_requests_total") == {
        labels(operation="ListAliases", outcome="success"): 2.0,
        labels(operation="UpdateAlias", outcome="throttled"): 1.0,
    }
    duration = "lambda_gitops_registry_request_duration_seconds"
    assert registry.get_sample_value(f"{duration}_count", {"operation": "ListAliases"}) == 2
    assert registry.get_sample_value(f"{duration}_sum", {"operation": "UpdateAlias"}) == 1.5
    assert samples(metrics, "lambda_gitops_registry_throttles_total") == {
        labels(operation="UpdateAlias"): 1.0
    }


def test_source_revision_keeps_exactly_one_series(metrics: Metrics) -> None:
    assert samples(metrics, "lambda_gitops_source_revision_info") == {}
    metrics.source_revision("aaaa", "main")
    metrics.source_revision("bbbb", "main")
    assert samples(metrics, "lambda_gitops_source_revision_info") == {
        labels(revision="bbbb", ref="main"): 1.0
    }


def test_a_failed_fetch_is_counted_and_keeps_the_last_good_timestamp(metrics: Metrics) -> None:
    registry = metrics.registry
    metrics.source_fetch(ok=True, at=50.0)
    metrics.source_fetch(ok=False, at=60.0)
    metrics.source_fetch(ok=False, at=70.0)
    assert registry.get_sample_value("lambda_gitops_source_fetch_failures_total") == 2
    assert registry.get_sample_value("lambda_gitops_source_last_fetch_timestamp_seconds") == 50.0


def test_declaration_errors_is_a_gauge_that_goes_back_down(metrics: Metrics) -> None:
    metrics.declaration_errors(3)
    metrics.declaration_errors(0)
    assert metrics.registry.get_sample_value("lambda_gitops_declaration_errors") == 0


@pytest.mark.parametrize("status", SYNC_STATUSES)
def test_sync_status_is_one_hot(metrics: Metrics, status: str) -> None:
    """Each function has one series per status, and exactly its own status is 1."""
    metrics.functions([FunctionStatus("orders-api", "eu-west-1", status, {})])  # type: ignore[arg-type]
    assert samples(metrics, "lambda_gitops_function_sync_status") == {
        labels(function="orders-api", region="eu-west-1", status=each): float(each == status)
        for each in SYNC_STATUSES
    }


def test_alias_drift_and_the_drifted_total(metrics: Metrics) -> None:
    metrics.functions(
        [
            FunctionStatus("orders-api", "eu-west-1", "drifted", {"live": True, "canary": True}),
            FunctionStatus("orders-api", "us-east-1", "synced", {"live": False}),
            FunctionStatus("billing", "eu-west-1", "drifted", {"live": True}),
        ]
    )
    assert samples(metrics, "lambda_gitops_alias_drift") == {
        labels(function="orders-api", region="eu-west-1", alias="live"): 1.0,
        labels(function="orders-api", region="eu-west-1", alias="canary"): 1.0,
        labels(function="orders-api", region="us-east-1", alias="live"): 0.0,
        labels(function="billing", region="eu-west-1", alias="live"): 1.0,
    }
    assert metrics.registry.get_sample_value("lambda_gitops_aliases_drifted") == 3


def test_series_of_a_removed_function_and_a_removed_alias_disappear(metrics: Metrics) -> None:
    metrics.functions(
        [
            FunctionStatus("orders-api", "eu-west-1", "drifted", {"live": True, "canary": True}),
            FunctionStatus("billing", "eu-west-1", "error", {"live": True}),
        ]
    )
    metrics.functions([FunctionStatus("orders-api", "eu-west-1", "synced", {"live": False})])
    text = scrape(metrics)
    assert "billing" not in text
    assert "canary" not in text
    assert samples(metrics, "lambda_gitops_alias_drift") == {
        labels(function="orders-api", region="eu-west-1", alias="live"): 0.0
    }
    assert len(samples(metrics, "lambda_gitops_function_sync_status")) == len(SYNC_STATUSES)
    assert metrics.registry.get_sample_value("lambda_gitops_aliases_drifted") == 0
    metrics.functions([])
    assert samples(metrics, "lambda_gitops_function_sync_status") == {}
    assert samples(metrics, "lambda_gitops_alias_drift") == {}


def test_the_caller_changing_its_mapping_later_does_not_change_the_series(
    metrics: Metrics,
) -> None:
    drifted = {"live": True}
    metrics.functions([FunctionStatus("orders-api", "eu-west-1", "drifted", drifted)])
    drifted["canary"] = True
    assert len(samples(metrics, "lambda_gitops_alias_drift")) == 1


def test_a_function_listed_twice_is_refused(metrics: Metrics) -> None:
    twice = FunctionStatus("orders-api", "eu-west-1", "synced", {})
    with pytest.raises(ValueError, match="listed twice"):
        metrics.functions([twice, twice])


def test_an_unknown_sync_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sync status"):
        FunctionStatus("orders-api", "eu-west-1", "bogus", {})  # type: ignore[arg-type]


def test_registries_are_independent_and_a_clash_fails_at_registration() -> None:
    first, second = Metrics(), Metrics()
    first.declaration_errors(5)
    assert second.registry.get_sample_value("lambda_gitops_declaration_errors") == 0
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Metrics(first.registry)


def test_a_scrape_never_sees_a_half_replaced_fleet(metrics: Metrics) -> None:
    """While ``functions`` swaps between two fleets, every scrape shows one of them whole."""
    fleets = [
        [FunctionStatus(f"a-{n}", "eu-west-1", "synced", {"live": False}) for n in range(20)],
        [FunctionStatus(f"b-{n}", "eu-west-1", "drifted", {"live": True}) for n in range(20)],
    ]
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            for fleet in fleets:
                metrics.functions(fleet)
                time.sleep(0.0005)  # leave the scraper the GIL most of the time

    writer = threading.Thread(target=swap)
    writer.start()
    try:
        for _ in range(40):
            seen = [
                sample
                for family in text_string_to_metric_families(scrape(metrics))
                if family.name.startswith("lambda_gitops_alias")
                for sample in family.samples
            ]
            assert consistent(seen), seen
    finally:
        stop.set()
        writer.join()


def consistent(seen: list[Sample]) -> bool:
    """All alias series from one fleet, and the total agreeing with them."""
    prefixes = {s.labels["function"][0] for s in seen if s.name == "lambda_gitops_alias_drift"}
    drifted = sum(s.value for s in seen if s.name == "lambda_gitops_alias_drift")
    total = next(s.value for s in seen if s.name == "lambda_gitops_aliases_drifted")
    return len(prefixes) <= 1 and drifted == total


@pytest.fixture
def promtool() -> str:
    path = shutil.which("promtool")
    require_tool(path is not None, "promtool (Debian's prometheus package) is not on PATH")
    assert path is not None
    return path


def test_promtool_finds_the_exposition_clean(metrics: Metrics, promtool: str) -> None:
    exercise(metrics)
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=scrape(metrics),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout

"""The emulator answers as real AWS did: LocalStack's recordings, replayed and compared.

``tests/emulator/recordings/`` holds the answers AWS gave to 48 of LocalStack's Lambda tests
(recorded in 2025 and 2026); ``aws_scenarios`` makes the same calls to the emulator, and
``replay`` compares every answer with its recording, placeholders bound (see both modules). The
first test holds the emulator to every recorded answer; the others each pin one of the five
causes of difference issue 15 found, so that the rule behind a failure is named.
"""

# ruff: noqa: N802 - test names carry the rule id as docs/lambda-rules.md spells it (L47)

from __future__ import annotations

from collections.abc import Callable

import pytest

from lambda_emulator import EmulatorServer
from tests.emulator.aws_scenarios import SCENARIOS, replay, replay_all
from tests.emulator.replay import Compared, compare_test, load_recordings, report_lines, summary


@pytest.fixture(scope="module")
def everything() -> list[Compared]:
    return replay_all()


def test_every_recorded_answer_of_aws_is_the_emulators(
    everything: list[Compared], record_property: Callable[[str, object], None]
) -> None:
    """Every answer matches its recording: same keys, same values, same relations."""
    record_property("replayed", summary(everything))
    # Every recording is replayed (none left without its scenario), and each one's answers
    # are compared.
    assert set(load_recordings()) == set(SCENARIOS)
    assert {result.test for result in everything} == set(SCENARIOS)
    mismatched = [result for result in everything if result.outcome != "match"]
    assert not mismatched, "\n".join(report_lines(mismatched))


def answers_of(emulator: EmulatorServer, test: str, *entries: str) -> list[Compared]:
    """The named recorded answers of one test, compared with the emulator's."""
    compared = compare_test(test, load_recordings()[test], replay(emulator, test))
    chosen = [result for result in compared if result.entry in entries]
    assert {result.entry for result in chosen} == set(entries)
    return chosen


def assert_all_match(results: list[Compared]) -> None:
    assert all(result.outcome == "match" for result in results), "\n".join(report_lines(results))


@pytest.mark.rule("L47")
def test_L47_recorded_publishes_answer_active_and_successful(emulator: EmulatorServer) -> None:
    """AWS answered PublishVersion with ``State: Active``, ``LastUpdateStatus: Successful``."""
    assert_all_match(
        answers_of(
            emulator,
            "TestLambdaVersions::test_version_lifecycle",
            "first_publish_response",
            "second_publish_response",
            "third_publish_response",
        )
    )


@pytest.mark.rule("L48")
def test_L48_recorded_environment_only_change_publishes_version_2(
    emulator: EmulatorServer,
) -> None:
    """AWS kept the environment and published version 2 after an environment-only change."""
    assert_all_match(
        answers_of(
            emulator,
            "TestLambdaAlias::test_alias_lifecycle",
            "create_response",
            "publish_v1",
            "publish_v2",
            "create_alias_1_1",
            "get_function_alias_1_1",
        )
    )


@pytest.mark.rule("L50")
def test_L50_recorded_stale_revision_id_is_412_and_python3_8_is_accepted(
    emulator: EmulatorServer,
) -> None:
    """AWS answered 412 to a stale RevisionId with ``Runtime=python3.8``, then took the
    runtime with the current one."""
    assert_all_match(
        answers_of(
            emulator,
            "TestLambdaRevisions::test_function_revisions_basic",
            "update_function_configuration_revision_exception",
            "update_function_configuration_response_rev5",
            "get_function_response_rev6",
        )
    )


@pytest.mark.rule("L51")
def test_L51_recorded_create_alias_of_a_missing_function_names_its_version(
    emulator: EmulatorServer,
) -> None:
    """AWS named ``...:function:NAME-unknown:1`` under ``Message``."""
    assert_all_match(
        answers_of(
            emulator,
            "TestLambdaAlias::test_notfound_and_invalid_routingconfigs",
            "routing_config_exc_fn_doesnotexist",
            "target_version_doesnotexist",
        )
    )


@pytest.mark.rule("L52")
def test_L52_recorded_delete_of_latest_by_arn_is_refused_even_for_a_missing_function(
    emulator: EmulatorServer,
) -> None:
    assert_all_match(
        answers_of(
            emulator,
            "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function]",
            "not_match_exception",
            "match_exception",
        )
    )

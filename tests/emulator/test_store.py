"""The store without HTTP: numbering, lazy settling, persistence, accounts and transactions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_emulator import Caller, EmulatorStore, LambdaApiError
from lambda_emulator.configuration import Configuration, ConfigurationChange
from tests.emulator.conftest import ROLE, code, write_old_state_file

HOME = Caller("123456789012", "us-east-1")

StoreFactory = Callable[..., EmulatorStore]


class FakeClock:
    """A wall clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def new_function(store: EmulatorStore, name: str = "orders", caller: Caller = HOME) -> None:
    store.create_function(
        caller, name, code=code(name), role=ROLE, runtime="python3.12", handler="app.handler"
    )


def test_version_numbers_are_never_reused_after_a_delete(store_factory: StoreFactory) -> None:
    """L7: the counter is per function and survives deleting the newest version."""
    store = store_factory()
    new_function(store)
    new_function(store, "other")
    for label in ("a", "b", "c"):
        store.update_function_code(HOME, "orders", code(label))
        store.publish_version(HOME, "orders")
    store.delete_function(HOME, "orders", "3")
    store.update_function_code(HOME, "orders", code("d"))
    assert store.publish_version(HOME, "orders").version == "4"
    assert store.publish_version(HOME, "other").version == "1"
    versions = [v.version for v in store.list_versions(HOME, "orders").items]
    assert versions == ["$LATEST", "1", "2", "4"]


def test_windows_settle_lazily_on_the_next_request(store_factory: StoreFactory) -> None:
    """A window that has ended is settled by the next request, with a new RevisionId (L28)."""
    clock = FakeClock()
    store = store_factory(update_seconds=5.0, clock=clock)
    new_function(store)
    pending = store.get_function(HOME, "orders")
    assert (pending.state, pending.last_update_status) == ("Pending", None)
    with pytest.raises(LambdaApiError, match="following state: Pending") as caught:
        store.publish_version(HOME, "orders")
    assert caught.value.status == 409
    clock.now += 5
    active = store.get_function(HOME, "orders")
    assert (active.state, active.last_update_status) == ("Active", "Successful")
    assert active.revision_id != pending.revision_id
    assert store.get_function(HOME, "orders").revision_id == active.revision_id

    updating = store.update_function_code(HOME, "orders", code("new"))
    assert updating.last_update_status == "InProgress"
    with pytest.raises(LambdaApiError, match="An update is in progress for resource: arn:aws"):
        store.update_function_configuration(HOME, "orders", description="x")
    clock.now += 5
    settled = store.list_functions(HOME).items[0]
    assert settled.last_update_status == "Successful"
    assert settled.revision_id not in (updating.revision_id, active.revision_id)


def test_a_zero_window_still_shows_in_the_write_response(store_factory: StoreFactory) -> None:
    """With no window the write says InProgress and the very next read says Successful."""
    store = store_factory()
    new_function(store)
    assert store.update_function_code(HOME, "orders", code("b")).last_update_status == (
        "InProgress"
    )
    assert store.get_function(HOME, "orders").last_update_status == "Successful"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with EmulatorStore(path) as store:
        new_function(store)
        store.publish_version(HOME, "orders")
        store.create_alias(HOME, "orders", "live", function_version="1")
        revision = store.get_alias(HOME, "orders", "live").revision_id
    with EmulatorStore(path) as store:
        alias = store.get_alias(HOME, "orders", "live")
        assert (alias.function_version, alias.revision_id) == ("1", revision)
        store.update_function_code(HOME, "orders", code("two"))
        assert store.publish_version(HOME, "orders").version == "2"


def test_accounts_and_regions_are_separate(store_factory: StoreFactory) -> None:
    store = store_factory()
    west = Caller("123456789012", "eu-west-1")
    other = Caller("210987654321", "us-east-1")
    for caller in (HOME, west, other):
        new_function(store, "orders", caller)
    store.publish_version(west, "orders")
    assert [f.function_arn for f in store.list_functions(other).items] == [
        "arn:aws:lambda:us-east-1:210987654321:function:orders"
    ]
    assert len(store.list_versions(west, "orders").items) == 2
    assert len(store.list_versions(HOME, "orders").items) == 1
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
    assert store.get_function(other, arn).function_arn == arn


def test_a_failed_transaction_changes_nothing(store_factory: StoreFactory) -> None:
    store = store_factory()
    new_function(store)

    def publish_then_fail() -> None:
        with store.transaction():
            store.publish_version(HOME, "orders")
            store.create_alias(HOME, "missing", "live", function_version="1")

    with pytest.raises(LambdaApiError, match="Function not found"):
        publish_then_fail()
    assert [v.version for v in store.list_versions(HOME, "orders").items] == ["$LATEST"]


def test_listing_pages_follow_the_marker(store_factory: StoreFactory) -> None:
    """L24: at most 50 versions a page; every page continues where the last one ended."""
    store = store_factory()
    new_function(store)
    for number in range(60):
        store.update_function_code(HOME, "orders", code(str(number)))
        store.publish_version(HOME, "orders")
    first = store.list_versions(HOME, "orders", max_items=1000)
    assert len(first.items) == 50
    assert first.next_marker is not None
    second = store.list_versions(HOME, "orders", marker=first.next_marker)
    assert second.next_marker is None
    seen = [v.version for v in first.items + second.items]
    assert seen == ["$LATEST", *(str(n) for n in range(1, 61))]


def test_list_aliases_pages_and_filters_on_the_primary_version(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    new_function(store)
    store.publish_version(HOME, "orders")
    store.update_function_code(HOME, "orders", code("two"))
    store.publish_version(HOME, "orders")
    for name in ("a", "b", "c"):
        store.create_alias(HOME, "orders", name, function_version="1")
    store.create_alias(HOME, "orders", "d", function_version="2", routing={"1": 0.5})
    page = store.list_aliases(HOME, "orders", max_items=2)
    assert ([a.name for a in page.items], page.next_marker) == (["a", "b"], "b")
    rest = store.list_aliases(HOME, "orders", marker=page.next_marker)
    assert ([a.name for a in rest.items], rest.next_marker) == (["c", "d"], None)
    on_one = store.list_aliases(HOME, "orders", function_version="1").items
    assert [a.name for a in on_one] == ["a", "b", "c"]


def test_operations_on_latest_refuse_a_version_qualifier(store_factory: StoreFactory) -> None:
    """L27: only $LATEST changes, so a FunctionName naming a version is refused."""
    store = store_factory()
    new_function(store)
    with pytest.raises(LambdaApiError, match="does not support versions other than") as caught:
        store.update_function_code(HOME, "orders:1", code("b"))
    assert caught.value.code == "InvalidParameterValueException"
    config = store.update_function_code(HOME, "orders:$LATEST", code("b"))
    assert config.code_sha256 == code("b").sha256


def test_a_dry_run_changes_nothing(store_factory: StoreFactory) -> None:
    """L31: the request is checked, including its RevisionId, and nothing changes."""
    store = store_factory()
    new_function(store)
    before = store.get_function(HOME, "orders")
    store.update_function_code(
        HOME, "orders", code("b"), dry_run=True, revision_id=before.revision_id
    )
    assert store.get_function(HOME, "orders") == before
    with pytest.raises(LambdaApiError, match="Revision Id provided does not match"):
        store.update_function_code(HOME, "orders", code("b"), dry_run=True, revision_id="stale")


def test_a_version_used_only_for_routing_cannot_be_deleted(store_factory: StoreFactory) -> None:
    """L35 leaves this case unverified; the emulator protects the routing version too."""
    store = store_factory()
    new_function(store)
    store.publish_version(HOME, "orders")
    store.update_function_code(HOME, "orders", code("b"))
    store.publish_version(HOME, "orders")
    store.create_alias(HOME, "orders", "live", function_version="2", routing={"1": 0.1})
    with pytest.raises(LambdaApiError, match=r"aliases reference it: \[live\]"):
        store.delete_function(HOME, "orders", "1")


# --- the configuration a version snapshots ------------------------------------------------------


def test_a_version_2_state_file_is_upgraded_and_reads_lambdas_defaults(tmp_path: Path) -> None:
    """Rows written before the configuration column read as Lambda's defaults, and compare
    equal to what an upgraded emulator writes, so no version is published for nothing."""
    path = tmp_path / "state.sqlite"
    write_old_state_file(path, version=2, published=True)

    with EmulatorStore(path) as store:
        latest = store.get_function(HOME, "orders")
        assert latest.configuration == Configuration()
        assert store.publish_version(HOME, "orders").version == "1"
        store.update_function_configuration(HOME, "orders", timeout=3)  # changes nothing
        assert store.publish_version(HOME, "orders").version == "1"
        environment = ConfigurationChange(environment={"STAGE": "prod"})
        store.update_function_configuration(HOME, "orders", configuration=environment)
        assert store.publish_version(HOME, "orders").version == "2"
        store.tag_resource(HOME, ORDERS_ARN, {"team": "orders"})
        assert store.put_function_concurrency(HOME, "orders", 3) == 3
        assert store.describe_function(HOME, "orders").tags == {"team": "orders"}


ORDERS_ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def test_a_version_keeps_its_configuration_when_latest_changes(store_factory: StoreFactory) -> None:
    """L48: a published version is a snapshot; later changes to $LATEST do not reach it."""
    store = store_factory()
    new_function(store)
    first = ConfigurationChange(environment={"STAGE": "beta"}, layers=(LAYER,))
    store.update_function_configuration(HOME, "orders", configuration=first)
    store.publish_version(HOME, "orders")
    second = ConfigurationChange(environment={"STAGE": "prod"}, layers=())
    store.update_function_configuration(HOME, "orders", memory_size=512, configuration=second)

    version = store.get_function(HOME, "orders", "1")
    latest = store.get_function(HOME, "orders")

    assert (version.configuration.environment, version.configuration.layers) == (
        {"STAGE": "beta"},
        (LAYER,),
    )
    assert (version.memory_size, latest.memory_size) == (128, 512)
    assert (latest.configuration.environment, latest.configuration.layers) == (
        {"STAGE": "prod"},
        (),
    )


LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:deps:7"


def test_deleting_a_function_deletes_its_tags_and_reservation(store_factory: StoreFactory) -> None:
    """A function created again under the same name starts with no tags and no reservation."""
    store = store_factory()
    new_function(store)
    store.tag_resource(HOME, ORDERS_ARN, {"team": "orders"})
    store.put_function_concurrency(HOME, "orders", 10)
    store.delete_function(HOME, "orders")

    new_function(store)

    details = store.describe_function(HOME, "orders")
    assert (details.tags, details.reserved_concurrency) == ({}, None)
    assert store.account_settings(HOME).unreserved_concurrency == 1000


def test_a_refused_configuration_change_leaves_latest_and_its_revision_alone(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    new_function(store)
    before = store.get_function(HOME, "orders")
    too_big = ConfigurationChange(environment={"BIG": "x" * 5000})

    with pytest.raises(LambdaApiError, match="exceeded the 4KB limit"):
        store.update_function_configuration(HOME, "orders", configuration=too_big)

    assert store.get_function(HOME, "orders") == before

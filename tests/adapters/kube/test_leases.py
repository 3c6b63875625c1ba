"""The Lease adapter through the real ``kubernetes`` client, against the Lease server of
``tests.kube_lease_server``: compare-and-set, the wire format, errors in the project's terms,
bounded requests; and the server itself checked against the client's models of a Lease, so that
what the tests pass on is what an API server would say."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from controller.adapters.kube.leases import (
    KubeLeaseDirectory,
    KubeLeases,
    api_client,
    micro_time,
)
from controller.core.election import LeaseRecord
from controller.errors import ConfigurationError, LeaseConflict, LeaseError
from tests.kube_lease_server import LeaseServer

NAMESPACE = "gitops"
NAME = "lambda-gitops"
WHOLE_SECOND = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 1, 12, 0, 2, 250000, tzinfo=UTC)


def leases_for(server: LeaseServer, tmp_path: Path, token: str = "pod-a") -> KubeLeases:
    kubeconfig = server.kubeconfig(tmp_path / f"{token}.kubeconfig", token)
    return KubeLeases(api_client(kubeconfig, {}), NAME, NAMESPACE)


def raw(server: LeaseServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request as any HTTP client would send it, with a token."""
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": "Bearer raw", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), json.loads(error.read())


ITEM = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/{NAME}"


# -- the adapter -----------------------------------------------------------------------------------


def test_an_absent_lease_reads_as_none_and_is_created_once(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    leases = leases_for(lease_server, tmp_path)
    assert leases.get(timeout=2) is None
    created = leases.create(LeaseRecord("pod-a", 15, LATER, LATER, 0), timeout=2)
    assert created.record == LeaseRecord("pod-a", 15, LATER, LATER, 0)
    assert created.resource_version
    with pytest.raises(LeaseConflict, match="already exists"):
        leases_for(lease_server, tmp_path, "pod-b").create(LeaseRecord("pod-b", 15), timeout=2)
    assert leases.get(timeout=2) == created


def test_a_replace_at_a_stale_version_is_a_conflict_and_changes_nothing(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    leases = leases_for(lease_server, tmp_path)
    first = leases.create(LeaseRecord("pod-a", 15, LATER, LATER, 0), timeout=2)
    second = leases.replace(first, LeaseRecord("pod-a", 15, LATER, LATER, 0), timeout=2)
    assert int(second.resource_version) > int(first.resource_version)
    writes = len(lease_server.history())
    with pytest.raises(LeaseConflict, match="the object has been modified"):
        leases.replace(first, LeaseRecord("pod-b", 15, LATER, LATER, 1), timeout=2)
    assert len(lease_server.history()) == writes
    assert leases.get(timeout=2) == second


def test_what_others_put_on_the_lease_is_kept_and_annotations_can_be_set(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    lease_server.put_lease(NAMESPACE, NAME, {"holderIdentity": "pod-z"})
    stored = lease_server.lease(NAMESPACE, NAME)
    assert stored is not None
    stored["metadata"]["labels"] = {"team": "platform"}
    stored["metadata"]["annotations"] = {"note": "kept"}
    assert raw(lease_server, "PUT", ITEM, stored)[0] == 200
    leases = leases_for(lease_server, tmp_path)
    read = leases.get(timeout=2)
    assert read is not None
    renewed = leases.replace(read, LeaseRecord("pod-a", 15, LATER, LATER, 1), timeout=2)
    assert renewed.labels == {"team": "platform"}
    assert renewed.annotations == {"note": "kept"}
    marked = leases.replace(
        renewed, renewed.record, timeout=2, annotations={**renewed.annotations, "x": "1"}
    )
    assert marked.annotations == {"note": "kept", "x": "1"}
    assert marked.record == renewed.record


def test_a_whole_second_is_still_sent_as_a_micro_time(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    """The client writes a datetime with isoformat(), which drops the fraction of a whole
    second; the API server would refuse that MicroTime, so the adapter never sends one."""
    leases = leases_for(lease_server, tmp_path)
    created = leases.create(LeaseRecord("pod-a", 15, WHOLE_SECOND, WHOLE_SECOND, 0), timeout=2)
    assert created.record.acquire_time == micro_time(WHOLE_SECOND)
    stored = lease_server.lease(NAMESPACE, NAME)
    assert stored is not None
    assert stored["spec"]["acquireTime"] == "2026-05-01T12:00:00.000001Z"
    assert lease_server.warnings == []


def test_an_unanswered_request_times_out_as_a_lease_error_and_is_not_retried(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    leases = leases_for(lease_server, tmp_path)
    leases.create(LeaseRecord("pod-a", 15, LATER, LATER, 0), timeout=2)
    lease_server.partition("pod-a")
    try:
        with pytest.raises(LeaseError, match=r"cannot read the Lease gitops/lambda-gitops: the "
                           r"request timed out \(timeout 0\.3 s\)"):  # fmt: skip
            leases.get(timeout=0.3)
    finally:
        lease_server.heal("pod-a")
    before = len(lease_server.requests())
    lease_server.drop("pod-a")
    with pytest.raises(LeaseError, match="the request failed"):
        leases.get(timeout=2)
    assert len(lease_server.requests()) == before + 1, "the client retried on its own"
    assert leases.get(timeout=2) is not None


def test_an_unauthenticated_or_unknown_request_gets_the_api_servers_status(
    lease_server: LeaseServer,
) -> None:
    request = urllib.request.Request(lease_server.url + ITEM)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    with refused.value as error:
        assert error.code == 401
        assert json.loads(error.read())["reason"] == "Unauthorized"
    code, status = raw(lease_server, "GET", "/api/v1/namespaces/x/pods")
    assert (code, status["reason"], status["kind"]) == (404, "NotFound", "Status")


def test_a_kubeconfig_that_cannot_be_loaded_is_one_line_naming_what_to_do(tmp_path: Path) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("clusters: [")
    with pytest.raises(ConfigurationError, match="cannot load the Kubernetes configuration"):
        api_client(broken, {})
    with pytest.raises(ConfigurationError, match="set KUBECONFIG"):
        api_client(None, {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"})
    with pytest.raises(ConfigurationError, match="KUBECONFIG"):
        api_client(None, {"KUBECONFIG": str(tmp_path / "missing")})


def test_kubeconfig_from_the_environment_is_used(lease_server: LeaseServer, tmp_path: Path) -> None:
    kubeconfig = lease_server.kubeconfig(tmp_path / "env.kubeconfig", "pod-env")
    leases = KubeLeases(api_client(None, {"KUBECONFIG": str(kubeconfig)}), NAME, NAMESPACE)
    assert leases.get(timeout=2) is None
    assert lease_server.requests()[-1][2] == "pod-env"


# -- the Leases of an installation, listed by label ------------------------------------------

GROUP = {"lambda-gitops.io/election": NAME}


def labelled(server: LeaseServer, tmp_path: Path, name: str, shards: str) -> KubeLeases:
    kubeconfig = server.kubeconfig(tmp_path / "lister.kubeconfig", "lister")
    labels = {**GROUP, "lambda-gitops.io/shards": shards}
    return KubeLeases(api_client(kubeconfig, {}), name, NAMESPACE, labels=labels)


def test_the_installations_leases_are_listed_by_label_each_with_its_name(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    for name, shards in (("lambda-gitops-0-of-3", "3"), ("lambda-gitops-0-of-4", "4")):
        labelled(lease_server, tmp_path, name, shards).create(
            LeaseRecord("pod-a", 15, LATER, LATER, 0), timeout=2
        )
    lease_server.put_lease(NAMESPACE, "someone-elses", {"holderIdentity": "x"})
    lease_server.put_lease("elsewhere", "lambda-gitops-1-of-3", {"holderIdentity": "y"})
    kubeconfig = lease_server.kubeconfig(tmp_path / "lister.kubeconfig", "lister")
    directory = KubeLeaseDirectory(api_client(kubeconfig, {}), NAMESPACE, GROUP)
    listed = directory.list(timeout=2)
    assert [(lease.name, lease.labels["lambda-gitops.io/shards"]) for lease in listed] == [
        ("lambda-gitops-0-of-3", "3"),
        ("lambda-gitops-0-of-4", "4"),
    ]
    assert listed[0].record == LeaseRecord("pod-a", 15, LATER, LATER, 0)
    method, path, _ = lease_server.requests()[-1]
    assert (method, path.split("?")[0]) == (
        "GET",
        f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases",
    )
    assert "labelSelector=lambda-gitops.io/election%3Dlambda-gitops" in path
    assert directory.where == f"{NAMESPACE} (lambda-gitops.io/election=lambda-gitops)"


def test_a_lease_made_by_hand_gets_the_installations_labels_at_its_first_replace(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    lease_server.put_lease(NAMESPACE, NAME, {"holderIdentity": ""})
    leases = labelled(lease_server, tmp_path, NAME, "1")
    read = leases.get(timeout=2)
    assert read is not None
    assert read.labels == {}
    taken = leases.replace(read, LeaseRecord("pod-a", 15, LATER, LATER, 1), timeout=2)
    assert taken.labels == {**GROUP, "lambda-gitops.io/shards": "1"}
    assert lease_server.history()[-1].labels == taken.labels


def test_a_listing_that_times_out_or_is_refused_is_a_lease_error(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    kubeconfig = lease_server.kubeconfig(tmp_path / "lister.kubeconfig", "lister")
    directory = KubeLeaseDirectory(api_client(kubeconfig, {}), NAMESPACE, GROUP)
    lease_server.partition("lister")
    try:
        with pytest.raises(LeaseError, match=r"cannot list the Leases of gitops \(lambda-gitops"
                           r"\.io/election=lambda-gitops\): the request timed out"):  # fmt: skip
            directory.list(timeout=0.3)
    finally:
        lease_server.heal("lister")
    set_based = KubeLeaseDirectory(api_client(kubeconfig, {}), NAMESPACE, {"a in (b)": "c"})
    with pytest.raises(LeaseError, match="HTTP 400: unable to parse requirement"):
        set_based.list(timeout=2)


# -- the server, against the client's models ---------------------------------------------------


def test_the_servers_lease_list_is_the_clients_lease_list(lease_server: LeaseServer) -> None:
    """A typed list, as the API server writes it: its items carry no kind or apiVersion."""
    full_lease(lease_server)
    code, listed = raw(
        lease_server,
        "GET",
        f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases?labelSelector=a%3Db",
    )
    assert code == 200
    assert (listed["kind"], listed["apiVersion"]) == ("LeaseList", "coordination.k8s.io/v1")
    assert set(listed) <= set(client.V1LeaseList.attribute_map.values())
    assert set(listed["metadata"]) <= set(client.V1ListMeta.attribute_map.values())
    (item,) = listed["items"]
    assert "kind" not in item
    assert "apiVersion" not in item
    decoded = client.ApiClient().deserialize(json.dumps(listed), "V1LeaseList", "application/json")
    assert isinstance(decoded, client.V1LeaseList)
    metadata = decoded.items[0].metadata
    assert metadata is not None
    assert metadata.name == NAME
    for selector, count in (("a%3Db", 1), ("a%3Dz", 0), ("a%21%3Db", 0), ("%21a", 0), ("a", 1)):
        path = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases?labelSelector="
        assert len(raw(lease_server, "GET", path + selector)[1]["items"]) == count, selector


def full_lease(server: LeaseServer) -> dict[str, Any]:
    """A Lease with every spec field the server keeps, written as a client would."""
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": NAME, "labels": {"a": "b"}, "annotations": {"c": "d"}},
        "spec": {
            "holderIdentity": "pod-a",
            "leaseDurationSeconds": 15,
            "acquireTime": "2026-05-01T12:00:00.000001+00:00",
            "renewTime": "2026-05-01T12:00:02.250000Z",
            "leaseTransitions": 4,
            "preferredHolder": "pod-b",
            "strategy": "OldestEmulationVersion",
        },
    }
    code, created = raw(
        server, "POST", f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases", body
    )
    assert code == 201, created
    return created  # type: ignore[no-any-return]


def test_every_field_the_server_writes_is_in_the_clients_lease_model(
    lease_server: LeaseServer,
) -> None:
    created = full_lease(lease_server)
    models: dict[str, Any] = {
        "": client.V1Lease,
        "metadata": client.V1ObjectMeta,
        "spec": client.V1LeaseSpec,
    }
    for part, model in models.items():
        document = created[part] if part else created
        known = set(model.attribute_map.values())
        assert set(document) <= known, f"{part or 'Lease'}: {set(document) - known}"
        for key in document:
            attribute = next(a for a, k in model.attribute_map.items() if k == key)
            assert attribute in model.openapi_types
    assert set(created["spec"]) == set(client.V1LeaseSpec.attribute_map.values())


def test_the_servers_json_round_trips_through_the_clients_deserializer(
    lease_server: LeaseServer,
) -> None:
    created = full_lease(lease_server)
    api = client.ApiClient()
    lease = api.deserialize(json.dumps(created), "V1Lease", "application/json")
    assert isinstance(lease, client.V1Lease)
    assert lease.spec is not None
    assert lease.spec.renew_time == datetime(2026, 5, 1, 12, 0, 2, 250000, tzinfo=UTC)
    # What the client sends for a request body; the method has no annotations.
    again = api.sanitize_for_serialization(lease)  # type: ignore[no-untyped-call]
    for time_field in ("acquireTime", "renewTime"):  # isoformat, the same instant
        assert datetime.fromisoformat(again["spec"].pop(time_field)) == datetime.fromisoformat(
            created["spec"].pop(time_field).replace("Z", "+00:00")
        )
    assert (
        again["metadata"]
        .pop("creationTimestamp")
        .startswith(created["metadata"].pop("creationTimestamp")[:19])
    )
    assert again == created


@pytest.mark.parametrize(
    ("spec", "code", "reason"),
    [
        ({"renewTime": "2026-05-01T12:00:02Z"}, 400, "BadRequest"),  # no fraction
        ({"renewTime": "2026-05-01T12:00:02.25Z"}, 400, "BadRequest"),  # not six digits
        ({"leaseDurationSeconds": "15"}, 400, "BadRequest"),
        ({"leaseDurationSeconds": 0}, 422, "Invalid"),
        ({"leaseTransitions": -1}, 422, "Invalid"),
    ],
)
def test_the_server_refuses_what_the_api_server_refuses(
    lease_server: LeaseServer, spec: dict[str, Any], code: int, reason: str
) -> None:
    body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": NAME}}
    answer = raw(
        lease_server,
        "POST",
        f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases",
        {**body, "spec": spec},
    )
    assert (answer[0], answer[1]["reason"], answer[1]["code"]) == (code, reason, code)
    assert lease_server.lease(NAMESPACE, NAME) is None

"""What the Lease adapter makes of answers an API server, a proxy in front of it, or another
writer of the Lease (``kubectl edit``, a controller of another version) may give: through the
real ``kubernetes`` client against the Lease server, whose ``answer`` hook sends any status and
body. Whatever comes back is a ``Lease`` or a ``LeaseError`` of one line, never another
exception: the elector's thread must not die of an answer. A Lease that cannot be written back
safely (no ``resourceVersion``) is an error, never a free Lease; a field that cannot be read is
read on the safe side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.adapters.kube.leases import KubeLeaseDirectory, KubeLeases, api_client
from controller.core.election import MAX_TRANSITIONS, LeaseRecord
from controller.errors import LeaseError, LeaseGone
from tests.kube_lease_server import LeaseServer

NAMESPACE = "gitops"
NAME = "lambda-gitops"
TOKEN = "pod-a"


def leases_for(server: LeaseServer, tmp_path: Path) -> KubeLeases:
    kubeconfig = server.kubeconfig(tmp_path / f"{TOKEN}.kubeconfig", TOKEN)
    return KubeLeases(api_client(kubeconfig, {}), NAME, NAMESPACE)


def lease_document(spec: Any, metadata: Any = None) -> bytes:
    if metadata is None:
        metadata = {"name": NAME, "namespace": NAMESPACE, "resourceVersion": "7"}
    return json.dumps(
        {
            "kind": "Lease",
            "apiVersion": "coordination.k8s.io/v1",
            "metadata": metadata,
            "spec": spec,
        }
    ).encode()


STATUS_OK = json.dumps(
    {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 200}
).encode()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param(b"<html>502 Bad Gateway</html>", "the answer is not JSON", id="html"),
        pytest.param(b'{"kind": "Lease", "metadata": {"na', "the answer is not JSON", id="cut"),
        pytest.param(b"", "the answer is not JSON", id="empty"),
        pytest.param(b"\xff\xfe\x00", "the answer is not JSON", id="not-utf8"),
        pytest.param(b"[" * 100_000, "the answer is not JSON", id="nested-too-deep"),
        pytest.param(b"[1, 2]", "the answer is not a Lease", id="list"),
        pytest.param(b"null", "the answer is not a Lease", id="null"),
        pytest.param(STATUS_OK, 'the answer is a "Status", not a Lease', id="status-200"),
        pytest.param(
            lease_document({"holderIdentity": "pod-b"}, {"name": NAME}),
            "no metadata.resourceVersion",
            id="no-version",
        ),
        pytest.param(
            lease_document({}, {"name": NAME, "resourceVersion": 7}),
            "no metadata.resourceVersion",
            id="version-not-a-string",
        ),
        pytest.param(lease_document({}, []), "the answer has no metadata", id="metadata-list"),
        pytest.param(lease_document("held"), "spec is not an object", id="spec-string"),
    ],
)
def test_an_answer_that_is_not_a_lease_is_a_lease_error_not_a_free_lease(
    lease_server: LeaseServer, tmp_path: Path, body: bytes, says: str
) -> None:
    """A 200 without a Lease in it must not read as a Lease nobody holds: the replace that
    follows would carry no resourceVersion, and overwrite whoever holds it."""
    leases = leases_for(lease_server, tmp_path)
    lease_server.answer(TOKEN, 200, body)
    with pytest.raises(LeaseError, match=says) as read:
        leases.get(timeout=2)
    lease_server.answer(TOKEN, 200, body)
    with pytest.raises(LeaseError, match=says) as created:
        leases.create(LeaseRecord("pod-a", 15), timeout=2)
    assert "\n" not in str(read.value) + str(created.value)
    assert lease_server.history() == []


@pytest.mark.parametrize(
    ("code", "headers", "says"),
    [
        (500, {}, "HTTP 500"),
        (503, {"Retry-After": "5"}, "HTTP 503"),
        (429, {"Retry-After": "1"}, "HTTP 429"),
        (429, {}, "HTTP 429"),
        (401, {}, "unauthorized .* service account token"),
        (403, {}, "forbidden .* needs get on leases.coordination.k8s.io in gitops"),
        (502, {"Content-Type": "text/html"}, "HTTP 502"),
    ],
)
def test_a_refusal_is_a_lease_error_of_one_line_whatever_its_body(
    lease_server: LeaseServer, tmp_path: Path, code: int, headers: dict[str, str], says: str
) -> None:
    leases = leases_for(lease_server, tmp_path)
    for body in (
        b"",
        b"not json \x00\x1b[31m",
        b'{"message": "' + b"x" * 10_000 + b'"}',
        b"[" * 100_000,  # deeper than json.loads can go
    ):
        lease_server.answer(TOKEN, code, body, headers=headers)
        with pytest.raises(LeaseError, match=says) as raised:
            leases.get(timeout=2)
        message = str(raised.value)
        assert "\n" not in message
        assert "\x1b" not in message
        assert len(message) < 600


def test_forbidden_names_the_verb_that_was_refused(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    leases = leases_for(lease_server, tmp_path)
    forbidden = json.dumps(
        {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "leases is forbidden"}
    ).encode()
    lease_server.answer(TOKEN, 403, forbidden)
    with pytest.raises(
        LeaseError, match=r"needs create on leases\.coordination\.k8s\.io in gitops"
    ):
        leases.create(LeaseRecord("pod-a", 15), timeout=2)
    created = leases.create(LeaseRecord("pod-a", 15), timeout=2)
    lease_server.answer(TOKEN, 403, forbidden)
    with pytest.raises(
        LeaseError, match=r"needs update on leases\.coordination\.k8s\.io in gitops"
    ):
        leases.replace(created, created.record, timeout=2)
    directory = KubeLeaseDirectory(leases._api.api_client, NAMESPACE, {"a": "b"})
    lease_server.answer(TOKEN, 403, forbidden)
    with pytest.raises(LeaseError, match=r"needs list on leases\.coordination\.k8s\.io in gitops"):
        directory.list(timeout=2)


def test_a_lease_deleted_between_read_and_replace_is_lease_gone(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    leases = leases_for(lease_server, tmp_path)
    created = leases.create(LeaseRecord("pod-a", 15), timeout=2)
    lease_server.answer(TOKEN, 404, b'{"kind": "Status", "code": 404, "reason": "NotFound"}')
    with pytest.raises(LeaseGone, match="no longer exists"):
        leases.replace(created, created.record, timeout=2)


def test_a_listing_that_is_not_a_lease_list_is_a_lease_error(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    kubeconfig = lease_server.kubeconfig(tmp_path / "lister.kubeconfig", TOKEN)
    directory = KubeLeaseDirectory(api_client(kubeconfig, {}), NAMESPACE, {"a": "b"})
    for body in (
        b"[]",
        STATUS_OK,
        b'{"kind": "LeaseList", "items": {"a": 1}}',
        b"{",
        b'{"items": [1]}',
    ):
        lease_server.answer(TOKEN, 200, body)
        with pytest.raises(LeaseError):
            directory.list(timeout=2)
    lease_server.answer(TOKEN, 200, b'{"kind": "LeaseList", "items": null}')
    assert directory.list(timeout=2) == []


@pytest.mark.parametrize(
    ("spec", "record"),
    [
        ({}, LeaseRecord()),
        ({"holderIdentity": None, "leaseDurationSeconds": None}, LeaseRecord()),
        # A holder that declares no usable duration: 0, which the elector judges by its own.
        ({"holderIdentity": "pod-b"}, LeaseRecord("pod-b")),
        ({"holderIdentity": "pod-b", "leaseDurationSeconds": "15"}, LeaseRecord("pod-b")),
        ({"holderIdentity": "pod-b", "leaseDurationSeconds": 15.0}, LeaseRecord("pod-b")),
        ({"holderIdentity": "pod-b", "leaseDurationSeconds": True}, LeaseRecord("pod-b")),
        ({"holderIdentity": "pod-b", "leaseDurationSeconds": -5}, LeaseRecord("pod-b")),
        ({"holderIdentity": "pod-b", "leaseDurationSeconds": 2**63}, LeaseRecord("pod-b")),
        ({"holderIdentity": "pod-b", "leaseDurationSeconds": 10**400}, LeaseRecord("pod-b")),
        (
            {"holderIdentity": "pod-b", "leaseDurationSeconds": 2**31 - 1},
            LeaseRecord("pod-b", 2**31 - 1),
        ),
        # An unreadable holder still holds the Lease.
        ({"holderIdentity": 5, "leaseDurationSeconds": 15}, LeaseRecord("5", 15)),
        ({"holderIdentity": {"a": 1}}, LeaseRecord('{"a": 1}')),
        # Times Python cannot hold, or that are not times, are none.
        ({"renewTime": "0000-01-01T00:00:00.000000Z"}, LeaseRecord()),
        ({"renewTime": "garbage", "acquireTime": 5}, LeaseRecord()),
        ({"renewTime": "9999-12-31T23:59:59.999999-01:00"}, LeaseRecord()),
        ({"renewTime": "0001-01-01T00:00:00.000000+01:00"}, LeaseRecord()),
        ({"leaseTransitions": -3}, LeaseRecord()),
        ({"leaseTransitions": "4"}, LeaseRecord()),
        ({"leaseTransitions": 2**40}, LeaseRecord(transitions=MAX_TRANSITIONS)),
    ],
)
def test_a_spec_field_that_cannot_be_read_is_read_on_the_safe_side(
    lease_server: LeaseServer, tmp_path: Path, spec: dict[str, Any], record: LeaseRecord
) -> None:
    lease_server.answer(TOKEN, 200, lease_document(spec))
    read = leases_for(lease_server, tmp_path).get(timeout=2)
    assert read is not None
    assert read.record == record
    assert read.resource_version == "7"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
spec_fields = st.sampled_from(
    ["holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions"]
)
times = st.datetimes().map(lambda moment: moment.isoformat()) | st.sampled_from(
    ["0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999-23:59", "2026-05-01T12:00:00Z"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spec=st.dictionaries(spec_fields, json_values | times, max_size=5) | json_values,
    metadata=st.none()
    | json_values
    | st.fixed_dictionaries(
        {"resourceVersion": st.text(min_size=1, max_size=5)},
        optional={"labels": json_values, "annotations": json_values, "name": json_values},
    ),
)
def test_whatever_the_lease_says_the_adapter_reads_a_lease_or_fails_with_a_lease_error(
    lease_server: LeaseServer, tmp_path: Path, spec: Any, metadata: Any
) -> None:
    leases = leases_for(lease_server, tmp_path)
    lease_server.answer(TOKEN, 200, lease_document(spec, metadata if metadata is not None else {}))
    try:
        read, failure = leases.get(timeout=2), None
    except LeaseError as error:
        read, failure = None, str(error)
    if failure is not None:
        assert "\n" not in failure
        return
    assert read is not None
    record = read.record
    assert isinstance(record.holder, str)
    assert 0 <= record.lease_duration_seconds < 2**31
    assert 0 <= record.transitions <= MAX_TRANSITIONS
    assert read.resource_version
    assert all(isinstance(value, str) for value in read.annotations.values())


def test_an_answer_to_a_write_that_does_not_hold_what_was_written_is_a_lease_error(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    """A proxy that answers a cached or made-up Lease has not shown that the write was made:
    the elector must not lead on its word."""
    leases = leases_for(lease_server, tmp_path)
    created = leases.create(LeaseRecord("pod-a", 15), timeout=2)
    lease_server.answer(TOKEN, 200, lease_document({"holderIdentity": ""}))
    with pytest.raises(LeaseError, match=r'the answer holds "", not the "pod-a" written'):
        leases.replace(created, created.record, timeout=2)
    lease_server.answer(TOKEN, 201, lease_document({"holderIdentity": "pod-b"}))
    with pytest.raises(LeaseError, match=r'the answer holds "pod-b", not the "pod-a" written'):
        leases.create(LeaseRecord("pod-a", 15), timeout=2)


def test_an_answer_that_trickles_in_is_given_up_at_the_requests_timeout(
    lease_server: LeaseServer, tmp_path: Path
) -> None:
    """urllib3's timeout bounds each wait for a byte: before, a proxy sending one byte every
    0.2 s held a request of 0.5 s for as long as the body lasted (30 s for 150 bytes), and the
    elector with it, past its renew deadline."""
    leases = leases_for(lease_server, tmp_path)
    created = leases.create(LeaseRecord("pod-a", 15), timeout=2)
    lease_server.answer(TOKEN, 200, lease_document({"holderIdentity": "pod-a"}), trickle=0.2)
    with pytest.raises(LeaseError, match=r"the request timed out \(timeout 0\.5 s\)"):
        leases.get(timeout=0.5)
    assert leases.get(timeout=2) == created

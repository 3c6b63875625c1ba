"""One Lease read, created and replaced through the official ``kubernetes`` client, and the
Leases of an installation listed.

The elector (``engine.leader``) needs three calls of ``coordination.k8s.io/v1``: read the
Lease, create it, and replace it naming the ``resourceVersion`` it read; the topology rule of
sharding (``core.sharding``) a fourth, the list of the installation's Leases by label.
``port.LeaseStore`` and ``port.LeaseDirectory`` are those ports, in the project's own terms
(``core.election.Lease``); ``KubeLeases`` and ``KubeLeaseDirectory`` implement them over the
client's ``CoordinationV1Api``, so that the wire format (the JSON, the MicroTime
timestamps, the Status objects of errors) is the client's, and the configuration (the pod's
service account in a cluster, a kubeconfig outside one) is loaded the way every Kubernetes
tool loads it.

This is the one module that touches the client: its objects become ``Lease`` values here, and
its errors become ``LeaseError`` (``LeaseConflict`` for a 409, ``LeaseGone`` for a 404 on a
replace) with ``raise ... from``.

Answers are read here, not by the client's models, because those raise whatever pydantic,
``json`` or ``datetime`` raise on a body they do not expect, and refuse a whole Lease for one
field the API server itself accepts (a ``renewTime`` in year 0, which Python cannot hold). What
an API server, a proxy or another writer of the Lease may answer is read as follows:

- an answer that is not a Lease (not JSON, truncated, a list, a ``Status``, or without the
  ``metadata.resourceVersion`` that the next replace must name) is a ``LeaseError``: a replace
  without a version would overwrite whatever holder is there;
- a spec field that cannot be read is read as absent, on the safe side: an unreadable holder
  still holds the Lease (as its JSON text), an unusable ``leaseDurationSeconds`` (missing,
  not above 0, not an int32) is 0, which the elector judges by its own duration
  (``core.election``), an unreadable time is none, and ``leaseTransitions`` is kept within
  0 and the largest int32;
- the answer to a write must hold the holder written, or the write is not taken as made.

Every call has a timeout, shorter than the renew deadline (the elector chooses it); the
client's own retries are off, and a request that has not ended within its timeout is given up,
however slowly its answer trickles in (``_answer``), so that a call never takes longer than its
timeout: a leader cut off from the API server learns it in time to stop writing.

The client is slow to import, which every command would pay: only ``run`` with leader election
on imports this module (``bootstrap``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client import ApiException

from controller.core.election import MAX_TRANSITIONS, Lease, LeaseRecord
from controller.errors import ConfigurationError, LeaseConflict, LeaseError, LeaseGone

IN_CLUSTER_HOST = "KUBERNETES_SERVICE_HOST"
"""Set by the kubelet in every pod: the API server is reachable with the pod's token."""

MAX_INT32 = 2**31 - 1
"""``leaseDurationSeconds`` and ``leaseTransitions`` are int32 on the wire."""

QUOTED_LIMIT = 200
"""Characters of an unexpected answer quoted in a message, so that a log line stays a line."""


class KubeLeases:
    """``LeaseStore`` over the Kubernetes API, for the Lease ``name`` in ``namespace``.

    ``labels`` are put on the Lease when it is created, and added back by every replace that
    finds them missing (a Lease someone made by hand), so that ``KubeLeaseDirectory`` lists it.
    """

    def __init__(
        self,
        api: client.ApiClient,
        name: str,
        namespace: str,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self._api = client.CoordinationV1Api(api)
        self.name = name
        self.namespace = namespace
        self._labels = dict(labels or {})

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    def get(self, *, timeout: float) -> Lease | None:
        doing = f"read the Lease {self.where}"
        with translated(doing, self.namespace, timeout, verb="get"):
            try:
                found = _answer(
                    lambda: self._api.read_namespaced_lease(
                        self.name, self.namespace, _request_timeout=timeout, _preload_content=False
                    ),
                    timeout,
                )
            except ApiException as error:
                if error.status != 404:
                    raise
                return None
            return lease_of(found)

    def create(self, record: LeaseRecord, *, timeout: float) -> Lease:
        body = self._body(record, resource_version=None, labels=self._labels, annotations={})
        doing = f"create the Lease {self.where}"
        with translated(doing, self.namespace, timeout, verb="create"):
            created = _answer(
                lambda: self._api.create_namespaced_lease(
                    self.namespace, body, _request_timeout=timeout, _preload_content=False
                ),
                timeout,
            )
            return written(lease_of(created), record)

    def replace(
        self,
        lease: Lease,
        record: LeaseRecord,
        *,
        timeout: float,
        annotations: Mapping[str, str] | None = None,
    ) -> Lease:
        body = self._body(
            record,
            resource_version=lease.resource_version,
            labels={**lease.labels, **self._labels},
            annotations=lease.annotations if annotations is None else annotations,
        )
        doing = f"replace the Lease {self.where}"
        with translated(doing, self.namespace, timeout, verb="update"):
            try:
                replaced = _answer(
                    lambda: self._api.replace_namespaced_lease(
                        self.name,
                        self.namespace,
                        body,
                        _request_timeout=timeout,
                        _preload_content=False,
                    ),
                    timeout,
                )
            except ApiException as error:
                if error.status != 404:
                    raise
                # Deleted since it was read (kubectl delete): the elector reads it again.
                raise LeaseGone(f"cannot {doing}: it no longer exists") from error
            return written(lease_of(replaced), record)

    def _body(
        self,
        record: LeaseRecord,
        *,
        resource_version: str | None,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
    ) -> client.V1Lease:
        return client.V1Lease(
            api_version="coordination.k8s.io/v1",
            kind="Lease",
            metadata=client.V1ObjectMeta(
                name=self.name,
                namespace=self.namespace,
                resource_version=resource_version,
                labels=dict(labels) or None,
                annotations=dict(annotations) or None,
            ),
            spec=spec_of(record),
        )


class KubeLeaseDirectory:
    """``LeaseDirectory`` over the Kubernetes API: the Leases of ``namespace`` that carry every
    label of ``labels`` (one installation's), listed with an equality label selector."""

    def __init__(self, api: client.ApiClient, namespace: str, labels: Mapping[str, str]) -> None:
        self._api = client.CoordinationV1Api(api)
        self.namespace = namespace
        self.selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))

    @property
    def where(self) -> str:
        return f"{self.namespace} ({self.selector})"

    def list(self, *, timeout: float) -> list[Lease]:
        doing = f"list the Leases of {self.where}"
        with translated(doing, self.namespace, timeout, verb="list"):
            found = _answer(
                lambda: self._api.list_namespaced_lease(
                    self.namespace,
                    label_selector=self.selector,
                    _request_timeout=timeout,
                    _preload_content=False,
                ),
                timeout,
            )
            return leases_of(found)


@contextmanager
def translated(doing: str, namespace: str, timeout: float, *, verb: str) -> Iterator[None]:
    """Turn whatever the client raises while ``doing`` into a ``LeaseError``: the API server's
    refusal by its status (``_lease_error``), a timeout or a failed connection as the request
    that did not get through. ``namespace`` is where the Lease's RBAC rule must be, ``verb``
    the permission the request needs there, and ``timeout`` the request's, all named in the
    message."""
    try:
        yield
    except NotALease as error:
        raise LeaseError(f"cannot {doing}: {error}") from error
    except ApiException as error:
        raise _lease_error(doing, namespace, error, verb) from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise _unreachable(doing, error, timeout) from error


def _lease_error(doing: str, namespace: str, error: ApiException, verb: str) -> LeaseError:
    """The API server's refusal of ``doing`` in the project's terms: a 409 is a conflict; a
    401 or a 403 says what to give the service account."""
    status = int(error.status or 0)
    message = _status_message(error)
    if status == 409:
        return LeaseConflict(f"cannot {doing}: {message}")
    if status == 401:
        return LeaseError(
            f"cannot {doing}: unauthorized ({message}): the API server refused the credentials; "
            "check that the pod mounts its service account token (or that the kubeconfig's "
            "user is valid for this cluster)"
        )
    if status == 403:
        return LeaseError(
            f"cannot {doing}: forbidden ({message}); the service account needs {verb} on "
            f"leases.coordination.k8s.io in {namespace} (the chart's Role grants get, list, "
            "create and update)"
        )
    return LeaseError(f"cannot {doing}: HTTP {status}: {message}")


def _unreachable(doing: str, error: Exception, timeout: float) -> LeaseError:
    kind = "timed out" if _timed_out(error) else "failed"
    cause = getattr(error, "reason", None) or error
    return LeaseError(
        f"cannot {doing}: the request {kind} (timeout {timeout:.3g} s): {type(cause).__name__}"
    )


class NotALease(ValueError):
    """An answer of status 2xx that is not what was asked for: no Lease can be read from it."""


def _answer(send: Callable[[], Any], timeout: float) -> Any:
    """The decoded JSON of the 2xx answer to the request ``send`` makes, within ``timeout``
    seconds in all, or ``NotALease``; a refusal is the client's ``ApiException``.

    urllib3's timeout bounds each wait for a byte, not the request: a proxy that sends a byte
    every second holds a request of 1 s for as long as it likes. So the request runs on a
    thread of its own, and is given up, a ``TimeoutError``, when it has not ended in time; its
    answer, should one come, is dropped. That is safe: every write names a resourceVersion,
    and a write made without our knowing is found at the next read (the Lease held by this
    candidate is renewed, as after a restart)."""
    outcome: list[tuple[bool, Any]] = []

    def request() -> None:
        try:
            response = send()
            try:
                outcome.append((True, response.data))
            finally:
                response.release_conn()
        except Exception as error:  # noqa: BLE001 - raised again in the caller's thread
            outcome.append((False, error))

    worker = threading.Thread(target=request, name="lease-request", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise TimeoutError(f"no complete answer within {timeout:.3g} s")
    answered, data = outcome[0]
    if not answered:
        raise data
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise NotALease(f"the answer is not JSON: {_quoted(data)}") from error


def written(answered: Lease, record: LeaseRecord) -> Lease:
    """The answer to a write of ``record``, which must hold its holder: a proxy that answers
    some other Lease (a cached one, or one it made up) has not shown the write was made, and
    the elector must not lead on its word."""
    if answered.record.holder != record.holder:
        raise NotALease(
            f"the answer holds {_quoted(answered.record.holder)}, not the "
            f"{_quoted(record.holder)} written"
        )
    return answered


def leases_of(document: Any) -> list[Lease]:
    """The Leases of a LeaseList as the API server wrote it; ``NotALease`` when it is not one."""
    if not isinstance(document, dict) or document.get("kind", "LeaseList") != "LeaseList":
        raise NotALease(f"the answer is not a LeaseList: {_quoted(document)}")
    items = document.get("items") or []
    if not isinstance(items, list):
        raise NotALease(f"the LeaseList's items are not a list: {_quoted(items)}")
    # A typed list's items carry no kind (the API server leaves it out).
    return [lease_of(item, kind=None) for item in items]


def lease_of(document: Any, *, kind: str | None = "Lease") -> Lease:
    """A Lease as the API server wrote it (its JSON, decoded), in the project's terms;
    ``NotALease`` when it is not one (the module's docstring says how fields are read).
    ``kind`` is the kind the document must say when it says one."""
    if not isinstance(document, dict):
        raise NotALease(f"the answer is not a Lease: {_quoted(document)}")
    if kind is not None and document.get("kind", kind) != kind:
        raise NotALease(f"the answer is a {_quoted(document.get('kind'))}, not a Lease")
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        raise NotALease("the answer has no metadata")
    version = metadata.get("resourceVersion")
    if not isinstance(version, str) or not version:
        raise NotALease(
            "the answer has no metadata.resourceVersion, which a replace must name "
            f"(got {_quoted(version)})"
        )
    spec = document.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise NotALease(f"the Lease's spec is not an object: {_quoted(spec)}")
    name = metadata.get("name")
    return Lease(
        record_of(spec),
        resource_version=version,
        labels=_strings(metadata.get("labels")),
        annotations=_strings(metadata.get("annotations")),
        name=name if isinstance(name, str) else "",
    )


def record_of(spec: Mapping[str, Any]) -> LeaseRecord:
    """The record a Lease's spec holds, each field read on the safe side when it cannot be."""
    holder = spec.get("holderIdentity")
    if holder is not None and not isinstance(holder, str):
        holder = json.dumps(holder, sort_keys=True)  # held by someone, whatever it says
    duration = _integer(spec.get("leaseDurationSeconds"))
    if duration is None or not 0 < duration <= MAX_INT32:
        duration = 0
    transitions = _integer(spec.get("leaseTransitions"))
    return LeaseRecord(
        holder=holder or "",
        lease_duration_seconds=duration,
        acquire_time=_moment(spec.get("acquireTime")),
        renew_time=_moment(spec.get("renewTime")),
        transitions=min(max(transitions or 0, 0), MAX_TRANSITIONS),
    )


def _integer(value: Any) -> int | None:
    """``value`` when it is a JSON integer (not a boolean, which Python counts as one)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(value: Any) -> datetime | None:
    """A MicroTime (or a Time) as UTC, or ``None`` when it is none Python can hold."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _strings(value: Any) -> dict[str, str]:
    """Labels or annotations: the entries that are strings, as the API server only keeps."""
    if not isinstance(value, dict):
        return {}
    return {key: text for key, text in value.items() if isinstance(text, str)}


def _quoted(value: Any) -> str:
    """``value`` (bytes as answered, or decoded JSON) as a short quote of one line."""
    return _one_line(
        value.decode("utf-8", "replace") if isinstance(value, bytes) else json.dumps(value)
    )


def _one_line(text: str) -> str:
    """``text`` on one line, control characters escaped, cut at ``QUOTED_LIMIT``."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= QUOTED_LIMIT else text[:QUOTED_LIMIT] + "..."


def spec_of(record: LeaseRecord) -> client.V1LeaseSpec:
    """The Lease spec that holds ``record``, as client-go writes it (an empty holder too)."""
    return client.V1LeaseSpec(
        holder_identity=record.holder,
        # None declared (0): left out, as read; the API server refuses 0.
        lease_duration_seconds=record.lease_duration_seconds or None,
        acquire_time=micro_time(record.acquire_time),
        renew_time=micro_time(record.renew_time),
        lease_transitions=record.transitions,
    )


def micro_time(moment: datetime | None) -> datetime | None:
    """``moment`` as a Kubernetes MicroTime can carry it.

    The API server parses MicroTime with exactly six fractional digits, and the client writes a
    datetime with ``isoformat()``, which leaves the fraction out of a whole second: such a time
    is moved by one microsecond, so that the request is never refused for its format.
    """
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=1) if moment.microsecond == 0 else moment


def _status_message(error: ApiException) -> str:
    """The ``message`` of the Status object the API server answered, else its reason."""
    body: Any = error.body
    try:
        status = json.loads(body) if isinstance(body, str | bytes) else None
    except (ValueError, RecursionError):
        status = None
    if isinstance(status, dict) and isinstance(status.get("message"), str):
        return _one_line(status["message"])
    return _one_line(str(error.reason or "no reason given"))


def _timed_out(error: Exception) -> bool:
    if isinstance(error, TimeoutError | urllib3.exceptions.TimeoutError):
        return True
    reason = getattr(error, "reason", None)
    return isinstance(reason, TimeoutError | urllib3.exceptions.TimeoutError)


def api_client(kubeconfig: Path | None, environ: Mapping[str, str]) -> client.ApiClient:
    """A client of the cluster's API server, configured as Kubernetes tools do it: the
    ``kubeconfig`` file when given, else the ``KUBECONFIG`` files, else the pod's service
    account when running in a pod, else ``~/.kube/config``. The client's own retries are off:
    the elector retries at its own pace, within its deadlines."""
    configuration = client.Configuration()
    try:
        if kubeconfig is not None:
            config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
        elif environ.get("KUBECONFIG"):
            config.load_kube_config(
                config_file=environ["KUBECONFIG"], client_configuration=configuration
            )
        elif environ.get(IN_CLUSTER_HOST):
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(
                config_file=str(Path("~/.kube/config").expanduser()),
                client_configuration=configuration,
            )
    except Exception as error:
        # The loaders raise whatever their YAML, JSON and file reading raise (ConfigException,
        # yaml.YAMLError, OSError, KeyError...): each means the configuration cannot be used.
        where = str(kubeconfig) if kubeconfig is not None else "the environment"
        raise ConfigurationError(
            f"leader election: cannot load the Kubernetes configuration from {where}: "
            f"{error}; run in a pod whose service account token is mounted, or set KUBECONFIG "
            "(or leader_election.kubeconfig) to a kubeconfig file"
        ) from error
    configuration.retries = 0
    return client.ApiClient(configuration)

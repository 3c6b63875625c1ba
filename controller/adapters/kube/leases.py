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
its errors become ``LeaseError`` (``LeaseConflict`` for a 409) with ``raise ... from``. Every
call has a timeout, shorter than the renew deadline (the elector chooses it), and the client's
own retries are off, so that a call never takes longer than its timeout: a leader cut off from
the API server learns it in time to stop writing.

The client is slow to import, which every command would pay: only ``run`` with leader election
on imports this module (``bootstrap``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client import ApiException

from controller.core.election import Lease, LeaseRecord
from controller.errors import ConfigurationError, LeaseConflict, LeaseError

IN_CLUSTER_HOST = "KUBERNETES_SERVICE_HOST"
"""Set by the kubelet in every pod: the API server is reachable with the pod's token."""


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
        with translated(f"read the Lease {self.where}", self.namespace, timeout):
            try:
                found = self._api.read_namespaced_lease(
                    self.name, self.namespace, _request_timeout=timeout
                )
            except ApiException as error:
                if error.status != 404:
                    raise
                return None
        return lease_of(found)

    def create(self, record: LeaseRecord, *, timeout: float) -> Lease:
        body = self._body(record, resource_version=None, labels=self._labels, annotations={})
        with translated(f"create the Lease {self.where}", self.namespace, timeout):
            created = self._api.create_namespaced_lease(
                self.namespace, body, _request_timeout=timeout
            )
        return lease_of(created)

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
        with translated(f"replace the Lease {self.where}", self.namespace, timeout):
            replaced = self._api.replace_namespaced_lease(
                self.name, self.namespace, body, _request_timeout=timeout
            )
        return lease_of(replaced)

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
        with translated(f"list the Leases of {self.where}", self.namespace, timeout):
            found = self._api.list_namespaced_lease(
                self.namespace, label_selector=self.selector, _request_timeout=timeout
            )
        return [lease_of(item) for item in found.items or ()]


@contextmanager
def translated(doing: str, namespace: str, timeout: float) -> Iterator[None]:
    """Turn whatever the client raises while ``doing`` into a ``LeaseError``: the API server's
    refusal by its status (``_lease_error``), a timeout or a failed connection as the request
    that did not get through. ``namespace`` is where the Lease's RBAC rule must be, and
    ``timeout`` the request's, both named in the message."""
    try:
        yield
    except ApiException as error:
        raise _lease_error(doing, namespace, error) from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise _unreachable(doing, error, timeout) from error


def _lease_error(doing: str, namespace: str, error: ApiException) -> LeaseError:
    """The API server's refusal of ``doing`` in the project's terms: a 409 is a conflict."""
    status = int(error.status or 0)
    message = _status_message(error)
    if status == 409:
        return LeaseConflict(f"cannot {doing}: {message}")
    if status == 403:
        return LeaseError(
            f"cannot {doing}: forbidden ({message}); the service account needs get, list, "
            f"create and update on leases.coordination.k8s.io in {namespace} (the chart's Role)"
        )
    return LeaseError(f"cannot {doing}: HTTP {status}: {message}")


def _unreachable(doing: str, error: Exception, timeout: float) -> LeaseError:
    kind = "timed out" if _timed_out(error) else "failed"
    cause = getattr(error, "reason", None) or error
    return LeaseError(
        f"cannot {doing}: the request {kind} (timeout {timeout:.3g} s): {type(cause).__name__}"
    )


def lease_of(found: client.V1Lease) -> Lease:
    """A Lease as the client read it, in the project's terms."""
    spec = found.spec or client.V1LeaseSpec()
    metadata = found.metadata or client.V1ObjectMeta()
    record = LeaseRecord(
        holder=spec.holder_identity or "",
        lease_duration_seconds=spec.lease_duration_seconds or 0,
        acquire_time=_utc(spec.acquire_time),
        renew_time=_utc(spec.renew_time),
        transitions=spec.lease_transitions or 0,
    )
    return Lease(
        record,
        resource_version=metadata.resource_version or "",
        labels=dict(metadata.labels or {}),
        annotations=dict(metadata.annotations or {}),
        name=metadata.name or "",
    )


def spec_of(record: LeaseRecord) -> client.V1LeaseSpec:
    """The Lease spec that holds ``record``, as client-go writes it (an empty holder too)."""
    return client.V1LeaseSpec(
        holder_identity=record.holder,
        lease_duration_seconds=record.lease_duration_seconds,
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


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


def _status_message(error: ApiException) -> str:
    """The ``message`` of the Status object the API server answered, else its reason."""
    body: Any = error.body
    try:
        status = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        status = None
    if isinstance(status, dict) and isinstance(status.get("message"), str):
        return str(status["message"])
    return str(error.reason or "no reason given")


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

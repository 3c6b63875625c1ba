"""A faithful stand-in for the Kubernetes API server's Lease endpoints, for leader election tests.

No API server can run on these machines, so the tests run this one: a threaded HTTP server on
127.0.0.1 that implements what ``coordination.k8s.io/v1`` Leases need, as the API server does,
and nothing else:

- ``POST /apis/coordination.k8s.io/v1/namespaces/NS/leases``: create (201), or 409
  ``AlreadyExists``;
- ``GET .../leases/NAME``: 200, or 404 ``NotFound``;
- ``GET .../leases?labelSelector=...``: a ``LeaseList`` of the namespace's Leases that match the
  selector (equality-based: ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``, comma-separated, as the
  API server parses them; a set-based one is refused with 400, as this stand-in does not know
  it), its items without ``kind`` and ``apiVersion``, as the API server writes a typed list;
- ``PUT .../leases/NAME``: replace (200); 404 when it does not exist; 409 ``Conflict`` when the
  body's ``metadata.resourceVersion`` is not the current one (a body without one replaces
  unconditionally, as the API server allows for Leases);
- every error is a ``Status`` object (``kind: Status``, ``reason``, ``code``, ``message``,
  ``details``), in the API server's words;
- ``resourceVersion`` is one counter across the server, moved by every write; ``uid`` and
  ``creationTimestamp`` are set at creation and kept; a MicroTime (``acquireTime``,
  ``renewTime``) must carry exactly six fractional digits, as Go's parser demands, and is
  written back as the API server writes it (UTC, ``Z``; years 0 to 9999, as Go's parser takes
  them, year 0 too, which Python's datetime cannot hold); ``leaseDurationSeconds`` and
  ``leaseTransitions`` are int32 (400 beyond, as Go's decoder answers), the first above 0 and
  the second not below 0 (422 ``Invalid``); an unknown field is dropped with a warning, as the
  server's default field validation does.

Tests drive it through the real ``kubernetes`` client, so the requests and the answers are the
client's own wire format. Each client authenticates with a bearer token of its own
(``kubeconfig``), which is how the server tells candidates apart for fault injection: the
requests of one token can be held until they time out, as behind a network partition, and
never applied (``partition``, ``heal``), have their connection dropped (``drop``), or be
answered with whatever a broken proxy or a hostile server might send, unapplied (``answer``). Every
write that succeeded is kept in ``history``, with the server's time, for invariant checkers.

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``): ``lease_server``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

GROUP = "coordination.k8s.io"
API_VERSION = f"{GROUP}/v1"
_COLLECTION = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases$")
_ITEM = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases/([^/]+)$")
_MICRO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})(Z|[+-]\d{2}:\d{2})$")
SPEC_FIELDS = {
    "acquireTime": "micro",
    "holderIdentity": "string",
    "leaseDurationSeconds": "int",
    "leaseTransitions": "int",
    "preferredHolder": "string",
    "renewTime": "micro",
    "strategy": "string",
}
"""The fields of a LeaseSpec and their JSON types, as the API's OpenAPI schema has them."""
METADATA_WRITABLE = {"name", "namespace", "labels", "annotations", "resourceVersion"}
METADATA_SERVER = {"uid", "creationTimestamp", "resourceVersion", "generation", "managedFields"}
INT32 = (-(2**31), 2**31 - 1)
HOLD_SECONDS = 30.0
"""How long a partitioned request is held before its connection is dropped unanswered."""


@dataclass(frozen=True)
class LeaseWrite:
    """One write that the server applied."""

    at: float
    """The server's wall-clock time, Unix seconds, when it applied the write."""
    verb: str
    """``create`` or ``replace``."""
    namespace: str
    name: str
    resource_version: str
    holder: str
    lease_duration_seconds: int | None
    renew_time: str | None
    transitions: int | None
    token: str | None
    """The bearer token of the client that wrote it."""
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


class _Refused(Exception):
    """A request the API server would answer with an error Status."""

    def __init__(self, code: int, reason: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details


class LeaseServer:
    """The Lease endpoints on 127.0.0.1 (``url``); start with ``with`` or ``start``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leases: dict[tuple[str, str], dict[str, Any]] = {}
        self._version = 0
        self._history: list[LeaseWrite] = []
        self._partitioned: set[str] = set()
        self._dropping: dict[str, int] = {}
        self._answers: dict[str, list[tuple[int, bytes, dict[str, str], float]]] = {}
        self._stopping = threading.Event()
        self._healed = threading.Condition(self._lock)
        self._requests: list[tuple[str, str, str | None]] = []
        self.warnings: list[str] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> LeaseServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="lease-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._partitioned.clear()
            self._healed.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LeaseServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- what tests ask and do ------------------------------------------------------------------

    def kubeconfig(self, path: Path, token: str, *, namespace: str = "default") -> Path:
        """Write a kubeconfig that reaches this server as the user of ``token``."""
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": token, "user": {"token": token}}],
            "contexts": [
                {
                    "name": "fake",
                    "context": {"cluster": "fake", "user": token, "namespace": namespace},
                }
            ],
            "current-context": "fake",
        }
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    def lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored Lease, as a GET would answer it."""
        with self._lock:
            stored = self._leases.get((namespace, name))
            return json.loads(json.dumps(stored)) if stored is not None else None

    def put_lease(self, namespace: str, name: str, spec: dict[str, Any]) -> None:
        """Store a Lease directly, as another writer (``kubectl``) might have left it."""
        with self._lock:
            self._store(namespace, name, {"metadata": {"name": name}, "spec": spec}, None, None)

    def delete_lease(self, namespace: str, name: str) -> None:
        """Delete a Lease directly, as ``kubectl delete lease`` would."""
        with self._lock:
            self._leases.pop((namespace, name), None)

    def history(self) -> list[LeaseWrite]:
        with self._lock:
            return list(self._history)

    def requests(self) -> list[tuple[str, str, str | None]]:
        """Every request received: method, path, token."""
        with self._lock:
            return list(self._requests)

    def partition(self, token: str) -> None:
        """Hold every request of ``token`` unanswered and unapplied, as a partition would."""
        with self._lock:
            self._partitioned.add(token)

    def heal(self, token: str) -> None:
        with self._lock:
            self._partitioned.discard(token)
            self._healed.notify_all()

    def answer(
        self,
        token: str,
        code: int,
        body: bytes,
        *,
        count: int = 1,
        headers: dict[str, str] | None = None,
        trickle: float = 0.0,
    ) -> None:
        """Answer the next ``count`` requests of ``token`` with ``code`` and ``body`` as given
        (no Status, no JSON needed), without applying them: a proxy's or a broken server's
        answer; with ``trickle``, the body's bytes one at a time, that many seconds apart."""
        with self._lock:
            queued = self._answers.setdefault(token, [])
            queued.extend([(code, body, dict(headers or {}), trickle)] * count)

    def drop(self, token: str, count: int = 1) -> None:
        """Close the connection of the next ``count`` requests of ``token`` unanswered."""
        with self._lock:
            self._dropping[token] = self._dropping.get(token, 0) + count

    # -- the API --------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self, "GET")

            def do_POST(self) -> None:
                server._serve(self, "POST")

            def do_PUT(self) -> None:
                server._serve(self, "PUT")

            def do_DELETE(self) -> None:
                server._serve(self, "DELETE")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        token = _bearer(handler.headers.get("Authorization"))
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self._requests.append((method, handler.path, token))
            if token is not None and self._dropping.get(token, 0) > 0:
                self._dropping[token] -= 1
                handler.close_connection = True
                return
            if token is not None and token in self._partitioned:
                self._healed.wait_for(lambda: token not in self._partitioned, timeout=HOLD_SECONDS)
                handler.close_connection = True
                return
            queued = self._answers.get(token or "")
            hostile = queued.pop(0) if queued else None
        if hostile is not None:
            self._answer_as_told(handler, *hostile)
            return
        path, _, query = handler.path.partition("?")
        try:
            code, answer = self._answer(method, path, body, token, query)
        except _Refused as refused:
            code, answer = refused.code, _status(refused)
        data = json.dumps(answer).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _answer_as_told(
        self,
        handler: BaseHTTPRequestHandler,
        code: int,
        data: bytes,
        headers: dict[str, str],
        trickle: float,
    ) -> None:
        handler.send_response(code)
        for header, value in {"Content-Type": "application/json", **headers}.items():
            handler.send_header(header, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if not trickle:
            handler.wfile.write(data)
            return
        handler.close_connection = True
        try:
            for byte in data:
                if self._stopping.wait(trickle):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        except OSError:
            pass  # the client gave up and closed the connection

    def _answer(
        self, method: str, path: str, body: bytes, token: str | None, query: str = ""
    ) -> tuple[int, dict[str, Any]]:
        if token is None:
            raise _Refused(401, "Unauthorized", "Unauthorized")
        collection, item = _COLLECTION.match(path), _ITEM.match(path)
        if collection and method == "POST":
            return 201, self._create(collection.group(1), _object(body), token)
        if collection and method == "GET":
            return 200, self._list(collection.group(1), query)
        if item and method == "GET":
            return 200, self._get(item.group(1), item.group(2))
        if item and method == "PUT":
            return 200, self._replace(item.group(1), item.group(2), _object(body), token)
        if collection or item:
            raise _Refused(405, "MethodNotAllowed", "the server does not allow this method")
        raise _Refused(404, "NotFound", "the server could not find the requested resource")

    def _get(self, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            stored = self._leases.get((namespace, name))
            if stored is None:
                raise _not_found(name)
            return json.loads(json.dumps(stored))  # type: ignore[no-any-return]

    def _list(self, namespace: str, query: str) -> dict[str, Any]:
        selectors = urllib.parse.parse_qs(query).get("labelSelector", [""])
        requirements = _label_selector(selectors[-1])
        with self._lock:
            items = [
                {key: value for key, value in stored.items() if key not in ("kind", "apiVersion")}
                for (where, _), stored in sorted(self._leases.items())
                if where == namespace
                and _matches(requirements, stored["metadata"].get("labels") or {})
            ]
            listed = {
                "kind": "LeaseList",
                "apiVersion": API_VERSION,
                "metadata": {"resourceVersion": str(self._version)},
                "items": items,
            }
            return json.loads(json.dumps(listed))  # type: ignore[no-any-return]

    def _create(self, namespace: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        _check_kind(body)
        metadata = body.get("metadata") or {}
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            raise _Refused(
                422, "Invalid", 'Lease.coordination.k8s.io "" is invalid: metadata.name: '
                "Required value: name or generateName is required",
            )  # fmt: skip
        _check_namespace(metadata, namespace)
        with self._lock:
            if (namespace, name) in self._leases:
                raise _Refused(
                    409, "AlreadyExists", f'leases.{GROUP} "{name}" already exists',
                    name=name, group=GROUP, kind="leases",
                )  # fmt: skip
            return self._store(namespace, name, body, token, "create")

    def _replace(
        self, namespace: str, name: str, body: dict[str, Any], token: str
    ) -> dict[str, Any]:
        _check_kind(body)
        metadata = body.get("metadata") or {}
        if metadata.get("name") != name:
            raise _Refused(
                400, "BadRequest",
                f"the name of the object ({metadata.get('name')}) does not match the name on "
                f"the URL ({name})",
            )  # fmt: skip
        _check_namespace(metadata, namespace)
        with self._lock:
            stored = self._leases.get((namespace, name))
            if stored is None:
                raise _not_found(name)
            wanted = metadata.get("resourceVersion")
            if wanted and wanted != stored["metadata"]["resourceVersion"]:
                raise _Refused(
                    409, "Conflict",
                    f'Operation cannot be fulfilled on leases.{GROUP} "{name}": the object has '
                    "been modified; please apply your changes to the latest version and try "
                    "again",
                    name=name, group=GROUP, kind="leases",
                )  # fmt: skip
            return self._store(namespace, name, body, token, "replace", previous=stored)

    def _store(
        self,
        namespace: str,
        name: str,
        body: dict[str, Any],
        token: str | None,
        verb: str | None,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Validate and store ``body`` as the Lease (the lock is held)."""
        spec = self._spec(body.get("spec") or {}, name)
        metadata = body.get("metadata") or {}
        for key in set(metadata) - METADATA_WRITABLE - METADATA_SERVER:
            self.warnings.append(f'unknown field "metadata.{key}"')
        self._version += 1
        stored = {
            "kind": "Lease",
            "apiVersion": API_VERSION,
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": previous["metadata"]["uid"] if previous else str(uuid.uuid4()),
                "resourceVersion": str(self._version),
                "creationTimestamp": previous["metadata"]["creationTimestamp"]
                if previous
                else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                **{key: metadata[key] for key in ("labels", "annotations") if metadata.get(key)},
            },
            "spec": spec,
        }
        self._leases[(namespace, name)] = stored
        if verb is not None:
            self._history.append(
                LeaseWrite(
                    at=time.time(),
                    verb=verb,
                    namespace=namespace,
                    name=name,
                    resource_version=str(self._version),
                    holder=spec.get("holderIdentity") or "",
                    lease_duration_seconds=spec.get("leaseDurationSeconds"),
                    renew_time=spec.get("renewTime"),
                    transitions=spec.get("leaseTransitions"),
                    token=token,
                    annotations=dict(metadata.get("annotations") or {}),
                    labels=dict(metadata.get("labels") or {}),
                )
            )
        return json.loads(json.dumps(stored))  # type: ignore[no-any-return]

    def _spec(self, spec: Any, name: str) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise _Refused(400, "BadRequest", "spec: expected an object")
        kept: dict[str, Any] = {}
        for key, value in spec.items():
            kind = SPEC_FIELDS.get(key)
            if kind is None:
                self.warnings.append(f'unknown field "spec.{key}"')
                continue
            if value is None:
                continue
            kept[key] = _typed(key, value, kind)
        problems = []
        duration = kept.get("leaseDurationSeconds")
        if duration is not None and duration <= 0:
            problems.append(
                f"spec.leaseDurationSeconds: Invalid value: {duration}: must be greater than 0"
            )
        transitions = kept.get("leaseTransitions")
        if transitions is not None and transitions < 0:
            problems.append(
                f"spec.leaseTransitions: Invalid value: {transitions}: must be greater than "
                "or equal to 0"
            )
        if problems:
            raise _Refused(
                422, "Invalid",
                f'Lease.coordination.k8s.io "{name}" is invalid: {", ".join(problems)}',
                name=name, group=GROUP, kind="Lease",
            )  # fmt: skip
        return kept


def _typed(key: str, value: Any, kind: str) -> Any:
    """A spec value as the API server decodes it, or the 400 its decoder answers."""
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        if INT32[0] <= value <= INT32[1]:
            return value
        raise _Refused(
            400, "BadRequest",
            f'Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal number '
            f"{value} into Go struct field LeaseSpec.spec.{key} of type int32",
        )  # fmt: skip
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "micro" and isinstance(value, str):
        parsed = _MICRO_TIME.match(value)
        if parsed is not None and parsed[3] == "Z":
            return value  # already as the API server writes it; year 0 too
        if parsed is not None:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        raise _Refused(
            400, "BadRequest",
            f'Lease in version "v1" cannot be handled as a Lease: parsing time "{value}" as '
            '"2006-01-02T15:04:05.000000Z07:00": cannot parse',
        )  # fmt: skip
    raise _Refused(
        400, "BadRequest",
        f'Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal '
        f"{type(value).__name__} into Go struct field LeaseSpec.spec.{key}",
    )  # fmt: skip


Requirement = tuple[str, str, str | None]
"""A label selector's requirement: key, operator (``=``, ``!=``, ``exists``, ``!``), value."""

_REQUIREMENT = re.compile(
    r"^(?P<key>[A-Za-z0-9./_-]+)\s*(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)$"
)


def _label_selector(selector: str) -> list[Requirement]:
    """An equality-based label selector, as the API server parses it; 400 for anything else."""
    requirements: list[Requirement] = []
    for part in (piece.strip() for piece in selector.split(",")):
        if not part:
            continue
        if part.startswith("!") and re.fullmatch(r"![A-Za-z0-9./_-]+", part):
            requirements.append((part[1:], "!", None))
            continue
        if re.fullmatch(r"[A-Za-z0-9./_-]+", part):
            requirements.append((part, "exists", None))
            continue
        matched = _REQUIREMENT.match(part)
        if matched is None:
            raise _Refused(
                400, "BadRequest",
                f"unable to parse requirement: {part!r}: this stand-in knows only "
                "equality-based selectors",
            )  # fmt: skip
        operator = "!=" if matched["op"] == "!=" else "="
        requirements.append((matched["key"], operator, matched["value"]))
    return requirements


def _matches(requirements: list[Requirement], labels: dict[str, str]) -> bool:
    for key, operator, value in requirements:
        if operator == "=" and labels.get(key) != value:
            return False
        if operator == "!=" and labels.get(key) == value:
            return False
        if operator == "exists" and key not in labels:
            return False
        if operator == "!" and key in labels:
            return False
    return True


def _object(body: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict):
        raise _Refused(400, "BadRequest", "the body is not a JSON object")
    return decoded


def _check_kind(body: dict[str, Any]) -> None:
    if body.get("apiVersion") not in (None, API_VERSION) or body.get("kind") not in (
        None,
        "Lease",
    ):
        raise _Refused(
            400, "BadRequest",
            f"the API version in the data ({body.get('apiVersion')}) does not match the "
            f"expected API version ({API_VERSION})",
        )  # fmt: skip


def _check_namespace(metadata: dict[str, Any], namespace: str) -> None:
    given = metadata.get("namespace")
    if given is not None and given != namespace:
        raise _Refused(
            400, "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the "
            "request",
        )  # fmt: skip


def _not_found(name: str) -> _Refused:
    return _Refused(
        404, "NotFound", f'leases.{GROUP} "{name}" not found',
        name=name, group=GROUP, kind="leases",
    )  # fmt: skip


def _status(refused: _Refused) -> dict[str, Any]:
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": refused.message,
        "reason": refused.reason,
        "code": refused.code,
    }
    if refused.details:
        status["details"] = refused.details
    return status


def _bearer(header: str | None) -> str | None:
    if header is None or not header.startswith("Bearer "):
        return None
    return header[len("Bearer ") :].strip() or None


def iter_holders(history: list[LeaseWrite]) -> Iterator[tuple[float, str]]:
    """The (time, holder) of each write that changed the holder, in order."""
    current: str | None = None
    for write in history:
        if write.holder != current:
            current = write.holder
            yield write.at, write.holder


@pytest.fixture
def lease_server() -> Iterator[LeaseServer]:
    """A Lease server for the test, stopped at its end (registered by ``tests/conftest.py``)."""
    with LeaseServer() as server:
        yield server

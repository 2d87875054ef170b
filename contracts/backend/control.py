"""Client for our fake's control API. Only the fake serves it, so answering it is how we recognise the fake.

Everything goes over HTTP: the harness never imports the fake's state, so the same code drives a fake
in another process, a broken copy of it, or one somebody else started.
"""

from __future__ import annotations

import http.client
import json
import select
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts import limits

CONTROL = "/api/mock/v1"
# The fake refuses a state-changing control call without it (or a JSON body): no web page can send it.
CONTROL_HEADERS = {"X-Mock-Control": "1"}


class ControlError(Exception):
    """The control API refused a request."""


@dataclass(frozen=True)
class ClockState:
    mode: str
    now: str


class FakeControl:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = limits.new_client(
            base_url=self.base_url + CONTROL, timeout=timeout, headers=CONTROL_HEADERS
        )
        self._timeout = timeout
        # advance() is sent after every accepted create while fuzzing: over a plain http.client connection
        # kept open it costs a third of what httpx spends on a request (http:// only; else httpx).
        parts = urlsplit(self.base_url)
        self._plain = parts if parts.scheme == "http" and parts.hostname else None
        self._connection: http.client.HTTPConnection | None = None
        self._connection_lock = threading.Lock()

    @classmethod
    def detect(cls, base_url: str) -> FakeControl | None:
        """The control client when `base_url` is our fake, else None (a real deployment answers 404/401)."""
        control = cls(base_url)
        try:
            response = limits.request(control._client, "GET", "/clock")
            body = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            body = None
        if isinstance(body, dict) and body.get("mode") in ("manual", "realtime"):
            return control
        control.close()
        return None

    def close(self) -> None:
        self._client.close()
        with self._connection_lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _post_plain(self, path: str, payload: dict[str, Any]) -> Any:
        """POST `payload` as JSON over the kept-open connection; the answer's JSON body."""
        assert self._plain is not None
        url = f"{self._plain.path.rstrip('/')}{CONTROL}{path}"
        body = json.dumps(payload).encode()
        with self._connection_lock:
            connection = self._connection
            if connection is not None and _closed_by_peer(connection):
                connection.close()
                connection = None
            if connection is None:
                host, port = self._plain.hostname or "", self._plain.port or 80
                connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
            self._connection = None  # put back only once its answer has been read in full
            try:
                wait = limits.current().wait(self._timeout)
                connection.timeout = wait
                if connection.sock is not None:
                    connection.sock.settimeout(wait)
                connection.request(
                    "POST", url, body=body, headers={"Content-Type": "application/json", **CONTROL_HEADERS}
                )
                response = connection.getresponse()
                content = limits.read_plain(response, f"POST {CONTROL}{path}")
            except (OSError, http.client.HTTPException, limits.LimitExceeded) as error:
                connection.close()
                raise ControlError(f"POST {CONTROL}{path} failed: {error!r}") from error
            if response.will_close:
                connection.close()
            else:
                self._connection = connection
        if response.status >= 300:
            text = content.decode("utf-8", "replace")[:200]
            raise ControlError(f"POST {CONTROL}{path} answered {response.status}: {text}")
        return json.loads(content) if content else None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = limits.request(self._client, method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ControlError(f"{method} {CONTROL}{path} failed: {error}") from None
        if response.status_code >= 300:
            raise ControlError(
                f"{method} {CONTROL}{path} answered {response.status_code}: {response.text[:200]}"
            )
        return response.json() if response.content else None

    def clock(self) -> ClockState:
        body = self._call("GET", "/clock")
        return ClockState(mode=body["mode"], now=body["now"])

    def advance(self, seconds: float) -> ClockState:
        payload = {"seconds": seconds}
        if self._plain is not None:
            body = self._post_plain("/clock/advance", payload)
        else:
            body = self._call("POST", "/clock/advance", json=payload)
        return ClockState(mode=body["mode"], now=body["now"])

    def reset(self) -> None:
        self._call("POST", "/reset")

    def snapshot(self) -> dict[str, Any]:
        body = self._call("GET", "/snapshot")
        return body if isinstance(body, dict) else {}

    def force_outcome(self, workload_id: str, outcome: str) -> None:
        self._call("POST", f"/trainings/{workload_id}/outcome", json={"outcome": outcome})

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        events = self._call("GET", "/events", params={"after": after})["events"]
        return [event for event in events if isinstance(event, dict)]

    def set_faults(
        self, *, latency_seconds: float = 0.0, error_rate: float = 0.0, error_status: int = 503
    ) -> None:
        faults = {"latencySeconds": latency_seconds, "errorRate": error_rate, "errorStatus": error_status}
        self._call("PUT", "/faults", json=faults)

    def nodes_holding(self, workload_id: str) -> list[str]:
        """Names of the nodes whose devices the snapshot shows held by this workload."""
        held = []
        for node in self.snapshot().get("nodes", []):
            if _mentions(node, workload_id):
                held.append(str(node.get("name", "?")) if isinstance(node, dict) else "?")
        return held


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-open connection has something to read: the server closed it (an idle
    timeout), so a request sent on it would never be answered. httpx checks the same before reuse."""
    sock = connection.sock
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _mentions(data: Any, value: str) -> bool:
    """Whether `value` occurs anywhere in `data`: the snapshot's layout of devices is the fake's business."""
    if isinstance(data, dict):
        return any(_mentions(item, value) for item in data.values())
    if isinstance(data, list):
        return any(_mentions(item, value) for item in data)
    return bool(data == value)

"""What the harness takes from a backend, at most: bytes per answer, seconds per answer, and the run's end.

A backend under test may be hostile or broken: an answer that never ends, one of hundreds of megabytes, one
trickled a byte at a time so that no single read ever times out. Every read the harness makes goes through
here (the `requests` sessions Schemathesis sends with, the httpx calls of the backend layer, of the run's
probes and look-ups and of `contracts calibrate`, the fake's control connection), so that each answer is refused once it passes `max_body` bytes or
`response_seconds` in total, and nothing is sent once the run's `deadline` (--max-duration) has passed.

It sits above the layers (like `specs`): the backend layer, the run and calibrate read through it; the
oracle, which sends nothing, does not.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

# Far above any answer of a Run:ai control plane (a list of a thousand trainings is a few megabytes), far
# below what hurts: Schemathesis keeps a few copies of each body.
DEFAULT_MAX_BODY = 16 * 1024 * 1024
# Seconds one answer may take from sending the request to its last byte (Schemathesis' request timeout is
# per read only: a trickle never trips it).
DEFAULT_RESPONSE_SECONDS = 30.0
READ_SIZE = 64 * 1024
EVENT_STREAM = "text/event-stream"


class LimitExceeded(Exception):
    """An answer broke a limit; the message says which and by how much, in one line."""


class BodyTooLarge(LimitExceeded):
    pass


class ResponseTooSlow(LimitExceeded):
    pass


class OutOfTime(LimitExceeded):
    """The run's --max-duration deadline has passed: nothing more is sent."""


# The same refusals as the HTTP libraries' own errors, so that code catching those (Schemathesis' engine
# records a failed call and goes on; our backend layer treats an unusable answer as unusable) handles these.
class RequestsBodyTooLarge(BodyTooLarge, requests.RequestException):
    pass


class RequestsResponseTooSlow(ResponseTooSlow, requests.Timeout):
    pass


class RequestsOutOfTime(OutOfTime, requests.Timeout):
    pass


class HttpxBodyTooLarge(BodyTooLarge, httpx.TransportError):
    pass


class HttpxResponseTooSlow(ResponseTooSlow, httpx.TimeoutException):
    pass


class HttpxOutOfTime(OutOfTime, httpx.TimeoutException):
    pass


def size(count: float) -> str:
    """Bytes as people read them: 16 MiB, 300 KiB, 12 bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.4g} {unit}"
    return f"{int(count)} bytes"


@dataclass
class Limits:
    max_body: int = DEFAULT_MAX_BODY
    response_seconds: float = DEFAULT_RESPONSE_SECONDS
    # time.monotonic() after which nothing is sent and no read waits; None: no --max-duration.
    deadline: float | None = None

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def wait(self, wanted: float | None) -> float:
        """Seconds one connect or read may wait: `wanted`, cut to what is left before the deadline.
        Past the deadline nothing may start."""
        left = self.remaining()
        if left is not None and left <= 0:
            raise OutOfTime("the --max-duration budget is spent: no more requests are sent")
        candidates = [value for value in (wanted, left, self.response_seconds) if value is not None]
        return max(0.001, min(candidates))

    def past_deadline(self) -> bool:
        """The run's deadline has come: a timeout now is the budget's (the wait was cut to it), not the
        backend's. A socket timeout fires after at least the wait it was given, so a hair of slack is enough."""
        return self.deadline is not None and time.monotonic() >= self.deadline - 0.01

    def answer_deadline(self) -> float:
        """When an answer starting now must be complete."""
        end = time.monotonic() + self.response_seconds
        return end if self.deadline is None else min(end, self.deadline)

    def check(self, received: int, ends: float, where: str) -> None:
        """Refuse an answer that has grown past the cap or outlived its time."""
        if received > self.max_body:
            raise BodyTooLarge(
                f"{where}: the answer's body passed the {size(self.max_body)} cap (--max-body-size); "
                "the rest was not read"
            )
        if time.monotonic() > ends:
            raise self._too_slow(where)

    def _too_slow(self, where: str) -> LimitExceeded:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return OutOfTime(f"{where}: {BUDGET_RAN_OUT} reading the answer")
        return ResponseTooSlow(
            f"{where}: the answer was not complete after {self.response_seconds:g} s "
            "(--response-timeout); the rest was not read"
        )


BUDGET_RAN_OUT = "the --max-duration budget ran out while"
_lock = threading.Lock()
_current = Limits()


def current() -> Limits:
    """The limits of the run in progress (the defaults outside a run)."""
    return _current


@contextlib.contextmanager
def applied(limits: Limits) -> Iterator[Limits]:
    """Make `limits` the ones every read obeys while inside (a run sets its deadline on it as it goes)."""
    global _current
    with _lock:
        previous, _current = _current, limits
    try:
        yield limits
    finally:
        with _lock:
            _current = previous


def _as(kind: str, error: LimitExceeded) -> Exception:
    """`error` as the given library's exception of the same meaning."""
    table: dict[type[LimitExceeded], tuple[type[Exception], type[Exception]]] = {
        BodyTooLarge: (RequestsBodyTooLarge, HttpxBodyTooLarge),
        ResponseTooSlow: (RequestsResponseTooSlow, HttpxResponseTooSlow),
        OutOfTime: (RequestsOutOfTime, HttpxOutOfTime),
    }
    for base, (for_requests, for_httpx) in table.items():
        if isinstance(error, base):
            return (for_requests if kind == "requests" else for_httpx)(str(error))
    return error


# --- requests (Schemathesis' transport) -------------------------------------------------------------


class BoundedAdapter(HTTPAdapter):
    """Reads every answer within the limits in force when it is sent, before `requests` hands it back.

    An event stream asked for as a stream is left to the caller: Schemathesis reads one with `read1` and
    stops after its request timeout or a number of events. Those reads are capped the same way, and the
    answer's time ends it as a read timeout (Schemathesis: cut short)."""

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        limits = current()
        where = f"{request.method} {request.path_url.split('?')[0]}"
        try:
            timeout = _requests_timeout(limits, timeout)
        except LimitExceeded as error:
            raise _as("requests", error) from None
        ends = limits.answer_deadline()
        try:
            response = super().send(request, stream=True, timeout=timeout, **kwargs)
        except requests.Timeout:
            if limits.past_deadline():
                raise RequestsOutOfTime(f"{where}: {BUDGET_RAN_OUT} waiting for the answer") from None
            raise
        if stream and EVENT_STREAM in response.headers.get("Content-Type", "").lower():
            _cap_stream(response, limits, ends, where)
            return response
        data = bytearray()
        try:
            while chunk := response.raw.read1(READ_SIZE, decode_content=True):
                data += chunk
                limits.check(len(data), ends, where)
        except LimitExceeded as error:
            response.close()
            raise _as("requests", error) from None
        except Urllib3Error as error:
            response.close()
            if isinstance(error, ReadTimeoutError) and limits.past_deadline():
                raise RequestsOutOfTime(f"{where}: {BUDGET_RAN_OUT} reading the answer") from None
            raise requests.exceptions.ChunkedEncodingError(error) from error
        response._content = bytes(data)
        response._content_consumed = True
        response.close()
        return response


def _requests_timeout(limits: Limits, timeout: Any) -> Any:
    if isinstance(timeout, tuple):
        return tuple(limits.wait(part) for part in timeout)
    return limits.wait(timeout)


def _cap_stream(response: requests.Response, limits: Limits, ends: float, where: str) -> None:
    raw = response.raw
    read1 = raw.read1
    received = [0]

    def bounded_read1(amt: int | None = None, decode_content: bool | None = None) -> bytes:
        if time.monotonic() > ends:
            raise ReadTimeoutError(None, where, f"the event stream's {limits.response_seconds:g} s are spent")  # type: ignore[arg-type]
        chunk: bytes = read1(amt, decode_content=decode_content)
        received[0] += len(chunk)
        if received[0] > limits.max_body:
            raise _as("requests", BodyTooLarge(f"{where}: the event stream passed {size(limits.max_body)}"))
        return chunk

    raw.read1 = bounded_read1


def bound_session(session: requests.Session) -> requests.Session:
    """`session`, reading every answer within the limits (see BoundedAdapter)."""
    adapter = BoundedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --- httpx (the backend layer, the run's probes and look-ups, calibrate) --------------------------------


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS settings every httpx client of the process uses (httpx's defaults, honouring SSL_CERT_FILE).
    A client given none builds its own from the CA bundle, about 25 ms of CPU; a run opens dozens of
    short-lived clients (discovery, control, probes, cleanup, one-off requests)."""
    return httpx.create_ssl_context()


def new_client(verify: ssl.SSLContext | bool = True, **kwargs: Any) -> httpx.Client:
    """`httpx.Client(**kwargs)` with the process's TLS context (`tls`) where certificates are verified."""
    return httpx.Client(verify=tls() if verify is True else verify, **kwargs)


def request(client: httpx.Client | None, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """`client.request(...)` (or httpx's one-off request without a client), its body read within the
    limits; the response is closed and its `.content` set. Refusals are httpx.TransportError subclasses."""
    limits = current()
    where = f"{method} {httpx.URL(url).path}" if "://" in url else f"{method} {url.split('?')[0]}"
    try:
        wanted = kwargs.get("timeout", client.timeout if client is not None else None)
        kwargs["timeout"] = limits.wait(_seconds(wanted))
    except LimitExceeded as error:
        raise _as("httpx", error) from None
    ends = limits.answer_deadline()
    owned = client is None
    active = new_client(kwargs.pop("verify", True)) if client is None else client
    try:
        with _budget_timeouts(limits, where), active.stream(method, url, **kwargs) as response:
            data = bytearray()
            try:
                for chunk in response.iter_bytes():
                    data += chunk
                    limits.check(len(data), ends, where)
            except LimitExceeded as error:
                raise _as("httpx", error) from None
            response._content = bytes(data)
        return response
    finally:
        if owned:
            active.close()


@contextlib.contextmanager
def _budget_timeouts(limits: Limits, where: str) -> Iterator[None]:
    """An httpx timeout at the run's deadline is the budget running out (the wait was cut to it)."""
    try:
        yield
    except httpx.TimeoutException:
        if limits.past_deadline():
            raise HttpxOutOfTime(f"{where}: {BUDGET_RAN_OUT} waiting for the answer") from None
        raise


def status_only(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """httpx's one-off request, of which only the status line and headers are read: for a question the
    status answers (is the token refused?), where the body, which may never end, is not wanted. The
    response is closed unread; its `.content` is empty."""
    try:
        kwargs["timeout"] = current().wait(_seconds(kwargs.get("timeout")))
    except LimitExceeded as error:
        raise _as("httpx", error) from None
    with new_client(kwargs.pop("verify", True)) as client:
        with client.stream(method, url, **kwargs) as response:
            response._content = b""
        return response


def _seconds(timeout: Any) -> float | None:
    if isinstance(timeout, httpx.Timeout):
        return timeout.read
    return float(timeout) if isinstance(timeout, (int, float)) else None


# --- http.client (the fake's kept-open control connection) --------------------------------------------


def read_plain(response: http.client.HTTPResponse, where: str) -> bytes:
    """The body of an http.client answer, read within the limits (LimitExceeded otherwise)."""
    limits = current()
    ends = limits.answer_deadline()
    data = bytearray()
    while chunk := response.read1(READ_SIZE):
        data += chunk
        limits.check(len(data), ends, where)
    # read1 leaves an answer read to its Content-Length open; read() marks it done (the connection is
    # kept for the next request), and has nothing left to read.
    data += response.read()
    return bytes(data)

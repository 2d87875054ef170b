"""One reading of each request's head: a header that decides something is sent once, to a known host.

Two `Authorization` headers let the token check read the first and the journal the last: a request
ran as one caller and was recorded as another, and the state file then refused to replay. Every
layer here reads headers through a dict (the last one wins) or a scan (the first one wins); refusing
duplicates of the headers that decide who calls, what the body is and where it goes, before anything
runs, makes the two readings the same.

`Host` is checked against the names this server answers to: a web page that rebinds its own DNS name
to 127.0.0.1 (DNS rebinding) sends its own name as `Host`, and is refused before any handler runs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.middleware import REPLAYING, send_error

# Headers whose second copy would be read differently by different layers.
SINGLE = (b"authorization", b"content-type", b"content-length", b"host")


def host_name(host: str) -> str:
    """`Host` without its port, lower case, brackets and a trailing dot removed: `[::1]:8080` → `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def loopback_name(name: str) -> bool:
    """A name that can only mean this machine: `localhost`, `*.localhost`, a loopback address."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """The names a server answers to: loopback names, plus `extra` (the exposed address, --allowed-host)."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.extra = frozenset(host_name(name) for name in extra if name.strip())

    def allows(self, host: str) -> bool:
        name = host_name(host)
        return loopback_name(name) or name in self.extra


class RequestHead:
    """400 `{code, message}` for a duplicated deciding header, or a `Host` this server does not answer to.

    `hosts` None: any `Host` (an app embedded in tests, or a server exposed on every address)."""

    def __init__(self, app: ASGIApp, hosts: HostPolicy | None = None) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(REPLAYING):
            await self.app(scope, receive, send)
            return
        seen: set[bytes] = set()
        host = None
        for name, value in scope["headers"]:
            if name in SINGLE:
                if name in seen:
                    shown = name.decode("latin-1").title()
                    message = f"The {shown} header was sent more than once; send it once"
                    await send_error(send, 400, message, close=True)
                    return
                seen.add(name)
                if name == b"host":
                    host = value.decode("latin-1")
        if self.hosts is not None and host is not None and not self.hosts.allows(host):
            message = (
                f"Host {host_name(host)!r} is not a name this server answers to: use 127.0.0.1 or localhost, "
                "or start it with --allowed-host NAME"
            )
            await send_error(send, 400, message, close=True)
            return
        await self.app(scope, receive, send)

"""A hostile backend for the harness's tests: a raw asyncio HTTP/1.1 server on 127.0.0.1 that answers
every request in one bad way (an endless body, a huge one, a trickle, a huge token, an echo of the
request, a slow answer). It is served from a thread of the test process and stops with the test."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

HOST = "127.0.0.1"
TOKEN_PATH = "/api/v1/token"
CHUNK = b"x" * 65536


@dataclass
class Behaviour:
    """How the server answers. `body`: "endless" (chunked, as fast as it goes), "events" (an event stream
    as fast as it goes, for ever), "trickle" (chunked, a few
    bytes every `pause` s, for ever), "huge" (a Content-Length of `huge` bytes, all sent), "bomb" (`huge` bytes gzipped, a small body), "json" (a small
    JSON answer after `delay` s). `token`: what POST /api/v1/token answers: "normal" (a short token),
    "huge" (a token of `huge` bytes), "echo" (400 quoting the request body), or None (like any path)."""

    body: str = "json"
    token: str | None = None
    huge: int = 200 * 1024 * 1024
    pause: float = 0.05
    delay: float = 0.0
    status: int = 404
    requests: list[str] = field(default_factory=list)


@functools.cache
def _bomb(size: int) -> bytes:
    """`size` zero bytes, gzipped: about a thousandth of that on the wire."""
    return gzip.compress(bytes(size), compresslevel=9)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class HostileBackend:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="hostile-backend")
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, HOST, 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.run_until_complete(server.wait_closed())
            self._loop.close()

    def start(self) -> HostileBackend:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._exchanges(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the server stopping: a task ending cancelled is logged as an error
            pass
        finally:
            writer.close()

    async def _exchanges(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ")[:2]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
            self.behaviour.requests.append(f"{method} {target}")
            await self._answer(writer, method, target.split("?")[0], body)

    async def _answer(self, writer: asyncio.StreamWriter, method: str, path: str, body: bytes) -> None:
        b = self.behaviour
        if path == TOKEN_PATH and method == "POST" and b.token is not None:
            if b.token == "echo":
                await self._json(writer, 400, {"code": 400, "message": f"bad request: {body.decode()}"})
            else:
                length = b.huge if b.token == "huge" else 40
                await self._json(writer, 200, {"accessToken": "t" * length, "expiresIn": 3600})
            return
        if b.body == "endless":
            writer.write(_head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
            while True:
                writer.write(b"10000\r\n" + CHUNK + b"\r\n")
                await writer.drain()
        elif b.body == "bomb":
            bomb = _bomb(b.huge)
            headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            writer.write(_head(200, {**headers, "Content-Length": str(len(bomb))}))
            writer.write(bomb)
            await writer.drain()
        elif b.body == "events":
            writer.write(_head(200, {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}))
            event = b"data: " + CHUNK[:4000] + b"\n\n"
            while True:
                writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                await writer.drain()
        elif b.body == "trickle":
            writer.write(_head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
            while True:
                writer.write(b"2\r\n[ \r\n")
                await writer.drain()
                await asyncio.sleep(b.pause)
        elif b.body == "huge":
            writer.write(_head(200, {"Content-Type": "application/json", "Content-Length": str(b.huge)}))
            sent = 0
            while sent < b.huge:
                writer.write(CHUNK[: b.huge - sent])
                sent += len(CHUNK)
                await writer.drain()
        else:
            await asyncio.sleep(b.delay)
            await self._json(writer, b.status, {"code": b.status, "message": "nothing here"})

    async def _json(self, writer: asyncio.StreamWriter, status: int, data: object) -> None:
        content = json.dumps(data).encode()
        writer.write(_head(status, {"Content-Type": "application/json", "Content-Length": str(len(content))}))
        writer.write(content)
        await writer.drain()


@contextlib.contextmanager
def hostile(behaviour: Behaviour) -> Iterator[HostileBackend]:
    backend = HostileBackend(behaviour).start()
    try:
        yield backend
    finally:
        backend.stop()

"""A lean HTTP/1.1 client on raw asyncio streams, and the loads the benchmarks drive with it.

Shared by the bench scripts (api_deep_queue.py, scale_*.py): a Python client on the same two cores bounds
the tail itself, so figures it yields are labelled client-bound where wrk would be the better judge.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TRAININGS = "/api/v1/workloads/trainings"
CREATE_CONNECTIONS = 8


def body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "spec": {"image": "busybox", "compute": {"gpuDevicesRequest": 1}},
    }


@dataclass
class Latency:
    """GET latencies of one measurement, in ms."""

    count: int
    p50: float
    p99: float
    peak: float
    errors: int

    def line(self, label: str, note: str = "") -> str:
        return (
            f"  GET {label:<12} p50 {self.p50:7.2f} ms  p99 {self.p99:7.2f} ms  max {self.peak:7.2f} ms"
            f"  ({self.count} GETs{', ' + str(self.errors) + ' errors' if self.errors else ''}{note})"
        )


@dataclass
class Made:
    """What a create load did: trainings created, seconds taken, answers that were not 2xx."""

    created: int
    seconds: float
    errors: int


class Connection:
    """One keep-alive HTTP/1.1 connection over raw asyncio streams: the cheapest Python client there is."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, method: str, path: str, payload: bytes = b"") -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        extra = f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n" if payload else ""
        request = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}{extra}\r\n"
        self.writer.write(request.encode() + payload)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class AsyncioLoad:
    """The same loads from Python coroutines, in a thread of their own; figures are client-bound."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        url = httpx.URL(base)
        self.host, self.port, self.headers = url.host, url.port or 80, headers
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def _run(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()  # type: ignore[arg-type]

    def _connection(self) -> Connection:
        return Connection(self.host, self.port, self.headers)

    async def _gets(self, path: str, connections: int, stop: asyncio.Event | float) -> Latency:
        latencies: list[float] = []
        errors = 0

        async def one() -> None:
            nonlocal errors
            connection = self._connection()
            try:
                while not (stop.is_set() if isinstance(stop, asyncio.Event) else time.monotonic() > stop):
                    started = time.perf_counter()
                    status, _ = await connection.send("GET", path)
                    latencies.append(time.perf_counter() - started)
                    errors += status >= 300
            finally:
                connection.close()

        await asyncio.gather(*(one() for _ in range(connections)))
        ordered = sorted(latencies) or [0.0]
        pick = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return Latency(
            len(latencies), ordered[len(ordered) // 2] * 1000, pick * 1000, ordered[-1] * 1000, errors
        )

    def gets(self, path: str, connections: int, seconds: float) -> Latency:
        result = self._run(self._gets(path, connections, time.monotonic() + seconds))
        assert isinstance(result, Latency)
        return result

    async def _creates(self, prefix: str, total: int, deadline: float) -> tuple[int, int]:
        numbers = iter(range(1, total + 1))
        created = failed = 0

        async def worker() -> None:
            nonlocal created, failed
            connection = self._connection()
            try:
                for n in numbers:
                    if time.monotonic() > deadline:
                        return
                    status, _ = await connection.send(
                        "POST", TRAININGS, json.dumps(body(f"{prefix}-{n}")).encode()
                    )
                    created += 200 <= status < 300
                    failed += not 200 <= status < 300
            finally:
                connection.close()

        await asyncio.gather(*(worker() for _ in range(CREATE_CONNECTIONS)))
        return created, failed

    def creates(
        self, prefix: str, total: int, probe: str, deadline: float, watch: int = 0
    ) -> tuple[Made, Latency | None]:
        async def both() -> tuple[tuple[int, int], Latency | None]:
            stop = asyncio.Event()
            watching = asyncio.ensure_future(self._gets(probe, watch, stop)) if watch else None
            try:
                made = await self._creates(prefix, total, deadline)
            finally:
                stop.set()
            return made, (await watching if watching is not None else None)

        started = time.perf_counter()
        result = self._run(both())
        assert isinstance(result, tuple)
        (created, failed), during = result
        return Made(created, time.perf_counter() - started, failed), during

    @contextmanager
    def churning(self, deadline: float) -> Iterator[None]:
        stop = asyncio.Event()

        async def churn() -> None:
            connection = self._connection()
            n = 0
            try:
                while not stop.is_set() and time.monotonic() < deadline:
                    n += 1
                    _, answer = await connection.send(
                        "POST", TRAININGS, json.dumps(body(f"churn-{n}")).encode()
                    )
                    await connection.send("DELETE", f"{TRAININGS}/{json.loads(answer)['workloadId']}")
            finally:
                connection.close()

        future = asyncio.run_coroutine_threadsafe(churn(), self.loop)
        try:
            yield
        finally:
            self.loop.call_soon_threadsafe(stop.set)
            future.result(timeout=60)

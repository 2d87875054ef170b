"""Requests per second of the fake against a bare Starlette app and Prism, in one run, on loopback.

Prints figures; asserts nothing (the targets of issue 12 are printed next to them). The ratios are what
to read: the machines are noisy. Load comes from `wrk` when it is installed (`apt-get install wrk`);
otherwise from an asyncio client with as many connections, which saturates before the servers do — its
figures are labelled client-bound. Prism runs when `npx` is on PATH and the official document is at
--prism-document (it is not part of the project); otherwise it is skipped with the reason.

    python bench/server_throughput.py [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from contracts.backend.server import HOST, LocalServer, fake_command, free_port
from mockserver.specs import read_official_document

TRAININGS = "/api/v1/workloads/trainings"
CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
# A create that can repeat: the name is a prefix, each training gets its own suffix.
CREATE_BODY = {
    "name": "bench",
    "useGivenNameAsPrefix": True,
    "projectId": "1",
    "clusterId": CLUSTER_ID,
    "spec": {"image": "python:3.11", "compute": {"gpuDevicesRequest": 1}},
}
TARGETS = {"GET training": 0.30, "create training": 0.20}
P99_OVER_P50 = 10.0

# The limit for a Python ASGI server: the same two paths, no validation, no state.
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def training(request):
    return JSONResponse({"workloadId": request.path_params["wid"], "actualPhase": "Running"})
async def create(request):
    body = await request.json()
    return JSONResponse({"workloadId": "x", "name": body["name"]})
async def spec(request):  # where LocalServer looks to see that a server is up
    return JSONResponse({})
app = Starlette(routes=[Route("/api/v1/workloads/trainings/{wid}", training),
                        Route("/api/v1/workloads/trainings", create, methods=["POST"]),
                        Route("/api/v1/openapi.json", spec)])
"""


# (requests per second, p50 ms, p99 ms, answers that were errors)
Figures = tuple[float, float, float, int]


@dataclass
class Result:
    server: str
    operation: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mib: float

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


@dataclass
class Target:
    """One server to load: where, what to send, and which process holds its memory."""

    name: str
    base_url: str
    pid: int
    get_path: str
    headers: dict[str, str]


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its descendants (npx runs Prism in a child)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found.group(1)) if found else 0
    return total / 1024


# --- load generators -------------------------------------------------------------------------------


def _wrk_ms(value: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if found is None:
        raise ValueError(f"wrk printed a latency this script does not read: {value!r}")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[found.group(2)]


def wrk(url: str, headers: dict[str, str], body: bytes | None, seconds: float, connections: int) -> Figures:
    """(req/s, p50 ms, p99 ms, non-2xx answers) from wrk; a POST body goes through a Lua script."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    script = None
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(f"wrk.method = 'POST'\nwrk.body = {json.dumps(body.decode())}\n")
        script.write("wrk.headers['Content-Type'] = 'application/json'\n")
        script.close()
        argv += ["-s", script.name]
    try:
        out = subprocess.run(
            [*argv, url], capture_output=True, text=True, check=True, timeout=seconds + 30
        ).stdout
    finally:
        if script:
            os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return (
        rps,
        p50,
        p99,
        (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0),
    )


async def _client(
    url: str, headers: dict[str, str], body: bytes | None, seconds: float, connections: int
) -> Figures:
    """Keep-alive HTTP/1.1 over raw asyncio streams: the cheapest Python client there is."""
    target = httpx.URL(url)
    head = [f"{'POST' if body else 'GET'} {target.raw_path.decode()} HTTP/1.1", f"Host: {target.host}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")
    latencies: list[float] = []
    errors = 0
    ends = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(target.host, target.port)
        while time.perf_counter() < ends:
            started = time.perf_counter()
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += status >= 300
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors


def load(url: str, headers: dict[str, str], body: bytes | None, seconds: float, connections: int) -> Figures:
    if shutil.which("wrk"):
        return wrk(url, headers, body, seconds, connections)
    return asyncio.run(_client(url, headers, body, seconds, connections))


# --- servers -------------------------------------------------------------------------------------


def uvicorn_command(script: Path) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "--app-dir", str(script.parent), f"{script.stem}:app",
            "--host", HOST, "--port", str(port), "--log-level", "warning", "--no-access-log",
            "--http", "httptools", "--loop", "uvloop",
        ]  # fmt: skip

    return command


@contextmanager
def bare_server() -> Iterator[Target]:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bare_app.py"
        script.write_text(BARE_APP)
        with LocalServer.start(uvicorn_command(script)) as server:
            yield Target("bare Starlette", server.base_url, server.process.pid, f"{TRAININGS}/x", {})


@contextmanager
def fake_server() -> Iterator[Target]:
    command = fake_command(seed=0)
    with LocalServer.start(lambda port: [*command(port), "--quiet"]) as server:
        grant = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
        token = httpx.post(server.base_url + "/api/v1/token", json=grant).json()["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(server.base_url + TRAININGS, json=CREATE_BODY, headers=headers)
        created.raise_for_status()
        path = f"{TRAININGS}/{created.json()['workloadId']}"
        yield Target("our fake", server.base_url, server.process.pid, path, headers)


@contextmanager
def prism_server(document: Path) -> Iterator[Target | str]:
    if not shutil.which("npx"):
        yield "skipped: npx is not on PATH (install Node.js to compare with Prism)"
        return
    if not document.is_file():
        yield f"skipped: the official document is not at {document} (--prism-document)"
        return
    port = free_port()
    argv = ["npx", "--yes", "@stoplight/prism-cli@5", "mock", "-h", HOST, "-p", str(port), str(document)]
    log = tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://{HOST}:{port}"
    path = f"{TRAININGS}/06d16c5d-4728-42fa-b573-3b11820d999f"
    headers = {"Authorization": "Bearer x"}
    try:
        deadline = time.monotonic() + 180  # the first npx run downloads Prism
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(base + path, headers=headers, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            log.seek(0)
            yield f"skipped: Prism did not start: {log.read().decode(errors='replace')[-300:]}"
            return
        yield Target("Prism 5 (official 2.18)", base, process.pid, path, headers)
    finally:
        os.killpg(process.pid, 15)
        process.wait(10)
        log.close()


def measure(target: Target, seconds: float, connections: int) -> list[Result]:
    results = []
    body = json.dumps(CREATE_BODY).encode()
    for operation, path, payload in (
        ("GET training", target.get_path, None),
        ("create training", TRAININGS, body),
    ):
        load(target.base_url + path, target.headers, payload, 1, connections)  # warm up
        rps, p50, p99, errors = load(target.base_url + path, target.headers, payload, seconds, connections)
        results.append(Result(target.name, operation, rps, p50, p99, errors, tree_rss_mib(target.pid)))
    return results


def report(results: list[Result], notes: list[str], generator: str) -> None:
    print(f"load: {generator}")
    print(f"{'server':<26}{'operation':<17}{'req/s':>9}{'x bare':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>9}"
          f"{'errors':>8}{'RSS MiB':>9}")  # fmt: skip
    bare = {r.operation: r.rps for r in results if r.server == "bare Starlette"}
    for r in results:
        ratio = r.rps / bare[r.operation] if bare.get(r.operation) else float("nan")
        print(f"{r.server:<26}{r.operation:<17}{r.rps:>9.0f}{ratio:>8.2f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
              f"{r.tail:>9.1f}{r.errors:>8}{r.rss_mib:>9.0f}")  # fmt: skip
    for note in notes:
        print(note)
    print("targets (issue 12):")
    for r in results:
        if r.server == "our fake":
            ratio = r.rps / bare[r.operation]
            met = ratio >= TARGETS[r.operation] and r.tail <= P99_OVER_P50
            print(f"  {r.operation}: {ratio:.2f}x bare (≥ {TARGETS[r.operation]:.2f}x), "
                  f"p99 {r.tail:.1f}x p50 (≤ {P99_OVER_P50:g}x): {'met' if met else 'NOT met'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--prism-document",
        type=Path,
        default=None,
        help="the document Prism serves (default: the official 2.18)",
    )
    parser.add_argument("--no-prism", action="store_true")
    args = parser.parse_args()
    generator = (
        f"wrk -t1 -c{args.connections} -d{args.seconds:g}s"
        if shutil.which("wrk")
        else f"asyncio client, {args.connections} connections — CLIENT-BOUND (install wrk for real figures)"
    )
    results: list[Result] = []
    notes: list[str] = []
    with bare_server() as bare:
        results += measure(bare, args.seconds, args.connections)
    with fake_server() as fake:
        results += measure(fake, args.seconds, args.connections)
    if args.no_prism:
        notes.append("Prism: skipped (--no-prism)")
    else:
        document = args.prism_document
        if document is None:
            # Prism reads a plain JSON file; the official document ships gzipped.
            document = Path(tempfile.mkdtemp()) / "runai-2.18-openapi.json"
            document.write_text(read_official_document("2.18"), encoding="utf-8")
        with prism_server(document) as prism:
            if isinstance(prism, str):
                notes.append(f"Prism: {prism}")
            else:
                results += measure(prism, args.seconds, args.connections)
    report(results, notes, generator)


if __name__ == "__main__":
    main()

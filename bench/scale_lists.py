"""Lists, counts and single GETs at 100,000 trainings, and the server's memory — this tree against a
baseline tree, side by side in one run. Prints figures and the targets of issue 22; asserts nothing.

    python bench/scale_lists.py [--trainings 100000] [--seconds 4] [--baseline REV]

Each server is this script in --serve mode, run with PYTHONPATH on its tree: it fills its cluster through
the parsing and domain calls a create makes (HTTP would only add minutes), then serves as the CLI does.
The baseline tree is `git archive` of --baseline into a temporary directory. Load comes from the lean
asyncio client (bench/asyncio_load.py), one connection per loop; its figures include the client's share of
the two cores.

Figures: list `limit=50` and count p50/p99; a single GET's p99 idle and while one client polls the list
(target: at most twice idle); RSS after the fill (target: at most 300 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asyncio_load import Connection
from server_throughput import CREATE_BODY, tree_rss_mib

from contracts.backend.server import HOST, free_port

REPO = Path(__file__).resolve().parents[1]
WORKLOADS = "/api/v1/workloads"


def serve(trainings: int, port: int) -> None:
    """Fill a fake with `trainings` trainings, print the id of the last, and serve until stopped."""
    import uvicorn

    from mockserver.app import create_app
    from mockserver.http.auth import Principal
    from mockserver.http.uvicorn_guard import guarded
    from mockserver.parsing.training import parse_training

    app = create_app(own_process=True)
    state = app.mock_state
    account = state.tokens.accounts[0]
    caller = Principal(account.client_id, account.email, account.projects)
    last = None
    for _ in range(trainings):
        parsed = parse_training(json.loads(json.dumps(CREATE_BODY)), state.version)
        last = state.cluster.submit(parsed.request, caller, parsed.issues)
    print(f"FILLED {last.workload_id if last else '-'}", flush=True)
    config = uvicorn.Config(
        app, host=HOST, port=port, log_level="warning", access_log=False, date_header=False, **guarded()
    )
    uvicorn.Server(config).run()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples) or [0.0]
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def poll(port: int, headers: dict[str, str], path: str, until: float, least: int = 3) -> list[float]:
    """GET `path` back to back until `until` (and at least `least` times); the latencies."""
    connection = Connection(HOST, port, headers)
    times: list[float] = []
    try:
        while time.monotonic() < until or len(times) < least:
            started = time.perf_counter()
            status, _ = await connection.send("GET", path)
            times.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
            await asyncio.sleep(0)
    finally:
        connection.close()
    return times


async def measure(
    port: int, headers: dict[str, str], one: str, seconds: float
) -> dict[str, tuple[float, float]]:
    single = f"{WORKLOADS}/{one}"
    found = {}
    found["GET idle"] = percentiles(await poll(port, headers, single, time.monotonic() + seconds))
    found["list limit=50"] = percentiles(
        await poll(port, headers, f"{WORKLOADS}?limit=50", time.monotonic() + seconds)
    )
    found["count"] = percentiles(await poll(port, headers, f"{WORKLOADS}/count", time.monotonic() + seconds))
    until = time.monotonic() + seconds
    gets, _ = await asyncio.gather(
        poll(port, headers, single, until), poll(port, headers, f"{WORKLOADS}?limit=50", until)
    )
    found["GET, list polled"] = percentiles(gets)
    return found


def run(tree: Path, trainings: int, seconds: float) -> tuple[dict[str, tuple[float, float]], float, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", str(trainings), "--port", str(port)]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, cwd=tree, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("FILLED"):
            raise RuntimeError(f"server said {line!r}")
        one = line.split()[1]
        base = f"http://{HOST}:{port}"
        for _ in range(200):
            try:
                token = httpx.post(
                    f"{base}/api/v1/token",
                    json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
                ).json()["accessToken"]
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        fill = time.monotonic() - started
        rss = tree_rss_mib(process.pid)
        figures = asyncio.run(measure(port, {"Authorization": f"Bearer {token}"}, one, seconds))
        return figures, rss, fill
    finally:
        process.terminate()
        process.wait(30)


def baseline_tree(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trainings", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument(
        "--baseline",
        default="2cc8a32",
        help="git revision to compare with (default: before issue 22; '' skips)",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port)
        return
    print(f"load average {os.getloadavg()[0]:.2f}; {args.trainings} trainings; {args.seconds:g} s a figure")
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"this tree": REPO}
        if args.baseline:
            trees = {f"baseline {args.baseline}": baseline_tree(args.baseline, Path(scratch)), **trees}
        results = {label: run(tree, args.trainings, args.seconds) for label, tree in trees.items()}
    labels = list(results)
    print(f"{'figure (ms p50 / p99)':<24}" + "".join(f"{label:>26}" for label in labels))
    for figure in results[labels[0]][0]:
        cells = "".join(f"{r[0][figure][0]:>12.1f} / {r[0][figure][1]:>9.1f}" for r in results.values())
        print(f"{figure:<24}{cells}")
    print(f"{'RSS MiB after fill':<24}" + "".join(f"{r[1]:>26.0f}" for r in results.values()))
    print(f"{'fill + start s':<24}" + "".join(f"{r[2]:>26.1f}" for r in results.values()))
    for label, (figures, _, _) in results.items():
        ratio = figures["GET, list polled"][1] / max(figures["GET idle"][1], 1e-6)
        print(f"{label}: GET p99 while the list is polled = {ratio:.1f}x idle (target <= 2x)")
    print("targets: list / count p99 <= 20 ms; RSS <= 300 MB")


if __name__ == "__main__":
    main()

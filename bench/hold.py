"""A fake holding 100,000 trainings: its memory, and GET latency against an empty fake, in one run.

Prints figures; asserts nothing (issue 12's targets are printed next to them: RSS under 1 GiB, GET p50
within 1.5x of an empty fake). Each server is this script in --serve mode: it fills its cluster through
the same parsing and domain calls a create makes (HTTP would only add time), then serves on the same
uvicorn protocol and loop as `mockserver`. Load: wrk when installed, else the asyncio client
(client-bound) of bench/server_throughput.py.

    python bench/hold.py [--trainings 100000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_throughput import CREATE_BODY, TRAININGS, Figures, load, tree_rss_mib

from contracts.backend.server import HOST, free_port

RSS_LIMIT_MIB = 1024
P50_LIMIT = 1.5


def serve(trainings: int, port: int) -> None:
    """Fill a fake with `trainings` trainings, say which one to read, and serve until stopped."""
    import uvicorn

    from mockserver.app import create_app
    from mockserver.http.auth import Principal
    from mockserver.http.uvicorn_guard import guarded
    from mockserver.parsing.training import parse_training

    app = create_app(own_process=True)  # served as the CLI serves it
    state = app.mock_state
    account = state.tokens.accounts[0]
    caller = Principal(account.client_id, account.email, account.projects)
    started = time.perf_counter()
    last = None
    for _ in range(trainings):
        parsed = parse_training(dict(CREATE_BODY), state.version)
        last = state.cluster.submit(parsed.request, caller, parsed.issues)
    print(
        f"FILLED {trainings} {time.perf_counter() - started:.1f}s {last.workload_id if last else '-'}",
        flush=True,
    )
    uvicorn.Server(
        uvicorn.Config(
            app, host=HOST, port=port, log_level="warning", access_log=False, date_header=False, **guarded()
        )
    ).run()


class Held:
    """A fake in --serve mode holding `trainings` trainings, and the URL of one of them."""

    def __init__(self, trainings: int) -> None:
        port = free_port()
        argv = [sys.executable, __file__, "--serve", str(trainings), "--port", str(port)]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != "FILLED":
            self.stop()
            raise RuntimeError(f"the server did not fill its cluster: {line}")
        self.fill_seconds = float(line[2].rstrip("s"))
        base = f"http://{HOST}:{port}"
        grant = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
        for _ in range(600):
            try:
                token = httpx.post(base + "/api/v1/token", json=grant).json()["accessToken"]
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        self.headers = {"Authorization": f"Bearer {token}"}
        workload_id = line[3]
        if workload_id == "-":  # the empty fake: one training to read
            created = httpx.post(base + TRAININGS, json=CREATE_BODY, headers=self.headers)
            workload_id = created.json()["workloadId"]
        self.url = f"{base}{TRAININGS}/{workload_id}"
        assert httpx.get(self.url, headers=self.headers).status_code == 200

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainings", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs against each server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port)
        return
    empty = Held(0)
    full = Held(args.trainings)
    figures: dict[str, list[Figures]] = {"empty": [], "full": []}
    try:
        for held in (empty, full):
            load(held.url, held.headers, None, 1, args.connections)  # warm up
        # Alternating rounds: a busy machine's swings fall on both alike; the medians are compared.
        for _ in range(args.rounds):
            for name, held in (("empty", empty), ("full", full)):
                figures[name].append(load(held.url, held.headers, None, args.seconds, args.connections))
        rss = {"empty": tree_rss_mib(empty.process.pid), "full": tree_rss_mib(full.process.pid)}
    finally:
        empty.stop()
        full.stop()
    median = {
        name: [statistics.median(f[i] for f in runs) for i in range(3)] for name, runs in figures.items()
    }
    print(f"{'fake holding':<22}{'fill s':>8}{'GET req/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'RSS MiB':>9}")
    for name, label, held in (
        ("empty", "no training", empty),
        ("full", f"{args.trainings:,} trainings", full),
    ):
        rps, p50, p99 = median[name]
        print(f"{label:<22}{held.fill_seconds:>8.1f}{rps:>11.0f}{p50:>9.2f}{p99:>9.2f}{rss[name]:>9.0f}")
    print(f"(medians of {args.rounds} alternating {args.seconds:g} s rounds)")
    ratio = median["full"][1] / median["empty"][1]
    print("targets (issue 12):")
    print(
        f"  RSS {rss['full']:.0f} MiB (< {RSS_LIMIT_MIB} MiB): {'met' if rss['full'] < RSS_LIMIT_MIB else 'NOT met'}"
    )
    print(
        f"  GET p50 {ratio:.2f}x the empty fake's (<= {P50_LIMIT}x): {'met' if ratio <= P50_LIMIT else 'NOT met'}"
    )


if __name__ == "__main__":
    main()

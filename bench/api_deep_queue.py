"""API latency under a deep queue (a script, not a test): does a long line of pending trainings, or a
stream of creates, move the tail latency of reads? Prints figures; asserts nothing.

    .venv/bin/python bench/api_deep_queue.py           # 10,000 queued, then 20,000 creates (a few minutes)
    .venv/bin/python bench/api_deep_queue.py --quick   # 1,000 and 2,000

Two parts, each against a fresh fake on loopback (default cluster, realtime clock at --speed 50, so that
scheduling cycles and phase timers run all the time):

1. deep queue: GET p99 of one training at 32 connections while the cluster is idle, then again once N
   one-GPU trainings are queued behind the cluster's 46 GPUs; the ratio is the figure (target: at most 3).
   Both times one more connection keeps submitting and deleting a training, so that scheduling cycles run
   as they do on a cluster in use (a queue nobody touches costs nothing).
2. creates: GET p50 / p99 / max of one training at 4 connections while M trainings are created at 8
   connections (target p99 at most 100 ms), creates per second, and the same GET load on the idle fake
   just before, as the baseline of the same run.

Load comes from `wrk` (`apt-get install wrk`): one wrk for the GETs, which times them, and one with a Lua
script for the creates (unique names, stops after M) or the churn. A Python client on the same two cores
bounds the tail itself (its idle p99 was above the target), so without wrk the figures come from a lean
asyncio client and are labelled CLIENT-BOUND. Every part is bounded in count and, through --deadline, in
time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asyncio_load import CREATE_CONNECTIONS, TRAININGS, AsyncioLoad, Latency, Made, body

from contracts.backend.server import LocalServer

GET_CONNECTIONS = {"deep": 32, "creates": 4}
TARGET_P99_MS = 100.0
TARGET_RATIO = 3.0


# --- wrk ---------------------------------------------------------------------------------------------

# Reports exact figures from wrk's own histogram (microseconds), one line for this script to read.
GET_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end
"""

# Creates `total` trainings named <prefix>-<n> over all connections of one thread, then stops; requests
# asked for once all are sent are GETs of the probe (at most one per connection, not counted).
CREATE_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  prefix, total, probe = args[1], tonumber(args[2]), args[3]
  sent, created, failed = 0, 0, 0
end
function request()
  if sent >= total then return wrk.format("GET", probe) end
  sent = sent + 1
  local body = string.format(BODY, prefix .. "-" .. sent)
  return wrk.format("POST", PATH, HEADERS, body)
end
function response(status, headers, body)
  if created + failed >= total then return end
  if status >= 200 and status < 300 then created = created + 1 else failed = failed + 1 end
  if created + failed >= total then
    io.write("ALL ANSWERED\\n")
    io.flush()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("RESULT %d %d\\n", t:get("created"), t:get("failed")))
  end
end
"""

# Submits a training, deletes it, and again, on its connections until stopped.
CHURN_SCRIPT = """
function init(args) n, victim = 0, nil end
function request()
  if victim ~= nil then return wrk.format("DELETE", PATH .. "/" .. victim) end
  n = n + 1
  return wrk.format("POST", PATH, HEADERS, string.format(BODY, "churn-" .. n))
end
function response(status, headers, body)
  if victim ~= nil then victim = nil return end
  victim = string.match(body, '"workloadId"%s*:%s*"([^"]+)"')
end
"""


def lua(script: str) -> str:
    """The script with the create body and path filled in, as a file wrk can read."""
    template = json.dumps(body("NAME")).replace("%", "%%").replace('"NAME"', '"%s"')
    # wrk.format's headers replace the command line's (-H): the POSTs name them all.
    prelude = (
        f"PATH = {json.dumps(TRAININGS)}\nBODY = {json.dumps(template)}\n"
        "HEADERS = {['Content-Type'] = 'application/json'}\n"
        "for name, value in pairs(wrk.headers) do HEADERS[name] = value end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(prelude + script)
    return handle.name


class Wrk:
    """wrk processes against one fake; each call runs one, on one thread."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base
        self.headers = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
        self.scripts = {name: lua(text) for name, text in (("get", GET_SCRIPT), ("create", CREATE_SCRIPT))}
        self.scripts["churn"] = lua(CHURN_SCRIPT)

    def close(self) -> None:
        for path in self.scripts.values():
            os.unlink(path)

    def _argv(self, script: str, connections: int, seconds: float, path: str) -> list[str]:
        return [
            "wrk", "-t1", f"-c{connections}", f"-d{max(1, math.ceil(seconds))}s", "--timeout", "30s", "--latency",
            *self.headers, "-s", self.scripts[script], self.base + path,
        ]  # fmt: skip

    def gets(self, path: str, connections: int, seconds: float) -> Latency:
        out = subprocess.run(
            self._argv("get", connections, seconds, path),
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
        return _latency(out)

    def creates(
        self, prefix: str, total: int, probe: str, deadline: float, watch: int = 0
    ) -> tuple[Made, Latency | None]:
        """`total` creates; with `watch` connections GETting `probe` from their start to their end."""
        seconds = max(1.0, deadline - time.monotonic())
        argv = self._argv("create", CREATE_CONNECTIONS, seconds, TRAININGS)
        started = time.perf_counter()
        process = subprocess.Popen(
            [*argv, "--", prefix, str(total), probe], stdout=subprocess.PIPE, text=True
        )
        # Started after the creator, stopped as soon as it is done: no GET of an idle fake is counted.
        watcher = (
            subprocess.Popen(self._argv("get", watch, seconds, probe), stdout=subprocess.PIPE, text=True)
            if watch
            else None
        )
        assert process.stdout is not None
        # A stopped wrk thread leaves wrk asleep until its duration ends: the script says when all
        # answers are in, and SIGINT makes wrk print its figures at once.
        for line in process.stdout:
            if line.startswith("ALL ANSWERED"):
                break
        took = time.perf_counter() - started
        during = None
        if watcher is not None:
            watcher.send_signal(signal.SIGINT)
            during = _latency(watcher.communicate(timeout=60)[0])
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
        found = re.search(r"^RESULT (\d+) (\d+)", out, re.M)
        if found is None:
            raise RuntimeError(f"wrk printed no result:\n{out}")
        return Made(int(found.group(1)), took, int(found.group(2))), during

    @contextmanager
    def churning(self, deadline: float) -> Iterator[None]:
        seconds = max(1.0, deadline - time.monotonic())
        process = subprocess.Popen(
            self._argv("churn", 1, seconds, TRAININGS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.2)
        try:
            yield
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(60)


def _latency(out: str) -> Latency:
    found = re.search(r"^RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", out, re.M)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    count, p50, p99, peak, errors = map(int, found.groups())
    return Latency(count, p50 / 1000, p99 / 1000, peak / 1000, errors)


Load = Wrk | AsyncioLoad


# --- the two parts -----------------------------------------------------------------------------------


def token(base: str) -> dict[str, str]:
    answer = httpx.post(
        base + "/api/v1/token",
        json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
    )
    return {"Authorization": f"Bearer {answer.json()['accessToken']}"}


@contextmanager
def fake(command: list[str], use_wrk: bool) -> Iterator[tuple[Load, str, str]]:
    """A fresh fake, a load generator for it and the path of one training to read."""
    with LocalServer.start(lambda port: [*command, "--port", str(port)]) as server:
        headers = token(server.base_url)
        created = httpx.post(server.base_url + TRAININGS, json=body("probe"), headers=headers)
        created.raise_for_status()
        probe = f"{TRAININGS}/{created.json()['workloadId']}"
        load: Load = Wrk(server.base_url, headers) if use_wrk else AsyncioLoad(server.base_url, headers)
        try:
            yield load, probe, server.base_url
        finally:
            load.close()


def deep_queue(load: Load, probe: str, base: str, queued: int, seconds: float, deadline: float) -> float:
    connections = GET_CONNECTIONS["deep"]
    load.gets(probe, connections, 1)  # warm up
    with load.churning(deadline):
        idle = load.gets(probe, connections, seconds)
    made, _ = load.creates("queued", queued, probe, deadline)
    time.sleep(1.0)  # 50 virtual seconds: every training is past Creating
    with load.churning(deadline):
        deep = load.gets(probe, connections, seconds)
    trainings = httpx.get(base + "/api/mock/v1/snapshot").json()["trainings"]
    pending = sum(1 for t in trainings if t.get("actualPhase") == "Pending")
    ratio = deep.p99 / idle.p99
    print(
        f"== deep queue: {made.created} trainings created in {made.seconds:.1f} s "
        f"({made.created / made.seconds:.0f}/s, {CREATE_CONNECTIONS} connections); {pending} Pending"
    )
    print(idle.line("idle", f", {connections} connections, 1 churning"))
    print(deep.line("deep queue"))
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"  p99 deep / idle: {ratio:.2f}  (target <= {TARGET_RATIO:g}: {verdict})")
    return ratio


def creates(load: Load, probe: str, total: int, seconds: float, deadline: float) -> float:
    connections = GET_CONNECTIONS["creates"]
    load.gets(probe, connections, 1)  # warm up
    idle = load.gets(probe, connections, seconds)
    made, during = load.creates("load", total, probe, deadline, watch=connections)
    assert during is not None
    after = load.gets(probe, connections, seconds)
    rate = made.created / made.seconds
    failed = f", {made.errors} refused" if made.errors else ""
    print(
        f"== {made.created} creates on --speed 50 in {made.seconds:.1f} s: {rate:.0f} creates/s "
        f"({CREATE_CONNECTIONS} connections{failed})"
    )
    print(idle.line("idle", f", {connections} connections, just before"))
    print(during.line("during"))
    print(after.line("after"))
    verdict = "met" if during.p99 <= TARGET_P99_MS else "NOT met"
    print(f"  GET p99 during the creates <= {TARGET_P99_MS:g} ms: {verdict}")
    return during.p99


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine moves the tail."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 queued and 2,000 creates")
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--creates", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each GET measurement")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds each part may take at most")
    parser.add_argument("--no-wrk", action="store_true", help="use the asyncio client even if wrk is here")
    args = parser.parse_args()
    queued, total = (1_000, 2_000) if args.quick else (args.queued, args.creates)
    seconds = min(args.seconds, 3.0) if args.quick else args.seconds
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    print(
        "load: wrk -t1 (GETs timed by wrk; creates and churn from wrk Lua scripts)"
        if use_wrk
        else "load: asyncio client — CLIENT-BOUND: it shares the cores and times itself (install wrk)"
    )
    serve = [sys.executable, "-m", "mockserver"]
    # Without the request log when the fake has one to switch off (its cost is not the queue's).
    quiet = (
        ["--quiet"]
        if "--quiet" in subprocess.run([*serve, "--help"], capture_output=True, text=True).stdout
        else []
    )
    command = [*serve, "--host", "127.0.0.1", "--clock", "realtime", "--speed", "50", "--seed", "0", *quiet]
    before = _load()
    started = time.perf_counter()
    if queued:  # --queued 0 skips the part
        with fake(command, use_wrk) as (load, probe, base):
            deep_queue(load, probe, base, queued, seconds, time.monotonic() + args.deadline)
    if total:  # --creates 0 skips the part
        with fake(command, use_wrk) as (load, probe, _):
            creates(load, probe, total, seconds, time.monotonic() + args.deadline)
    print(
        f"== total wall time {time.perf_counter() - started:.1f} s; load average {_load()} (at the start: {before})"
    )


if __name__ == "__main__":
    main()

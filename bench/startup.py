"""How long the fake takes to start: `import mockserver.app`, and process start to the first 200.

Prints figures; asserts nothing. The target of issue 12 (first 200 within 1.0 s) is printed next to them.
With --baseline REV, the start of that revision (`git archive` into a temporary directory) is measured in
the same run, alternating with this tree's, and the ratio of their server CPU printed.
    python bench/startup.py [--runs 5] [--baseline REV]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scale_lists import baseline_tree

from contracts.backend.server import HOST, free_port

REPO = Path(__file__).resolve().parents[1]

TARGET_SECONDS = 1.0
TIMED_IMPORT = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMED_IMPORT.format(module=module)], capture_output=True, text=True, check=True
    )
    return float(out.stdout)


def heaviest_imports(module: str, count: int) -> list[tuple[float, str]]:
    """The top-level packages whose import costs most (cumulative), from `python -X importtime`."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    totals: dict[str, float] = {}
    for line in err.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        # Two levels below the module (its imports and theirs): where the time goes, not every leaf.
        if found and 3 <= len(found.group(2)) <= 5:
            totals[found.group(3)] = int(found.group(1)) / 1e6
    return sorted(((s, name) for name, s in totals.items()), reverse=True)[:count]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: unlike wall time, it does not grow with other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_200_seconds(tree: Path = REPO) -> tuple[float, float]:
    """Process start to the first 200 of GET /api/v1/openapi.json, polling every 5 ms: (wall, server CPU).
    The server is the `mockserver` of `tree` (started in it, so that its package comes first on the path)."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--host", HOST, "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        cwd=tree,
    )
    try:
        while time.perf_counter() - started < 30:
            if server.poll() is not None:
                raise RuntimeError(f"the fake exited with {server.returncode} before answering")
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=5)
                connection.request("GET", "/api/v1/openapi.json")
                if connection.getresponse().status == 200:
                    return time.perf_counter() - started, cpu_seconds(server.pid)
            except OSError:
                time.sleep(0.005)
        raise RuntimeError("the fake did not answer within 30 s")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", default="", help="git revision to measure side by side (default: none)")
    args = parser.parse_args()
    if args.baseline:
        with tempfile.TemporaryDirectory() as scratch:
            compare(baseline_tree(args.baseline, Path(scratch)), args.baseline, args.runs)
        return
    python = [import_seconds("sys") for _ in range(args.runs)]
    imports = [import_seconds("mockserver.app") for _ in range(args.runs)]
    measured = [first_200_seconds() for _ in range(args.runs)]
    starts = [wall for wall, _ in measured]
    print(f"{'measure':<44}{'median s':>10}{'min s':>8}{'max s':>8}")
    for name, values in (
        ("import mockserver.app", imports),
        ("process start to first 200 (wall)", starts),
        ("  of which the server's CPU time", [cpu for _, cpu in measured]),
    ):
        print(f"{name:<44}{statistics.median(values):>10.3f}{min(values):>8.3f}{max(values):>8.3f}")
    print(f"(an empty import in the same interpreter: {statistics.median(python) * 1000:.2f} ms)")
    print("heaviest imports under mockserver.app (cumulative s):")
    for seconds, name in heaviest_imports("mockserver.app", 8):
        print(f"  {seconds:7.3f}  {name}")
    median = statistics.median(starts)
    cpu = statistics.median(cpu for _, cpu in measured)
    verdict = "met" if median <= TARGET_SECONDS else "NOT met"
    print(f"target (issue 12): first 200 within {TARGET_SECONDS:g} s: median {median:.2f} s, {verdict}")
    if median > TARGET_SECONDS >= cpu:
        print(f"  (the server needed {cpu:.2f} s of CPU: the rest was waiting for a busy machine's cores)")


def compare(baseline: Path, rev: str, runs: int) -> None:
    """Starts of the baseline and of this tree, alternating, so that both meet the same machine."""
    pairs = [(first_200_seconds(baseline), first_200_seconds()) for _ in range(runs)]
    print(f"{'process start to first 200':<30}{'wall median s':>14}{'server CPU median s':>21}")
    for label, index in ((f"baseline {rev}", 0), ("this tree", 1)):
        wall = statistics.median(pair[index][0] for pair in pairs)
        cpu = statistics.median(pair[index][1] for pair in pairs)
        print(f"{label:<30}{wall:>14.3f}{cpu:>21.3f}")
    ratio = statistics.median(new[1] / old[1] for old, new in pairs)
    print(f"server CPU to first 200, this tree / baseline: {ratio:.2f}")


if __name__ == "__main__":
    main()

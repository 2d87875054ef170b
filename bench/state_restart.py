"""Restart time of a `--state` server after 50,000 journalled commands: snapshots against full replay.

Two state files get the same 50,000 commands (of every ten: four creates, a suspend, a resume, three
deletes and a one-second clock advance, so that 5,000 trainings live at the end; through the
journalled cluster in-process; the build writes with `synchronous=OFF`, which changes
what the file holds in no way, only how long building it takes). One is compacted by snapshots as a
server does (`SNAPSHOT_EVERY_*` in `mockserver/persistence/__init__.py`: after 10,000 commands, 16 MB
of arguments or half a second of work, whichever comes first), the other never is (the baseline:
the whole journal replayed, as before snapshots; the journal of HTTP requests before it replayed
each through the app, about three times slower again). Each is then opened as a server opens it (`create_app`),
timed; the time to build the app without a state file is printed too. Prints figures and the ratio,
asserts nothing.

    python bench/state_restart.py [--commands 50000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from mockserver.app import create_app
from mockserver.cluster.errors import ClusterError
from mockserver.http.auth import Principal
from mockserver.parsing.training import parse_training
from mockserver.persistence import Durability
from mockserver.persistence.store import Command, StateStore

CALLER = Principal("mock-app", "mock-app@example.com", None)


def body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "projectId": "1",
        "clusterId": "71f69d83-ba66-4822-adf5-55ce55efd210",
        "spec": {"image": "busybox", "command": "sleep 3600", "compute": {"cpuCoreRequest": 0.1}},
    }


class Mirror:
    """Every row the server's store writes also goes to a second store that is never compacted."""

    def __init__(self, store: StateStore, other: StateStore) -> None:
        self.store, self.other = store, other
        begin, settle = store.begin, store.settle

        def both_begin(command: Command) -> int:
            seq = begin(command)
            assert other.begin(command) == seq
            return seq

        def both_settle(seq: int, command: Command, done: bool, after: float) -> None:
            settle(seq, command, done, after)
            other.settle(seq, command, done, after)

        store.begin = both_begin  # type: ignore[method-assign]
        store.settle = both_settle  # type: ignore[method-assign]


def build(compacted: Path, full: Path, commands: int) -> float:
    """Two state files holding the same `commands` journalled commands: `compacted` as a server keeps
    it, `full` never compacted. The seconds it took."""
    started = time.perf_counter()
    app = create_app(state_file=compacted)
    durable: Durability = app.mock_durability
    durable.store._db.execute("PRAGMA synchronous=OFF")  # building only: the bytes are the same
    shutil.copyfile(compacted, full)  # the same settings, seed and clock origin; no command yet
    other = StateStore.open(full, json.loads(durable.store.get_meta("identity") or "{}"))
    other._db.execute("PRAGMA synchronous=OFF")
    Mirror(durable.store, other)
    state = app.mock_state
    cluster, ids, done = state.cluster, [], 0
    while done < commands:
        step = done % 10
        try:
            if step < 4:
                parsed = parse_training(body(f"job-{done}"), state.version)
                ids.append(cluster.submit(parsed.request, CALLER, parsed.issues).workload_id)
            elif step == 4:
                cluster.suspend(ids[-1], CALLER)
            elif step == 5:
                cluster.resume(ids[-1], CALLER)
            elif step < 9:
                cluster.delete(ids.pop(0), CALLER)
            else:
                cluster.advance(1.0)
        except ClusterError:
            pass  # refused commands are journalled too, then dropped: still a command sent
        done += 1
        durable.snapshot_if_due()
    durable.wait_for_snapshot()
    durable.store.close()
    other.close()
    return time.perf_counter() - started


def restart(path: Path) -> tuple[float, float, int, int]:
    """Wall and CPU seconds for `create_app` on the file (CPU: what a shared machine's load does not
    inflate); commands replayed; the snapshot's last command."""
    started, cpu = time.perf_counter(), time.process_time()
    app = create_app(state_file=path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    durable = app.mock_durability
    durable.store.close()
    return seconds, cpu, durable.replayed, durable.snapshot_seq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        compacted, full = Path(directory) / "compacted.db", Path(directory) / "full.db"
        built = build(compacted, full, args.commands)
        started = time.perf_counter()
        create_app()
        bare = time.perf_counter() - started
        fast, fast_cpu, replayed, covered = restart(compacted)
        slow, slow_cpu, all_replayed, _ = restart(full)
        sizes = {p.name: p.stat().st_size for p in Path(directory).iterdir()}
    load = os.getloadavg()[0]
    print(f"{args.commands} commands journalled (build {built:.1f} s); load average {load:.2f}")
    print(f"  files: {', '.join(f'{name} {size / 1e6:.1f} MB' for name, size in sorted(sizes.items()))}")
    print(f"  create_app without --state:          {bare:6.2f} s")
    print(
        f"  restart, snapshot + tail:            {fast:6.2f} s wall, {fast_cpu:6.2f} s CPU  "
        f"(snapshot up to {covered}, {replayed} replayed)"
    )
    print(
        f"  restart, whole journal (baseline):   {slow:6.2f} s wall, {slow_cpu:6.2f} s CPU  ({all_replayed} replayed)"
    )
    print(f"  ratio snapshot / baseline (CPU):     {fast_cpu / slow_cpu:6.2f}   (target: restart <= 2 s)")


if __name__ == "__main__":
    main()

"""The commands the journal records: the cluster's methods that change it, and the fault settings.

`CommandLog.install` puts a write-ahead step in front of each of them on the app's one cluster and
faults object: a call is recorded as (target, operation, typed arguments, principal) and committed
before it runs, and its outcome after. Handlers and parsing are untouched: whatever HTTP shape a
command came in (any API version, any kind), the record is the call the cluster received, and replay
makes the same call. A new workload kind goes through `submit`/`suspend`/`resume`/`delete` with its
kind as an argument and needs nothing here; a new method that changes the cluster must be added to
`CLUSTER_COMMANDS` (`tests/hardening/test_state_commands.py` fails until every public method of
`FakeCluster` is named a command or a query).
"""

from __future__ import annotations

import dataclasses
import pickle
import time
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.exceptions import HTTPException

from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import ClusterError
from mockserver.http.middleware import Faults
from mockserver.persistence import codec
from mockserver.persistence.store import Command, StateFileError, StateStore, StateWriteError

# The cluster's methods that change what a client could see; everything else public only reads.
CLUSTER_COMMANDS = frozenset(
    {
        "reset",
        "advance",
        "force_outcome",
        "submit_load",
        "remove_load",
        "submit",
        "suspend",
        "resume",
        "delete",
        "set_connected",
        "update",  # a spec change (an inference's PATCH): its revision is a record (parsing/inference.py)
        "change",  # a chaos move (cluster/chaos.py): a record
    }
)
CLUSTER_QUERIES = frozenset(
    {
        "now",
        "events_after",
        "workload",
        "training",
        "reading",
        "workloads",
        "trainings",
        "loads",
        "events_for",
        "placement",
        "scheduler_snapshot",
        "inspect",
    }
)
# What the control API sets on the faults (the random generator is not a setting: it is per process).
FAULT_SETTINGS = tuple(f.name for f in dataclasses.fields(Faults) if f.name != "rng")
CLUSTER, FAULTS = "cluster", "faults"

T = TypeVar("T")


class NotRecorded(HTTPException):
    """The state file could not take a command: it was not carried out (503 `{code, message}`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            503,
            f"The state file could not be written ({reason}); the request was not carried out. Free the "
            "disk and send it again",
        )


class CommandLog:
    """Records each command before it runs (write-ahead) and its outcome after."""

    def __init__(
        self, store: StateStore, now: Callable[[], float], done: Callable[[Command, float], None]
    ) -> None:
        self.store, self.now, self.done = store, now, done

    def install(self, cluster: FakeCluster, faults: Faults) -> None:
        for name in CLUSTER_COMMANDS:
            setattr(cluster, name, self._journalled(name, getattr(cluster, name)))
        faults.__class__ = JournalledFaults
        faults.journal = self  # type: ignore[attr-defined]  # the subclass reads it

    def _journalled(self, operation: str, method: Callable[..., T]) -> Callable[..., T]:
        def journalled(*args: Any, **kwargs: Any) -> T:
            return self.run(CLUSTER, operation, args, kwargs, lambda: method(*args, **kwargs))

        journalled.__name__ = operation
        return journalled

    def run(
        self,
        target: str,
        operation: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        call: Callable[[], T],
    ) -> T:
        try:
            arguments = codec.dumps((args, kwargs))
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise NotRecorded(f"its arguments cannot be recorded: {error}") from error
        command = Command(self.now(), None, target, operation, _principal(args, kwargs), arguments)
        try:
            seq = self.store.begin(command)
        except StateWriteError as error:
            raise NotRecorded(str(error)) from error
        started = time.perf_counter()
        try:
            result = call()
        except BaseException:
            # Refused (a ClusterError changes nothing); the row is dropped with the next write.
            self.store.settle(seq, command, False, self.now())
            raise
        self.store.settle(seq, command, True, self.now())
        self.done(command, time.perf_counter() - started)  # its cost: what replaying it would cost
        return result


class JournalledFaults(Faults):
    """The app's faults once a state file is in use: each setting is a journalled command."""

    journal: CommandLog

    def __setattr__(self, name: str, value: Any) -> None:
        journal = self.__dict__.get("journal")
        if journal is None or name not in FAULT_SETTINGS:
            object.__setattr__(self, name, value)
            return
        journal.run(FAULTS, name, (value,), {}, lambda: object.__setattr__(self, name, value))


def _principal(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """The application a command runs for: the caller among its arguments (None: the control API)."""
    for value in (*args, *kwargs.values()):
        client_id = getattr(value, "client_id", None)
        if isinstance(client_id, str):
            return client_id
    return None


def execute(cluster: FakeCluster, faults: Faults, command: Command, arguments: Any) -> None:
    """Run a recorded command again (replay); ClusterError if the cluster refuses it."""
    args, kwargs = arguments
    if command.target == CLUSTER and command.operation in CLUSTER_COMMANDS:
        getattr(FakeCluster, command.operation)(cluster, *args, **kwargs)  # the method itself, not a wrapper
    elif command.target == FAULTS and command.operation in FAULT_SETTINGS and len(args) == 1:
        object.__setattr__(faults, command.operation, args[0])
    else:
        raise StateFileError(f"{command.describe()}: not a command this server knows")


def replay_one(cluster: FakeCluster, faults: Faults, command: Command, path: object) -> None:
    try:
        arguments = codec.loads(command.arguments)
    except codec.UnreadableRecord as error:
        raise StateFileError(
            f"{path}: {command.describe()} was written by another version of the fake ({error}); start with "
            "a new --state file"
        ) from error
    try:
        execute(cluster, faults, command, arguments)
    except ClusterError as refused:
        # A row without an outcome (the last one, after a kill -9) may have been refused: so be it.
        if command.done:
            raise StateFileError(
                f"{path}: {command.describe()} was carried out when recorded but is refused on replay "
                f"({refused}); the file does not match this server"
            ) from refused


def cluster_state(cluster: FakeCluster, faults: Faults) -> dict[str, Any]:
    """What a snapshot keeps: the cluster's own attributes (not the journal's wrappers) and the faults."""
    kept = {name: value for name, value in vars(cluster).items() if name not in CLUSTER_COMMANDS}
    return {CLUSTER: kept, FAULTS: {name: getattr(faults, name) for name in FAULT_SETTINGS}}


def restore_state(cluster: FakeCluster, faults: Faults, saved: dict[str, Any]) -> None:
    vars(cluster).update(saved[CLUSTER])
    for name, value in saved[FAULTS].items():
        if name in FAULT_SETTINGS:
            object.__setattr__(faults, name, value)

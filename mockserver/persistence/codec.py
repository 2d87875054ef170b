"""How commands' arguments and the cluster itself are written to disk and read back: typed, as they are.

A journalled command keeps its parsed, typed arguments (a `WorkloadRequest`, the `Principal`, the
kind …) and a snapshot keeps the cluster's objects, both as a pickle with three rules of our own:

- **Constants are named, not copied.** A workload kind (with its lifecycle table, whose guards are
  functions) is written as the module attribute it is, and read back as that same object, so
  identity comparisons (`kind is TRAINING`) hold after a restart. Any module-level `WorkloadKind` of
  `mockserver` is found by a scan, so a new kind needs no change here.
- **The process's own things are not written**: the clock and locks are rebuilt (the clock is the
  restoring server's), read-only mappings are written as their content.
- **Reading runs no foreign code**: only classes of `mockserver`, the standard containers, `random.Random`
  and `itertools.count` may appear in a file; anything else refuses the file (an altered file is caught
  by its checksum first; this is the second wall).
"""

from __future__ import annotations

import copyreg
import gc
import io
import pickle
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from mockserver.cluster.clock import ManualClock, RealtimeClock
from mockserver.cluster.kinds.base import WorkloadKind

PROTOCOL = 5
_PACKAGE = "mockserver."
# Globals a file may name besides mockserver's own: containers and state the cluster holds.
_ALLOWED = {
    ("builtins", name) for name in ("set", "frozenset", "bytearray", "complex", "slice", "range", "object")
} | {
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("collections", "deque"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("collections", "Counter"),
    ("random", "Random"),
    ("itertools", "count"),
    ("heapq", "heappush"),
    ("_thread", "RLock"),
    ("threading", "RLock"),
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
}

# The clock a snapshot's objects get when read: the restoring server's.
_restoring_clock: ContextVar[ManualClock | RealtimeClock | None] = ContextVar("restoring_clock", default=None)


class UnreadableRecord(Exception):
    """A record or snapshot that does not read back as this version of the fake's objects."""


# Module-level kinds by object id, found once (and again when a kind is not found: a module loaded later).
_CONSTANTS: dict[int, tuple[str, str, object]] = {}
# Containers larger than this are data, not a table of kinds: not searched.
_SMALL = 64


def _constants() -> dict[int, tuple[str, str, object]]:
    """Every module-level kind of mockserver (alone or in a small tuple, list or dict), by object id."""
    found: dict[int, tuple[str, str, object]] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith(_PACKAGE) or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, WorkloadKind):
                found.setdefault(id(value), (module_name, attribute, None))
            elif not isinstance(value, (tuple, list, dict)) or len(value) > _SMALL:
                continue
            elif isinstance(value, (tuple, list)):
                for position, item in enumerate(value):
                    if isinstance(item, WorkloadKind):
                        found.setdefault(id(item), (module_name, attribute, position))
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, WorkloadKind) and isinstance(key, (str, int)):
                        found.setdefault(id(item), (module_name, attribute, key))
    return found


def constant(module_name: str, attribute: str, key: object) -> object:
    """Read side of a named constant."""
    module = sys.modules.get(module_name)
    if module is None or not module_name.startswith(_PACKAGE):
        raise UnreadableRecord(f"no module {module_name}")
    value = getattr(module, attribute, None)
    if value is None:
        raise UnreadableRecord(f"no {module_name}.{attribute}")
    found = value if key is None else value[key]
    if not isinstance(found, WorkloadKind):
        raise UnreadableRecord(f"{module_name}.{attribute} is not a workload kind")
    return found


def read_only(content: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(content)


def restoring_clock() -> ManualClock | RealtimeClock:
    clock = _restoring_clock.get()
    if clock is None:
        raise UnreadableRecord("a clock is read outside a restore")
    return clock


def _table() -> dict[type, Callable[[Any], Any]]:
    def kind(value: WorkloadKind) -> tuple[Any, ...]:
        place = _CONSTANTS.get(id(value))
        if place is None:
            _CONSTANTS.update(_constants())
            place = _CONSTANTS.get(id(value))
        if place is None:
            raise pickle.PicklingError(f"workload kind {value.name!r} is not a module-level constant")
        return constant, place

    table: dict[type, Callable[[Any], Any]] = dict(copyreg.dispatch_table)
    table[WorkloadKind] = kind
    table[types.MappingProxyType] = lambda mapping: (read_only, (dict(mapping),))
    for clock_type in _clock_types():
        table[clock_type] = lambda _: (restoring_clock, ())
    table[type(threading.RLock())] = lambda _: (threading.RLock, ())
    table[type(threading.Lock())] = lambda _: (threading.Lock, ())
    return table


def _clock_types() -> Iterator[type]:
    seen: list[type] = [ManualClock, RealtimeClock]
    while seen:
        current = seen.pop()
        yield current
        seen.extend(current.__subclasses__())


_TABLE = _table()


def dumps(value: object) -> bytes:
    """`value` as bytes (PicklingError when it holds something that cannot be kept)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=PROTOCOL)
    pickler.dispatch_table = _TABLE
    pickler.dump(value)
    return buffer.getvalue()


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module.startswith(_PACKAGE) and "." not in name:
            found = super().find_class(module, name)
            # Classes of ours (dataclasses, enums) and our three readers; never a function that acts.
            if isinstance(found, type) or found in (constant, read_only, restoring_clock):
                return found
        raise UnreadableRecord(f"the file names {module}.{name}, which the fake never writes")


def loads(data: bytes, clock: ManualClock | RealtimeClock | None = None) -> Any:
    """Read back what `dumps` wrote; UnreadableRecord when it is not this fake's objects."""
    token = _restoring_clock.set(clock)
    try:
        with _collector_paused():
            return _Unpickler(io.BytesIO(data)).load()
    except UnreadableRecord:
        raise
    except Exception as error:  # a class that changed shape, a truncated stream …
        raise UnreadableRecord(f"{type(error).__name__}: {error}") from error
    finally:
        _restoring_clock.reset(token)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Reading a snapshot makes a million objects: the cyclic collector would walk them again and again
    (five times the reading itself); none of them is garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

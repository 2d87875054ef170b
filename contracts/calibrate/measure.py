"""The calibration script: a few minimal trainings walked through their lifecycle on a backend, every
phase's first sighting timed, and the answers noted (status codes, fields present, an error body).

The same script runs against the backend and against our fake configured from it; the two measurements
are then compared (`drift`). Only the public trainings API is used, so any deployment can be measured.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts import limits
from contracts.backend.auth import TokenSource
from contracts.backend.safety import NameSource
from contracts.backend.target import Placement

TRAININGS = "/api/v1/workloads/trainings"
GONE = "(404)"
# A workloadId no backend has issued: what its GET answers is the error body noted.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class ScriptSettings:
    image: str
    compute: dict[str, Any]
    # Seconds between two reads of a training: the measurement's resolution.
    poll: float = 0.2
    # Seconds one phase may take before the script gives up on the training.
    timeout: float = 300.0
    # The short training's run time and the auto-deletion it asks for.
    short_seconds: int = 3
    auto_deletion: int = 4


@dataclass
class Trace:
    """One training's phases in the order first seen, with the monotonic time of each sighting."""

    sightings: list[tuple[str, float]] = field(default_factory=list)

    def saw(self, phase: str, at: float) -> None:
        if not self.sightings or self.sightings[-1][0] != phase:
            self.sightings.append((phase, at))

    def dwell(self) -> dict[str, list[float]]:
        """Seconds each phase lasted, from its first sighting to the next phase's. A phase our own action
        cut short (Running before a suspend) says nothing of how long the backend takes, nor does the
        last phase seen (still going on)."""
        found: dict[str, list[float]] = {}
        for (phase, start), (after, end) in itertools.pairwise(self.sightings):
            if not _is_action(phase) and not _is_action(after):
                found.setdefault(phase, []).append(end - start)
        return found


def _is_action(phase: str) -> bool:
    """The marks the script puts into a trace when it sends an action: `(suspend)`, `(delete)`."""
    return phase.startswith("(") and phase != GONE


@dataclass
class Measurement:
    """What the script saw: dwell samples per phase, auto-deletion latency, and the answers."""

    dwell: dict[str, list[float]] = field(default_factory=dict)
    # Seconds from Completed to gone, for the training that asked for `auto_deletion` seconds.
    auto_deletion: float | None = None
    answers: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, trace: Trace) -> None:
        for phase, samples in trace.dwell().items():
            self.dwell.setdefault(phase, []).extend(samples)


class MeasureFailed(Exception):
    """The backend did not take a training through the lifecycle the script needs."""


class Backend:
    """The trainings API of one backend, with a bearer token; thread-safe (one client per call)."""

    def __init__(self, base_url: str, tokens: TokenSource) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._lock = threading.Lock()
        self.requests = 0

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens.token()}"}
        # Within the body cap and answer time of contracts.limits, as every read of the harness.
        response = limits.request(
            None, method, self.base_url + path, json=body, headers=headers, timeout=REQUEST_TIMEOUT
        )
        with self._lock:
            self.requests += 1
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, None


def _fields(body: Any) -> str:
    return ", ".join(sorted(body)) if isinstance(body, dict) else type(body).__name__


@dataclass
class _Walk:
    backend: Backend
    settings: ScriptSettings
    measurement: Measurement
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def note(self, key: str, value: str) -> None:
        with self.lock:
            self.measurement.answers.setdefault(key, value)

    def read(self, wid: str) -> tuple[str, float]:
        """The training's phase, and when it was read: the middle of the request, the best guess of when
        the backend answered it."""
        before = self.clock()
        status, body = self.backend.send("GET", f"{TRAININGS}/{wid}")
        at = (before + self.clock()) / 2
        if status == 404:
            self.note("get after deletion: status", "404")
            return GONE, at
        self.note("get: status", str(status))
        if status != 200 or not isinstance(body, dict):
            raise MeasureFailed(f"GET {TRAININGS}/{wid} answered {status}")
        self.note("get: fields", _fields(body))
        return str(body.get("actualPhase")), at

    def until(self, wid: str, trace: Trace, wanted: str) -> None:
        started = self.clock()
        while True:
            phase, now = self.read(wid)
            trace.saw(phase, now)
            if phase == wanted:
                return
            if phase in ("Failed", GONE) or now - trace.sightings[-1][1] > self.settings.timeout:
                raise MeasureFailed(f"waiting for {wanted}: {phase} after {now - started:.0f} s")
            self.sleep(self.settings.poll)

    def create(self, name: str, placement: Placement, spec: dict[str, Any], trace: Trace) -> str:
        body = {
            "name": name,
            "useGivenNameAsPrefix": True,
            "projectId": placement.project_id,
            "clusterId": placement.cluster_id,
            "spec": {"image": self.settings.image, "compute": self.settings.compute, **spec},
        }
        before = self.clock()
        status, answer = self.backend.send("POST", TRAININGS, body)
        sent = (before + self.clock()) / 2  # when the backend created it, as near as can be told
        self.note("create: status", str(status))
        if not 200 <= status < 300 or not isinstance(answer, dict) or "workloadId" not in answer:
            raise MeasureFailed(f"create answered {status}: {str(answer)[:200]}")
        self.note("create: fields", _fields(answer))
        trace.saw(str(answer.get("actualPhase")), sent)
        return str(answer["workloadId"])

    def act(self, wid: str, verb: str) -> None:
        if verb == "delete":
            status, body = self.backend.send("DELETE", f"{TRAININGS}/{wid}")
        else:
            status, body = self.backend.send("POST", f"{TRAININGS}/{wid}/{verb}")
        self.note(f"{verb}: status", str(status))
        self.note(f"{verb}: body", _fields(body) if body is not None else "(none)")
        if not 200 <= status < 300:
            raise MeasureFailed(f"{verb} answered {status}")


def _long_lived(walk: _Walk, names: NameSource, placement: Placement, created: list[str]) -> None:
    """create -> Running -> suspend -> Stopped -> resume -> Running -> delete -> gone."""
    trace = Trace()
    wid = walk.create(names.next("cal-life"), placement, {"command": "sleep", "args": "3600"}, trace)
    created.append(wid)
    walk.until(wid, trace, "Running")
    for verb, wanted in (("suspend", "Stopped"), ("resume", "Running"), ("delete", GONE)):
        walk.act(wid, verb)
        trace.saw(f"({verb})", walk.clock())  # the action starts a new stretch: dwell counts from here
        walk.until(wid, trace, wanted)
    created.remove(wid)
    with walk.lock:
        walk.measurement.add(trace)


def _short_lived(walk: _Walk, names: NameSource, placement: Placement, created: list[str]) -> None:
    """create -> Running -> Completed -> (auto-deletion) Deleting -> gone."""
    trace = Trace()
    spec = {
        "command": "sleep",
        "args": str(walk.settings.short_seconds),
        "autoDeletionTimeAfterCompletionSeconds": walk.settings.auto_deletion,
    }
    wid = walk.create(names.next("cal-auto"), placement, spec, trace)
    created.append(wid)
    walk.until(wid, trace, GONE)
    created.remove(wid)
    times = dict(reversed(trace.sightings))  # the first sighting of each phase
    with walk.lock:
        if "Completed" in times:
            walk.measurement.auto_deletion = times.get("Deleting", times[GONE]) - times["Completed"]
        # Running's length is the command's; Completed's is the auto-deletion asked for.
        dwell = {k: v for k, v in trace.dwell().items() if k not in ("Running", "Completed")}
        for phase, samples in dwell.items():
            walk.measurement.dwell.setdefault(phase, []).extend(samples)


def measure(
    backend: Backend, placement: Placement, names: NameSource, settings: ScriptSettings
) -> Measurement:
    """Run the script (the two trainings side by side) and return what it saw. Whatever it created and
    did not see gone is deleted before it returns."""
    measurement = Measurement()
    walk = _Walk(backend, settings, measurement)
    created: list[str] = []
    errors: list[str] = []
    try:
        status, body = backend.send("GET", f"{TRAININGS}/{UNKNOWN_ID}")
        walk.note("get unknown: status", str(status))
        walk.note("get unknown: error body", _fields(body))
    except httpx.HTTPError as error:
        errors.append(f"GET of an unknown training: {error!r}")

    def guarded(script: Callable[[_Walk, NameSource, Placement, list[str]], None]) -> None:
        try:
            script(walk, names, placement, created)
        except (MeasureFailed, httpx.HTTPError) as error:
            errors.append(f"{(script.__doc__ or script.__name__).split(' ->')[0]}: {error}")

    threads = [threading.Thread(target=guarded, args=(s,)) for s in (_long_lived, _short_lived)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for wid in list(created):
        try:
            backend.send("DELETE", f"{TRAININGS}/{wid}")
        except httpx.HTTPError as error:
            errors.append(f"could not delete {wid}: {error!r}")
    measurement.problems = errors
    return measurement

"""What a scenario run did, over time: which pods held which GPUs, each workload's phases, and the events.

`Timeline` is filled while the scenario runs (`sample` after every instant the cluster moved at, so a
placement is seen from the instant it was made to the one it ended at) and drawn by `render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import NotFound
from mockserver.cluster.events import EventKind
from mockserver.cluster.topology import Topology
from mockserver.cluster.workload import Workload

# A pod's place: node, device indexes (empty for a MIG slice or a CPU-only pod), and the share of each.
# Events drawn at most (the cluster's log keeps 50,000).
MAX_EVENTS = 50_000
# The events that say a workload is gone: its last phase ends there.
_REMOVALS = frozenset({EventKind.DELETED, EventKind.LOAD_REMOVED})
Place = tuple[str, tuple[tuple[int, float], ...], str | None]


@dataclass(frozen=True)
class PodSpan:
    workload: str  # the scenario's name for it
    pod: int
    node: str
    devices: tuple[tuple[int, float], ...]  # (GPU index, fraction held)
    mig_profile: str | None
    start: float
    end: float
    # What the page calls the pod: its Kubernetes name where the kind has roles (a distributed training's
    # `<name>-master-0`), else its index.
    label: str = ""


@dataclass(frozen=True)
class PhaseSpan:
    workload: str
    phase: str
    start: float
    end: float
    reason: str


@dataclass(frozen=True)
class Mark:
    at: float
    text: str
    workload: str | None = None
    failed: bool = False  # a failed expectation


@dataclass
class Outage:
    node: str
    device: int | None  # None: the whole node was down
    start: float
    end: float
    text: str


@dataclass
class Timeline:
    title: str
    topology: Topology
    pods: list[PodSpan] = field(default_factory=list)
    phases: list[PhaseSpan] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    end: float = 0.0
    # workload id -> the scenario's name, in submission order
    names: dict[str, str] = field(default_factory=dict)
    _open: dict[tuple[str, int], tuple[Place, float]] = field(default_factory=dict)
    _labels: dict[tuple[str, int], str] = field(default_factory=dict)

    def name(self, workload_id: str | None) -> str | None:
        return None if workload_id is None else self.names.get(workload_id, workload_id[:8])

    def outage(self, node: str, device: int | None, at: float, began: bool) -> None:
        """A node went down (or a GPU failed) at `at`, or came back (`began` False)."""
        if began:
            what = f"node {node} down" if device is None else f"GPU {device} of {node} unhealthy"
            self.outages.append(Outage(node, device, at, float("inf"), what))
            return
        for i, outage in enumerate(self.outages):
            if outage.node == node and outage.device == device and outage.end == float("inf"):
                self.outages[i] = Outage(node, device, outage.start, at, outage.text)

    def sample(self, cluster: FakeCluster, start: float) -> None:
        """Note where every named workload's pods are now (`start`: the scenario's time zero)."""
        with cluster.reading() as reader:
            now = reader.now() - start
            seen: dict[tuple[str, int], Place] = {}
            for workload_id in self.names:
                placed = reader.placed(workload_id)
                if placed:
                    self._label(reader.workload(workload_id, deleted=True), [p.index for p in placed])
                for pod in placed:
                    devices = tuple((d.index, d.fraction) for d in pod.devices)
                    seen[(workload_id, pod.index)] = (pod.node, devices, pod.mig_profile)
        for key, (place, since) in list(self._open.items()):
            if seen.get(key) != place:
                self._close(key, place, since, now)
        for key, place in seen.items():
            if key not in self._open:
                self._open[key] = (place, now)

    def _label(self, workload: Workload, indexes: list[int]) -> None:
        kind = workload.kind
        for index in indexes:
            key = (workload.workload_id, index)
            if key not in self._labels:
                several = len(kind.pod_roles) > 1
                name = kind.pod_name(workload.requested_name, index, workload.request.pods)
                self._labels[key] = f"pod {name}" if several else f"pod {index}"

    def _close(self, key: tuple[str, int], place: Place, since: float, now: float) -> None:
        del self._open[key]
        if now > since:
            node, devices, mig = place
            self.pods.append(
                PodSpan(
                    self.names[key[0]],
                    key[1],
                    node,
                    devices,
                    mig,
                    since,
                    now,
                    self._labels.get(key, f"pod {key[1]}"),
                )
            )

    def finish(self, cluster: FakeCluster, start: float) -> None:
        """Close what is still open, and read each workload's phases and the events from the cluster."""
        events = cluster.events_after(0, MAX_EVENTS)
        removed = {e.workload_id: e.time - start for e in events if e.kind in _REMOVALS}
        with cluster.reading() as reader:
            self.end = reader.now() - start
            for workload_id, name in self.names.items():
                try:
                    workload = reader.workload(workload_id, deleted=True)
                except NotFound:  # purged after its retention: its spans were sampled already
                    continue
                history = workload.history
                gone = removed.get(workload_id, self.end)
                for change, following in zip(history, [*history[1:], None][: len(history)], strict=True):
                    until = following.time - start if following else gone
                    self.phases.append(
                        PhaseSpan(name, change.phase.value, change.time - start, until, change.reason)
                    )
        for key, (place, since) in list(self._open.items()):
            self._close(key, place, since, self.end)
        self.outages = [replace(o, end=min(o.end, self.end)) for o in self.outages]
        for event in events:
            if event.workload_id is not None and event.workload_id not in self.names:
                continue
            if event.kind is not EventKind.PHASE:  # phases are drawn as spans already
                self.marks.append(Mark(event.time - start, event.message, self.name(event.workload_id)))

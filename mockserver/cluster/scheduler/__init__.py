"""The fake cluster's scheduler, after NVIDIA KAI (the open-sourced Run:ai scheduler). The rules it follows,
and where they come from, are in docs/scheduler.md; docstrings cite its sections (§n).

A cycle runs, over every node pool: allocate (free capacity, in fair-share order) → reclaim (across
projects, toward fair share) → preempt (inside a project, by priority). Choices made here, where KAI or
Run:ai leave room or where the fake simplifies:

- The pods of a job with `parallelism` > 1 are scheduled independently, as KAI does for HPO jobs: each is
  pending or running on its own (§4).
- Node-pool fallback: every pod tries its first pool before any pod tries its second, and a pod is placed
  without evicting anybody on any of its pools before reclaim or preemption are tried for it (again in
  pool order). Pending demand counts toward the fair share of every pool a pod may use.
- Evictions free resources at once (no "releasing" state, no pipelining): the preemptor starts in the same
  cycle. Victims are evicted one at a time until the pod fits; those whose place it left free are then
  given back. Pods started in a cycle are not victims in that cycle.
- Cycles are incremental (§5): pending pods are grouped by shape, a shape that fails or is skipped in an
  action is passed over whole, and a cycle after no change returns at once.
- Gangs (distributed trainings) start their minimum all at once or not at all, and are evicted whole
  below it (§4a); reclaim and preempt weigh a waiting gang's whole minimum. Not modelled: consolidation, minimum runtimes,
  time-based fair share, taints, pod affinity, topology, node readiness (§8).
- On top of KAI's reclaim rules, a project at or below its deserved quota in every resource never loses a
  pod to reclaim, even when its department is over its share.
- Determinism: no wall clock, no hashing of strings into orders; ties fall back to topology order, then
  submission order (`Job.seq`), then id and pod index.
"""

from mockserver.cluster.scheduler.jobs import CycleResult, DeviceShare, Eviction, Job, PlacedPod
from mockserver.cluster.scheduler.scheduler import Scheduler
from mockserver.cluster.scheduler.vector import ResourceVector

__all__ = ["CycleResult", "DeviceShare", "Eviction", "Job", "PlacedPod", "ResourceVector", "Scheduler"]

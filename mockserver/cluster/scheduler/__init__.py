"""The fake cluster's scheduler, after NVIDIA KAI (the open-sourced Run:ai scheduler); see
`reference/scheduler-semantics.md` for the behaviour it follows.

A cycle runs, over every node pool: allocate (free capacity, in fair-share order) → reclaim (across
projects, toward fair share) → preempt (inside a project, by priority). Choices made here, where KAI or
Run:ai leave room or where the fake simplifies:

- Gang scheduling: all pods of a job are placed together or not at all, and evicted together. Run:ai treats
  HPO pods (`parallelism`/`completions`) as independent; the fake keeps them in one gang, which is simpler
  for a training's phase (it is Running or Pending as a whole).
- Node-pool fallback: every job tries its first pool before any job tries its second, and a job is placed
  without evicting anybody on any of its pools before reclaim or preemption are tried for it (again in
  pool order). Pending demand counts toward the fair share of every pool a job may use.
- Evictions free resources at once (no "releasing" state, no pipelining): the preemptor starts in the same
  cycle. Victims are evicted one at a time until the job fits; those whose place the job left free are
  then given back. Jobs started in a cycle are not victims in that cycle.
- Scheduling signatures: within an action, a job is not tried when a job of its queue with the same
  constraints and no larger request already failed; while allocating, the same holds across queues for
  "fits on no node" (capacity only shrinks then).
- Not modelled: consolidation, stale-gang eviction, minimum runtimes, elastic jobs, time-based fair share,
  taints, pod affinity, topology, node readiness. GPU memory on a node is used as configured (KAI floors the
  label to a multiple of 100 MiB).
- On top of KAI's reclaim rules, a project at or below its deserved quota in every resource never loses a
  job to reclaim, even when its department is over its share.
- Determinism: no wall clock, no hashing of strings into orders; ties fall back to topology order, then
  submission order (`Job.seq`), then id.
"""

from mockserver.cluster.scheduler.jobs import CycleResult, Eviction, Job
from mockserver.cluster.scheduler.scheduler import Scheduler

__all__ = ["CycleResult", "Eviction", "Job", "Scheduler"]

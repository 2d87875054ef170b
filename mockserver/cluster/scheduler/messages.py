"""Reason texts for pending workloads and evictions, worded as KAI reports them (docs/scheduler.md §6), each
a `Reason` carrying its code and parameters so that nothing downstream reads the words."""

from __future__ import annotations

from mockserver.cluster.reasons import Reason, ReasonCode

UNITS = {"gpu": "GPUs", "cpu": "CPU millicores", "memory": "MiB of memory"}


def amount(value: float) -> str:
    """A number as a person would write it: 2, 0.5, 1.25."""
    rounded = round(value, 3)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


def over_limit(queue: str, resource: str, limit: float, allocated: float, requested: float) -> Reason:
    unit = UNITS[resource]
    return Reason(
        f"{queue} quota has reached the allowable limit of {unit}. Limit is {amount(limit)} {unit}, "
        f"currently {amount(allocated)} {unit} allocated and workload requested {amount(requested)} {unit}",
        ReasonCode.OVER_LIMIT,
        queue=queue,
        resource=resource,
        limit=limit,
        allocated=allocated,
        requested=requested,
    )


def non_preemptible_over_quota(
    queue: str, resource: str, requested: float, deserved: float, allocated_np: float
) -> Reason:
    unit = UNITS[resource]
    return Reason(
        f"Non-preemptible workload is over quota. Workload requested {amount(requested)} {unit}, but {queue} "
        f"quota is {amount(deserved)} {unit}, while {amount(allocated_np)} {unit} are already allocated for "
        "non-preemptible pods. Use a preemptible workload to go over quota.",
        ReasonCode.NON_PREEMPTIBLE_OVER_QUOTA,
        queue=queue,
        resource=resource,
        requested=requested,
        deserved=deserved,
        allocated_non_preemptible=allocated_np,
    )


def no_fit(pool: str, failures: dict[str, int]) -> Reason:
    if not failures:
        return Reason(
            f"Resources were not found for pod due to: node pool {pool} has no nodes",
            ReasonCode.NO_FIT,
            pool=pool,
        )
    ranked = sorted(failures.items(), key=lambda item: (-item[1], item[0]))
    details = ", ".join(f"{count} node(s) {why}" for why, count in ranked)
    return Reason(
        "Resources were not found for pod due to: no nodes with enough resources were found "
        f"in node pool {pool}: {details}",
        ReasonCode.NO_FIT,
        pool=pool,
        failures=dict(failures),
    )


def preempted(preemptor: str) -> Reason:
    return Reason(
        f"Pod was preempted by higher priority workload {preemptor}",
        ReasonCode.PREEMPTED,
        preemptor=preemptor,
    )


def pipelined(node: str) -> Reason:
    """A pod placed on resources its victims still release (KAI's statement Pipeline message, which also
    names the pod)."""
    return Reason(f"Pod was pipelined to node {node}", ReasonCode.PIPELINED, node=node)


def consolidated(job: str) -> Reason:
    """A running pod moved to another node so that a waiting pod fits (KAI's GetConsolidateMessage, which
    also names the pod)."""
    return Reason(
        "Pod was preempted and rescheduled due to bin packing (resource consolidation) procedure",
        ReasonCode.CONSOLIDATED,
        job=job,
    )


def reclaimed(
    reclaimer: str, queue: str, pool: str, allocated: float, deserved: float, fair_share: float, priority: int
) -> Reason:
    return Reason(
        f"Pod was preempted by workload {reclaimer}. {queue} uses {amount(allocated)} GPUs in node pool {pool} "
        f"with a quota of {amount(deserved)} GPUs, fair-share of {amount(fair_share)} GPUs and queue "
        f"priority of {priority}.",
        ReasonCode.RECLAIMED,
        reclaimer=reclaimer,
        queue=queue,
        pool=pool,
        allocated=allocated,
        deserved=deserved,
        fair_share=fair_share,
        priority=priority,
    )


# KAI's fit errors start with this; inside a gang's reason only the cause after it is quoted.
_NOT_FOUND = "Resources were not found for pod due to: "


def gang_waiting(found: int, required: int, cause: str) -> Reason:
    """A gang that cannot place its minimum at once (KAI's job fit error for a pod group)."""
    detail = cause.removeprefix(_NOT_FOUND)
    return Reason(
        f"Resources were found for {found} pods while {required} are required for gang scheduling. "
        f"Additional pods cannot be scheduled due to: {detail}",
        *Reason.codes_of(cause),
        ReasonCode.GANG,
        found=found,
        required=required,
    )


def stale_gang(required: int) -> Reason:
    """A gang left with fewer running pods than its minimum (KAI's stale-gang eviction)."""
    return Reason(
        f"Workload doesn't meet the minimum required number of pods ({required}), evicting remaining pods",
        ReasonCode.STALE_GANG,
        required=required,
    )

"""The control API's form of the scheduler's nodes and queues (`Scheduler.snapshot`)."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.scheduler.nodes import UNIT, NodeState
from mockserver.cluster.scheduler.queues import QueueState
from mockserver.cluster.scheduler.vector import GPU


def queue_view(queue: QueueState) -> dict[str, float]:
    return {
        "deserved": queue.deserved[GPU],
        "limit": queue.limit[GPU],
        "overQuotaWeight": queue.weight[GPU],
        "allocated": round(queue.allocated[GPU], 6),
        "allocatedNonPreemptible": round(queue.allocated_np[GPU], 6),
        "fairShare": round(queue.fair_share[GPU], 6),
    }


def node_view(state: NodeState) -> dict[str, Any]:
    node = state.node
    return {
        "name": node.name,
        "pool": node.pool,
        "ready": state.ready,
        "gpus": node.gpus,
        "gpuMemoryMiB": node.gpu_memory_mib,
        "gpuModel": node.gpu_model,
        "labels": dict(node.labels),
        "devices": [
            {
                "index": i,
                "allocated": round(used / UNIT, 6),
                "whole": state.whole[i],
                "holders": list(dict.fromkeys(h.rsplit("#", 1)[0] for h in state.holders[i])),
            }
            for i, used in enumerate(state.used)
        ],
        "mig": {p: {"capacity": c, "used": c - state.mig_free[p]} for p, c in node.mig_profiles.items()},
        "cpuMillis": node.cpu_millis,
        "cpuMillisUsed": node.cpu_millis - state.cpu_free,
        "memoryMiB": node.memory_mib,
        "memoryMiBUsed": round(node.memory_mib - state.memory_free, 6),
        "extendedResources": {
            name: {"capacity": amount, "used": round(amount - state.extended_free[name], 6)}
            for name, amount in node.extended.items()
        },
    }

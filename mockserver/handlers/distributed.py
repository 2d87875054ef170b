"""The Run:ai distributed-training operations: read the request, call the cluster, show the answer for this
version. Suspend and resume exist from 2.20 on; on older versions their paths are not in the contract, so
the router answers them as any unserved path."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.kinds import DISTRIBUTED
from mockserver.handlers.state import caller, current
from mockserver.parsing.distributed import parse_distributed
from mockserver.versions import ACCEPTED
from mockserver.views.distributed import distributed_view
from mockserver.views.training import deleted_answer


async def create_distributed(body: dict[str, Any]) -> Any:
    state = current()
    parsed = parse_distributed(body, state.version)
    workload = state.cluster.submit(parsed.request, caller(), parsed.issues, DISTRIBUTED)
    return distributed_view(workload, state.version), state.version.create_status


async def get_distributed(workloadId: str) -> Any:
    state = current()
    return distributed_view(state.cluster.workload(workloadId, DISTRIBUTED, caller()), state.version), 200


async def delete_distributed(workloadId: str) -> Any:
    state = current()
    state.cluster.delete(workloadId, caller(), DISTRIBUTED)
    return deleted_answer(state.version)


async def suspend_distributed(workloadId: str) -> Any:
    current().cluster.suspend(workloadId, caller(), DISTRIBUTED)
    return dict(ACCEPTED), 202


async def resume_distributed(workloadId: str) -> Any:
    current().cluster.resume(workloadId, caller(), DISTRIBUTED)
    return dict(ACCEPTED), 202

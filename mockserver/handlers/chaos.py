"""The control API's chaos: nodes down and up, GPUs failed and mended, project quotas (`cluster/chaos.py`)."""

from __future__ import annotations

from typing import Any

from mockserver.cluster import chaos
from mockserver.cluster.chaos import ChaosResult
from mockserver.handlers.state import current


def _done(result: ChaosResult) -> Any:
    return {"message": result.summary, "workloadIds": list(result.affected)}, 200


async def control_node_down(body: dict[str, Any]) -> Any:
    return _done(chaos.node_down(current().cluster, body["node"]))


async def control_node_up(body: dict[str, Any]) -> Any:
    return _done(chaos.node_up(current().cluster, body["node"]))


async def control_gpu_unhealthy(body: dict[str, Any]) -> Any:
    return _done(chaos.gpu_unhealthy(current().cluster, body["node"], body["gpu"]))


async def control_gpu_healthy(body: dict[str, Any]) -> Any:
    return _done(chaos.gpu_healthy(current().cluster, body["node"], body["gpu"]))


async def control_set_quota(body: dict[str, Any]) -> Any:
    cluster = current().cluster
    return _done(chaos.set_quota(cluster, body["projectId"], body.get("nodePool"), float(body["gpus"])))

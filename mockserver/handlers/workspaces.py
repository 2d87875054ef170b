"""The Run:ai workspaces operations: read the request, call the cluster, show the answer for this version.

A workspace is a workload of the workspace kind (`cluster/kinds/workspace.py`); its answers have the
trainings' shapes (`Workspace1` is `WorkloadMeta1` with the workspace's spec), so the view is shared.
"""

from __future__ import annotations

from typing import Any

from mockserver.cluster.kinds import WORKSPACE
from mockserver.handlers.state import caller, current
from mockserver.parsing.workspace import parse_workspace
from mockserver.versions import ACCEPTED
from mockserver.views.training import deleted_answer
from mockserver.views.workspace import workspace_view


async def create_workspace1(body: dict[str, Any]) -> Any:
    state = current()
    parsed = parse_workspace(body, state.version)
    workspace = state.cluster.submit(parsed.request, caller(), parsed.issues, WORKSPACE)
    return workspace_view(workspace, state.version), state.version.create_status


async def get_workspace(workloadId: str) -> Any:
    state = current()
    return workspace_view(state.cluster.workload(workloadId, WORKSPACE, caller()), state.version), 200


async def delete_workspace(workloadId: str) -> Any:
    state = current()
    state.cluster.delete(workloadId, caller(), WORKSPACE)
    return deleted_answer(state.version)


async def suspend_workspace(workloadId: str) -> Any:
    current().cluster.suspend(workloadId, caller(), WORKSPACE)
    return dict(ACCEPTED), 202


async def resume_workspace(workloadId: str) -> Any:
    current().cluster.resume(workloadId, caller(), WORKSPACE)
    return dict(ACCEPTED), 202

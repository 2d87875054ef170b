"""A workspace as the workspaces API shows it (`Workspace1`): the workload's metadata and its spec as
submitted, the same shape as a training's."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.workload import Workload
from mockserver.versions import ApiVersion
from mockserver.views.training import training_view


def workspace_view(workspace: Workload, version: ApiVersion) -> dict[str, Any]:
    return training_view(workspace, version)

"""An inference as the inferences API shows it (`Inference1`): the workload's metadata and its spec as
submitted (after any PATCH, the spec in force), the same shape as a training's."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.workload import Workload
from mockserver.versions import ApiVersion
from mockserver.views.training import training_view


def inference_view(inference: Workload, version: ApiVersion) -> dict[str, Any]:
    return training_view(inference, version)

"""The Run:ai inferences operations: read the request, call the cluster, show the answer for this version.

An inference is a workload of the inference kind (`cluster/kinds/inference.py`); its answers have the
trainings' shapes (`Inference1` is `WorkloadMeta1` with the inference's spec). The statuses of create and
PATCH differ from the other kinds' at some versions, so the version's row names them.
"""

from __future__ import annotations

from typing import Any

from mockserver.cluster.kinds.inference import INFERENCE
from mockserver.handlers.state import caller, current
from mockserver.parsing.inference import InferencePatch, parse_inference
from mockserver.views.inference import inference_view
from mockserver.views.training import deleted_answer


async def create_inference1(body: dict[str, Any]) -> Any:
    state = current()
    parsed = parse_inference(body, state.version)
    inference = state.cluster.submit(parsed.request, caller(), parsed.issues, INFERENCE)
    return inference_view(inference, state.version), state.version.inference_create_status


async def get_inference(workloadId: str) -> Any:
    state = current()
    return inference_view(state.cluster.workload(workloadId, INFERENCE, caller()), state.version), 200


async def delete_inference(workloadId: str) -> Any:
    state = current()
    state.cluster.delete(workloadId, caller(), INFERENCE)
    return deleted_answer(state.version)


async def update_inference_spec(workloadId: str, body: dict[str, Any] | None = None) -> Any:
    state = current()

    revise = InferencePatch(body or {}, state.version.name)
    inference = state.cluster.update(workloadId, caller(), INFERENCE, revise)
    # Served only where the version's document has the operation, so its row names a status.
    return inference_view(inference, state.version), state.version.inference_patch_status or 200

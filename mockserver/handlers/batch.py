"""`POST /api/v1/workloads/batch` (2.19 on): one action on up to 100 workloads of any type, answered id by
id as the official document's `BatchResponse` says: the batch's id, the ids that succeeded and, for each
that failed, its `{id, code, message}` with the status a single call would have answered. Which actions
exist is the version's document's enum (2.19 to 2.21: delete; later also suspend and resume), which the
contract checks before this handler runs; an action a workload's kind lacks at this version fails for
that id alone."""

from __future__ import annotations

import uuid
from typing import Any

from mockserver.cluster.errors import ClusterError, NotFound
from mockserver.handlers.state import caller, current
from mockserver.http.errors import cluster_status, error_response
from mockserver.views.facts import IDS

# The document: "The number of ids is limited to 100."
MAX_IDS = 100


async def batch_workloads(body: dict[str, Any]) -> Any:
    state = current()
    ids = [str(i) for i in body.get("ids") or []]
    action = str(body.get("action"))
    if not ids:
        return error_response(400, "ids must name at least one workload")
    if action not in ("delete", "suspend", "resume"):  # the contract's enum says so first
        return error_response(400, f"unknown batch action {action!r}")
    if len(ids) > MAX_IDS:
        return error_response(400, f"at most {MAX_IDS} ids may be given in one batch, not {len(ids)}")
    who = caller()
    cluster = state.cluster
    succeeded: list[str] = []
    failed: list[dict[str, Any]] = []
    for workload_id in dict.fromkeys(ids):  # an id named twice is acted on once
        try:
            with cluster.reading() as reader:
                kind = reader.workload(workload_id, None, who).kind
            if action not in state.version.actions.get(kind.name, frozenset()):
                raise NotFound(f"{kind.type_name} workloads have no {action} action in this API version")
            act = {"delete": cluster.delete, "suspend": cluster.suspend, "resume": cluster.resume}[action]
            act(workload_id, who, kind)
        except ClusterError as error:
            failed.append({"id": workload_id, "code": cluster_status(error), "message": str(error)})
        else:
            succeeded.append(workload_id)
    batch_id = uuid.uuid5(IDS, f"batch/{cluster.now()}/{action}/{','.join(ids)}")
    return {"id": str(batch_id), "succeeded": succeeded, "failed": failed}, 200

"""A distributed training as the distributed API shows it (`DistributedWorkload`): the workload's metadata,
the workers' spec and the master's (`masterSpec`, or `masterSpecSameAsWorker: true` when the master runs
the workers' spec)."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.workload import Workload
from mockserver.versions import ApiVersion
from mockserver.views.training import training_view


def distributed_view(workload: Workload, version: ApiVersion) -> dict[str, Any]:
    body = training_view(workload, version)
    master = workload.request.master_document
    body["masterSpecSameAsWorker"] = master is None
    if master is not None:
        body["masterSpec"] = master
    return body

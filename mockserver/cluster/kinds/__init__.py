"""Workload kinds, one per module: what a kind of workload is, as data the engine and the views read.

`base.py` names the parts of a description; `training.py`, `workspace.py`, `distributed.py`,
`inference.py` and `load.py` are the kinds the fake knows. Adding a kind is a module here plus its
parsing, view and contract paths at the edge.
"""

from mockserver.cluster.kinds.base import KindEvents, PodCounts, PodRole, RequestedPods, WorkloadKind
from mockserver.cluster.kinds.distributed import DISTRIBUTED
from mockserver.cluster.kinds.inference import INFERENCE
from mockserver.cluster.kinds.load import LOAD_KINDS, load_kind
from mockserver.cluster.kinds.training import TRAINING
from mockserver.cluster.kinds.workspace import WORKSPACE

__all__ = [
    "DISTRIBUTED",
    "INFERENCE",
    "LOAD_KINDS",
    "TRAINING",
    "WORKSPACE",
    "KindEvents",
    "PodCounts",
    "PodRole",
    "RequestedPods",
    "WorkloadKind",
    "load_kind",
]

"""The fake cluster's shape as data: departments, projects and their quotas per node pool, nodes.

Units everywhere: GPUs in devices, CPU in millicores, memory in MiB. A quota of -1 means unlimited.
`topology.py` reads a config into these (with Run:ai-like defaults for what it leaves out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

RESOURCES = ("gpu", "cpu", "memory")
NODE_TYPE_LABEL = "run.ai/type"
UNLIMITED = -1.0
DEFAULT_OVER_QUOTA_PRIORITY = 100


class Placement(str, Enum):
    """How a node pool chooses among nodes (and devices) that fit a pod, as Run:ai node pools set it."""

    BINPACK = "binpack"  # fullest node and fullest shared device first: keeps whole nodes free
    SPREAD = "spread"  # emptiest node and least used device first: spreads load and heat


@dataclass(frozen=True)
class PlacementStrategy:
    """One strategy for pods that use GPUs and one for CPU-only pods (Run:ai's `placementStrategy`)."""

    gpu: Placement = Placement.BINPACK
    cpu: Placement = Placement.BINPACK


class DepartmentOverQuota(str, Enum):
    """How departments split what is left of a pool after every department got its deserved quota."""

    # Run:ai's documented rule: "Departments' over quota is always proportional to its quota".
    PROPORTIONAL = "proportional"
    # KAI's queue model: each department's own overQuotaWeight, as for projects.
    WEIGHT = "weight"


@dataclass(frozen=True)
class Quota:
    deserved: float
    limit: float
    over_quota_weight: float


@dataclass
class Department:
    id: str
    name: str
    quotas: dict[str, dict[str, Quota]]
    over_quota_priority: int = DEFAULT_OVER_QUOTA_PRIORITY


@dataclass
class Project:
    id: str
    name: str
    department_id: str
    quotas: dict[str, dict[str, Quota]]
    default_node_pools: list[str] = field(default_factory=list)
    over_quota_priority: int = DEFAULT_OVER_QUOTA_PRIORITY


@dataclass
class Node:
    name: str
    pool: str
    gpus: int
    gpu_memory_mib: int
    gpu_model: str
    labels: dict[str, str]
    cpu_millis: int
    memory_mib: int
    mig_profiles: dict[str, int] = field(default_factory=dict)
    extended: dict[str, int] = field(default_factory=dict)

    @property
    def is_mig(self) -> bool:
        # A node exposing MIG slices runs the "mixed" strategy: it only takes MIG requests for its GPUs.
        return bool(self.mig_profiles)


@dataclass
class Topology:
    cluster_id: str
    cluster_name: str
    departments: dict[str, Department]
    projects: dict[str, Project]
    node_pools: list[str]
    nodes: list[Node]
    # Per node pool; a pool left out of the config bin-packs.
    placement: dict[str, PlacementStrategy] = field(default_factory=dict)
    department_over_quota: DepartmentOverQuota = DepartmentOverQuota.PROPORTIONAL
    # Objects that exist in the cluster for pods to use (config `storage`): PVC claim names and secret
    # names. A pod that names another cannot start (cluster/jobcontroller.py).
    claims: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()

    def placement_of(self, pool: str) -> PlacementStrategy:
        return self.placement.get(pool, _BINPACK)

    def project(self, project_id: str) -> Project | None:
        return self.projects.get(project_id)


_BINPACK = PlacementStrategy()

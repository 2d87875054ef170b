"""Clusters, projects, departments and node pools as each API version shows them.

Pure functions of the topology and the scheduler's current figures (`FakeCluster.snapshot()`), so a
project's quota and allocation are the numbers the scheduler works with, never a copy kept aside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.cluster.clock import isoformat
from mockserver.cluster.topology import NODE_TYPE_LABEL, Department, Project, Quota, Topology
from mockserver.cluster.topology_model import DEFAULT_OVER_QUOTA_PRIORITY
from mockserver.versions import ApiVersion
from mockserver.views.filtering import Fields, Kind, fields, path

# Everything in the topology exists from the cluster's first instant; the fake has one tenant.
TENANT_ID = 1
CREATOR = "admin@mock.runai"
KUBERNETES_VERSION = "v1.30.4"
MEMORY_UNITS = "MB"

# Figures per node pool as the scheduler reports them (deserved, limit, overQuotaWeight, allocated …).
PoolFigures = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Organisation:
    """What the views read: the topology, the scheduler's figures per queue, and the virtual epoch."""

    topology: Topology
    projects: Mapping[str, PoolFigures]
    departments: Mapping[str, PoolFigures]
    now: float
    # When the cluster started: the organisation has existed since then.
    started: float

    @classmethod
    def of(cls, topology: Topology, snapshot: Mapping[str, Any], now: float, started: float) -> Organisation:
        return cls(
            topology,
            {p["id"]: p["nodePools"] for p in snapshot["projects"]},
            {d["id"]: d["nodePools"] for d in snapshot["departments"]},
            now,
            started,
        )

    @property
    def epoch(self) -> str:
        return isoformat(self.started)


# ------------------------------------------------------------------------------------------- clusters
def cluster(version: ApiVersion, org: Organisation) -> dict[str, Any]:
    topology = org.topology
    now = isoformat(org.now)
    status: dict[str, Any] = {
        "platform": {"type": "vanilla", "kubeVersion": KUBERNETES_VERSION},
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "reason": "Available",
                "message": "The simulated cluster is connected and schedules workloads.",
                "lastTransitionTime": org.epoch,
            }
        ],
        "config": {"workloadOwnershipProtection": False, "subdomainEnabled": False, "ingressClass": None},
    }
    if version.cluster_state:
        status["state"] = "Connected"
    return {
        "uuid": topology.cluster_id,
        "tenantId": TENANT_ID,
        "name": topology.cluster_name,
        "createdAt": org.epoch,
        "domain": None,
        "version": version.cluster_version,
        "status": status,
        "updatedAt": org.epoch,
        "deletedAt": None,
        "lastLiveness": now,
    }


# ------------------------------------------------------------------------------------ quotas
def _resources(
    version: ApiVersion,
    org: Organisation,
    quotas: Mapping[str, Mapping[str, Quota]],
    priority: int | None = None,
) -> list[dict[str, Any]]:
    out = []
    for pool in org.topology.node_pools:
        gpu, cpu, memory = (quotas[pool][r] for r in ("gpu", "cpu", "memory"))
        out.append(
            {
                "nodePool": {"id": node_pool_id(org.topology, pool), "name": pool},
                "gpu": _quota(gpu),
                # The official `Resources` schema counts CPU quota in millicores (as the topology does)
                # and memory in MB (the topology keeps MiB).
                "cpu": _quota(cpu),
                "memory": {**_quota(memory, scale=1.048576), "units": MEMORY_UNITS},
            }
        )
        if version.org_resource_priority:
            out[-1]["priority"] = None if priority is None else priority_name(priority)
    return out


def priority_name(priority: int) -> str:
    """An org unit's over-quota priority as the word of `resources[].priority`: the documents' one value,
    "Normal", is the default; above it "High", below it "Low" (our choice: no document lists more)."""
    if priority == DEFAULT_OVER_QUOTA_PRIORITY:
        return "Normal"
    return "High" if priority > DEFAULT_OVER_QUOTA_PRIORITY else "Low"


def _quota(quota: Quota, scale: float = 1.0) -> dict[str, float]:
    def scaled(value: float) -> float:
        return value if value < 0 else round(value * scale, 3)

    return {
        "deserved": scaled(quota.deserved),
        "limit": scaled(quota.limit),
        "overQuotaWeight": quota.over_quota_weight,
    }


def _quota_status(org: Organisation, figures: PoolFigures) -> dict[str, Any]:
    per_pool = []
    total = {"allocated": 0.0, "allocatedNonPreemptible": 0.0}
    for pool in org.topology.node_pools:
        pool_figures = figures.get(pool, {})
        allocated = float(pool_figures.get("allocated", 0.0))
        non_preemptible = float(pool_figures.get("allocatedNonPreemptible", 0.0))
        total["allocated"] += allocated
        total["allocatedNonPreemptible"] += non_preemptible
        per_pool.append(
            {
                "nodePoolId": node_pool_id(org.topology, pool),
                "nodePoolName": pool,
                "allocated": {"gpu": allocated},
                "allocatedNonPreemptible": {"gpu": non_preemptible},
            }
        )
    quota_status = {
        "allocated": {"gpu": round(total["allocated"], 6)},
        "allocatedNonPreemptible": {"gpu": round(total["allocatedNonPreemptible"], 6)},
    }
    return {"nodePoolQuotaStatuses": per_pool, "quotaStatus": quota_status}


def _total_quota(quotas: Mapping[str, Mapping[str, Quota]], resource: str) -> float | None:
    values = [q[resource].deserved for q in quotas.values()]
    return None if any(v < 0 for v in values) else sum(values)


def _node_types(org: Organisation) -> dict[str, Any]:
    types = sorted({n.labels[NODE_TYPE_LABEL] for n in org.topology.nodes if NODE_TYPE_LABEL in n.labels})
    return {"training": types, "workspace": types}


# ------------------------------------------------------------------------------------ projects
def project(version: ApiVersion, org: Organisation, item: Project) -> dict[str, Any]:
    department = org.topology.departments.get(item.department_id)
    status = {
        "namespace": f"runai-{item.name}",
        "phase": "Ready",
        "phaseMessage": None,
        **_quota_status(org, org.projects.get(item.id, {})),
    }
    answer: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "clusterId": org.topology.cluster_id,
        "parentId": item.department_id,
        "requestedNamespace": None,
        "defaultNodePools": list(item.default_node_pools) or None,
        "nodeTypes": _node_types(org),
        "schedulingRules": None,
        "resources": _resources(version, org, item.quotas, item.over_quota_priority),
        "status": status,
        "createdAt": org.epoch,
        "updatedAt": org.epoch,
        "createdBy": CREATOR,
        "updatedBy": CREATOR,
    }
    if version.project_phase_field:
        # 2.18 lists `phase` among the required fields of a listed project, beside `status.phase`.
        answer["phase"] = "Ready"
    if not version.org_details:
        if answer["defaultNodePools"] is None:
            del answer["defaultNodePools"]
        return answer
    status["lastUpdatedTime"] = org.epoch
    answer.update(
        {
            "description": f"Project {item.name} of department {department.name if department else '-'}",
            "enforceRunaiScheduler": True,
            "totalResources": {
                "gpuQuota": _total_quota(item.quotas, "gpu"),
                "cpuQuota": None,
                "memoryQuota": None,
            },
            "effective": {
                "defaultNodePools": list(item.default_node_pools) or list(org.topology.node_pools),
                "nodeTypes": _node_types(org),
                "schedulingRules": None,
            },
        }
    )
    return answer


_AVERAGES = {
    f"avgGpu{what}{span}": Kind.NUMBER
    for what in ("Allocation", "Utilization", "MemoryUtilization")
    for span in ("24h", "7d", "30d")
}
# Every field a project list can be filtered or sorted by in some version; a version's row says which it has.
_PROJECT_KINDS = {
    "name": Kind.TEXT,
    "clusterId": Kind.TEXT,
    "departmentId": Kind.TEXT,
    "parentId": Kind.TEXT,
    "parentName": Kind.TEXT,
    "phase": Kind.TEXT,
    "totalGpuQuota": Kind.NUMBER,
    "gpuAllocated": Kind.NUMBER,
    "createdAt": Kind.DATE,
    # Utilisation averages: the fake keeps no telemetry, so these read as absent.
    **_AVERAGES,
}
_PROJECT_READERS = {
    "departmentId": path("parentId"),
    "phase": path("status", "phase"),
    "totalGpuQuota": path("totalResources", "gpuQuota"),
    "gpuAllocated": path("status", "quotaStatus", "allocated", "gpu"),
}


def _chosen(kinds: Mapping[str, Kind], names: frozenset[str]) -> dict[str, Kind]:
    return {name: kind for name, kind in kinds.items() if name in names}


def project_fields(version: ApiVersion, topology: Topology) -> Fields:
    def parent_name(item: Mapping[str, Any]) -> str | None:
        department = topology.departments.get(str(item.get("parentId")))
        return department.name if department else None

    return fields(_chosen(_PROJECT_KINDS, version.project_fields), **_PROJECT_READERS, parentName=parent_name)


def projects(version: ApiVersion, org: Organisation, visible: Sequence[Project]) -> list[dict[str, Any]]:
    return [project(version, org, p) for p in visible]


# --------------------------------------------------------------------------------- departments
def department(version: ApiVersion, org: Organisation, item: Department, *, listed: bool) -> dict[str, Any]:
    children = [p for p in org.topology.projects.values() if p.department_id == item.id]
    answer: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "clusterId": org.topology.cluster_id,
        "resources": _resources(version, org, item.quotas, item.over_quota_priority),
        "createdAt": org.epoch,
        "updatedAt": org.epoch,
        "createdBy": CREATOR,
        "updatedBy": CREATOR,
    }
    quota_status = _quota_status(org, org.departments.get(item.id, {}))
    if not version.org_details:
        if not listed:
            answer["status"] = quota_status
        return answer
    answer.update(
        {
            "description": f"Department {item.name}",
            "totalResources": {
                "gpuQuota": _total_quota(item.quotas, "gpu"),
                "cpuQuota": None,
                "memoryQuota": None,
            },
            "defaultNodePools": list(org.topology.node_pools),
            "nodeTypes": _node_types(org),
            "schedulingRules": None,
            "status": quota_status if not listed else {"quotaStatus": quota_status["quotaStatus"]},
        }
    )
    if not listed:
        answer["projectsAggregatedResources"] = _resources(version, org, _sum_quotas(org, children))
    return answer


def _sum_quotas(org: Organisation, children: Sequence[Project]) -> dict[str, dict[str, Quota]]:
    summed: dict[str, dict[str, Quota]] = {}
    for pool in org.topology.node_pools:
        summed[pool] = {}
        for resource in ("gpu", "cpu", "memory"):
            quotas = [p.quotas[pool][resource] for p in children]
            deserved = [q.deserved for q in quotas]
            limits = [q.limit for q in quotas]
            summed[pool][resource] = Quota(
                deserved=-1.0 if any(d < 0 for d in deserved) else sum(deserved),
                limit=-1.0 if any(limit < 0 for limit in limits) else sum(limits),
                over_quota_weight=sum(q.over_quota_weight for q in quotas),
            )
    return summed


_DEPARTMENT_KINDS = {
    "name": Kind.TEXT,
    "clusterId": Kind.TEXT,
    "totalGpuQuota": Kind.NUMBER,
    "gpuAllocated": Kind.NUMBER,
    "createdAt": Kind.DATE,
    **_AVERAGES,
}


def department_fields(version: ApiVersion) -> Fields:
    return fields(
        _chosen(_DEPARTMENT_KINDS, version.department_fields),
        totalGpuQuota=path("totalResources", "gpuQuota"),
        gpuAllocated=path("status", "quotaStatus", "allocated", "gpu"),
    )


# ---------------------------------------------------------------------------------- node pools
def node_pool_id(topology: Topology, pool: str) -> str:
    """Node pools have numeric ids on Run:ai; ours are their position in the config, from 1."""
    return str(topology.node_pools.index(pool) + 1)


def node_pool(version: ApiVersion, org: Organisation, pool: str) -> dict[str, Any]:
    topology = org.topology
    nodes = [n.name for n in topology.nodes if n.pool == pool]
    is_default = pool == topology.node_pools[0]
    phase = "Ready" if nodes else "Empty"
    common = {
        "name": pool,
        "labelKey": "kai.scheduler/node-pool",
        "labelValue": pool,
        "clusterId": topology.cluster_id,
        "createdAt": org.epoch,
        "updatedAt": org.epoch,
        "createdBy": CREATOR,
        "updatedBy": CREATOR,
        "isDefault": is_default,
    }
    if version.legacy_node_pools:
        return {
            **common,
            "id": int(node_pool_id(topology, pool)),
            "overProvisioningRatio": 1,
            "placementStrategy": {"cpu": "binpack", "gpu": "binpack"},
            "status": phase,
            "statusMessage": "",
            "nodes": ",".join(nodes),
        }
    return {
        **common,
        "id": node_pool_id(topology, pool),
        "tenantId": TENANT_ID,
        "clusterName": topology.cluster_name,
        "phase": phase,
        "phaseMessage": "",
        "deletedAt": None,
        "schedulingConfiguration": {"placementStrategy": {"cpu": "binpack", "gpu": "binpack"}},
        "status": {"nodes": nodes, "conditions": []},
    }


NODE_POOL_FIELDS = fields(
    {
        "name": Kind.TEXT,
        "clusterId": Kind.TEXT,
        "phase": Kind.TEXT,
        "createdAt": Kind.DATE,
        "updatedAt": Kind.DATE,
        "gpuNetworkAccelerationDetection": Kind.TEXT,
        "networkTopologyName": Kind.TEXT,
        "gpuNetworkAccelerationDetected": Kind.BOOLEAN,
        "gpuNetworkAccelerationLabelKey": Kind.TEXT,
        "swapEnabled": Kind.BOOLEAN,
        "nodeLevelSchedulerEnabled": Kind.BOOLEAN,
    },
    gpuNetworkAccelerationDetected=path("status", "gpuNetworkAccelerationDetected"),
    swapEnabled=path("gpuResourceOptimization", "swapEnabled"),
    nodeLevelSchedulerEnabled=path("gpuResourceOptimization", "nodeLevelSchedulerEnabled"),
)

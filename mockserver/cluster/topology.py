"""The fake cluster's shape read from its config (`topology_model.py` holds the shape itself).

Every problem is a ConfigError naming the file and the path of the bad value. Quotas a project or
department leaves out of its config get Run:ai-like defaults (see `_DEFAULT_QUOTA`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from mockserver.cluster.errors import ConfigError
from mockserver.cluster.topology_model import (
    DEFAULT_OVER_QUOTA_PRIORITY,
    NODE_TYPE_LABEL,
    RESOURCES,
    UNLIMITED,
    Department,
    DepartmentOverQuota,
    Node,
    Placement,
    PlacementStrategy,
    Project,
    Quota,
    Topology,
)

__all__ = [
    "DEFAULT_OVER_QUOTA_PRIORITY",
    "NODE_TYPE_LABEL",
    "RESOURCES",
    "UNLIMITED",
    "Department",
    "DepartmentOverQuota",
    "Node",
    "Placement",
    "PlacementStrategy",
    "Project",
    "Quota",
    "Topology",
    "topology_from_dict",
]

_MIG_PROFILE = re.compile(r"^[1-9][0-9]*g\.[1-9][0-9]*gb$")

# GPUs are guaranteed only where a project is given some; CPU and memory are not enforced unless configured,
# as on a Run:ai cluster without CPU quotas. Weight 1 lets every project share idle GPUs evenly.
_DEFAULT_QUOTA = {
    "gpu": Quota(deserved=0.0, limit=UNLIMITED, over_quota_weight=1.0),
    "cpu": Quota(deserved=UNLIMITED, limit=UNLIMITED, over_quota_weight=1.0),
    "memory": Quota(deserved=UNLIMITED, limit=UNLIMITED, over_quota_weight=1.0),
}


def topology_from_dict(data: dict[str, Any], source: str) -> Topology:
    """Build and validate a topology from parsed YAML; raises ConfigError naming the offending path."""
    reader = _Reader(source)
    root = reader.mapping(data, "")
    cluster = reader.mapping(root.get("cluster"), "cluster")
    node_pools, placement = _node_pools(reader, root.get("nodePools"))
    departments, department_quotas = _departments(reader, root.get("departments", []))
    projects = _projects(reader, root.get("projects", []), node_pools, departments)
    _department_quotas(reader, departments, department_quotas, projects, node_pools)
    return Topology(
        cluster_id=reader.text(cluster.get("id"), "cluster.id"),
        cluster_name=reader.text(cluster.get("name", "mock-cluster"), "cluster.name"),
        departments=departments,
        projects=projects,
        node_pools=node_pools,
        nodes=_nodes(reader, root.get("nodes", []), node_pools),
        placement=placement,
        department_over_quota=_department_over_quota(reader, root.get("scheduler")),
    )


_Choice = TypeVar("_Choice", Placement, DepartmentOverQuota)


class _Reader:
    """Typed accessors that fail with the file and the path of the bad value."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> ConfigError:
        return ConfigError(self.source, path or "(top level)", problem)

    def mapping(self, value: Any, path: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "must be a mapping")
        return value

    def sequence(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, "must be a list")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty string")
        return value

    def identifier(self, value: Any, path: str) -> str:
        # Run:ai ids are strings of digits; YAML turns unquoted ones into integers, which we accept.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.text(value, path)

    def count(self, value: Any, path: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(path, "must be a non-negative integer")
        return value

    def number(self, value: Any, path: str, *, allow_unlimited: bool = False) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and (value >= 0 or (allow_unlimited and value == -1)):
            return float(value)
        raise self.fail(
            path, "must be a non-negative number" + (" or -1 (unlimited)" if allow_unlimited else "")
        )

    def choice(self, value: Any, path: str, kind: type[_Choice]) -> _Choice:
        known = [member.value for member in kind]
        if value not in known:
            raise self.fail(path, f"must be one of {', '.join(known)}")
        return kind(value)

    def unique(self, items: list[str], path_of: Callable[[int], str], what: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item in seen:
                raise self.fail(path_of(i), f"duplicate {what} '{item}'")
            seen.add(item)


def _node_pools(reader: _Reader, value: Any) -> tuple[list[str], dict[str, PlacementStrategy]]:
    """Node pools in order: each a name, or {name, placementStrategy: {gpu, cpu}}."""
    pools: list[str] = []
    placement: dict[str, PlacementStrategy] = {}
    for i, entry in enumerate(reader.sequence(value, "nodePools")):
        path = f"nodePools[{i}]"
        if not isinstance(entry, dict):
            pools.append(reader.text(entry, path))
            continue
        for key in entry:
            if key not in ("name", "placementStrategy"):
                raise reader.fail(f"{path}.{key}", "unknown key (known: name, placementStrategy)")
        name = reader.text(entry.get("name"), f"{path}.name")
        pools.append(name)
        strategy = reader.mapping(entry.get("placementStrategy") or {}, f"{path}.placementStrategy")
        for key in strategy:
            if key not in ("gpu", "cpu"):
                raise reader.fail(f"{path}.placementStrategy.{key}", "unknown key (known: gpu, cpu)")
        placement[name] = PlacementStrategy(
            gpu=reader.choice(strategy.get("gpu", "binpack"), f"{path}.placementStrategy.gpu", Placement),
            cpu=reader.choice(strategy.get("cpu", "binpack"), f"{path}.placementStrategy.cpu", Placement),
        )
    if not pools:
        raise reader.fail("nodePools", "must name at least one node pool")
    reader.unique(pools, lambda i: f"nodePools[{i}]", "node pool")
    return pools, placement


def _department_over_quota(reader: _Reader, value: Any) -> DepartmentOverQuota:
    section = reader.mapping(value if value is not None else {}, "scheduler")
    for key in section:
        if key != "departmentOverQuota":
            raise reader.fail(f"scheduler.{key}", "unknown key (known: departmentOverQuota)")
    return reader.choice(
        section.get("departmentOverQuota", "proportional"),
        "scheduler.departmentOverQuota",
        DepartmentOverQuota,
    )


def _quotas(
    reader: _Reader,
    value: Any,
    path: str,
    node_pools: list[str],
    default: Callable[[str, str], Quota] = lambda _pool, resource: _DEFAULT_QUOTA[resource],
) -> dict[str, dict[str, Quota]]:
    given = reader.mapping(value if value is not None else {}, path)
    for pool in given:
        if pool not in node_pools:
            raise reader.fail(f"{path}.{pool}", f"unknown node pool (known: {', '.join(node_pools)})")
    quotas: dict[str, dict[str, Quota]] = {}
    for pool in node_pools:
        per_resource = reader.mapping(given.get(pool) or {}, f"{path}.{pool}")
        for resource in per_resource:
            if resource not in RESOURCES:
                raise reader.fail(
                    f"{path}.{pool}.{resource}", f"unknown resource (known: {', '.join(RESOURCES)})"
                )
        quotas[pool] = {
            r: _quota(reader, per_resource.get(r), f"{path}.{pool}.{r}", default(pool, r)) for r in RESOURCES
        }
    return quotas


def _quota(reader: _Reader, value: Any, path: str, default: Quota) -> Quota:
    if value is None:
        return default
    spec = reader.mapping(value, path)
    for key in spec:
        if key not in ("deserved", "limit", "overQuotaWeight"):
            raise reader.fail(f"{path}.{key}", "unknown key (known: deserved, limit, overQuotaWeight)")
    deserved = reader.number(spec.get("deserved", default.deserved), f"{path}.deserved", allow_unlimited=True)
    limit = reader.number(spec.get("limit", UNLIMITED), f"{path}.limit", allow_unlimited=True)
    weight = reader.number(spec.get("overQuotaWeight", default.over_quota_weight), f"{path}.overQuotaWeight")
    if limit != UNLIMITED and (deserved == UNLIMITED or limit < deserved):
        raise reader.fail(f"{path}.limit", "must be -1 (unlimited) or at least the deserved quota")
    return Quota(deserved=deserved, limit=limit, over_quota_weight=weight)


def _priority(reader: _Reader, entry: dict[str, Any], path: str) -> int:
    return reader.count(
        entry.get("overQuotaPriority", DEFAULT_OVER_QUOTA_PRIORITY), f"{path}.overQuotaPriority"
    )


def _departments(reader: _Reader, value: Any) -> tuple[dict[str, Department], dict[str, Any]]:
    """The departments, and their raw quota sections (parsed once their projects are known)."""
    departments: dict[str, Department] = {}
    raw_quotas: dict[str, Any] = {}
    for i, raw in enumerate(reader.sequence(value, "departments")):
        path = f"departments[{i}]"
        entry = reader.mapping(raw, path)
        dept_id = reader.identifier(entry.get("id"), f"{path}.id")
        if dept_id in departments:
            raise reader.fail(f"{path}.id", f"duplicate department id '{dept_id}'")
        departments[dept_id] = Department(
            id=dept_id,
            name=reader.text(entry.get("name"), f"{path}.name"),
            quotas={},
            over_quota_priority=_priority(reader, entry, path),
        )
        raw_quotas[dept_id] = (entry.get("quotas"), f"{path}.quotas")
    if not departments:
        raise reader.fail("departments", "must define at least one department")
    return departments, raw_quotas


def _projects(
    reader: _Reader, value: Any, node_pools: list[str], departments: dict[str, Department]
) -> dict[str, Project]:
    projects: dict[str, Project] = {}
    for i, raw in enumerate(reader.sequence(value, "projects")):
        path = f"projects[{i}]"
        entry = reader.mapping(raw, path)
        project_id = reader.identifier(entry.get("id"), f"{path}.id")
        if project_id in projects:
            raise reader.fail(f"{path}.id", f"duplicate project id '{project_id}'")
        department_id = reader.identifier(entry.get("departmentId"), f"{path}.departmentId")
        if department_id not in departments:
            raise reader.fail(f"{path}.departmentId", f"unknown department '{department_id}'")
        defaults = reader.sequence(entry.get("defaultNodePools", []), f"{path}.defaultNodePools")
        for j, pool in enumerate(defaults):
            if pool not in node_pools:
                raise reader.fail(f"{path}.defaultNodePools[{j}]", f"unknown node pool '{pool}'")
        projects[project_id] = Project(
            id=project_id,
            name=reader.text(entry.get("name"), f"{path}.name"),
            department_id=department_id,
            quotas=_quotas(reader, entry.get("quotas"), f"{path}.quotas", node_pools),
            default_node_pools=list(defaults),
            over_quota_priority=_priority(reader, entry, path),
        )
    if not projects:
        raise reader.fail("projects", "must define at least one project")
    return projects


def _department_quotas(
    reader: _Reader,
    departments: dict[str, Department],
    raw_quotas: dict[str, Any],
    projects: dict[str, Project],
    node_pools: list[str],
) -> None:
    """A quota a department leaves out is what its projects deserve together, so their guarantees hold."""
    for dept in departments.values():
        children = [p for p in projects.values() if p.department_id == dept.id]

        def children_sum(pool: str, resource: str, children: list[Project] = children) -> Quota:
            wanted = [c.quotas[pool][resource].deserved for c in children]
            deserved = UNLIMITED if UNLIMITED in wanted else sum(wanted)
            return Quota(deserved=deserved, limit=UNLIMITED, over_quota_weight=1.0)

        value, path = raw_quotas[dept.id]
        dept.quotas = _quotas(reader, value, path, node_pools, children_sum)


def _nodes(reader: _Reader, value: Any, node_pools: list[str]) -> list[Node]:
    nodes: list[Node] = []
    for i, raw in enumerate(reader.sequence(value, "nodes")):
        path = f"nodes[{i}]"
        entry = reader.mapping(raw, path)
        pool = reader.text(entry.get("pool"), f"{path}.pool")
        if pool not in node_pools:
            raise reader.fail(f"{path}.pool", f"unknown node pool '{pool}' (known: {', '.join(node_pools)})")
        gpus = reader.count(entry.get("gpus", 0), f"{path}.gpus")
        gpu_memory = reader.count(entry.get("gpuMemoryMiB", 0), f"{path}.gpuMemoryMiB")
        if gpus and not gpu_memory:
            raise reader.fail(f"{path}.gpuMemoryMiB", "must be a positive integer on a node with GPUs")
        labels = reader.mapping(entry.get("labels", {}), f"{path}.labels")
        for key, label in labels.items():
            reader.text(key, f"{path}.labels")
            reader.text(label, f"{path}.labels.{key}")
        mig = reader.mapping(entry.get("migProfiles", {}), f"{path}.migProfiles")
        for profile, amount in mig.items():
            if not isinstance(profile, str) or not _MIG_PROFILE.match(profile):
                raise reader.fail(f"{path}.migProfiles.{profile}", "must be a MIG profile such as 1g.5gb")
            reader.count(amount, f"{path}.migProfiles.{profile}")
        if mig and not gpus:
            raise reader.fail(
                f"{path}.migProfiles", "needs gpus > 0: MIG slices are cut from the node's GPUs"
            )
        extended = reader.mapping(entry.get("extendedResources", {}), f"{path}.extendedResources")
        for name, amount in extended.items():
            reader.text(name, f"{path}.extendedResources")
            reader.count(amount, f"{path}.extendedResources.{name}")
        nodes.append(
            Node(
                name=reader.text(entry.get("name"), f"{path}.name"),
                pool=pool,
                gpus=gpus,
                gpu_memory_mib=gpu_memory,
                gpu_model=str(entry.get("gpuModel", "")),
                labels={str(k): str(v) for k, v in labels.items()},
                cpu_millis=reader.count(entry.get("cpuMillis", 64_000), f"{path}.cpuMillis"),
                memory_mib=reader.count(entry.get("memoryMiB", 524_288), f"{path}.memoryMiB"),
                mig_profiles=dict(mig),
                extended=dict(extended),
            )
        )
    reader.unique([n.name for n in nodes], lambda i: f"nodes[{i}].name", "node name")
    return nodes

"""Topology config: the embedded default and validation errors that name the file, the path and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.cluster.errors import ConfigError
from mockserver.cluster.scheduler import Job, Scheduler
from mockserver.cluster.topology import Quota, topology_from_dict
from mockserver.parsing.compute import pod_request_from_compute

DEFAULT_CONFIG = Path(__file__).parents[2] / "mockserver" / "default_config.yaml"
# The seed's example request (reference/seed-create-request.json), its quantity typed as the schema says.
SEED_SPEC = {
    "nodeType": "my-node-type",
    "nodePools": ["my-node-pool-a", "my-node-pool-b"],
    "priorityClass": "build",
    "parallelism": 1,
    "compute": {
        "gpuDevicesRequest": 1,
        "gpuRequestType": "portion",
        "gpuPortionRequest": 0.5,
        "gpuPortionLimit": 0.5,
        "gpuMemoryRequest": "10M",
        "gpuMemoryLimit": "10M",
        "migProfile": "1g.5gb",
        "cpuCoreRequest": 0.5,
        "cpuCoreLimit": 2,
        "cpuMemoryRequest": "20M",
        "cpuMemoryLimit": "30M",
        "largeShmRequest": False,
        "extendedResources": [{"resource": "hardware-vendor.example/foo", "quantity": "2", "exclude": False}],
    },
}


@pytest.fixture(scope="module")
def default_data() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def minimal() -> dict:
    return {
        "cluster": {"id": "c1", "name": "mini"},
        "nodePools": ["default"],
        "departments": [{"id": "2", "name": "d"}],
        "projects": [{"id": "1", "name": "p", "departmentId": "2"}],
        "nodes": [{"name": "n1", "pool": "default", "gpus": 2, "gpuMemoryMiB": 40960}],
    }


def test_the_default_config_keeps_the_seed_ids(default_data):
    topology = topology_from_dict(default_data, "default_config.yaml")
    assert topology.cluster_id == "71f69d83-ba66-4822-adf5-55ce55efd210"
    assert topology.node_pools == ["default", "my-node-pool-a", "my-node-pool-b"]
    assert topology.project("1").department_id == "2"
    assert topology.project("1").quotas["my-node-pool-a"]["gpu"].deserved >= 1
    assert {"3", "4"} <= set(topology.projects)
    typed = {n.pool for n in topology.nodes if n.labels.get("run.ai/type") == "my-node-type"}
    assert {"my-node-pool-a", "my-node-pool-b"} <= typed
    assert any("1g.5gb" in n.mig_profiles for n in topology.nodes)
    assert all(
        n.extended.get("hardware-vendor.example/foo", 0) >= 2
        for n in topology.nodes
        if n.pool == "my-node-pool-a"
    )
    assert 24 <= sum(n.gpus for n in topology.nodes) <= 40
    assert {n.gpu_memory_mib for n in topology.nodes} == {40960, 81920}


def test_the_default_config_carries_the_lead_sections_verbatim():
    text = DEFAULT_CONFIG.read_text()
    assert text.startswith("#")
    assert "accounts:\n  - clientId: mock-app\n    clientSecret: mock-secret" in text
    assert text.rstrip().endswith("runDuration: 3600\n  outcome: Completed")


def test_the_seed_request_runs_on_the_default_cluster(default_data):
    seed = SEED_SPEC
    scheduler = Scheduler(topology_from_dict(default_data, "default_config.yaml"))
    # priorityClass build: priority 100, non-preemptible, so it must fit in project 1's deserved quota.
    scheduler.enqueue(
        Job(
            "seed",
            "1",
            pod_request_from_compute(seed["compute"]),
            seed["parallelism"],
            100,
            False,
            seed["nodePools"],
            seed["nodeType"],
            1,
        )
    )
    assert scheduler.cycle().started == ["seed"]
    [pod] = scheduler.placement("seed")
    assert pod["pool"] == "my-node-pool-a"
    assert pod["devices"] == [{"index": 0, "fraction": 0.5}]


def test_defaults_for_left_out_quotas():
    topology = topology_from_dict(minimal(), "t.yaml")
    quotas = topology.project("1").quotas["default"]
    assert quotas["gpu"] == Quota(deserved=0, limit=-1, over_quota_weight=1)
    assert quotas["cpu"].deserved == -1 and quotas["memory"].deserved == -1


def test_a_department_without_quotas_deserves_what_its_projects_do():
    data = minimal()
    data["projects"].append(
        {"id": "3", "name": "q", "departmentId": 2, "quotas": {"default": {"gpu": {"deserved": 2}}}}
    )
    data["projects"][0]["quotas"] = {"default": {"gpu": {"deserved": 1.5}}}
    topology = topology_from_dict(data, "t.yaml")
    assert topology.departments["2"].quotas["default"]["gpu"].deserved == 3.5
    assert topology.project("3").department_id == "2"


def test_keys_the_topology_does_not_own_are_ignored():
    data = minimal() | {"accounts": [{"clientId": "x"}], "timing": {"creating": 1}}
    assert topology_from_dict(data, "t.yaml").cluster_name == "mini"


def _break(path: str, value) -> dict:
    data = minimal()
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "where", "problem"),
    [
        ("nodes.0.gpus", -1, "nodes[0].gpus", "must be a non-negative integer"),
        ("nodes.0.gpus", 1.5, "nodes[0].gpus", "must be a non-negative integer"),
        ("nodes.0.pool", "elsewhere", "nodes[0].pool", "unknown node pool 'elsewhere'"),
        ("nodes.0.gpuMemoryMiB", KeyError, "nodes[0].gpuMemoryMiB", "must be a positive integer"),
        ("nodes.0.migProfiles", {"big": 1}, "nodes[0].migProfiles.big", "must be a MIG profile"),
        ("cluster.id", KeyError, "cluster.id", "must be a non-empty string"),
        ("nodePools", [], "nodePools", "must name at least one node pool"),
        ("nodePools", ["a", "a"], "nodePools[1]", "duplicate node pool 'a'"),
        ("projects.0.departmentId", "9", "projects[0].departmentId", "unknown department '9'"),
        ("projects.0.quotas", {"nope": {}}, "projects[0].quotas.nope", "unknown node pool"),
        (
            "projects.0.quotas",
            {"default": {"gpus": {}}},
            "projects[0].quotas.default.gpus",
            "unknown resource",
        ),
        (
            "projects.0.quotas",
            {"default": {"gpu": {"deserved": 4, "limit": 2}}},
            "projects[0].quotas.default.gpu.limit",
            "at least the deserved quota",
        ),
        (
            "projects.0.quotas",
            {"default": {"gpu": {"deserved": -2}}},
            "projects[0].quotas.default.gpu.deserved",
            "or -1 (unlimited)",
        ),
        ("projects.0.defaultNodePools", ["x"], "projects[0].defaultNodePools[0]", "unknown node pool 'x'"),
        ("departments", "all", "departments", "must be a list"),
        ("projects", [], "projects", "at least one project"),
    ],
)
def test_errors_name_the_file_the_path_and_the_problem(path, value, where, problem):
    with pytest.raises(ConfigError) as caught:
        topology_from_dict(_break(path, value), "cluster.yaml")
    assert caught.value.source == "cluster.yaml"
    assert caught.value.path == where
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"cluster.yaml: {where}: ")


def test_duplicate_ids_and_names_are_rejected():
    data = minimal()
    data["nodes"].append(dict(data["nodes"][0]))
    with pytest.raises(ConfigError, match=r"nodes\[1\]\.name: duplicate node name 'n1'"):
        topology_from_dict(data, "t.yaml")
    data = minimal()
    data["projects"].append(dict(data["projects"][0]))
    with pytest.raises(ConfigError, match=r"projects\[1\]\.id: duplicate project id '1'"):
        topology_from_dict(data, "t.yaml")


def test_a_top_level_that_is_not_a_mapping_is_rejected():
    with pytest.raises(ConfigError, match=r"t.yaml: \(top level\): must be a mapping"):
        topology_from_dict([], "t.yaml")  # type: ignore[arg-type]

"""Clusters, projects, departments and node pools through the Run:ai API, in-process on a manual clock:
their figures are the scheduler's, access follows the caller's account, and the list parameters work
as the documents define them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from tests.conftest import CLUSTER_ID, Api, get_token, training

PROJECTS = "/api/v1/org-unit/projects"
DEPARTMENTS = "/api/v1/org-unit/departments"


@pytest.fixture(scope="module", params=["2.18", "latest"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def app_of(version: str) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(api=version).test_client() as test_client:
            yield test_client


@pytest.fixture
def served(app_of: Any) -> Any:
    # One app per version for the module (reads dominate); every test starts from an empty cluster.
    assert app_of.post("/api/mock/v1/reset", headers={"X-Mock-Control": "1"}).status_code in (200, 204)
    return app_of


def headers(client: Any, account: str = "mock-app", secret: str = "mock-secret") -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client, account, secret)}"}


def names(client: Any, query: str = "", account: tuple[str, str] = ("mock-app", "mock-secret")) -> list[str]:
    response = client.get(f"{PROJECTS}{query}", headers=headers(client, *account))
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["projects"]]


def test_one_cluster_the_simulated_one(served: Any) -> None:
    auth = headers(served)
    clusters = served.get("/api/v1/clusters", headers=auth).json()
    assert [(c["uuid"], c["name"]) for c in clusters] == [(CLUSTER_ID, "mock-cluster")]
    assert served.get(f"/api/v1/clusters/{CLUSTER_ID}", headers=auth).json()["uuid"] == CLUSTER_ID
    missing = served.get("/api/v1/clusters/9f55255e-11ed-47c7-acef-fc4054768dbc", headers=auth)
    assert (missing.status_code, missing.json()["code"]) == (404, 404)
    assert served.get("/api/v1/clusters").status_code == 401


def test_projects_filtered_by_cluster_as_runapy_asks(served: Any) -> None:
    assert names(served, f"?filterBy=clusterId=={CLUSTER_ID}") == ["team-a", "team-b", "inference"]
    assert names(served, "?filterBy=clusterId!=" + CLUSTER_ID) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?filterBy=name==team-b", ["team-b"]),
        ("?filterBy=name!=team-b", ["team-a", "inference"]),
        ("?filterBy=name=@am-", ["team-a", "team-b"]),
        ("?filterBy=name!@team", ["inference"]),
        ("?filterBy=name=^inf", ["inference"]),
        ("?filterBy=name=$-a", ["team-a"]),
        ("?filterBy=name>=team-a", ["team-a", "team-b"]),
        ("?filterBy=name<=inference", ["inference"]),
        ("?filterBy=departmentId==5", ["inference"]),
        # explode false: several filters in one parameter, comma separated, all must hold
        ("?filterBy=name=^team,departmentId==2", ["team-a", "team-b"]),
        ("?sortBy=name&sortOrder=desc", ["team-b", "team-a", "inference"]),
        ("?sortBy=name&offset=1&limit=1", ["team-a"]),
    ],
)
def test_every_operator_sort_and_page(served: Any, query: str, expected: list[str]) -> None:
    assert names(served, query) == expected


def test_next_points_at_the_following_page(served: Any) -> None:
    auth = headers(served)
    first = served.get(f"{PROJECTS}?limit=2", headers=auth).json()
    assert (len(first["projects"]), first["next"]) == (2, 2)
    last = served.get(f"{PROJECTS}?limit=2&offset=2", headers=auth).json()
    assert len(last["projects"]) == 1 and "next" not in last


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("?filterBy=name~=x", "does not match"),  # Connexion's pattern check names the pattern
        ("?limit=0", "less than the minimum"),
        ("?sortOrder=up", "is not one of"),
    ],
)
def test_a_bad_query_is_400_saying_what_is_wrong(served: Any, query: str, fragment: str) -> None:
    response = served.get(f"{PROJECTS}{query}", headers=headers(served))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and fragment in body["message"], body


def test_latest_filters_on_quota_allocation_and_search(version: str, served: Any) -> None:
    if version == "2.18":
        pytest.skip("2.18 filters projects by name, cluster and department only")
    assert names(served, "?filterBy=totalGpuQuota>=11") == ["team-a"]  # 4 + 6 + 2 deserved
    assert names(served, "?filterBy=createdAt>=2020-01-01T00:00:00Z") == ["team-a", "team-b", "inference"]
    assert names(served, "?filterBy=createdAt<=2020-01-01T00:00:00Z") == []
    for query, fragment in (
        ("?filterBy=createdAt=@2025", "takes only ==, !=, <= and >="),
        ("?filterBy=createdAt>=yesterday", "not an ISO 8601 date-time"),
    ):
        response = served.get(f"{PROJECTS}{query}", headers=headers(served))
        assert response.status_code == 400 and fragment in response.json()["message"], response.text
    assert names(served, "?filterBy=parentName==production") == ["inference"]
    assert names(served, "?search=TEAM") == ["team-a", "team-b"]
    bad = served.get(f"{PROJECTS}?filterBy=gpuAllocated>=lots", headers=headers(served))
    assert bad.status_code == 400 and "'lots' is not a number" in bad.json()["message"]


def test_access_follows_the_account(served: Any) -> None:
    limited = ("limited-app", "limited-secret")
    assert names(served, account=limited) == ["team-b"]
    auth = headers(served, *limited)
    assert served.get(f"{PROJECTS}/3", headers=auth).status_code == 200
    outside = served.get(f"{PROJECTS}/1", headers=auth)
    assert (outside.status_code, outside.json()["code"]) == (403, 403)
    assert served.get(f"{PROJECTS}/999", headers=auth).status_code == 404
    assert [d["id"] for d in served.get(DEPARTMENTS, headers=auth).json()["departments"]] == ["2"]
    assert served.get(f"{DEPARTMENTS}/5", headers=auth).status_code == 403
    assert served.get(f"{DEPARTMENTS}/77", headers=auth).status_code == 404


def _pool(quota_status: dict[str, Any], pool: str) -> dict[str, Any]:
    return next(s for s in quota_status["nodePoolQuotaStatuses"] if s["nodePoolName"] == pool)


def test_quotas_and_allocation_are_the_schedulers(served: Any) -> None:
    auth = headers(served)
    api = Api(served, auth)
    project = served.get(f"{PROJECTS}/1", headers=auth).json()
    deserved = {r["nodePool"]["name"]: r["gpu"]["deserved"] for r in project["resources"]}
    assert deserved == {"default": 4.0, "my-node-pool-a": 6.0, "my-node-pool-b": 2.0}
    assert project["status"]["quotaStatus"]["allocated"]["gpu"] == 0

    assert api.create(training("two", compute={"gpuDevicesRequest": 2})).status_code in (200, 202)
    api.advance(5)
    snapshot = served.get("/api/mock/v1/snapshot").json()
    figures = next(p for p in snapshot["projects"] if p["id"] == "1")["nodePools"]
    status = served.get(f"{PROJECTS}/1", headers=auth).json()["status"]
    assert status["quotaStatus"]["allocated"]["gpu"] == 2 == sum(f["allocated"] for f in figures.values())
    for pool, pool_figures in figures.items():
        assert _pool(status, pool)["allocated"]["gpu"] == pool_figures["allocated"]
    department = served.get(f"{DEPARTMENTS}/2", headers=auth).json()
    assert department["status"]["quotaStatus"]["allocated"]["gpu"] == 2


def test_node_pools(version: str, served: Any) -> None:
    auth = headers(served)
    if version == "2.18":
        pools = served.get(f"/v1/k8s/clusters/{CLUSTER_ID}/node-pools", headers=auth).json()
        other = served.get("/v1/k8s/clusters/9f55255e-11ed-47c7-acef-fc4054768dbc/node-pools", headers=auth)
        assert other.status_code == 404
    else:
        pools = served.get("/api/v1/node-pools", headers=auth).json()["nodepools"]
        only = served.get("/api/v1/node-pools?filterBy=name==my-node-pool-b", headers=auth).json()
        assert [p["name"] for p in only["nodepools"]] == ["my-node-pool-b"]
    assert [(p["name"], p["isDefault"]) for p in pools] == [
        ("default", True),
        ("my-node-pool-a", False),
        ("my-node-pool-b", False),
    ]


def test_resources_carry_the_over_quota_priority_where_the_document_has_it(version: str, served: Any) -> None:
    """`resources[].priority` exists from 2.20's document on: project 4 has overQuotaPriority 200, the others
    the default (100), "Normal" as the documents' example names it."""
    auth = headers(served)
    priorities = {
        p["id"]: {r.get("priority", "absent") for r in p["resources"]}
        for p in served.get(PROJECTS, headers=auth).json()["projects"]
    }
    department = served.get(f"{DEPARTMENTS}/2", headers=auth).json()
    if version == "2.18":
        assert set().union(*priorities.values()) == {"absent"}
        assert all("priority" not in r for r in department["resources"])
    else:
        assert priorities["4"] == {"High"} and priorities["1"] == {"Normal"}
        assert {r["priority"] for r in department["resources"]} == {"Normal"}

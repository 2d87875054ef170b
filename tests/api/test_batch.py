"""`POST /api/v1/workloads/batch` on every version whose document has it (2.19 on): one action on workloads
of any kind, answered id by id; the actions each version's enum allows; 100 ids at most."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from mockserver.app import create_app
from mockserver.config import DEFAULT_CONFIG, load_config
from mockserver.specs import load_spec
from mockserver.versions import VERSIONS
from tests.api.test_distributed import Distributed, distributed
from tests.conftest import get_token, training

BATCH = "/api/v1/workloads/batch"


def _enum(api: str) -> list[str]:
    schemas = load_spec(VERSIONS[api].spec)["components"]["schemas"]
    return list(schemas["Action1"]["enum"]) if "Action1" in schemas else []


@pytest.fixture(params=sorted(VERSIONS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Distributed]]:
    with create_app(load_config(), api=request.param).test_client() as client:
        yield request.param, Distributed(client, {"Authorization": f"Bearer {get_token(client)}"})


def _batch(api: Distributed, action: str, ids: list[str]) -> Any:
    return api.client.post(BATCH, json={"action": action, "ids": ids}, headers=api.headers)


def _created(api: Distributed) -> tuple[str, str]:
    train = api.client.post("/api/v1/workloads/trainings", json=training("b-train"), headers=api.headers)
    dist = api.create(distributed("b-dist", numWorkers=1))
    api.advance(5)
    return train.json()["workloadId"], dist.json()["workloadId"]


def test_batch_is_served_where_the_document_has_it(served):
    api, client = served
    answer = _batch(client, "delete", [str(uuid.uuid4())])
    if not _enum(api):
        assert answer.status_code in (404, 405) and "code" in answer.json()
        return
    assert answer.status_code == 200


def test_batch_delete_answers_id_by_id_across_kinds(served):
    api, client = served
    if not _enum(api):
        pytest.skip("no batch endpoint in this version's document")
    train_id, dist_id = _created(client)
    missing = str(uuid.uuid4())
    answer = _batch(client, "delete", [train_id, dist_id, missing])
    assert answer.status_code == 200
    body = answer.json()
    uuid.UUID(body["id"])
    assert body["succeeded"] == [train_id, dist_id]
    assert [(f["id"], f["code"]) for f in body["failed"]] == [(missing, 404)]
    assert body["failed"][0]["message"]
    for workload_id in (train_id, dist_id):
        assert client.workload(workload_id)["phase"] in ("Deleting", "Terminating")
    client.advance(30)
    assert client.get(dist_id).status_code == 404


def test_batch_suspend_and_resume_where_the_enum_has_them(served):
    api, client = served
    enum = _enum(api)
    if not enum:
        pytest.skip("no batch endpoint in this version's document")
    train_id, dist_id = _created(client)
    answer = _batch(client, "suspend", [train_id, dist_id])
    if "suspend" not in enum:
        assert answer.status_code == 400 and "code" in answer.json()
        assert client.workload(train_id)["phase"] == "Running"
        return
    assert answer.status_code == 200 and answer.json()["succeeded"] == [train_id, dist_id]
    client.advance(5)
    assert client.get(dist_id).json()["actualPhase"] == "Stopped"
    assert _batch(client, "resume", [train_id, dist_id]).json()["failed"] == []
    client.advance(10)
    assert client.get(dist_id).json()["actualPhase"] == "Running"


def test_more_than_100_ids_or_none_are_refused(served):
    api, client = served
    if not _enum(api):
        pytest.skip("no batch endpoint in this version's document")
    too_many = _batch(client, "delete", [str(uuid.uuid4()) for _ in range(101)])
    assert too_many.status_code == 400 and too_many.json()["code"] == 400
    assert "100" in too_many.json()["message"]
    none = _batch(client, "delete", [])
    assert none.status_code == 400 and none.json()["code"] == 400
    exactly = _batch(client, "delete", [str(uuid.uuid4()) for _ in range(100)])
    assert exactly.status_code == 200 and len(exactly.json()["failed"]) == 100


def test_another_projects_workload_fails_for_that_id_alone(tmp_path):
    # An application allowed into project 3 only: project 1's training fails with 403, its own succeeds.
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["accounts"].append(
        {
            "clientId": "team-b-app",
            "clientSecret": "team-b-secret",
            "email": "b@example.com",
            "projects": ["3"],
        }
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    with create_app(load_config(path), api="latest").test_client() as client:
        admin = {"Authorization": f"Bearer {get_token(client)}"}
        scoped = {"Authorization": f"Bearer {get_token(client, 'team-b-app', 'team-b-secret')}"}
        theirs = client.post("/api/v1/workloads/trainings", json=training("t1"), headers=admin).json()[
            "workloadId"
        ]
        ours = client.post(
            "/api/v1/workloads/trainings", json=training("t3", project="3"), headers=scoped
        ).json()["workloadId"]
        answer = client.post(BATCH, json={"action": "delete", "ids": [theirs, ours]}, headers=scoped)
        assert answer.status_code == 200
        body = answer.json()
        assert body["succeeded"] == [ours] and [(f["id"], f["code"]) for f in body["failed"]] == [
            (theirs, 403)
        ]

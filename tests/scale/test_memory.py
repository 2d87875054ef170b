"""Bounded memory: a stored spec keeps only what the API version defines, and deleted trainings are kept
in bounded number whatever the retention time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.cluster import engine as engine_module
from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.config import load_config
from mockserver.http.auth import Principal
from mockserver.parsing.training import parse_training
from mockserver.parsing.workspace import parse_workspace
from mockserver.versions import VERSIONS
from tests.conftest import training

CONFIG = load_config()
ANYONE = Principal("tester", "tester@example.com", None)


@pytest.mark.parametrize("version", ["2.18", "latest"])
def test_unknown_spec_keys_are_dropped_and_known_ones_kept(version: str) -> None:
    body = training("pruned")
    body["spec"].update(
        {
            "notAField": "x" * 1000,
            "annotations": [{"name": "team", "value": "a", "bogus": 1}],
            "backoffLimit": 3,
        }
    )
    body["spec"]["compute"]["madeUp"] = {"deep": list(range(100))}
    stored = parse_training(body, VERSIONS[version]).request.spec_document
    assert stored is not None
    assert "notAField" not in stored and "madeUp" not in stored["compute"]
    assert stored["annotations"] == [{"name": "team", "value": "a"}]
    assert stored["compute"]["gpuDevicesRequest"] == 1 and stored["image"] == "python:3.11"
    assert stored["backoffLimit"] == 3


@pytest.mark.parametrize("parse", [parse_training, parse_workspace], ids=["training", "workspace"])
@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_version_and_kind_prunes_by_its_own_create_operation(version: str, parse: Any) -> None:
    """The create operation is found in every served document for every kind (a path the document lacks
    would prune nothing)."""
    body = training("pruned")
    body["spec"].update({"notAField": 1, "backoffLimit": 2})
    stored = parse(body, VERSIONS[version]).request.spec_document
    assert stored is not None
    assert "notAField" not in stored and stored["backoffLimit"] == 2 and stored["image"] == "python:3.11"


def test_a_create_full_of_unknown_keys_is_accepted_and_answers_the_pruned_spec(api: Any) -> None:
    body = training("big")
    body["spec"].update({f"unknown{i}": "y" * 900 for i in range(1000)})  # about 1 MB of keys
    assert len(json.dumps(body)) < 1024 * 1024
    created = api.create(body)
    assert created.status_code == 200, created.text[:300]
    assert set(created.json()["spec"]) == {"image", "compute"}
    assert set(api.get(created.json()["workloadId"]).json()["spec"]) == {"image", "compute"}


def test_deleted_trainings_are_kept_in_bounded_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "MAX_DELETED", 5)
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=3)
    ids = []
    for i in range(12):
        parsed = parse_training(training(f"gone-{i}"), VERSIONS["2.18"])
        ids.append(cluster.submit(parsed.request, ANYONE, parsed.issues).workload_id)
    for workload in ids:
        cluster.delete(workload, ANYONE)
    cluster.advance(5)
    kept = [t.workload_id for t in cluster.trainings(deleted=True)]
    assert kept == ids[-5:]  # the most recent removals, well within the 24 h retention
    with cluster.reading() as reader:
        assert [e.workload_id for e in reader.index(deleted=True).entries()] == ids[-5:]

"""A list page's rows are used again only while what they are made of is unchanged
(handlers/rendered_rows.py).

Each step below changes the cluster in one way a client or the fake can; after it, the page the index path
answers (rows kept from before where nothing they show changed) must be the page the row-filter path
renders afresh, row for row, and only the rows whose workloads changed may have been rendered again.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import types
import typing
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.cluster.kinds.base import WorkloadKind
from mockserver.cluster.phases import Phase
from mockserver.cluster.pods import JobPods, Pod, PodPhase
from mockserver.cluster.request import WorkloadRequest
from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.workload import Attempt, PhaseChange, Workload
from mockserver.handlers.rendered_rows import RenderedRows
from tests.conftest import Api, get_token, training

WORKLOADS = "/api/v1/workloads"
# Holds for every workload and is not indexed: the page then comes from the row filter, rendered afresh.
ALWAYS = ("filterBy", "createdAt>=2000-01-01T00:00:00Z")
PAGE = [("limit", "40"), ("sortBy", "name")]


class Cluster:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.state = api.client.app.mock_state
        self.ids: list[str] = []

    def page(self, *extra: tuple[str, str]) -> list[dict[str, Any]]:
        answer = self.api.client.get(WORKLOADS, params=[*PAGE, *extra], headers=self.api.headers)
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["workloads"]
        return rows

    def rendered_by(self, change: Callable[[], None]) -> set[str]:
        """The page after `change`, checked against a fresh rendering; the ids whose rows were rendered."""
        self.page()  # every row of the page kept as it is now
        before = self.state.rows.rendered
        seen = {row["id"]: row for row in self.page()}
        assert self.state.rows.rendered == before  # nothing changed, nothing rendered again
        change()
        mark = self.state.rows.rendered
        kept = self.page()
        again = self.state.rows.rendered - mark
        assert kept == self.page(ALWAYS)
        changed = {row["id"] for row in kept if seen.get(row["id"]) != row}
        assert again >= len(changed)
        return changed


@pytest.fixture(params=["2.18", "latest"])
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(api=request.param).test_client() as client:
            api = Api(client, {"Authorization": f"Bearer {get_token(client)}"})
            found = Cluster(api)
            for i in range(12):
                answer = api.create(training(f"row-{i:02}", project=["1", "3"][i % 2]))
                assert answer.status_code in (200, 202), answer.text
                found.ids.append(answer.json()["workloadId"])
            api.advance(30)
            yield found


def test_an_action_renders_its_workload_s_row_again_and_no_other(cluster: Cluster) -> None:
    target = cluster.ids[3]
    changed = cluster.rendered_by(lambda: cluster.api.action(target, "suspend"))
    assert changed == {target}
    assert cluster.rendered_by(lambda: cluster.api.advance(5)) >= {target}  # Stopping -> Stopped
    assert cluster.rendered_by(lambda: cluster.api.action(target, "resume")) == {target}
    assert cluster.rendered_by(lambda: cluster.api.delete(cluster.ids[5])) == {cluster.ids[5]}


def test_time_passing_renders_again_only_where_the_version_counts_it(cluster: Cluster) -> None:
    changed = cluster.rendered_by(lambda: cluster.api.advance(1))
    counts_time = cluster.state.version.workload_details
    # Every workload is Running by now: only a version that counts seconds in a phase shows a change.
    assert changed == (set(cluster.ids) if counts_time else set())


def test_a_preemption_and_the_organisation_are_part_of_a_row(cluster: Cluster) -> None:
    def preempt() -> None:
        load = {"name": "burst", "projectId": "3", "compute": {"gpuDevicesRequest": 8}, "priority": 125}
        assert cluster.api.client.post("/api/mock/v1/workloads", json=load).status_code in (200, 201)
        cluster.api.advance(2)

    cluster.rendered_by(preempt)
    topology = cluster.state.cluster.topology
    project = topology.projects["3"]

    def rename() -> None:
        topology.projects["3"] = dataclasses.replace(project, name="renamed")

    renamed = cluster.rendered_by(rename)
    assert renamed and all(row["projectName"] == "renamed" for row in cluster.page() if row["id"] in renamed)


def test_rows_kept_are_bounded_and_the_least_recently_used_go_first() -> None:
    with create_app().test_client() as client:
        api = Api(client, {"Authorization": f"Bearer {get_token(client)}"})
        ids = [api.create(training(f"kept-{i}")).json()["workloadId"] for i in range(3)]
        state = client.app.mock_state
        rows = RenderedRows(capacity=2)
        topology, version = state.cluster.topology, state.version
        with state.cluster.reading() as reader:
            works, now = [reader.workload(wid) for wid in ids], reader.now()
            texts = [rows.text(version, topology, w, (), now) for w in works]
            assert rows.rendered == 3 and len(rows) == 2  # the first one made room
            assert rows.text(version, topology, works[2], (), now) == texts[2] and rows.rendered == 3
            assert rows.text(version, topology, works[0], (), now) == texts[0] and rows.rendered == 4


def _changes() -> list[Callable[[Workload], None]]:
    def pod_phase(w: Workload) -> None:
        w.job.pods[0].phase = PodPhase.RUNNING

    def history(w: Workload) -> None:
        w.history.append(PhaseChange(9.0, Phase.RUNNING, "placed"))

    def job(w: Workload) -> None:
        w.job.failed += 1

    def field(w: Workload) -> None:
        w.pending_reason = "waiting"

    def request(w: Workload) -> None:
        w.request = dataclasses.replace(w.request, image="other")

    return [pod_phase, history, job, field, request]


@pytest.mark.parametrize("change", _changes(), ids=lambda change: change.__name__)
def test_a_workload_s_state_key_sees_a_change_anywhere_in_its_record(
    change: Callable[[Workload], None],
) -> None:
    with create_app().test_client() as client:
        api = Api(client, {"Authorization": f"Bearer {get_token(client)}"})
        wid = api.create(training("keyed")).json()["workloadId"]
        api.advance(1)
        with client.app.mock_state.cluster.reading() as reader:
            live = reader.workload(wid)
            workload = copy.deepcopy(live, {id(live.kind): live.kind})  # a kind is itself: shared
    assert workload.job.pods, "a training has its Job's pod by now"
    before = workload.state_key()
    assert copy.deepcopy(workload, {id(workload.kind): workload.kind}).state_key() == before
    change(workload)
    assert workload.state_key() != before


# Types of values nothing changes in place: a key holds them as they are.
_VALUES = (str, int, float, bool, type(None), enum.Enum, PlacedPod, WorkloadRequest, Attempt, WorkloadKind)


def _immutable(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return all(_immutable(arg) for arg in typing.get_args(hint))
    if origin is tuple:
        return all(arg is Ellipsis or _immutable(arg) for arg in typing.get_args(hint))
    return isinstance(hint, type) and issubclass(hint, _VALUES)


@pytest.mark.parametrize(
    ("record", "copied"), [(Workload, {"history", "job"}), (JobPods, {"pods"}), (Pod, set())]
)
def test_every_field_a_state_key_holds_as_it_is_is_a_value_nothing_changes_in_place(
    record: type, copied: set[str]
) -> None:
    """`Workload.state_key` holds a field's value itself, except the history, the Job and its pods, which
    it reads value by value; a new field of a kind that can change in place (a list, a dict, a mutable
    record) would let a changed workload keep its old row, so it has to be read value by value too."""
    hints = typing.get_type_hints(
        record, localns={"WorkloadKind": WorkloadKind}
    )  # named for type checks only
    held = [f.name for f in dataclasses.fields(record) if f.compare and f.name not in copied]
    assert held
    mutable = [name for name in held if not _immutable(hints[name])]
    assert mutable == [], f"{record.__name__}: read these value by value in Workload.state_key: {mutable}"

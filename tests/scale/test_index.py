"""The workload index answers what a brute-force filter over the cluster's own objects answers.

Random actions (submissions with colliding names, suspends, deletes, control-API load, time passing) move
workloads between projects' phases; after each step every query is compared with a filter and sort over
the trainings and loads themselves, so a hook the engine forgot shows up as a difference.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.cluster.clock import ManualClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.cluster.errors import ClusterError
from mockserver.cluster.index import Entry, Field, Order, Query, milliseconds
from mockserver.config import load_config
from mockserver.http.auth import Principal
from mockserver.parsing.compute import pod_request_from_compute
from mockserver.parsing.training import parse_training
from mockserver.versions import VERSIONS

CONFIG = load_config()
ANYONE = Principal("tester", "tester@example.com", None)
PROJECTS = ["1", "3", "4"]
NAMES = ["a", "b", "b2", "c"]
PHASES = ["Creating", "Pending", "Running", "Stopped", "Completed", "Deleting", "Initializing"]


def _submit(cluster: FakeCluster, project: str, name: str, duration: int) -> None:
    body = {
        "name": name,
        "projectId": project,
        "clusterId": CONFIG.topology.cluster_id,
        "useGivenNameAsPrefix": True,
        "spec": {
            "image": "busybox",
            "compute": {"gpuDevicesRequest": 1},
            "annotations": [{"name": "mock.runai/duration", "value": str(duration)}],
            "autoDeletionTimeAfterCompletionSeconds": 20,
        },
    }
    parsed = parse_training(body, VERSIONS["2.18"])
    cluster.submit(parsed.request, ANYONE, parsed.issues)


def truth(cluster: FakeCluster, *, deleted: bool) -> list[Entry]:
    """Entries built from the trainings and loads themselves, not from the index."""
    with cluster.reading() as reader:
        trainings = reader.trainings(deleted=deleted)
        loads = [] if deleted else reader.loads()
    entries = [
        Entry(
            t.workload_id,
            t.queue_seq,
            t.project_id,
            "Training",
            t.name,
            t.actual_phase.value,
            milliseconds(t.created_at),
        )
        for t in trainings
    ]
    entries += [
        Entry(
            load.workload_id,
            load.queue_seq,
            load.project_id,
            load.kind.type_name,
            load.name,
            load.actual_phase.value,
            milliseconds(load.created_at),
        )
        for load in loads
    ]
    return entries


def brute_force(entries: list[Entry], query: Query) -> list[str]:
    chosen = [
        e
        for e in entries
        if all(e.value(f) == v for f, v in query.equal)
        and (query.projects is None or e.project_id in query.projects)
    ]
    chosen.sort(key=lambda e: e.seq)
    if query.order is Order.NAME:
        chosen.sort(key=lambda e: e.name, reverse=query.descending)
    elif query.descending:
        chosen.sort(key=lambda e: e.created_ms, reverse=True)
    return [e.workload_id for e in chosen]


actions = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(PROJECTS), st.sampled_from(NAMES), st.integers(1, 60)),
    st.tuples(st.just("act"), st.sampled_from(["suspend", "resume", "delete"]), st.integers(0, 50)),
    st.tuples(st.just("load"), st.sampled_from(PROJECTS), st.sampled_from([50, 100, 125]), st.booleans()),
    st.tuples(st.just("unload"), st.integers(0, 10)),
    st.tuples(st.just("advance"), st.sampled_from([0, 0.4, 1, 3, 30])),
)
queries = st.builds(
    Query,
    equal=st.lists(
        st.one_of(
            st.tuples(st.just(Field.PROJECT), st.sampled_from(PROJECTS)),
            st.tuples(st.just(Field.PHASE), st.sampled_from(PHASES)),
            st.tuples(st.just(Field.TYPE), st.sampled_from(["Training", "Inference", "Workspace"])),
            st.tuples(st.just(Field.NAME), st.sampled_from(["load", "a", "b"])),
        ),
        max_size=2,
    ).map(tuple),
    projects=st.one_of(st.none(), st.frozensets(st.sampled_from([*PROJECTS, "99"]))),
    order=st.sampled_from(list(Order)),
    descending=st.booleans(),
)


# Every single-field query, in every order: a hook the engine forgot shows up in one of them.
VALUES = {
    Field.PROJECT: PROJECTS,
    Field.PHASE: [*PHASES, "Failed", "Stopping", "Resuming"],
    Field.TYPE: ["Training", "Inference", "Workspace"],
    Field.NAME: ["load", "a", "c"],
}
SINGLE = [
    Query(((field, value),), None, order, descending)
    for field, values in VALUES.items()
    for value in values
    for order in Order
    for descending in (False, True)
]


def _apply(cluster: FakeCluster, action: tuple) -> None:
    kind = action[0]
    if kind == "submit":
        _submit(cluster, action[1], action[2], action[3])
    elif kind == "act":
        live = cluster.trainings()
        if live:
            getattr(cluster, action[1])(live[action[2] % len(live)].workload_id, ANYONE)
    elif kind == "load":
        pod = pod_request_from_compute({"gpuDevicesRequest": 1})
        cluster.submit_load("load", action[1], pod, action[2], action[3], ["default"])
    elif kind == "unload":
        loads = cluster.loads()
        if loads:
            cluster.remove_load(loads[action[1] % len(loads)].workload_id)
    else:
        cluster.advance(action[1])


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=40), st.lists(queries, min_size=1, max_size=6))
def test_index_answers_as_brute_force(steps, asked):
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=3)
    for step in steps:
        with contextlib.suppress(ClusterError):
            _apply(cluster, step)
        for deleted in (False, True):
            with cluster.reading() as reader:
                index = reader.index(deleted=deleted)
                answers = [(index.page(q), index.count(q), index.page(q, 1, 2)) for q in asked + SINGLE]
            entries = truth(cluster, deleted=deleted)
            for query, (ids, count, window) in zip(asked + SINGLE, answers, strict=True):
                expected = brute_force(entries, query)
                assert ids == expected, (query, step)
                assert count == len(expected)
                assert window == expected[1:3]


def test_large_candidate_sets_walk_in_order():
    """Above the sort threshold the index walks its order instead of sorting the candidates."""
    cluster = FakeCluster(CONFIG.topology, CONFIG.timing, ManualClock(), seed=1)
    for i in range(5000):
        _submit(cluster, PROJECTS[i % 3], NAMES[i % 4], 10)
        if i % 1000 == 0:
            cluster.advance(0.5)
    with cluster.reading() as reader:
        index = reader.index()
    entries = truth(cluster, deleted=False)
    for query in (
        Query((), frozenset({"1", "3"}), Order.NAME, descending=True),
        Query(((Field.PHASE, "Creating"),), None, Order.SUBMITTED, descending=True),
        Query(((Field.TYPE, "Training"),), frozenset({"4"}), Order.NAME),
    ):
        expected = brute_force(entries, query)
        assert index.page(query, 40, 50) == expected[40:90]
        assert index.count(query) == len(expected)

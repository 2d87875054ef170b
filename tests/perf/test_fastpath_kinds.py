"""Every kind's create, read and actions on the fast path answer exactly as Connexion's stack does.

The same requests go to an app with the fast path and one without (`Pair`, as in
test_fastpath_differential.py): sound bodies of each kind, bodies near its schema's line, and the reads and
actions of what was created; status, headers and body must match byte for byte, the sound requests must
have been served by the fast path, and the bodies the schema refuses refused by it.
"""

from __future__ import annotations

from typing import Any

from tests.api.test_distributed import distributed
from tests.api.test_inferences import inference
from tests.api.test_workspaces import workspace
from tests.perf.test_fastpath_differential import Pair, _fast_path_of, _token, pair  # noqa: F401

KINDS = {
    "workspaces": (workspace, ("suspend", "resume")),
    "distributed": (distributed, ("suspend", "resume")),
    "inferences": (inference, ()),
}
# Changes to a sound spec on both sides of its schema's line (valid, wrong type, null, out of range).
NEAR = [
    {"image": "pythön:3.11 ✓"},
    {"image": ""},
    {"image": None},
    {"nodePools": ["a", 1]},
    {"nodePools": "a"},
    {"compute": {"gpuDevicesRequest": 1, "gpuPortionRequest": -0.0, "gpuRequestType": "portion"}},
    {"compute": {"gpuRequestType": "Portion"}},
    {"compute": []},
    {"compute": None},
    {"numWorkers": 1.5},
    {"numWorkers": 2},
    {"unknownField": {"deep": [[{"x": 1e308}]]}},
    {"annotations": [{"name": "a", "value": "b"}, {"name": 1}]},
]


def test_each_kind_is_served_and_refused_by_the_fast_path_as_connexion_answers(pair: Pair) -> None:  # noqa: F811
    auth = {"Authorization": f"Bearer {_token(pair)}"}
    fast_path = _fast_path_of(pair.fast._transport.app)
    compared = []
    for collection, (body, actions) in KINDS.items():
        path = f"/api/v1/workloads/{collection}"
        served, refused = fast_path.served, fast_path.refused
        created = pair.send("POST", path, json=body(f"{collection[:4]}-kind"), headers=auth)
        assert created.status_code in (200, 202), created.text
        workload_id = created.json()["workloadId"]
        answers = [created]
        for n, change in enumerate(NEAR):
            near = body(f"{collection[:4]}-near-{n}")
            near["spec"].update(change)
            answers.append(pair.send("POST", path, json=near, headers=auth))
        pair.send("POST", "/api/mock/v1/clock/advance", json={"seconds": 30})
        answers.append(pair.send("GET", f"{path}/{workload_id}", headers=auth))
        for action in actions:
            answers.append(pair.send("POST", f"{path}/{workload_id}/{action}", headers=auth))
            pair.send("POST", "/api/mock/v1/clock/advance", json={"seconds": 30})
        answers.append(pair.send("DELETE", f"{path}/{workload_id}", headers=auth))
        answers.append(pair.send("GET", f"{path}/{workload_id}", headers=auth))
        accepted = sum(1 for answer in answers if answer.status_code < 300)
        invalid = sum(1 for a in answers if a.status_code == 400 and _schema_refusal(a))
        assert accepted >= 4 + len(actions) and invalid >= 5, [a.status_code for a in answers]
        assert fast_path.served - served == accepted, collection
        assert fast_path.refused - refused == invalid, collection
        compared.append(collection)
    assert compared == list(KINDS)  # both versions serve every kind


def _schema_refusal(answer: Any) -> bool:
    return str(answer.json().get("message", "")).startswith("Request body is invalid")

"""Schemathesis over every operation of our contracts, in-process, seeded: the fake must pass cleanly,
for both API versions it serves, and for its control API."""

from __future__ import annotations

import json
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mockserver.app import create_app
from mockserver.http.not_simulated import message
from mockserver.http.routes import METHODS
from mockserver.specs import LATEST_OFFICIAL, read_official_document
from tests.conftest import CLUSTER_ID, REPO

# Whole Schemathesis runs over every operation: about 25 s, the slow tier.
# One group (not spread): Schemathesis' cases share node ids, which xdist cannot hand out one by one.
pytestmark = pytest.mark.slow

config = SchemathesisConfig.from_path(REPO / "schemathesis.toml")
config.projects.default.update(workers=1)
# Eight cases per operation and phase: the harness runs (tests/contracts) fuzz every version at five, and
# the default run adds the coverage phase's thousands of cases.
config.projects.default.generation.update(max_examples=8, database="none")
# No coverage phase here: the pytest plugin builds its cases while collecting, in every xdist worker and
# in the fast tier too (about 15 CPU-seconds each time). `contracts run` against the fake (the default run
# in tests/contracts/test_harness_vs_fake.py and each version's run) sends the coverage phase's cases.
config.projects.default.phases.update(phases=["examples", "fuzzing", "stateful"])


# The collections of every workload kind the fake serves (a version serves those its document has).
KIND_COLLECTIONS = ("/trainings", "/workspaces", "/distributed", "/inferences")


def plausible_submissions(ctx, case):
    """Half the generated workloads of every kind target the real project and cluster, so later steps
    find them."""
    creating = (
        case.operation.method == "post"
        and case.path.endswith(KIND_COLLECTIONS)
        and isinstance(case.body, dict)
    )
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if creating and positive and zlib.crc32(repr(case.body).encode()) % 2:
        spec = case.body.get("spec") if isinstance(case.body.get("spec"), dict) else {}
        case.body = {
            **case.body,
            "projectId": "1",
            "clusterId": CLUSTER_ID,
            "name": "fuzz",
            "useGivenNameAsPrefix": True,
            "spec": {**spec, "image": "python:3.11"},
        }
    return case


def contract(api: str, path: str = "/api/v1/openapi.json"):
    """A seeded schema over a fresh in-process fake, with a valid token on every request."""
    app = create_app(seed=7, api=api)
    token = app.mock_state.tokens.issue(app.mock_state.tokens.accounts[0])
    schema = schemathesis.openapi.from_asgi(path, app, config=config)
    schema.config.seed = 42

    @schema.auth()
    class Bearer:
        def get(self, case, ctx):
            return token

        def set(self, case, data, ctx):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    schema.hook("map_case")(plausible_submissions)
    return schema, app.mock_state.cluster


schema, cluster = contract("2.18")
latest, _ = contract("latest")
control, _ = contract("2.18", "/api/mock/v1/openapi.json")


def official_methods(api: str) -> dict[str, set[str]]:
    """Path template -> the methods the official document of `api` has there."""
    document = json.loads(read_official_document(LATEST_OFFICIAL if api == "latest" else api))
    return {
        path: {method.upper() for method in item if method in METHODS}
        for path, item in document["paths"].items()
    }


OFFICIAL = {"2.18": official_methods("2.18"), "latest": official_methods("latest")}


def not_simulated(case, response, api: str) -> bool:
    """The fake's documented answer to a real Run:ai method it does not simulate (docs/workloads-api.md):
    Schemathesis' coverage phase sends a method the served contract lacks and expects 405, but where the
    official document has that method the fake says 501 "not simulated" instead of blaming the method.
    True only for exactly that answer to exactly such a method."""
    method = str(response.request.method)
    if response.status_code != 501 or method == case.operation.method.upper():
        return False
    if method not in OFFICIAL[api].get(case.operation.path, set()):
        return False
    assert response.json() == {"code": 501, "message": message(method, case.operation.path)}
    return True


def call_and_validate(case, api: str) -> None:
    response = case.call()
    if not not_simulated(case, response, api):
        case.validate_response(response)


@schema.parametrize()
def test_contract(case):
    call_and_validate(case, "2.18")


@latest.parametrize()
def test_latest_contract(case):
    call_and_validate(case, "latest")


@control.parametrize()
def test_control_contract(case):
    case.call_and_validate()


class Workflow(schema.as_state_machine()):
    def setup(self):
        cluster.reset()


TestStateful = Workflow.TestCase
TestStateful.settings = settings(
    max_examples=40,
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

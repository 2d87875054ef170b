"""Schemathesis over every operation of our contracts, in-process, seeded: the fake must pass cleanly,
for both API versions it serves, and for its control API."""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mockserver.app import create_app
from tests.conftest import CLUSTER_ID, REPO

# Whole Schemathesis runs over every operation: about 45 s, the slow tier.
pytestmark = [pytest.mark.slow, pytest.mark.spread]  # independent Schemathesis runs in-process

config = SchemathesisConfig.from_path(REPO / "schemathesis.toml")
config.projects.default.update(workers=1)
config.projects.default.generation.update(max_examples=25, database="none")


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


@schema.parametrize()
def test_contract(case):
    case.call_and_validate()


@latest.parametrize()
def test_latest_contract(case):
    case.call_and_validate()


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

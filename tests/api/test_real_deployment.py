"""The fake standing in for a real deployment: the command decides, annotations mean nothing, there is no
control API, and the Date header follows the virtual clock."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from mockserver.app import create_app
from mockserver.cluster.clock import MANUAL_EPOCH
from tests.conftest import Api, get_token, training

FAILING = [{"name": "mock.runai/outcome", "value": "Failed"}, {"name": "mock.runai/duration", "value": "3"}]


class Direct(Api):
    """No control API here: the test moves the manual clock through the app's own state."""

    def __init__(self, client, headers, app) -> None:
        super().__init__(client, headers)
        self.cluster = app.mock_state.cluster

    def advance(self, seconds: float) -> None:
        self.cluster.advance(seconds)


@pytest.fixture
def real():
    app = create_app(real_deployment=True)
    with app.test_client() as client:
        yield Direct(client, {"Authorization": f"Bearer {get_token(client)}"}, app)


def test_no_control_api(real):
    for path in ("/api/mock/v1/snapshot", "/api/mock/v1/clock", "/api/mock/v1/docs/"):
        response = real.client.get(path)
        assert response.status_code == 404 and response.json()["code"] == 404


def test_annotations_are_ignored_and_the_command_decides(real):
    body = training("sleeper", command="sh -c 'sleep 10; exit 0'", annotations=FAILING)
    workload = real.create(body).json()["workloadId"]
    assert real.phases_over(workload, 16) == ["Creating", "Pending", "Initializing", "Running", "Completed"]


def test_a_failing_command_fails_after_its_restarts(real):
    body = training("crasher", command="bash", args="-c 'sleep 2 && exit 1'", backoffLimit=1)
    workload = real.create(body).json()["workloadId"]
    seen = real.phases_over(workload, 30)
    assert seen == [
        "Creating",
        "Pending",
        "Initializing",
        "Running",
        "Pending",
        "Initializing",
        "Running",
        "Failed",
    ]


def test_annotations_still_override_the_command_on_the_ordinary_fake(api):
    body = training("sleeper", command="sleep 100", annotations=FAILING)
    workload = api.create(body).json()["workloadId"]
    assert api.phases_over(workload, 8)[-2:] == ["Running", "Pending"]  # crashed after 3 s, backing off


def test_an_unreadable_command_runs_the_configured_duration(api):
    workload = api.create(training("script", command="python train.py")).json()["workloadId"]
    api.advance(60)
    assert api.phase(workload) == "Running"  # timing.runDuration is an hour


def test_date_header_is_the_virtual_clock(api):
    api.advance(3600)
    response = api.client.get("/api/mock/v1/clock")
    assert parsedate_to_datetime(response.headers["date"]).timestamp() == MANUAL_EPOCH + 3600
    assert len(response.headers.get_list("date")) == 1


def test_absurd_sizes_are_refused_naming_the_field(api):
    body = training("huge", parallelism=2147483647, completions=5000)
    response = api.create(body)
    assert response.status_code == 400
    fields = {issue["field"] for issue in response.json()["complianceIssues"]}
    assert {"spec.parallelism", "spec.completions"} <= fields

"""Lists and counts over HTTP: the index path renders only the page, and answers as the row filter does."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.handlers import rendered_rows, workload_lists
from tests.conftest import Api, get_token, training

WORKLOADS = "/api/v1/workloads"
# Holds for every workload, and is not indexed: adding it sends a query down the row-filter path.
ALWAYS = "createdAt>=2000-01-01T00:00:00Z"


@pytest.fixture(scope="module", params=["2.18", "latest"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with create_app(api=request.param).test_client() as client:
            api = Api(client, {"Authorization": f"Bearer {get_token(client)}"})
            ids = []
            for i in range(24):
                name = ["alpha", "beta", "gamma"][i % 3] + f"-{i // 3}"
                response = api.create(training(name, project=["1", "3", "4"][i % 3]))
                assert response.status_code in (200, 202), response.text
                ids.append(response.json()["workloadId"])
                if i % 5 == 0:
                    api.advance(1)
            api.advance(2)
            for wid in ids[::4]:
                assert api.action(wid, "suspend").status_code in (200, 202)
            assert api.delete(ids[1]).status_code in (200, 202, 204)
            load = {"name": "burst", "projectId": "3", "compute": {"gpuDevicesRequest": 1}, "priority": 125}
            assert client.post("/api/mock/v1/workloads", json=load).status_code in (200, 201)
            api.advance(1)
            yield api


def _get(api: Api, path: str, params: list[tuple[str, str]]) -> Any:
    # filterBy is a form array without explode: its items go comma-separated in one parameter.
    filters = ",".join(value for key, value in params if key == "filterBy")
    params = [(k, v) for k, v in params if k != "filterBy"] + ([("filterBy", filters)] if filters else [])
    response = api.client.get(path, params=params, headers=api.headers)
    assert response.status_code == 200, response.text
    return response.json()


QUERIES = [
    [],
    [("filterBy", "phase==Stopped")],
    [("filterBy", "projectId==3"), ("sortBy", "name"), ("sortOrder", "desc")],
    [("filterBy", "type==Training"), ("sortBy", "createdAt"), ("sortOrder", "desc"), ("limit", "7")],
    [("filterBy", "name==beta-2")],
    [("sortBy", "name"), ("offset", "5"), ("limit", "4")],
    [("filterBy", "phase==Running"), ("filterBy", "projectId==1"), ("limit", "2"), ("offset", "1")],
    [("deleted", "true")],
]


@pytest.mark.parametrize("query", QUERIES)
def test_index_path_answers_as_the_row_filter(api: Api, query: list[tuple[str, str]]) -> None:
    fast = _get(api, WORKLOADS, query)
    slow = _get(api, WORKLOADS, [*query, ("filterBy", ALWAYS)])
    assert fast == slow
    assert _get(api, f"{WORKLOADS}/count", query) == _get(
        api, f"{WORKLOADS}/count", [*query, ("filterBy", ALWAYS)]
    )


def test_a_page_renders_only_its_workloads(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real_row, real_workload = rendered_rows.row, workload_lists.views.workload

    def counting(real: Any) -> Any:
        def count(*args: Any, **kwargs: Any) -> dict[str, Any]:
            row: dict[str, Any] = real(*args, **kwargs)
            rendered.append(row["id"])
            return row

        return count

    monkeypatch.setattr(rendered_rows, "row", counting(real_row))  # a page's rows (indexed)
    monkeypatch.setattr(workload_lists.views, "workload", counting(real_workload))  # filtered rows
    monkeypatch.setattr(api.client.app.mock_state, "rows", rendered_rows.RenderedRows())  # none kept yet
    total = _get(api, f"{WORKLOADS}/count", [])["count"]
    assert total >= 20 and rendered == []  # a count renders nothing
    page = [("limit", "3"), ("offset", "7"), ("sortBy", "name")]
    answer = _get(api, WORKLOADS, page)
    assert [w["id"] for w in answer["workloads"]] == rendered and len(rendered) == 3
    assert answer["next"] == 10
    rendered.clear()
    _get(api, WORKLOADS, [("filterBy", "phase=@Run")])  # not indexed: every workload is rendered
    assert len(rendered) == total

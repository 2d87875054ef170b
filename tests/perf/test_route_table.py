"""The fast path and the rest of the edge read one route table: for every path of every served version,
the operation the fast path would serve is the one `Allow`, `Prefer`, faults and the body guard find,
and the trailing-slash rule is the same for all of them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from connexion.resolver import RelativeResolver

from mockserver.app import create_app
from mockserver.http.fastpath import FastPath
from mockserver.http.middleware import BodyGuard, FaultInjection
from mockserver.http.prefer import PreferCode
from mockserver.http.routes import HOT_OPERATIONS, Routes, canonical, served_as_is
from mockserver.specs import CONTROL_SPEC, load_spec, spec_dir

SERVED = sorted(path.name for path in spec_dir().glob("trainings-*.yaml"))
METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH")
VALUES = ("0c1f1f5e-8d3a-4b7e-9a51-6f2f8e4c3b21", "x", "count", "trainings", "a%2Fb", "")


async def _unused(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not called")


def _paths(routes: Routes) -> list[str]:
    found = ["/", "/nope", "/api/v1/workloads/trainings/x/y"]
    for op in routes.operations:
        for value in VALUES:
            filled = re.sub(r"\{[^}]+\}", value, op.template)
            found += [filled, filled + "/", filled + "//"]
    return sorted(set(found))


def _compiled(name: str) -> tuple[Routes, FastPath]:
    spec = load_spec(name)
    routes = Routes([spec, load_spec(CONTROL_SPEC)])
    fast = FastPath(
        _unused,
        spec=spec,
        verify=lambda token: {},
        resolver=RelativeResolver("mockserver.handlers"),
        routes=routes,
    )
    return routes, fast


def test_every_version_is_checked() -> None:
    assert len(SERVED) >= 7 and "trainings-latest.yaml" in SERVED


@pytest.mark.parametrize("name", SERVED)
def test_the_fast_path_serves_what_the_table_finds_and_only_that(name: str) -> None:
    routes, fast = _compiled(name)
    offered = {op.operation_id for op in routes.operations}  # a kind's actions arrive in later versions
    assert {hot.route.operation_id for hot in fast.hot} == HOT_OPERATIONS & offered, "every hot one compiled"
    assert len(HOT_OPERATIONS - offered) <= 2, name
    served = 0
    for path in _paths(routes):
        for method in METHODS:
            route = routes.operation(method, path)
            found = fast._route(method, path)
            if found is None:
                # Declined: not hot, a spelling the router redirects, or a path a rival template also takes.
                assert (
                    route is None
                    or not route.hot
                    or not served_as_is(path)
                    or (route.rivals is not None and route.rivals.match(path) is not None)
                ), (method, path)
                continue
            hot, match = found
            assert hot.route is route, (method, path)  # the very row Allow, Prefer and faults read
            assert route.method == method and route.hot and path == canonical(path)
            assert set(match.groupdict()) == {
                p["name"] for p in hot.operation.parameters if p["in"] == "path"
            }
            assert routes.allowed(path) and method in routes.allowed(path)
            served += 1
    assert served >= 2 * len(fast.hot)  # most hot paths were served, not just agreed on as None


@pytest.mark.parametrize("name", SERVED)
def test_one_trailing_slash_rule(name: str) -> None:
    routes, fast = _compiled(name)
    for hot in fast.hot:
        path = re.sub(r"\{[^}]+\}", VALUES[0], hot.route.template)
        for spelling in (path + "/", path + "//"):
            # The table finds the same operation (Allow, Prefer, faults, the body guard) ...
            assert routes.operation(hot.route.method, spelling) is hot.route
            assert routes.allowed(spelling) == routes.allowed(path)
            # ... and the fast path leaves the spelling to the router, which redirects it.
            assert fast._route(hot.route.method, spelling) is None
        assert fast._route(hot.route.method, path) is not None


def test_the_app_hands_its_one_table_to_every_reader() -> None:
    app = create_app()
    with app.test_client() as client:
        client.get("/api/v1/openapi.json")  # builds the middleware stack
    stack = app.middleware.middleware_stack
    fast = [m for m in stack if isinstance(m, FastPath)]
    assert len(fast) == 1 and fast[0].hot
    table = fast[0].routes
    assert "/api/mock/v1/reset" in {op.template for op in table.operations}  # both documents, one table
    assert all(hot.route in table.operations for hot in fast[0].hot)
    readers = [m for m in stack if isinstance(m, (BodyGuard, FaultInjection, PreferCode))]
    assert len(readers) == 3 and all(reader.routes is table for reader in readers)


def test_a_request_is_looked_up_once_however_many_middlewares_ask() -> None:
    app = create_app()
    with app.test_client() as client:
        client.get("/api/v1/openapi.json")  # builds the middleware stack
        table = next(m for m in app.middleware.middleware_stack if isinstance(m, FastPath)).routes
        asked: list[tuple[str, str]] = []
        lookup = table.operation

        def counted(method: str, path: str) -> Any:
            asked.append((method, path))
            return lookup(method, path)

        table.operation = counted  # type: ignore[method-assign]
        grant = {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
        token = client.post("/api/v1/token", json=grant).json()["accessToken"]
        asked.clear()
        path = "/api/v1/workloads/0c1f1f5e-8d3a-4b7e-9a51-6f2f8e4c3b21"
        answer = client.get(path, headers={"Authorization": f"Bearer {token}", "Prefer": "code=404"})
        assert answer.status_code == 404  # Prefer read the table ...
        answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 404  # ... and here the body guard and the fast path did
    assert asked == [("GET", path), ("GET", path)]

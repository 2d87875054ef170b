"""The operations' reading of a request path: the one alternation of templates gives what trying each
template in document order gives (a literal path first), on both contracts."""

from __future__ import annotations

import re

import pytest

from mockserver.http.routes import Operation, Routes
from mockserver.specs import load_spec

CONTRACTS = ("trainings-2.18.yaml", "trainings-latest.yaml", "mock-control.yaml")
METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH")


def _one_by_one(routes: Routes, method: str, path: str) -> Operation | None:
    trimmed = path.rstrip("/") or "/"
    template = (
        trimmed
        if trimmed in (op.template for op in routes.operations if "{" not in op.template)
        else next((op.template for op in routes.operations if op.pattern.match(path)), None)
    )
    return next((op for op in routes.operations if op.template == template and op.method == method), None)


def _paths(routes: Routes) -> list[str]:
    found = ["/", "/nope", "/api/v1/workloads/trainings/x/y", "/api/v1/workloads/trainings//suspend"]
    for op in routes.operations:
        for value in ("x", "1", "abc-def", "a%2Fb", "", "workloads"):
            filled = re.sub(r"\{[^}]+\}", value, op.template)
            found += [filled, filled + "/", filled + "//"]
    return found


@pytest.mark.parametrize("served", [CONTRACTS[:1] + CONTRACTS[2:], CONTRACTS[1:]])
def test_the_alternation_finds_what_trying_each_template_finds(served: tuple[str, ...]) -> None:
    routes = Routes([load_spec(name) for name in served])
    checked = 0
    for path in _paths(routes):
        for method in METHODS:
            assert routes.operation(method, path) is _one_by_one(routes, method, path), (method, path)
            checked += routes.operation(method, path) is not None
    assert checked > len(routes.operations)  # most operations were found, not just agreed on as None

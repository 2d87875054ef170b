"""The harness's layers import only downward: the oracle judges without reaching a backend, sending a
request or driving a run, and the backend layer reaches a backend without driving a run. No module
imports itself in a circle, none is over 400 lines. Read from the source, not run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "contracts"

# layer -> the sibling layers it must never import
FORBIDDEN = {
    "oracle": {"backend", "run", "reports"},
    "backend": {"run", "oracle", "reports"},
    # Calibration measures; it neither judges a contract nor drives a contract run.
    "calibrate": {"run", "oracle", "reports"},
}
# What sends requests: the oracle only judges answers it is handed.
HTTP_CLIENTS = {"httpx", "requests", "urllib3", "aiohttp", "http.client", "urllib.request", "socket"}
MAX_LINES = 400
SIZED = ("run", "oracle", "reports", "calibrate")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            # `from contracts import run` names the layer as an attribute, not in the module path.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layers_imported(path: Path) -> set[str]:
    return {name.split(".")[1] for name in imported_modules(path) if name.startswith("contracts.")}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_no_layer_above_it(layer: str) -> None:
    modules = sorted((PACKAGE / layer).glob("*.py"))
    assert modules, f"contracts/{layer}/ has no modules"
    wrong = {
        str(path.relative_to(PACKAGE)): sorted(layers_imported(path) & FORBIDDEN[layer]) for path in modules
    }
    assert {module: layers for module, layers in wrong.items() if layers} == {}


def test_every_layer_says_what_it_is() -> None:
    for layer in ("oracle", "backend", "run", "reports", "calibrate"):
        init = PACKAGE / layer / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, f"contracts/{layer}/__init__.py has no docstring"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from contracts.run.fuzz import PHASES\nfrom contracts import backend\n")
    assert layers_imported(module) == {"run", "backend"}


def test_the_oracle_sends_nothing() -> None:
    modules = sorted((PACKAGE / "oracle").glob("*.py"))
    senders = {
        str(path.relative_to(PACKAGE)): sorted(
            name
            for name in imported_modules(path)
            if name in HTTP_CLIENTS or name.split(".")[0] in HTTP_CLIENTS
        )
        for path in modules
    }
    assert {module: names for module, names in senders.items() if names} == {}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = {module for module in imported_modules(path) if module.startswith("contracts.")}
    # `from contracts.run import x` names module x when it is one.
    return {name: {m for m in imports if m in graph} for name, imports in graph.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as the path that closes it (Tarjan would do; the graph is small)."""
    found: list[list[str]] = []

    def walk(node: str, path: list[str], done: set[str]) -> None:
        for successor in sorted(graph.get(node, ())):
            if successor in path:
                found.append([*path[path.index(successor) :], successor])
            elif successor not in done:
                done.add(successor)
                walk(successor, [*path, successor], done)

    for start in sorted(graph):
        walk(start, [start], {start})
    return found


def test_no_import_circles() -> None:
    assert circles(_graph()) == []


def test_the_circle_check_sees_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) != []
    assert circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_over_400_lines() -> None:
    # The layers that run, judge and report (contracts/specs.py, the contract loader, is measured by the
    # issue that reshapes the version tables).
    lengths = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for layer in SIZED
        for path in (PACKAGE / layer).rglob("*.py")
    }
    assert {module: n for module, n in lengths.items() if n > MAX_LINES} == {}

"""The harness's layers import only downward: the oracle judges without reaching a backend or driving a
run, and the backend layer reaches a backend without driving a run. Read from the source, not run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "contracts"

# layer -> the sibling layers it must never import
FORBIDDEN = {
    "oracle": {"backend", "run"},
    "backend": {"run", "oracle", "reports"},
}


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
    for layer in ("oracle", "backend", "run", "reports"):
        init = PACKAGE / layer / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, f"contracts/{layer}/__init__.py has no docstring"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from contracts.run.fuzz import PHASES\nfrom contracts import backend\n")
    assert layers_imported(module) == {"run", "backend"}

"""Where the contract files live: `spec/` in a checkout, `mockserver/spec/` in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "spec", _PACKAGE.parent / "spec")

TRAININGS_SPEC = "trainings-2.18.yaml"
LATEST_SPEC = "trainings-latest.yaml"
CONTROL_SPEC = "mock-control.yaml"


def spec_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / TRAININGS_SPEC).is_file():
            return candidate
    raise FileNotFoundError(f"contract files not found in {', '.join(map(str, _CANDIDATES))}")


def spec_file(name: str = TRAININGS_SPEC) -> Path:
    return spec_dir() / name

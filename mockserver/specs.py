"""Where the contract files live: `spec/` in a checkout, `mockserver/spec/` in an installed wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml parses our contracts about eight times faster than the pure-Python loader (app start-up).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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


def load_spec(name: str = TRAININGS_SPEC) -> dict[str, Any]:
    """A contract file parsed (a fresh object each time: Connexion changes what it is given)."""
    document: dict[str, Any] = yaml.load(spec_file(name).read_text(encoding="utf-8"), Loader=_LOADER)
    return document

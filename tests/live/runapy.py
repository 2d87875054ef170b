"""runapy's names, imported when a test first uses one rather than when the module is collected: its
models take seconds to import, and every parallel worker collects every test module."""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "models": "runai.models",
    "ApiClient": "runai.api_client",
    "Configuration": "runai.configuration",
    "ApiException": "runai.exceptions",
    "NotFoundException": "runai.exceptions",
    "TrainingCreationRequest": "runai.models",
    "RunaiClient": "runai.runai_client",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(name)
    module = importlib.import_module(home)
    return module if name == "models" else getattr(module, name)

"""Where the contract files live: `spec/` in a checkout, `mockserver/spec/` in an installed wheel."""

from __future__ import annotations

import functools
import gzip
import json
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
# What scripts/derive_contracts.py works out from the documents once, so that no process start has to.
INDEX = "index.json"

# The official Run:ai documents, one per release, kept gzipped in `spec/official/` so that a fresh clone
# (and an installed wheel) has them: the served contracts are derived from them and the harness can fuzz
# against them. "latest" is the newest release whose document we hold.
OFFICIAL_VERSIONS = ("2.18", "2.19", "2.20", "2.21", "2.22", "2.23", "2.24")
LATEST_OFFICIAL = OFFICIAL_VERSIONS[-1]


def served_contract(version: str) -> str:
    """The contract file served for an API version ("2.18" … "2.24", or "latest"), written by
    scripts/derive_contracts.py; latest keeps the file name clients and docs already use."""
    if version not in (*OFFICIAL_VERSIONS, "latest"):
        raise KeyError(
            f"no contract for API version {version!r}; known: {', '.join(OFFICIAL_VERSIONS)}, latest"
        )
    return LATEST_SPEC if version in ("latest", LATEST_OFFICIAL) else f"trainings-{version}.yaml"


def spec_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / TRAININGS_SPEC).is_file():
            return candidate
    raise FileNotFoundError(f"contract files not found in {', '.join(map(str, _CANDIDATES))}")


def spec_file(name: str = TRAININGS_SPEC) -> Path:
    return spec_dir() / name


def load_spec(name: str = TRAININGS_SPEC) -> dict[str, Any]:
    """A contract file parsed (a fresh object each time: Connexion changes what it is given)."""
    document: dict[str, Any] = json.loads(_spec_as_json(spec_file(name)))
    return document


def served_document(name: str, version_name: str) -> dict[str, Any]:
    """A served contract as an app is given it: versions that share a file (2.24 and latest) each say their
    own name in `info.version`, so that `openapi.json` names the version a client asked for."""
    document = load_spec(name)
    document["info"]["version"] = version_name
    return document


@functools.lru_cache(maxsize=1)
def packaged_index() -> dict[str, Any]:
    """`spec/index.json`: every official document's paths and methods per release (`officialPaths`), and
    the fingerprints of the served documents Connexion's own check passed (`connexionChecked`). Both take
    a process a few hundred milliseconds to work out from the documents; tests/contracts/
    test_derived_contracts.py keeps the file what the script makes of the documents beside it."""
    index: dict[str, Any] = json.loads((spec_dir() / INDEX).read_text(encoding="utf-8"))
    return index


@functools.lru_cache(maxsize=32)
def _spec_as_json(path: Path) -> str:
    # Building the objects from YAML takes about ten times as long as from JSON; a process that starts
    # many apps (a test suite, the version matrix) parses each file once and copies it from JSON text.
    return json.dumps(yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER))


def official_document_path(version: str) -> Path:
    """The gzipped official document of a release ("2.18" … "2.24", or "latest")."""
    name = LATEST_OFFICIAL if version == "latest" else version
    if name not in OFFICIAL_VERSIONS:
        raise KeyError(
            f"no official document for API version {version!r}; known: {', '.join(OFFICIAL_VERSIONS)}"
        )
    return spec_dir() / "official" / f"runai-{name}-openapi.json.gz"


def read_official_document(version: str) -> str:
    """The official document of a release, as its JSON text."""
    return gzip.decompress(official_document_path(version).read_bytes()).decode("utf-8")

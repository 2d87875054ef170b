"""Shared helpers for the harness's tests: paths of the official documents, a fake per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contracts.backend.target import Target
from tests.conftest import SHARED_REFERENCE

OFFICIAL_218 = SHARED_REFERENCE / "runai-2.18-openapi.json"
OFFICIAL_LATEST = SHARED_REFERENCE / "runai-latest-openapi.json"
needs_official = pytest.mark.skipif(
    not OFFICIAL_218.is_file(), reason="the official documents are reference data"
)


@pytest.fixture(scope="module")
def fake() -> Iterator[Target]:
    target = Target.start_fake(seed=0)
    try:
        yield target
    finally:
        target.close()

"""Shared helpers for the harness's tests: paths of the official documents, a fake per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contracts.backend.target import Target
from mockserver.specs import official_document_path

# The official documents ship gzipped with the package; the harness reads them as they are.
OFFICIAL_218 = official_document_path("2.18")
OFFICIAL_LATEST = official_document_path("latest")


@pytest.fixture(scope="module")
def fake() -> Iterator[Target]:
    target = Target.start_fake(seed=0)
    try:
        yield target
    finally:
        target.close()

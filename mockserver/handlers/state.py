"""The one app-owned object handlers work on, and how a handler reaches it and its caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connexion.context import context, scope

from mockserver.cluster.cluster import FakeCluster
from mockserver.handlers.rendered_rows import RenderedRows
from mockserver.http.auth import Principal, TokenService
from mockserver.http.middleware import Faults
from mockserver.requests_ring import RequestRing
from mockserver.versions import ApiVersion

if TYPE_CHECKING:
    from mockserver.audit.coverage import PhaseCoverage


@dataclass
class MockState:
    cluster: FakeCluster
    tokens: TokenService
    faults: Faults
    version: ApiVersion
    # What clients sent (the request journal, GET /api/mock/v1/requests).
    requests: RequestRing = field(default_factory=RequestRing)
    # `--phase-coverage` on a manual clock: advances go through it, so that its moves follow virtual time.
    phase_coverage: PhaseCoverage | None = None
    # The rows of list pages as JSON text, used again while what they are made of is unchanged.
    rows: RenderedRows = field(default_factory=RenderedRows)


def current() -> MockState:
    # The request's scope itself: `request.scope` would build a ConnexionRequest on every call.
    state: MockState = scope["mockserver"]
    return state


def caller() -> Principal:
    principal: Principal = context["token_info"]["principal"]
    return principal

"""pytest plugin (entry point `runai_mock`): a fake Run:ai control plane for your test session, moto-style.

    def test_submit(runai_mock):
        headers = {"Authorization": f"Bearer {runai_mock.token()}"}
        ...  # your client against runai_mock.base_url
        runai_mock.control.advance(5)   # move the fake's manual clock
        gets = runai_mock.requests(operation="get_training")   # what the client sent

`runai_mock_server` (session scope) starts the fake once, on an ephemeral loopback port with a manual
clock; `runai_mock` (function scope) resets it before each test, so every test starts from an empty
cluster at the same virtual time. Configure with the ini options `runai_mock_seed` and
`runai_mock_config` (a mockserver YAML config).

Deliberately light: it imports neither Schemathesis nor the harness's checks, so loading the plugin
changes nothing in suites that do not use its fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contracts.backend.auth import FAKE_CREDENTIALS, Credentials, TokenSource
from contracts.backend.control import FakeControl
from contracts.backend.server import LocalServer, fake_command
from contracts.mock_extras import ClusterChaos, SentRequest, audit_findings, sent_requests


@dataclass
class RunaiMock:
    """The running fake: where it is, how to authenticate, and its control API."""

    base_url: str
    control: FakeControl
    credentials: Credentials
    tokens: TokenSource

    @property
    def cluster(self) -> ClusterChaos:
        """Chaos through the control API: `node_down`, `node_up`, `gpu_unhealthy`, `gpu_healthy`,
        `set_quota`; `/reset` (each test's) undoes them."""
        return ClusterChaos(self.control)

    def token(self) -> str:
        """A valid bearer token for the default account (fetched once, refreshed before it expires)."""
        return self.tokens.token()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def requests(
        self,
        *,
        operation: str | None = None,
        workload: str | None = None,
        caller: str | None = None,
        after: int = 0,
        since: str | None = None,
    ) -> list[SentRequest]:
        """The Run:ai API requests the fake answered since the test began (its request journal), oldest
        first; filtered by operationId, workload id, caller (client id), sequence number or virtual time.
        The fixture's own token requests are among them (operation `grant_token`)."""
        return sent_requests(
            self.control, operation=operation, workload=workload, caller=caller, after=after, since=since
        )

    def audit(self) -> list[dict[str, Any]]:
        """What the client did since the reset that a real cluster would punish (docs/audit.md): one
        finding per rule, caller and request (`check`, `request`, `count`, `message`); [] when clean."""
        return audit_findings(self.control)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "runai_mock_seed", "seed of the fake Run:ai control plane (ids, name suffixes)", default="0"
    )
    parser.addini("runai_mock_config", "mockserver YAML config for the fake (default: its embedded cluster)")
    parser.addini(
        "runai_mock_phase_coverage",
        "drive every workload the client creates through rare phases (mockserver --phase-coverage)",
        type="bool",
        default=False,
    )


def _with(command: Callable[[int], list[str]], *extra: str) -> Callable[[int], list[str]]:
    return lambda port: [*command(port), *extra]


@pytest.fixture(scope="session")
def runai_mock_server(pytestconfig: pytest.Config) -> Iterator[RunaiMock]:
    """The fake, started once per session; state carries over between tests (use `runai_mock` to reset)."""
    seed = int(pytestconfig.getini("runai_mock_seed"))
    config = pytestconfig.getini("runai_mock_config")
    command = fake_command(seed, Path(config) if config else None)
    if pytestconfig.getini("runai_mock_phase_coverage"):
        command = _with(command, "--phase-coverage")
    server = LocalServer.start(command)
    control = FakeControl(server.base_url)
    try:
        tokens = TokenSource(server.base_url, credentials=FAKE_CREDENTIALS)
        yield RunaiMock(server.base_url, control, FAKE_CREDENTIALS, tokens)
    finally:
        control.close()
        server.stop()


@pytest.fixture
def runai_mock(runai_mock_server: RunaiMock) -> RunaiMock:
    """The session's fake, reset: no trainings, clock at its start, no faults."""
    runai_mock_server.control.reset()
    return runai_mock_server

"""The backend under test: a URL the user gave, or our fake started for the run; and where to create."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from contracts import limits
from contracts.backend.control import FakeControl
from contracts.backend.safety import is_loopback
from contracts.backend.server import LocalServer, fake_command
from contracts.redaction import SECRETS

REACH_TIMEOUT = 15.0


class TargetError(Exception):
    """The target cannot be addressed or reached (exit code 2): said in one line, no traceback."""


def check_url(url: str) -> str:
    """The base URL without a trailing slash; refused unless it is http(s)://host[:port][/path]."""
    parts = urlsplit(url)
    SECRETS.add(parts.password)  # https://user:password@host: the URL is printed, the password never
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"--url {url!r} is not an http:// or https:// URL (e.g. https://tenant.run.ai)")
    return url.rstrip("/")


def check_reachable(base_url: str) -> None:
    """Any HTTP answer will do (a control plane may answer / with 404); no answer at all ends the run."""
    try:
        # The status line is answer enough: the body (which may never end) is not read.
        with httpx.stream("GET", base_url, timeout=limits.current().wait(REACH_TIMEOUT)):
            pass
    except limits.OutOfTime as error:
        raise TargetError(f"cannot reach {base_url}: {error}") from None
    except httpx.HTTPError as error:
        reason = str(error) or type(error).__name__
        raise TargetError(f"cannot reach {base_url}: {reason}") from None


@dataclass(frozen=True)
class Placement:
    """Where created trainings go: the target's project and cluster."""

    project_id: str
    cluster_id: str


@dataclass
class Target:
    base_url: str
    control: FakeControl | None
    server: LocalServer | None = None

    @classmethod
    def connect(cls, url: str) -> Target:
        base_url = check_url(url)
        check_reachable(base_url)
        return cls(base_url=base_url, control=FakeControl.detect(base_url))

    @classmethod
    def start_fake(cls, seed: int, config: Path | None = None, api: str | None = None) -> Target:
        server = LocalServer.start(fake_command(seed, config, api=api))
        return cls(base_url=server.base_url, control=FakeControl(server.base_url), server=server)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.base_url)

    @property
    def manual_clock(self) -> bool:
        return self.control is not None and self.control.clock().mode == "manual"

    def describe(self) -> str:
        # The ephemeral port of a fake we started would make every report different; it is not the point.
        if self.server is not None:
            return "our fake, started by contracts on a loopback port (manual clock)"
        kind = "our fake (control API answers)" if self.control else "a Run:ai control plane"
        return f"{self.base_url} - {kind}"

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
        if self.server is not None:
            self.server.stop()

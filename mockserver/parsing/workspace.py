"""A create-workspace body, read per API version: a container workload of the workspace kind (one pod;
its priority class, when the body names none, is the version's default for the Build category)."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.kinds import WORKSPACE
from mockserver.parsing.request import ParsedRequest, parse_request
from mockserver.versions import ApiVersion


def parse_workspace(body: dict[str, Any], version: ApiVersion) -> ParsedRequest:
    return parse_request(body, version, WORKSPACE)

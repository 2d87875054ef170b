"""A create-workspace body, read per API version: a container workload of the workspace kind (one pod;
its priority class, when the body names none, is the version's default for the Build category)."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.kinds import WORKSPACE
from mockserver.parsing.request import ParsedRequest, parse_request
from mockserver.versions import ApiVersion

# The create operation in every version's document: its body's `spec` says which spec fields are kept.
CREATE_PATH = "/api/v1/workloads/workspaces"


def parse_workspace(body: dict[str, Any], version: ApiVersion) -> ParsedRequest:
    return parse_request(body, version, WORKSPACE, CREATE_PATH)

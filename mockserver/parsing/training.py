"""A create-training body, read per API version: a container workload of the training kind."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.kinds import TRAINING
from mockserver.parsing.request import ParsedRequest, parse_request
from mockserver.versions import ApiVersion

# The create operation in every version's document: its body's `spec` says which spec fields are kept.
CREATE_PATH = "/api/v1/workloads/trainings"

ParsedTraining = ParsedRequest


def parse_training(body: dict[str, Any], version: ApiVersion) -> ParsedRequest:
    return parse_request(body, version, TRAINING, CREATE_PATH)

"""A create-training body, read per API version: a container workload of the training kind."""

from __future__ import annotations

from typing import Any

from mockserver.cluster.kinds import TRAINING
from mockserver.parsing.request import ParsedRequest, parse_request
from mockserver.versions import ApiVersion

ParsedTraining = ParsedRequest


def parse_training(body: dict[str, Any], version: ApiVersion) -> ParsedRequest:
    return parse_request(body, version, TRAINING)

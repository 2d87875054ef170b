"""The Run:ai operations: thin translations between HTTP and the fake cluster."""

from __future__ import annotations

from typing import Any

from mockserver.auth import CredentialsRejected
from mockserver.errors import error_response
from mockserver.handlers.state import caller, current

ACCEPTED = {"code": 202, "message": "Request has been accepted."}


async def grant_token(body: dict[str, Any] | None = None, **_: Any) -> Any:
    try:
        return current().tokens.grant(body), 200
    except CredentialsRejected as rejected:
        return error_response(400, str(rejected))


async def create_training1(body: dict[str, Any]) -> Any:
    return current().cluster.submit(body, caller()), 200


async def get_training(workloadId: str) -> Any:
    return current().cluster.get(workloadId, caller()), 200


async def delete_training(workloadId: str) -> Any:
    current().cluster.delete(workloadId, caller())
    return None, 204


async def suspend_training(workloadId: str) -> Any:
    current().cluster.suspend(workloadId, caller())
    return ACCEPTED, 202


async def resume_training(workloadId: str) -> Any:
    current().cluster.resume(workloadId, caller())
    return ACCEPTED, 202

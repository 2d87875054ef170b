"""The Run:ai operations: thin translations between HTTP and the fake cluster, per served API version."""

from __future__ import annotations

from typing import Any

from mockserver.auth import CredentialsRejected
from mockserver.errors import error_response
from mockserver.handlers.state import caller, current
from mockserver.versions import ACCEPTED


async def grant_token(body: dict[str, Any] | None = None, **_: Any) -> Any:
    state = current()
    try:
        answer = state.tokens.grant(body)
    except CredentialsRejected as rejected:
        return error_response(400, str(rejected))
    if state.version.token_expires_in:
        answer["expiresIn"] = state.tokens.lifetime
    return answer, 200


async def create_training1(body: dict[str, Any]) -> Any:
    state = current()
    return state.version.training(state.cluster.submit(body, caller())), state.version.create_status


async def get_training(workloadId: str) -> Any:
    state = current()
    return state.version.training(state.cluster.get(workloadId, caller())), 200


async def delete_training(workloadId: str) -> Any:
    state = current()
    state.cluster.delete(workloadId, caller())
    return state.version.deleted()


async def suspend_training(workloadId: str) -> Any:
    current().cluster.suspend(workloadId, caller())
    return ACCEPTED, 202


async def resume_training(workloadId: str) -> Any:
    current().cluster.resume(workloadId, caller())
    return ACCEPTED, 202

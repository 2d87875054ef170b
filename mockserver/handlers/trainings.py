"""The Run:ai trainings operations: read the request, call the cluster, show the answer for this version."""

from __future__ import annotations

from typing import Any

from mockserver.handlers.state import caller, current
from mockserver.http.auth import CredentialsRejected
from mockserver.http.errors import error_response
from mockserver.parsing.training import parse_training
from mockserver.versions import ACCEPTED
from mockserver.views.training import deleted_answer, training_view


async def grant_token(body: dict[str, Any] | None = None, **_: Any) -> Any:
    state = current()
    try:
        answer: dict[str, Any] = dict(state.tokens.grant(body))
    except CredentialsRejected as rejected:
        return error_response(400, str(rejected))
    if state.version.token_expires_in:
        answer["expiresIn"] = state.tokens.lifetime
    return answer, 200


async def create_training1(body: dict[str, Any]) -> Any:
    state = current()
    parsed = parse_training(body, state.version)
    training = state.cluster.submit(parsed.request, caller(), parsed.issues)
    return training_view(training, state.version), state.version.create_status


async def get_training(workloadId: str) -> Any:
    state = current()
    return training_view(state.cluster.training(workloadId, caller()), state.version), 200


async def delete_training(workloadId: str) -> Any:
    state = current()
    state.cluster.delete(workloadId, caller())
    return deleted_answer(state.version)


async def suspend_training(workloadId: str) -> Any:
    current().cluster.suspend(workloadId, caller())
    return dict(ACCEPTED), 202


async def resume_training(workloadId: str) -> Any:
    current().cluster.resume(workloadId, caller())
    return dict(ACCEPTED), 202

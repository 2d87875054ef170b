"""Deliberately broken backends, each our fake with one defect a real Run:ai backend could have.

`caught_by` names the checks whose finding identifies the defect: the harness must report at least one
of them, or the mutant survived.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from mockserver.http.auth import TokenRejected
from tests.mutants.asgi import Answer, Mutant, Request

TRAININGS = "/api/v1/workloads/trainings"
_ONE = re.compile(rf"^{TRAININGS}/(?P<id>[^/]+)(?:/(?P<verb>suspend|resume))?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# The parts of a run that catch each kind of defect (a Mutant's `run`).
EXAMPLES = ("--phases", "examples", "--scenarios", "")  # every operation's answers, once
LIFECYCLE = ("--phases", "", "--scenarios", "lifecycle")  # a training followed through its actions
NEGATIVE = ("--phases", "fuzzing", "--scenarios", "")  # malformed input


def target(request: Request) -> tuple[str, str | None, str | None]:
    """(operation, workload id, verb): operation is create, get, delete, action or other."""
    if request.path == TRAININGS and request.method == "POST":
        return "create", None, None
    match = _ONE.match(request.path)
    if not match:
        return "other", None, None
    verb = match.group("verb")
    if verb and request.method == "POST":
        return "action", match.group("id"), verb
    if not verb and request.method in ("GET", "DELETE"):
        return request.method.lower(), match.group("id"), None
    return "other", match.group("id"), None


def is_training_answer(request: Request, answer: Answer) -> bool:
    return target(request)[0] in ("create", "get") and 200 <= answer.status < 300


def edit_training(answer: Answer, change: dict[str, Any]) -> Answer:
    body = answer.json()
    return answer.with_json({**body, **change}) if isinstance(body, dict) else answer


class Clean(Mutant):
    name = "clean"
    defect = "none: the wrapper alone, which must pass"
    # Every part of a run the mutants below are caught by: none of it may blame the wrapper itself.
    run = ("--phases", "examples,fuzzing", "--scenarios", "lifecycle,gpu-release")


class WrongCreateStatus(Mutant):
    name = "wrong-create-status"
    defect = "create answers 201 instead of the documented 200"
    caught_by = ("status_code_conformance",)
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        return (
            replace(answer, status=201) if target(request)[0] == "create" and answer.status == 200 else answer
        )


class MissingCreatedBy(Mutant):
    name = "missing-field"
    defect = "trainings lack the required field createdBy"
    caught_by = ("response_schema_conformance",)
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        if not is_training_answer(request, answer):
            return answer
        body = answer.json()
        return answer.with_json({k: v for k, v in body.items() if k != "createdBy"})


class MistypedProjectId(Mutant):
    name = "mistyped-field"
    defect = "projectId comes back as an integer, not a string"
    caught_by = ("response_schema_conformance",)
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        body = answer.json() if is_training_answer(request, answer) else None
        if isinstance(body, dict) and str(body.get("projectId", "")).isdigit():
            return answer.with_json({**body, "projectId": int(body["projectId"])})
        return answer


class ProblemJsonErrors(Mutant):
    name = "problem-json-errors"
    defect = "errors are RFC 7807 application/problem+json instead of {code, message}"
    caught_by = ("ErrorBodyShape", "content_type_conformance", "response_schema_conformance")
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        body = answer.json()
        if not request.is_api or answer.status < 400 or not isinstance(body, dict):
            return answer
        problem = {
            "type": "about:blank",
            "title": "Error",
            "status": answer.status,
            "detail": body.get("message"),
        }
        return replace(
            answer.with_json(problem), headers={**answer.headers, "content-type": "application/problem+json"}
        )


class ErrorCodeMismatch(Mutant):
    name = "error-code-mismatch"
    defect = "error bodies always say code 400, whatever the HTTP status"
    caught_by = ("ErrorBodyShape",)
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        body = answer.json()
        if request.is_api and answer.status >= 400 and isinstance(body, dict):
            return answer.with_json({**body, "code": 400})
        return answer


class ServerErrorOnBadInput(Mutant):
    name = "500-on-bad-input"
    defect = "a create the server should refuse with 400 crashes it: 500"
    caught_by = ("not_a_server_error", "status_code_conformance")
    run = ("--phases", "examples,fuzzing", "--scenarios", "lifecycle")  # invalid creates, then a sound one

    def answer(self, request: Request, answer: Answer) -> Answer:
        if target(request)[0] == "create" and answer.status == 400:
            return answer.with_json({"code": 500, "message": "Something went wrong."}, status=500)
        return answer


class InvalidUuidAccepted(Mutant):
    name = "invalid-uuid-accepted"
    defect = "suspend and resume accept a workloadId that is not a uuid (202)"
    caught_by = ("negative_data_rejection",)
    run = NEGATIVE

    def request(self, request: Request) -> Request | Answer:
        operation, workload_id, _ = target(request)
        authenticated = "authorization" in request.headers
        if (
            operation == "action"
            and authenticated
            and workload_id is not None
            and not _UUID.match(workload_id)
        ):
            return Answer(202).with_json({"code": 202, "message": "Request has been accepted."})
        return request


class IllegalPhaseJump(Mutant):
    name = "illegal-phase-jump"
    defect = "a starting training shows Stopped (Initializing reported as Stopped, with no suspend)"
    caught_by = ("TrainingLifecycle",)
    run = LIFECYCLE

    def answer(self, request: Request, answer: Answer) -> Answer:
        body = answer.json() if is_training_answer(request, answer) else None
        if isinstance(body, dict) and body.get("actualPhase") == "Initializing":
            return answer.with_json({**body, "actualPhase": "Stopped"})
        return answer


REWRITTEN = "x-mutant-instead-of"


def as_read(request: Request, workload_id: str, instead_of: str) -> Request:
    """The request turned into a GET of the training, so that auth and existence are still checked."""
    headers = {**request.headers, REWRITTEN: instead_of}
    return replace(request, method="GET", path=f"{TRAININGS}/{workload_id}", headers=headers, body=b"")


class DeleteKeepsTraining(Mutant):
    name = "delete-keeps-training"
    defect = "delete answers 204 but the training stays, readable and running"
    caught_by = ("TrainingLifecycle", "scenario:lifecycle")
    run = LIFECYCLE

    def request(self, request: Request) -> Request | Answer:
        operation, workload_id, _ = target(request)
        return as_read(request, workload_id, "delete") if operation == "delete" and workload_id else request

    def answer(self, request: Request, answer: Answer) -> Answer:
        if request.headers.get(REWRITTEN) == "delete" and answer.status == 200:
            return Answer(204)
        return answer


class SuspendKeepsGpus(Mutant):
    name = "suspend-keeps-gpus"
    defect = "suspend reports Stopping/Stopped but the training keeps its GPUs"
    caught_by = ("scenario:gpu-release",)
    run = ("--phases", "", "--scenarios", "gpu-release")

    def __init__(self) -> None:
        self.reads: dict[str, int] = {}

    def request(self, request: Request) -> Request | Answer:
        operation, workload_id, verb = target(request)
        if operation == "action" and workload_id and verb == "suspend":
            return as_read(request, workload_id, "suspend")
        if operation == "action" and workload_id and verb == "resume":
            self.reads.pop(workload_id, None)
        return request

    def answer(self, request: Request, answer: Answer) -> Answer:
        operation, workload_id, _ = target(request)
        if request.headers.get(REWRITTEN) == "suspend":
            if answer.status != 200 or workload_id is None:
                return answer
            self.reads[workload_id] = 0
            return Answer(202).with_json({"code": 202, "message": "Request has been accepted."})
        if operation != "get" or workload_id not in self.reads or answer.status != 200:
            return answer
        self.reads[workload_id] += 1
        phase = "Stopping" if self.reads[workload_id] == 1 else "Stopped"
        return edit_training(answer, {"desiredPhase": "Stopped", "actualPhase": phase})


class AuthIgnored(Mutant):
    name = "auth-ignored"
    defect = "requests without a valid token are served anyway"
    caught_by = ("UnauthenticatedRejected",)
    run = EXAMPLES

    def bind(self, state: Any) -> None:
        self.tokens = state.tokens
        self.token = state.tokens.grant(
            {"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"}
        )["accessToken"]

    def request(self, request: Request) -> Request | Answer:
        if not request.is_api or request.path == "/api/v1/token":
            return request
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            self.tokens.verify(bearer)
        except TokenRejected:
            return replace(request, headers={**request.headers, "authorization": f"Bearer {self.token}"})
        return request


class WrongNameSuffix(Mutant):
    name = "wrong-name-prefix"
    defect = "useGivenNameAsPrefix joins the suffix with '_' and upper case (not a DNS label)"
    caught_by = ("TrainingAnswerRules",)
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        body = answer.json() if is_training_answer(request, answer) else None
        if isinstance(body, dict) and body.get("name") != body.get("requestedName"):
            suffix = str(body["name"])[-5:].upper()
            return answer.with_json({**body, "name": f"{body['requestedName']}_{suffix}"})
        return answer


class MalformedCreatedAt(Mutant):
    name = "malformed-created-at"
    defect = "createdAt is '01/01/2025 00:00:00', not RFC 3339"
    caught_by = ("TrainingAnswerRules", "response_schema_conformance")
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        if is_training_answer(request, answer):
            return edit_training(answer, {"createdAt": "01/01/2025 00:00:00"})
        return answer


class CreatedInFuture(Mutant):
    name = "created-in-future"
    defect = "createdAt lies in 2099"
    caught_by = ("TrainingAnswerRules",)
    run = EXAMPLES

    def answer(self, request: Request, answer: Answer) -> Answer:
        if is_training_answer(request, answer):
            return edit_training(answer, {"createdAt": "2099-01-01T00:00:00.000Z"})
        return answer


class Wrong202Body(Mutant):
    name = "wrong-202-body"
    defect = "suspend/resume answer 202 with {code: 200, message: OK}"
    caught_by = ("ActionAnswerShape",)
    run = LIFECYCLE

    def answer(self, request: Request, answer: Answer) -> Answer:
        if target(request)[0] == "action" and answer.status == 202:
            return answer.with_json({"code": 200, "message": "OK"})
        return answer


class SpecNotEchoed(Mutant):
    name = "spec-not-echoed"
    defect = "GET returns the training with a different image than the one submitted"
    caught_by = ("TrainingLifecycle",)
    run = LIFECYCLE

    def answer(self, request: Request, answer: Answer) -> Answer:
        body = answer.json() if target(request)[0] == "get" and answer.status == 200 else None
        if isinstance(body, dict) and isinstance(body.get("spec"), dict) and body["spec"].get("image"):
            return answer.with_json({**body, "spec": {**body["spec"], "image": "python:latest"}})
        return answer


class StaleDesiredPhase(Mutant):
    name = "stale-desired-phase"
    defect = "desiredPhase stays Running after suspend and delete"
    caught_by = ("TrainingLifecycle",)
    run = LIFECYCLE

    def answer(self, request: Request, answer: Answer) -> Answer:
        if target(request)[0] == "get" and answer.status == 200:
            return edit_training(answer, {"desiredPhase": "Running"})
        return answer


class GoneIs410(Mutant):
    name = "deleted-is-410"
    defect = "a deleted training answers 410 Gone instead of 404"
    caught_by = ("status_code_conformance", "scenario:lifecycle")
    run = LIFECYCLE

    def __init__(self) -> None:
        self.deleted: set[str] = set()

    def answer(self, request: Request, answer: Answer) -> Answer:
        operation, workload_id, _ = target(request)
        if operation == "delete" and answer.status == 204 and workload_id:
            self.deleted.add(workload_id)
        if operation == "get" and answer.status == 404 and workload_id in self.deleted:
            return answer.with_json({"code": 410, "message": "Gone."}, status=410)
        return answer


MUTANTS: dict[str, type[Mutant]] = {
    cls.name: cls
    for cls in (
        Clean,
        WrongCreateStatus,
        MissingCreatedBy,
        MistypedProjectId,
        ProblemJsonErrors,
        ErrorCodeMismatch,
        ServerErrorOnBadInput,
        InvalidUuidAccepted,
        IllegalPhaseJump,
        DeleteKeepsTraining,
        SuspendKeepsGpus,
        AuthIgnored,
        WrongNameSuffix,
        MalformedCreatedAt,
        CreatedInFuture,
        Wrong202Body,
        SpecNotEchoed,
        StaleDesiredPhase,
        GoneIs410,
    )
}

"""Room before verdicts: what the backend says about the project's quota and allocation, and why it
holds a training. A training the cluster cannot place is no contract violation; the run must know the
difference before it judges.

Read through the Run:ai look-ups any deployment serves (`GET /api/v1/org-unit/projects/{id}` and the
workloads API's `GET /api/v1/workloads/{id}`), never through anything particular to our fake.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from contracts import limits
from contracts.oracle.findings import exchange
from contracts.run.events import CaseAnswered, Emit
from contracts.run.outcome import Room
from contracts.run.probes import shared_tls_context

PROJECTS = "/api/v1/org-unit/projects"
WORKLOADS_COUNT = "/api/v1/workloads/count"
# What tells how busy the project already is.
BUSY_PHASES = ("Running", "Pending")
LOOKUP_TIMEOUT = 30.0
UNLIMITED = -1.0


class TokenRefused(Exception):
    """The backend refused the token on a plain read: nothing the run does afterwards can be judged."""


def _get(base_url: str, path: str, token: str, label: str, emit: Emit) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    response = limits.request(
        None, "GET", base_url + path, headers=headers, timeout=LOOKUP_TIMEOUT, verify=shared_tls_context()
    )
    emit(
        CaseAnswered(
            exchange(label, str(response.request.url), response.status_code, headers, b"", probe=True)
        )
    )
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def check_token(base_url: str, token: str, emit: Emit) -> None:
    """One plain read with the token; a 401 ends the run with the fix (a wrong --project-id is not it).
    Only its status is read: the body (any size, perhaps endless) says nothing about the token."""
    headers = {"Authorization": f"Bearer {token}"}
    response = limits.status_only(
        "GET", base_url + PROJECTS, headers=headers, timeout=LOOKUP_TIMEOUT, verify=shared_tls_context()
    )
    url, status = str(response.request.url), response.status_code
    emit(CaseAnswered(exchange(f"GET {PROJECTS}", url, status, headers, b"", probe=True)))
    if status == 401:
        raise TokenRefused(
            f"the backend refused the token: GET {PROJECTS} answered 401. The token is expired, from "
            "another tenant or mistyped: pass a fresh one (--token or RUNAI_TOKEN), or application "
            "credentials (--client-id and --client-secret)"
        )


def _limit(quota: Any) -> float | None:
    value = quota.get("limit") if isinstance(quota, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _shown(value: float | None) -> str:
    if value is None or value == UNLIMITED:
        return "unlimited"
    return f"{value:g}"


def room_from_project(project: dict[str, Any], project_id: str) -> Room:
    """Read a project as the org look-up answers it: per node pool, the GPU/CPU/memory quota and what is
    allocated."""
    name = str(project.get("name") or project_id)
    resources = [r for r in project.get("resources") or [] if isinstance(r, dict)]
    status = project.get("status") if isinstance(project.get("status"), dict) else {}
    allocated = {
        str(entry.get("nodePoolName")): entry.get("allocated") or {}
        for entry in (status or {}).get("nodePoolQuotaStatuses") or []
        if isinstance(entry, dict)
    }
    lines, gpu_limits, cpu_closed = [], [], []
    for resource in resources:
        pool = (
            resource.get("nodePool", {}).get("name") if isinstance(resource.get("nodePool"), dict) else None
        )
        pool = str(pool or "?")
        gpu, cpu, memory = (_limit(resource.get(key)) for key in ("gpu", "cpu", "memory"))
        gpu_limits.append(gpu)
        cpu_closed.append(cpu == 0 or memory == 0)
        deserved = resource.get("gpu", {}).get("deserved") if isinstance(resource.get("gpu"), dict) else None
        held = allocated.get(pool, {}).get("gpu") if isinstance(allocated.get(pool), dict) else None
        lines.append(
            f"project {name}, node pool {pool}: GPU deserved {_shown(deserved)}, limit {_shown(gpu)}, "
            f"allocated {_shown(held)}; CPU limit {_shown(cpu)}; memory limit {_shown(memory)}"
        )
    gpu_room = None if not resources else any(limit is None or limit != 0 for limit in gpu_limits)
    blocked = None
    if resources and all(cpu_closed):
        blocked = f"project {name}'s quota allows no CPU or memory in any node pool (limit 0)"
    return Room(name, lines, gpu_room, blocked)


def read_room(base_url: str, token: str, project_id: str, emit: Emit) -> Room:
    """The project's room from the org look-up (or nothing known when it is not served or refused), and
    how busy the project is from the workloads API (where it is served). An answer over a limit
    (contracts.limits) leaves the room unknown, as an unusable one does; a spent budget stops the run."""
    try:
        return _read_room(base_url, token, project_id, emit)
    except limits.OutOfTime:
        raise
    except limits.LimitExceeded as error:
        return Room(project_id, [f"project {project_id}: room unknown, the look-up was not read: {error}"])


def _read_room(base_url: str, token: str, project_id: str, emit: Emit) -> Room:
    status, body = _get(base_url, f"{PROJECTS}/{project_id}", token, f"GET {PROJECTS}/{{projectId}}", emit)
    if status == 200 and isinstance(body, dict):
        room = room_from_project(body, project_id)
    else:
        room = Room(project_id, [f"project {project_id}: the org look-up answered {status}; room unknown"])
    counts = []
    for phase in BUSY_PHASES:
        query = f"?filterBy=projectId=={project_id},phase=={phase}"
        status, body = _get(base_url, f"{WORKLOADS_COUNT}{query}", token, f"GET {WORKLOADS_COUNT}", emit)
        count = body.get("count") if isinstance(body, dict) else None
        if status != 200 or not isinstance(count, int):
            return room
        counts.append(f"{count} {phase}")
    return replace(room, lines=[*room.lines, f"project {room.project}: workloads {', '.join(counts)}"])


def hold_reason(workload: Any) -> str | None:
    """Why the backend holds a workload, from a `GET /api/v1/workloads/{id}` answer: the scheduler's
    condition (PodScheduled False: reason and message), else the phaseMessage; None if it says nothing."""
    if not isinstance(workload, dict):
        return None
    for condition in workload.get("conditions") or []:
        if (
            isinstance(condition, dict)
            and condition.get("type") == "PodScheduled"
            and str(condition.get("status")) == "False"
        ):
            reason, message = condition.get("reason"), condition.get("message")
            if message:
                return f"{reason}: {message}" if reason else str(message)
    message = workload.get("phaseMessage")
    return str(message) if isinstance(message, str) and message.strip() else None

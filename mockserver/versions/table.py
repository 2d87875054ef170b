"""What one API version is, as data: the columns of the versions table (`rows.py` holds the rows).

Every difference between versions that the fake serves is a column here. Parsing, handlers and views ask
the version record (`version.create_status`, `version.search`, …) and never compare version names, so a
new version is a new row, not new code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The answer of an accepted asynchronous action (suspend, resume, and delete where it answers 202).
ACCEPTED = {"code": 202, "message": "Request has been accepted."}


@dataclass(frozen=True)
class ApiVersion:
    """One row of the versions table: what this API version's clients see."""

    name: str
    # The served contract (a file of `spec/`).
    spec: str
    # What `GET /api/v1/clusters` reports as the control plane's version.
    cluster_version: str
    # ------------------------------------------------------------------ status codes and answers
    create_status: int
    delete_status: int
    # The client actions (suspend, resume, delete) each workload kind has at this version; a kind left
    # out is not served at this version.
    actions: Mapping[str, frozenset[str]]
    # Inferences: the create answer's status (it moved to 202 a release before the other kinds'), and
    # PATCH's (None: the version's document has no PATCH of an inference).
    inference_create_status: int
    inference_patch_status: int | None
    # ------------------------------------------------------------------ request fields and defaults
    # `spec.preemptibility` can be set (later versions); else the priority class alone decides.
    has_preemptibility: bool
    # The enum values of `spec.priorityClass` in this version's document.
    priority_classes: tuple[str, ...]
    # The priority class a request gets when it names none, per workload category (Train, Build …).
    default_priority: Mapping[str, str]
    # ------------------------------------------------------------------ response fields
    # A training shows `deletedAt`; the token answer carries `expiresIn`.
    shows_deleted_at: bool
    token_expires_in: bool
    # `spec.compute.migProfile` exists: requested and allocated resources show MIG slices.
    shows_mig_profiles: bool
    # Workloads carry priority, category, phaseReason, run times, command and scheduling messages.
    workload_details: bool
    # A cluster's status carries `state`.
    cluster_state: bool
    # A listed project carries a top-level `phase` (besides `status.phase`).
    project_phase_field: bool
    # Projects and departments carry description, totalResources, effective settings, node types.
    org_details: bool
    # An org unit's `resources[]` carry `priority`, its over-quota priority in the node pool (2.20 on).
    org_resource_priority: bool
    # Node pools in the older shape: numeric id, `status` as a word, nodes as one comma-joined string.
    legacy_node_pools: bool
    # ------------------------------------------------------------------ list parameters
    # `search` is accepted on workloads, projects and pods.
    search: bool
    # Events are listed newest first unless `sortOrder` says otherwise (older versions: oldest first).
    events_newest_first: bool
    # The fields `filterBy`/`sortBy` accept, per list.
    workload_fields: frozenset[str] = field(default_factory=frozenset)
    project_fields: frozenset[str] = field(default_factory=frozenset)
    department_fields: frozenset[str] = field(default_factory=frozenset)
    # The fields `filterBy`/`sortBy` accept on `GET /workloads/pods` (and its count).
    pod_fields: frozenset[str] = field(default_factory=frozenset)

    def priority_for(self, category: str, requested: str | None) -> str:
        """The priority class of a request: the one it names, else this version's default for its category."""
        return requested or self.default_priority[category]

    def serves(self, kind: str) -> bool:
        return kind in self.actions

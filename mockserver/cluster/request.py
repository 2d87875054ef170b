"""A workload request as the cluster takes it: typed, already read from whichever API version sent it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.cluster.resources import PodRequest

# Per-workload behaviour a test can set through `spec.annotations` (ignored in real-deployment mode).
DURATION_ANNOTATION = "mock.runai/duration"
OUTCOME_ANNOTATION = "mock.runai/outcome"


@dataclass(frozen=True)
class WorkloadRequest:
    name: str
    project_id: str
    cluster_id: str
    name_is_prefix: bool
    image: str | None
    pod: PodRequest
    pods: int
    priority_class: str
    # Explicit preemptibility, where the API version has the field; None: the priority decides.
    preemptible: bool | None
    node_pools: tuple[str, ...]
    node_type: str | None
    backoff_limit: int
    auto_delete_after: float
    terminate_after_preemption: bool
    command: str | None
    args: str | None
    annotations: Mapping[str, str] = field(default_factory=dict)
    # The bounds of its replicated pods as asked (None: `pods`): a distributed training's workers
    # (elastic PyTorch's `minReplicas`/`maxReplicas`: the gang's minimum), an inference's autoscaling
    # `minReplicas`/`maxReplicas`; and the lead pod's request when it differs (the master's).
    min_replicas: int | None = None
    max_replicas: int | None = None
    lead_pod: PodRequest | None = None
    # A distributed training's `masterSpec` as submitted (pruned like `spec_document`); None when the
    # master runs the workers' spec.
    master_document: Mapping[str, Any] | None = None
    # Kubernetes Job fields: pods that must succeed (None: one per parallel pod), the pods' restart
    # policy (None: the kind's default, Never) and grace period on termination (None: not bounded).
    completions: int | None = None
    restart_policy: str | None = None
    grace_period: float | None = None
    # What the pods mount and read that must exist in the cluster: PVC claim names the request says
    # exist (`existingPvc`), and secrets that environment variables come from.
    claims: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    # The spec exactly as submitted: the API echoes it back; the cluster never reads it.
    spec_document: Mapping[str, Any] | None = None

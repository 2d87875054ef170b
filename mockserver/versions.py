"""The API versions the fake can serve: 2.18 (the default, the seed's) and the latest published one.

One record per version says what differs on the wire; parsing and views read it, the cluster never does.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.specs import LATEST_SPEC, TRAININGS_SPEC

ACCEPTED = {"code": 202, "message": "Request has been accepted."}


@dataclass(frozen=True)
class ApiVersion:
    name: str
    spec: str
    create_status: int
    delete_status: int
    shows_deleted_at: bool
    token_expires_in: bool
    # `spec.preemptibility` exists from the later versions on; 2.18 requests cannot set it.
    has_preemptibility: bool
    # The Train category's default priority: `train` in 2.18; Low (preemptible) in later versions.
    default_priority_class: str


VERSIONS = {
    "2.18": ApiVersion(
        "2.18",
        TRAININGS_SPEC,
        create_status=200,
        delete_status=204,
        shows_deleted_at=False,
        token_expires_in=False,
        has_preemptibility=False,
        default_priority_class="train",
    ),
    "latest": ApiVersion(
        "latest",
        LATEST_SPEC,
        create_status=202,
        delete_status=202,
        shows_deleted_at=True,
        token_expires_in=True,
        has_preemptibility=True,
        default_priority_class="low",
    ),
}
DEFAULT_VERSION = "2.18"

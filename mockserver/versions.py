"""The API versions the fake can serve: 2.18 (the default, the seed's) and the latest published one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.specs import TRAININGS_SPEC

ACCEPTED = {"code": 202, "message": "Request has been accepted."}


@dataclass(frozen=True)
class ApiVersion:
    name: str
    spec: str
    create_status: int
    delete_status: int
    shows_deleted_at: bool
    token_expires_in: bool

    def training(self, answer: dict[str, Any]) -> dict[str, Any]:
        """A training as this version shows it (2.18 has no `deletedAt`)."""
        if self.shows_deleted_at:
            return answer
        return {k: v for k, v in answer.items() if k != "deletedAt"}

    def deleted(self) -> tuple[dict[str, Any] | None, int]:
        """2.18 answers delete with an empty 204, later versions with 202 and a body."""
        return (ACCEPTED if self.delete_status == 202 else None), self.delete_status


VERSIONS = {
    "2.18": ApiVersion(
        "2.18",
        TRAININGS_SPEC,
        create_status=200,
        delete_status=204,
        shows_deleted_at=False,
        token_expires_in=False,
    ),
    "latest": ApiVersion(
        "latest",
        "trainings-latest.yaml",
        create_status=202,
        delete_status=202,
        shows_deleted_at=True,
        token_expires_in=True,
    ),
}
DEFAULT_VERSION = "2.18"

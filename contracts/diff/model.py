"""What `contracts diff` finds: one change a client of an operation would feel, and whether it breaks one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ChangeKind(str, Enum):
    OPERATION_ADDED = "operation added"
    OPERATION_REMOVED = "operation removed"
    OPERATION_DEPRECATED = "operation deprecated"
    SUCCESS_STATUS_CHANGED = "success status changed"
    STATUS_ADDED = "status added"
    STATUS_REMOVED = "status removed"
    PARAMETER_ADDED = "parameter added"
    PARAMETER_REMOVED = "parameter removed"
    REQUEST_FIELD_ADDED = "request field added"
    REQUEST_FIELD_REMOVED = "request field removed"
    REQUEST_FIELD_REQUIRED = "request field now required"
    REQUEST_FIELD_OPTIONAL = "request field now optional"
    REQUEST_ENUM_ADDED = "request enum values added"
    REQUEST_ENUM_REMOVED = "request enum values removed"
    REQUEST_TYPE_CHANGED = "request field type changed"
    RESPONSE_FIELD_ADDED = "response field added"
    RESPONSE_FIELD_REMOVED = "response field removed"
    RESPONSE_ENUM_ADDED = "response enum values added"
    RESPONSE_ENUM_REMOVED = "response enum values removed"
    RESPONSE_TYPE_CHANGED = "response field type changed"


# What a client that worked before can no longer rely on: a call it made is gone or answered differently,
# a value it sent is refused, a field it read is missing or of another type, a parameter it must now send.
BREAKING = frozenset(
    {
        ChangeKind.OPERATION_REMOVED,
        ChangeKind.SUCCESS_STATUS_CHANGED,
        ChangeKind.PARAMETER_REMOVED,
        ChangeKind.REQUEST_FIELD_REMOVED,
        ChangeKind.REQUEST_FIELD_REQUIRED,
        ChangeKind.REQUEST_ENUM_REMOVED,
        ChangeKind.REQUEST_TYPE_CHANGED,
        ChangeKind.RESPONSE_FIELD_REMOVED,
        ChangeKind.RESPONSE_TYPE_CHANGED,
    }
)


@dataclass(frozen=True)
class Change:
    method: str
    path: str
    operation_id: str
    kind: ChangeKind
    detail: str
    # A parameter added is breaking only when it is required; the kind alone cannot say so.
    required: bool = False

    @property
    def breaking(self) -> bool:
        return self.kind in BREAKING or (self.kind is ChangeKind.PARAMETER_ADDED and self.required)

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"

    def as_json(self) -> dict[str, object]:
        return {
            "operation": self.operation,
            "operationId": self.operation_id,
            "kind": self.kind.value,
            "detail": self.detail,
            "breaking": self.breaking,
        }


@dataclass(frozen=True)
class Comparison:
    old: str
    new: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.breaking)

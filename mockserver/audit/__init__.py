"""The client audit: the request journal read against the contract and good practice (`checks.py`),
written as Markdown and JUnit (`report.py`). `mockserver --audit FILE` writes it when the server stops;
`GET /api/mock/v1/audit` answers it at any time."""

from __future__ import annotations

from mockserver.audit.checks import AuditInput, Check, Finding, audit
from mockserver.audit.collect import collect

__all__ = ["AuditInput", "Check", "Finding", "audit", "collect"]

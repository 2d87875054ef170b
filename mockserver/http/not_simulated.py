"""Real Run:ai paths the fake does not serve answer `501` with `{code, message}` saying so.

Without this, a real path the fake leaves out answers as if the client were wrong: `GET
/api/v1/workloads/telemetry` matched the served `/api/v1/workloads/{workloadId}` and came back 404 "'telemetry'
is not a 'uuid'", and a POST to an unserved collection 405 "use GET". The official document of the served
version says which paths are real; the served contract (the route table) says which are served; the rest
are "not simulated by this fake".

Compiled once at start: the official templates in a tree of path segments, where a literal segment is
tried before a parameter, from the left, so one walk of a few dictionary look-ups finds the template
Run:ai itself would route a path to (a few microseconds a request). A request then goes on unless

- that template is one the fake does not serve at all (any method: `/workloads/telemetry`), or
- the fake serves the template but not this method, which the official document has (`PUT
  /org-unit/projects/{projectId}`).

A method the official document does not have either is left to routing's 405 (`PATCH` of an inference in
2.18), and a path no official template matches to its 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.middleware import send_error
from mockserver.http.routes import METHODS, Routes, canonical
from mockserver.specs import LATEST_OFFICIAL, OFFICIAL_VERSIONS, read_official_document

STATUS = 501
_SEGMENT_PARAMETER = re.compile(r"^\{[^}/]+\}$")


def message(method: str, template: str) -> str:
    return f"{method} {template} is a Run:ai API path that is not simulated by this fake"


def _segments(path: str) -> list[str]:
    return canonical(path).strip("/").split("/")


@dataclass(frozen=True)
class _Template:
    path: str
    official: frozenset[str]  # methods the official document has
    served: frozenset[str]  # methods the fake serves


@dataclass
class _Node:
    """One segment of the official templates: literal children, one parameter child, a template ending here."""

    literal: dict[str, _Node] = field(default_factory=dict)
    parameter: _Node | None = None
    template: _Template | None = None

    def find(self, segments: list[str], at: int) -> _Template | None:
        if at == len(segments):
            return self.template
        child = self.literal.get(segments[at])
        found = child.find(segments, at + 1) if child is not None else None
        if found is None and self.parameter is not None and segments[at]:
            found = self.parameter.find(segments, at + 1)
        return found


class Unserved:
    """The official paths of one version against what the fake serves there."""

    def __init__(
        self, official_paths: Mapping[str, Iterable[str]], served: Mapping[str, Iterable[str]]
    ) -> None:
        self._root = _Node()
        for path, methods in official_paths.items():
            node = self._root
            for part in _segments(path):
                if _SEGMENT_PARAMETER.match(part):
                    node.parameter = node.parameter or _Node()
                    node = node.parameter
                else:
                    node = node.literal.setdefault(part, _Node())
            node.template = _Template(path, frozenset(methods), frozenset(served.get(path, ())))

    def refused(self, method: str, path: str) -> str | None:
        """The message of a 501 for this request, or None when it goes on to routing."""
        template = self._root.find(_segments(path), 0)
        if template is None or method in template.served:
            return None
        if not template.served:
            shown = method if method in template.official else "/".join(sorted(template.official))
            return message(shown, template.path)
        return message(method, template.path) if method in template.official else None

    @classmethod
    def of_version(cls, version_name: str, routes: Routes) -> Unserved:
        """The served version's official document (latest's is the newest) against the route table."""
        official_name = version_name if version_name in OFFICIAL_VERSIONS else LATEST_OFFICIAL
        document = json.loads(read_official_document(official_name))
        official = {
            path: [m.upper() for m in METHODS if m in item]
            for path, item in document.get("paths", {}).items()
        }
        served: dict[str, set[str]] = {}
        for op in routes.operations:
            served.setdefault(canonical(op.template), set()).add(op.method)
        return cls(official, served)


class NotSimulated:
    """Answers 501 for the official paths the fake does not serve (see the module's docstring)."""

    def __init__(self, app: ASGIApp, unserved: Unserved) -> None:
        self.app, self.unserved = app, unserved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.unserved.refused(scope["method"], scope["path"])
            if refusal is not None:
                headers = dict(scope.get("headers") or ())
                unread = (
                    headers.get(b"content-length", b"0") not in (b"", b"0") or b"transfer-encoding" in headers
                )
                await send_error(send, STATUS, refusal, close=unread)
                return
        await self.app(scope, receive, send)

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

A request the served version's document does not have, but another version's does (`POST
/workloads/batch` on 2.18; it arrives in 2.19), answers 404 naming the versions that have it, instead of
routing's 405 "use GET" (its path matched `/workloads/{workloadId}`). Any other method the official
document does not have is left to routing's 405, and a path no official template matches to its 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.middleware import send_error
from mockserver.http.routes import METHODS, Routes, canonical
from mockserver.specs import LATEST_OFFICIAL, OFFICIAL_VERSIONS, packaged_index, read_official_document

STATUS = 501
OTHER_VERSION_STATUS = 404
_SEGMENT_PARAMETER = re.compile(r"^\{[^}/]+\}$")


def message(method: str, template: str) -> str:
    return f"{method} {template} is a Run:ai API path that is not simulated by this fake"


def _segments(path: str) -> list[str]:
    return canonical(path).strip("/").split("/")


def other_version_message(method: str, template: str, version: str, versions: Iterable[str]) -> str:
    listed = ", ".join(versions)
    return (
        f"{method} {template} is not in Run:ai API {version}; the API versions that have it: {listed} "
        "(start the fake with --api VERSION)"
    )


@dataclass(frozen=True)
class _Template:
    path: str
    official: frozenset[str]  # methods the official document has
    served: frozenset[str]  # methods the fake serves
    # Other versions' documents: method -> the versions that have it (only in the tree of other versions).
    elsewhere: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class _Node:
    """One segment of the official templates: literal children, one parameter child, and the template
    ending here in the served version's document (`template`) and in other versions' only (`other`)."""

    literal: dict[str, _Node] = field(default_factory=dict)
    parameter: _Node | None = None
    template: _Template | None = None
    other: _Template | None = None

    def find(self, segments: list[str], at: int) -> _Node | None:
        if at == len(segments):
            return self if self.template is not None or self.other is not None else None
        child = self.literal.get(segments[at])
        found = child.find(segments, at + 1) if child is not None else None
        if found is None and self.parameter is not None and segments[at]:
            found = self.parameter.find(segments, at + 1)
        return found

    def at(self, path: str) -> _Node:
        node = self
        for part in _segments(path):
            if _SEGMENT_PARAMETER.match(part):
                node.parameter = node.parameter or _Node()
                node = node.parameter
            else:
                node = node.literal.setdefault(part, _Node())
        return node


class Unserved:
    """The official paths of one version against what the fake serves there, and the other versions'.

    One tree holds both, so that one walk finds the most specific template Run:ai has for a path in any
    version (`/workloads/batch` beats `/workloads/{workloadId}`)."""

    def __init__(
        self,
        official_paths: Mapping[str, Iterable[str]],
        served: Mapping[str, Iterable[str]],
        version: str = "",
        other_versions: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None,
    ) -> None:
        self.version = version
        self._root = _Node()
        for path, methods in official_paths.items():
            self._root.at(path).template = _Template(
                path, frozenset(methods), frozenset(served.get(path, ()))
            )
        for path, by_method in (other_versions or {}).items():
            self._root.at(path).other = _Template(path, frozenset(by_method), frozenset(), by_method)

    def refused(self, method: str, path: str) -> tuple[int, str] | None:
        """The status and message for this request, or None when it goes on to routing."""
        node = self._root.find(_segments(path), 0)
        if node is None:
            return None
        template = node.template
        if template is None:  # a template of other versions only
            other = node.other
            if other is None or method not in other.elsewhere:
                return None
            return OTHER_VERSION_STATUS, other_version_message(
                method, other.path, self.version, other.elsewhere[method]
            )
        if method in template.served:
            return None  # the usual case: served
        if not template.served:
            shown = method if method in template.official else "/".join(sorted(template.official))
            return STATUS, message(shown, template.path)
        return (STATUS, message(method, template.path)) if method in template.official else None

    @classmethod
    def of_version(cls, version_name: str, routes: Routes) -> Unserved:
        """The served version's official document (latest's is the newest) against the route table (one
        tree per version and served set a process; nothing changes a tree once built)."""
        served: dict[str, set[str]] = {}
        for op in routes.operations:
            served.setdefault(canonical(op.template), set()).add(op.method)
        return _unserved(
            version_name, frozenset((path, frozenset(methods)) for path, methods in served.items())
        )

    @classmethod
    def _build(cls, version_name: str, served: Mapping[str, Iterable[str]]) -> Unserved:
        official_name = version_name if version_name in OFFICIAL_VERSIONS else LATEST_OFFICIAL
        every = official_paths()
        official = {
            path: list(versions[official_name])
            for path, versions in every.items()
            if official_name in versions
        }
        # Templates only other versions have (a template this version has keeps routing's 405 for a method
        # it lacks: the path is right, the method is not).
        others: dict[str, dict[str, tuple[str, ...]]] = {}
        for path, versions in every.items():
            if official_name in versions:
                continue
            for name, methods in versions.items():
                for method in methods:
                    others.setdefault(path, {})[method] = (*others.get(path, {}).get(method, ()), name)
        return cls(official, served, version_name, others)


@lru_cache(maxsize=32)
def _unserved(version_name: str, served: frozenset[tuple[str, frozenset[str]]]) -> Unserved:
    return Unserved._build(version_name, dict(served))


@lru_cache(maxsize=1)
def official_paths() -> dict[str, dict[str, tuple[str, ...]]]:
    """path -> release -> its methods, over every official document (`python -m scripts.derive_contracts`
    writes them into the packaged index: parsing seven official documents took a start 0.1 s)."""
    every: dict[str, dict[str, list[str]]] = packaged_index()["officialPaths"]
    return {
        path: {name: tuple(methods) for name, methods in versions.items()} for path, versions in every.items()
    }


def read_official_paths() -> dict[str, dict[str, tuple[str, ...]]]:
    """`official_paths` worked out from the official documents themselves (what the index records)."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for name in OFFICIAL_VERSIONS:
        document = json.loads(read_official_document(name))
        for path, item in document.get("paths", {}).items():
            found.setdefault(path, {})[name] = tuple(m.upper() for m in METHODS if m in item)
    return found


class NotSimulated:
    """Answers 501 for the official paths the fake does not serve (see the module's docstring)."""

    def __init__(self, app: ASGIApp, unserved: Unserved) -> None:
        self.app, self.unserved = app, unserved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.unserved.refused(scope["method"], scope["path"])
            if refusal is not None:
                status, text = refusal
                headers = dict(scope.get("headers") or ())
                unread = (
                    headers.get(b"content-length", b"0") not in (b"", b"0") or b"transfer-encoding" in headers
                )
                await send_error(send, status, text, close=unread)
                return
        await self.app(scope, receive, send)

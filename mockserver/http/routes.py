"""The operations our served contracts declare — the one reading of the documents that the middleware
shares: methods per path, which take a body, which statuses each documents (with its example message)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

_METHODS = {"get", "put", "post", "delete", "patch"}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    takes_body: bool
    answers: dict[int, str]  # documented status -> the message its example shows
    secured: bool = False  # a credential is required (the operation's or the document's security)

    def errors(self) -> list[int]:
        return sorted(code for code in self.answers if code >= 400)


def _resolve(spec: dict[str, Any], item: Any) -> Any:
    while isinstance(item, dict) and "$ref" in item:
        target: Any = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            target = target[part]
        item = target
    return item


def _example_message(spec: dict[str, Any], response: Any, status: int) -> str:
    response = _resolve(spec, response)
    for media in (response.get("content") or {}).values():
        example = _resolve(spec, media.get("example"))
        if isinstance(example, dict) and isinstance(example.get("message"), str):
            return str(example["message"])
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else f"Status {status}"


def operations(specs: Iterable[dict[str, Any]]) -> list[Operation]:
    """Every operation of the documents, in document order."""
    found = []
    for spec in specs:
        base = spec.get("servers", [{}])[0].get("url", "/").rstrip("/")
        for template, item in spec.get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base + template)) + "/?$")
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                answers = {
                    int(code): _example_message(spec, response, int(code))
                    for code, response in operation.get("responses", {}).items()
                    if str(code).isdigit()
                }
                security = operation.get("security", spec.get("security")) or []
                found.append(
                    Operation(
                        method.upper(),
                        base + template,
                        pattern,
                        "requestBody" in operation,
                        answers,
                        secured=any(requirement for requirement in security),
                    )
                )
    return found


class Routes:
    def __init__(self, specs: Iterable[dict[str, Any]]) -> None:
        self.operations = operations(specs)
        # Parameter-free paths are the resource they name, even where a template also matches them.
        self._literal: dict[str, list[str]] = {}
        for op in self.operations:
            if "{" not in op.template:
                self._literal.setdefault(op.template, []).append(op.method)
        # Every request asks for its template (the body guard, Prefer): one alternation of the templates'
        # patterns, tried in document order, finds the first that matches in a single C-level pass.
        self._templates = list(dict.fromkeys(op.template for op in self.operations))
        patterns = {op.template: op.pattern.pattern for op in self.operations}
        self._any = re.compile(
            "|".join(f"(?P<t{index}>{patterns[template]})" for index, template in enumerate(self._templates))
        )
        self._by_template = {(op.template, op.method): op for op in reversed(self.operations)}

    def _template(self, path: str) -> str | None:
        """The path's own template: a literal one first, else the first template that matches."""
        trimmed = path.rstrip("/") or "/"
        if trimmed in self._literal:
            return trimmed
        found = self._any.match(path) if self._templates else None
        return self._templates[int(found.lastgroup[1:])] if found and found.lastgroup else None

    def operation(self, method: str, path: str) -> Operation | None:
        template = self._template(path)
        return self._by_template.get((template, method)) if template is not None else None

    def allowed(self, path: str) -> list[str]:
        """Every method of the path: Connexion's router reports only one per route in its 405s."""
        template = self._template(path)
        return sorted({op.method for op in self.operations if op.template == template})

    def literal_methods(self, path: str) -> list[str] | None:
        """The methods of a path the contracts name literally, None for any other path."""
        methods = self._literal.get(path.rstrip("/") or "/")
        return sorted(methods) if methods is not None else None

    def documents(self, method: str, path: str, status: int) -> bool:
        op = self.operation(method, path)
        return op is not None and status in op.answers

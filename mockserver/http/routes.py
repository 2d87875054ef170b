"""The route compiler: the served documents' operations compiled once into the one table the whole edge
reads — `Allow` (errors.py, literal_paths.py), `Prefer`, faults, the body guard and the fast path.

What it holds per operation: its method and template, a pattern for the path, whether it takes a body,
which statuses it documents (with its example message), whether it needs a credential, and whether it
is hot (served by the fast path). Two rules live here and nowhere else:

- **Trailing slashes.** A path names the same route with or without trailing slashes (`canonical`):
  Starlette's router, under Connexion, redirects `/x/` and `/x//` to `/x` (307). So the table finds `/x`'s
  operation for all three, while only the canonical spelling is served as it is (`served_as_is`): the fast
  path leaves any other spelling to the router's redirect.
- **Hot operations.** `HOT_OPERATIONS` names the operations clients call in loops; the fast path compiles
  only those (and only when every check they need is one it makes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

# operationIds the fast path serves: the reads and lists clients poll, and the calls they loop over on each
# kind (NeMo-Run's default launch creates a workspace, then a distributed training; a fuzzer's creates of
# every kind are most of a contract run).
HOT_OPERATIONS = frozenset(
    {
        "get_workload",
        "get_workloads",
        "count_workloads",
        "create_training1",
        "get_training",
        "suspend_training",
        "resume_training",
        "delete_training",
        "create_workspace1",
        "get_workspace",
        "suspend_workspace",
        "resume_workspace",
        "delete_workspace",
        "create_distributed",
        "get_distributed",
        "suspend_distributed",
        "resume_distributed",
        "delete_distributed",
        "create_inference1",
        "get_inference",
        "delete_inference",
    }
)
METHODS = ("get", "put", "post", "delete", "patch")
# Where a request's lookup is kept in its ASGI scope: the body guard, Prefer and the fast path each ask.
_LOOKED_UP = "mockserver.route"
# A `{name}` of a path template: one non-empty segment, as Starlette's `{name}` matches.
_PARAMETER = re.compile(r"\\\{([^}]+)\\\}")


def canonical(path: str) -> str:
    """The path without its trailing slashes (the root stays `/`): the spelling the router serves."""
    return path.rstrip("/") or "/"


def served_as_is(path: str) -> bool:
    """Whether the router answers this spelling itself rather than redirecting it to `canonical(path)`."""
    return not path.endswith("/") or path == "/"


@dataclass(frozen=True, eq=False)
class Operation:
    method: str
    template: str  # the server's base URL and the document's path
    pattern: re.Pattern[str]  # the path with any trailing slashes; path parameters as named groups
    takes_body: bool
    answers: dict[int, str]  # documented status -> the message its example shows
    secured: bool = False  # a credential is required (the operation's or the document's security)
    operation_id: str = ""
    path: str = ""  # the template as the document writes it (without the base URL)
    document: int = 0  # the position of its document among the compiled ones
    # Every template of the same document and method that comes before this one, or None: Connexion adds
    # a document's routes in its order and the router takes the first that matches path and method, so a
    # path that one of them also takes is the router's to decide (a later template never takes it).
    rivals: re.Pattern[str] | None = None

    @property
    def hot(self) -> bool:
        return self.operation_id in HOT_OPERATIONS

    def errors(self) -> list[int]:
        return sorted(code for code in self.answers if code >= 400)


def _regex(template: str, named: bool) -> str:
    """The template's path as a regular expression, trailing slashes allowed (see `canonical`)."""

    seen: set[str] = set()

    def parameter(found: re.Match[str]) -> str:
        name = found.group(1)
        if not named or not name.isidentifier() or name in seen:
            return "[^/]+"  # a name Python's groups cannot take stays unnamed (the fast path then declines)
        seen.add(name)
        return f"(?P<{name}>[^/]+)"

    return "^" + _PARAMETER.sub(parameter, re.escape(template)) + "/*$"


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
    for index, spec in enumerate(specs):
        base = spec.get("servers", [{}])[0].get("url", "/").rstrip("/")
        every = [
            (method, path)
            for path, item in spec.get("paths", {}).items()
            for method in METHODS
            if method in item
        ]
        for position, (method, path) in enumerate(every):
            operation = spec["paths"][path][method]
            answers = {
                int(code): _example_message(spec, response, int(code))
                for code, response in operation.get("responses", {}).items()
                if str(code).isdigit()
            }
            security = operation.get("security", spec.get("security")) or []
            rivals = [_regex(base + p, named=False) for m, p in every[:position] if m == method and p != path]
            found.append(
                Operation(
                    method.upper(),
                    base + path,
                    re.compile(_regex(base + path, named=True)),
                    "requestBody" in operation,
                    answers,
                    secured=any(requirement for requirement in security),
                    operation_id=str(operation.get("operationId", "")),
                    path=path,
                    document=index,
                    rivals=re.compile("|".join(f"(?:{r})" for r in rivals)) if rivals else None,
                )
            )
    return found


class Routes:
    """The compiled table of the served documents."""

    def __init__(self, specs: Iterable[dict[str, Any]]) -> None:
        self.specs = list(specs)
        self.operations = operations(self.specs)
        # Parameter-free paths are the resource they name, even where a template also matches them.
        self._literal: dict[str, list[str]] = {}
        for op in self.operations:
            if "{" not in op.template:
                self._literal.setdefault(op.template, []).append(op.method)
        # Every request asks for its template (the body guard, Prefer, the fast path): one alternation of
        # the templates' patterns, tried in document order, finds the first that matches in a single
        # C-level pass.
        self._templates = list(dict.fromkeys(op.template for op in self.operations))
        patterns = {op.template: _regex(op.template, named=False) for op in self.operations}
        self._any = re.compile(
            "|".join(f"(?P<t{index}>{patterns[template]})" for index, template in enumerate(self._templates))
        )
        self._by_template = {(op.template, op.method): op for op in reversed(self.operations)}

    def _template(self, path: str) -> str | None:
        """The path's own template: a literal one first, else the first template that matches."""
        trimmed = canonical(path)
        if trimmed in self._literal:
            return trimmed
        found = self._any.match(path) if self._templates else None
        return self._templates[int(found.lastgroup[1:])] if found and found.lastgroup else None

    def operation(self, method: str, path: str) -> Operation | None:
        template = self._template(path)
        return self._by_template.get((template, method)) if template is not None else None

    def for_request(self, scope: MutableMapping[str, Any]) -> Operation | None:
        """The operation of an ASGI request, looked up once per request however many middlewares ask."""
        key = (scope["method"], scope["path"])
        seen = scope.get(_LOOKED_UP)
        if seen is not None and seen[0] is self and seen[1] == key:
            found: Operation | None = seen[2]
            return found
        found = self.operation(*key)
        scope[_LOOKED_UP] = (self, key, found)
        return found

    def allowed(self, path: str) -> list[str]:
        """Every method of the path: Connexion's router reports only one per route in its 405s."""
        template = self._template(path)
        return sorted({op.method for op in self.operations if op.template == template})

    def literal_methods(self, path: str) -> list[str] | None:
        """The methods of a path the contracts name literally, None for any other path."""
        methods = self._literal.get(canonical(path))
        return sorted(methods) if methods is not None else None

    def documents(self, method: str, path: str, status: int) -> bool:
        op = self.operation(method, path)
        return op is not None and status in op.answers

    def hot(self, spec: dict[str, Any]) -> list[Operation]:
        """The hot operations of one compiled document (none if it is not one of them)."""
        index = next((i for i, document in enumerate(self.specs) if document is spec), None)
        return [op for op in self.operations if op.hot and op.document == index]

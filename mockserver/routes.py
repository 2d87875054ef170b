"""What our contracts declare per path: the methods, and which operations take a request body."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_METHODS = {"get", "put", "post", "delete", "patch"}


class Routes:
    def __init__(self, specs: Iterable[dict[str, Any]]) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, bool]]] = []
        for spec in specs:
            base = spec.get("servers", [{}])[0].get("url", "/").rstrip("/")
            for template, item in spec.get("paths", {}).items():
                pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base + template))
                takes_body = {m.upper(): "requestBody" in op for m, op in item.items() if m in _METHODS}
                self._routes.append((re.compile(f"^{pattern}/?$"), takes_body))

    def _match(self, path: str) -> dict[str, bool]:
        return next((methods for pattern, methods in self._routes if pattern.match(path)), {})

    def allowed(self, path: str) -> list[str]:
        """Every method of the path: Connexion's router reports only one per route in its 405s."""
        return sorted(self._match(path))

    def takes_body(self, method: str, path: str) -> bool:
        return self._match(path).get(method, False)

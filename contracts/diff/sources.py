"""Where `contracts diff` reads a document: a version name, a file, a URL, or a live backend."""

from __future__ import annotations

import json
from typing import Any

from contracts.specs import ContractError, read_document
from mockserver.specs import OFFICIAL_VERSIONS, load_spec, read_official_document, served_contract

VERSION_NAMES = (*OFFICIAL_VERSIONS, "latest")
# Where a backend (our fake among them) serves the document it answers by.
DOCUMENT_PATH = "/api/v1/openapi.json"


def load(source: str, official: bool = False, backend: bool = False) -> tuple[str, dict[str, Any]]:
    """(a name for the report, the document) of a version name, a path, a document URL or a backend URL.

    A version name means the contract the fake serves for that version (`official`: the whole official
    document of that release instead); `backend`: `source` is a backend's base URL, asked for its document.
    """
    if backend:
        base = source.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ContractError(f"{source}: --url takes a backend's base URL (http:// or https://)")
        return base, _checked(read_document(base + DOCUMENT_PATH), source)
    if source in VERSION_NAMES:
        if official:
            return source, json.loads(read_official_document(source))
        return source, load_spec(served_contract(source))
    return source, _checked(read_document(source), source)


def _checked(document: dict[str, Any], source: str) -> dict[str, Any]:
    if not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{source}: not an OpenAPI 3 document")
    return document

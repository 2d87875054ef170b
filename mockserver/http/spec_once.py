"""Each contract document checked and resolved once per process, not once per copy.

Connexion validates a document whenever it builds a `Specification` from it: when an API is added, and
again for every copy its middlewares take while the stack is built at the first request (about seven
per API). The check is pure and the documents do not change, so a document already found valid is
not checked again; an invalid one still raises every time, with Connexion's own error. This is most of
the fake's start-up time (issue 12: process start to first 200 within 1 s).

Building a `Specification` also copies the document and resolves its `$ref`s, about 30 ms for ours, and
a process that makes many apps (the test suite, the version matrix) builds the same few documents again
for each. `remember_built_documents` keeps what the first build of a document made and gives later builds
of the same content copies of it (Connexion's own `deepcopy`, which keeps the resolved document's shared
parts shared), after the same in-place defaults on the caller's dict that Connexion sets. Copies, not the
same objects: Connexion writes into the documents it is given (a body schema gets the `components`), so
shared parts would carry one app's changes into the next; tests/perf/test_spec_once.py checks that apps
built and served leave the remembered documents as a fresh build makes them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from typing import Any

from connexion.spec import Specification

_VALID: set[tuple[type, str]] = set()
# Documents built: (class, content, base URI) -> (the copy kept as raw, the resolved document).
_BUILT: OrderedDict[tuple[type, str, str], tuple[dict[str, Any], dict[str, Any]]] = OrderedDict()
MAX_BUILT = 24  # every served contract and the control API's, with room for the harness's documents


def _fingerprint(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=repr).encode()).hexdigest()


def validate_each_document_once() -> None:
    """Wrap Connexion's document check with a memory of the documents found valid (idempotent)."""
    check = Specification.__dict__["_validate_spec"]
    if getattr(check.__func__, "remembers", False):
        return
    validate = check.__func__

    def once(cls: type, spec: dict[str, Any]) -> None:
        key = (cls, _fingerprint(spec))
        if key not in _VALID:
            validate(cls, spec)  # raises InvalidSpecification: nothing is remembered then
            _VALID.add(key)

    once.remembers = True  # type: ignore[attr-defined]
    Specification._validate_spec = classmethod(once)


def remember_built_documents() -> None:
    """Wrap Connexion's `Specification` construction with a memory of the documents built (idempotent)."""
    build = Specification.__init__
    if getattr(build, "remembers", False):
        return

    def __init__(self: Specification, raw_spec: dict[str, Any], *, base_uri: str = "") -> None:
        key = (type(self), _fingerprint(raw_spec), base_uri)
        known = _BUILT.get(key)
        if known is None:
            build(self, raw_spec, base_uri=base_uri)
            _BUILT[key] = (copy.deepcopy(self._raw_spec), copy.deepcopy(self._spec))
            while len(_BUILT) > MAX_BUILT:
                _BUILT.popitem(last=False)
            return
        _BUILT.move_to_end(key)
        raw, resolved = known
        self._raw_spec = copy.deepcopy(raw)
        self._set_defaults(raw_spec)  # as Connexion does to the dict it is given
        self._spec = copy.deepcopy(resolved)
        self._base_uri = base_uri

    __init__.remembers = True  # type: ignore[attr-defined]
    Specification.__init__ = __init__


def remembered() -> list[tuple[type, dict[str, Any], dict[str, Any]]]:
    """The documents built so far: class, raw and resolved (for tests that check they stayed as built)."""
    return [(key[0], raw, resolved) for key, (raw, resolved) in _BUILT.items()]

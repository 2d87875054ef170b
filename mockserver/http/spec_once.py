"""Each contract document checked and resolved once per process, not once per copy.

Connexion validates a document whenever it builds a `Specification` from it: when an API is added, and
again for every copy its middlewares take while the stack is built at the first request (about seven
per API). The check is pure and the documents do not change, so a document already found valid is
not checked again; an invalid one still raises every time, with Connexion's own error. The check was
most of the fake's start-up time, so the documents the package ships are not checked at start at all:
scripts/derive_contracts.py runs Connexion's check on each served document and records the fingerprints
that passed in `spec/index.json`, and a document whose content has one of them is taken as checked. Any
other document (`--spec`, an edited file) is checked as Connexion checks it.

Building a `Specification` also copies the document and resolves its `$ref`s, about 30 ms for ours, and
a process that makes many apps (the test suite, the version matrix) builds the same few documents again
for each. `remember_built_documents` keeps what the first build of a document made, pickled, and gives
later builds of the same content fresh objects unpickled from it, after the same in-place defaults on the
caller's dict that Connexion sets. Fresh objects, not shared ones: Connexion writes into the documents it
is given (a body schema gets the `components`), so shared parts would carry one app's changes into the
next; tests/perf/test_spec_once.py checks that apps built and served leave the remembered documents as a
fresh build makes them. Pickle keeps the parts the resolved document shares shared, as `deepcopy` does,
at a tenth of its cost (the documents are JSON data), and bytes cannot be changed by anyone.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import OrderedDict
from typing import Any

from connexion.spec import OpenAPISpecification, Specification

from mockserver.specs import packaged_index

_VALID: set[tuple[type, str]] = set()
# Connexion's own check, kept before it is wrapped (a document checked for the index is really checked).
_CONNEXION_CHECK = Specification.__dict__["_validate_spec"].__func__
# Documents built: (class, content, base URI) -> the pickled pair (the copy kept as raw, the resolved document).
_BUILT: OrderedDict[tuple[type, str, str], bytes] = OrderedDict()
MAX_BUILT = 24  # every served contract and the control API's, with room for the harness's documents


def fingerprint(spec: dict[str, Any]) -> str:
    """The document's content as one hash (the same dicts give the same text, whatever the install)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=repr).encode()).hexdigest()


def connexion_check(spec: dict[str, Any]) -> None:
    """Connexion's own check of an OpenAPI 3 document, never skipped: raises InvalidSpecification."""
    _CONNEXION_CHECK(OpenAPISpecification, spec)


def checked_fingerprints() -> frozenset[str]:
    """The fingerprints of the packaged documents `connexion_check` passed when the index was written."""
    return frozenset(packaged_index()["connexionChecked"])


def validate_each_document_once(checked: frozenset[str] = frozenset()) -> None:
    """Wrap Connexion's document check with a memory of the documents found valid, starting with the
    OpenAPI 3 documents whose fingerprints are `checked` (idempotent)."""
    _VALID.update((OpenAPISpecification, known) for known in checked)
    check = Specification.__dict__["_validate_spec"]
    if getattr(check.__func__, "remembers", False):
        return
    validate = check.__func__

    def once(cls: type, spec: dict[str, Any]) -> None:
        key = (cls, fingerprint(spec))
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
        key = (type(self), fingerprint(raw_spec), base_uri)
        known = _BUILT.get(key)
        if known is None:
            build(self, raw_spec, base_uri=base_uri)
            _BUILT[key] = pickle.dumps((self._raw_spec, self._spec), protocol=pickle.HIGHEST_PROTOCOL)
            while len(_BUILT) > MAX_BUILT:
                _BUILT.popitem(last=False)
            return
        _BUILT.move_to_end(key)
        self._raw_spec, self._spec = pickle.loads(known)
        self._set_defaults(raw_spec)  # as Connexion does to the dict it is given
        self._base_uri = base_uri

    __init__.remembers = True  # type: ignore[attr-defined]
    Specification.__init__ = __init__


def remembered() -> list[tuple[type, dict[str, Any], dict[str, Any]]]:
    """The documents built so far: class, raw and resolved (for tests that check they stayed as built)."""
    return [(key[0], *pickle.loads(pair)) for key, pair in _BUILT.items()]

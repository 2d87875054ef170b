"""The project's declared fix-ups of the official Run:ai documents, each with its reason, in one place.

The official documents are published for code generators, not for fuzzers or servers. Two tables list the
fix-ups (the functions are in `contracts/fixup_rules.py`):

- `READING` is applied in memory when `contracts run` reads a document (ours or an official one); every
  change it makes is reported, never applied silently.
- `SERVING` is `READING` plus what the served contracts need beyond it; `scripts/derive_contracts.py`
  applies it when it writes `spec/` from the official documents.

A fix-up takes the document and changes it in place; it returns one note per kind of change it made
(nothing when the document needed none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.docwalk import METHODS, operation_items
from contracts.fixup_rules import (
    TOKEN_OPERATION,
    bare_references,
    client_credentials_grant,
    contradictory_types,
    cut_recursion,
    department_ids_as_used,
    document_malformed_body_answers,
    document_malformed_query_answers,
    drop_field_examples,
    exempt_token_operation,
    merge_compositions,
    null_in_nullable_enums,
    product_name_in_field_names,
    type_untyped_objects,
    unauthorized_answers,
)

__all__ = [
    "METHODS",
    "READING",
    "SERVING",
    "TOKEN_OPERATION",
    "FixUp",
    "apply",
    "bare_references",
    "client_credentials_grant",
    "contradictory_types",
    "cut_recursion",
    "department_ids_as_used",
    "document_malformed_body_answers",
    "document_malformed_query_answers",
    "drop_field_examples",
    "exempt_token_operation",
    "merge_compositions",
    "null_in_nullable_enums",
    "operation_items",
    "product_name_in_field_names",
    "type_untyped_objects",
    "unauthorized_answers",
]


@dataclass(frozen=True)
class FixUp:
    name: str
    reason: str
    apply: Callable[[dict[str, Any]], list[str]]


READING = (
    FixUp(
        "token-unauthenticated",
        "The token endpoint cannot demand the token it hands out; the official documents inherit the global "
        "bearer requirement there only because they never override it.",
        exempt_token_operation,
    ),
    FixUp(
        "malformed-query-400",
        "A fuzzer sends malformed queries (`sortOrder=AAA`, a limit of -1) and any backend refuses them with "
        "400; the official documents declare that answer on the org-unit lists but not on the workloads "
        "lists or the cluster reads. The answer added is the one the document gives its other malformed "
        "queries.",
        document_malformed_query_answers,
    ),
    FixUp(
        "malformed-body-400",
        "The inference PATCH (2.19 and later) takes a body but documents no 400, so a body that is not an "
        "InferenceUpdateRequest object (a fuzzer sends `[null, null]`), or a new spec breaking the rules a "
        "create is held to, has no documented answer; any backend refuses it. The answer added is the one "
        "the document gives its other malformed requests.",
        document_malformed_body_answers,
    ),
    FixUp(
        "department-ids",
        "2.18's department list and its parent/child links give a department's `id` the uuid format, while "
        "the same document's department read, the department path parameter, the trainings' `departmentId` "
        'and every example use ids such as "2" (later documents dropped the format from the list).',
        department_ids_as_used,
    ),
    FixUp(
        "typed-objects",
        "Schemas that declare properties but no type accept a bare number or string (the official "
        "TrainingCreationRequest is an allOf of type-less property lists), so `5` would pass as a create "
        "body.",
        type_untyped_objects,
    ),
    FixUp(
        "nullable-enums",
        "OpenAPI 3.0.3 lets an enum restrict a nullable value too, so null is valid only when listed; the "
        "Run:ai documents mark optional enums nullable without listing it, and a validator would refuse the "
        "null the API accepts.",
        null_in_nullable_enums,
    ),
)


# Null is added to nullable enums last: merging an allOf composition makes new ones (a nullable field that
# referred to a plain enum).
SERVING = (
    *(fixup for fixup in READING if fixup.apply is not null_in_nullable_enums),
    FixUp(
        "unauthorized-answers",
        "Every secured operation answers 401 without a valid token; 2.18 covers that on its node-pool list "
        "only with `default`.",
        unauthorized_answers,
    ),
    FixUp(
        "client-credentials",
        "Later versions add the `client_credentials` grant and clients already send it (NeMo-Run, runapy); "
        "the fake accepts it in every version.",
        client_credentials_grant,
    ),
    FixUp(
        "product-name-in-fields",
        "2.21's document names a project field `enforceRun:aiScheduler` (and requires it): the product name "
        "substituted into the field name by a text replacement. 2.22 spells it `enforceRunaiScheduler`, the "
        "name the fake answers with in every version.",
        product_name_in_field_names,
    ),
    FixUp(
        "bare-references",
        "In OpenAPI 3.0 a reference replaces its whole object, so keys beside `$ref` (a `type`, `nullable`, "
        "a description, 2.21's misspelt `depracted`) mean nothing, and Connexion refuses a document where a "
        "schema has them.",
        bare_references,
    ),
    FixUp(
        "contradictory-types",
        "2.19 and 2.20 declare a workload's `phaseReason` as `type: object` composed of a string enum, which "
        "no value satisfies; 2.21 corrects it to a string. Where a schema's own type contradicts its allOf "
        "parts, the parts' type is kept.",
        contradictory_types,
    ),
    FixUp(
        "recursion-cut",
        "Connexion inlines every $ref to serve GET /api/v1/openapi.json; a schema that contains itself (a "
        "department's parent's parent) would make that a 500. The recursive link becomes a plain object.",
        cut_recursion,
    ),
    FixUp(
        "merged-compositions",
        "The fast path compiles a request check only for plain object schemas (allOf goes through the "
        "slower validator), and a flat schema reads field by field; the fields, types and constraints stay "
        "those of the official document (tests/api/test_contract_document.py).",
        merge_compositions,
    ),
    FixUp(
        "field-examples",
        "The official field examples do not make a valid request together (a GPU portion beside a MIG "
        "profile, placeholder strings), and a fuzzer's explicit-examples phase sends them as positive "
        "data; the served contract shows whole examples of its own, each validated (spec/served.yaml).",
        drop_field_examples,
    ),
    *(fixup for fixup in READING if fixup.apply is null_in_nullable_enums),
)


def apply(fixups: tuple[FixUp, ...], document: dict[str, Any]) -> list[str]:
    """Apply `fixups` in order; the notes of those that changed something."""
    return [note for fixup in fixups for note in fixup.apply(document)]

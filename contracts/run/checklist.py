"""Which checks judged the run, each with what it judges: the reports list them all, so that a reader
knows what "conforms" covered."""

from __future__ import annotations

from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts.oracle.checks import ENABLE
from contracts.oracle.undeclared import UndeclaredMethodAnswer
from contracts.run.outcome import CheckRan, ScenarioResult
from contracts.run.probes import ENABLE_PROBES

# Schemathesis' built-in checks, in our words (several carry no description of their own).
BUILT_IN = {
    "not_a_server_error": "no answer is a 5xx",
    "status_code_conformance": "every status code answered is one the operation documents",
    "content_type_conformance": "every answer's Content-Type is one the operation documents for it",
    "response_headers_conformance": "headers the operation documents as required are present and valid",
    "response_schema_conformance": "every documented answer's body matches its schema",
    "negative_data_rejection": "requests that break the schema are refused with a 4xx",
    "positive_data_acceptance": "requests that follow the schema are accepted (allowed refusals are "
    "listed per operation)",
    "missing_required_header": "a request without a required header is refused",
    "unsupported_method": "a method the path does not offer answers 405",
    "allow_header_conformance": "a 405 answer's Allow header lists the methods the path offers",
    "use_after_free": "a deleted resource is not served again",
    "ensure_resource_availability": "a resource just created can be read",
    "ignored_auth": "an operation that requires authentication refuses requests without it",
    "object_level_authorization": "one identity cannot read what another created",
}
KIND_OURS, KIND_BUILT_IN, KIND_SCENARIO = "contracts", "schemathesis", "scenario"


def _description(check: object) -> str:
    name = getattr(check, "__name__", str(check))
    if name in BUILT_IN:
        return BUILT_IN[name]
    doc = (getattr(check, "__doc__", None) or "").strip().split("\n\n")[0]
    return " ".join(doc.split()) or name


def checks_run(schema: OpenApiSchema, scenarios: list[ScenarioResult]) -> list[CheckRan]:
    """Every check enabled in the run's configuration (ours only where the run switched them on), and
    every scenario that ran."""
    load_all_checks()
    config = schema.config.checks_config_for()
    ours = {**ENABLE, **ENABLE_PROBES, UndeclaredMethodAnswer.__name__: {}}
    found = []
    for check in CHECKS.get_all():
        name = getattr(check, "__name__", str(check))
        if name not in BUILT_IN and name not in ours:
            continue  # registered by someone else in this process: not part of a contracts run
        if not config.get_by_name(name=name).enabled:
            continue
        kind = KIND_BUILT_IN if name in BUILT_IN else KIND_OURS
        found.append(CheckRan(name, kind, _description(check)))
    found += [
        CheckRan(f"scenario:{s.name}", KIND_SCENARIO, s.title)
        for s in scenarios
        if s.outcome != "skipped" and not (s.steps and s.steps[0].startswith("not run:"))
    ]
    return found

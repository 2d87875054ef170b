"""The verified fake: the harness passes our fake, reproducibly, also with the official 2.18 document as
the contract; against the latest document it reports exactly the known version differences."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from contracts.backend.journal import leftovers
from contracts.cli import main
from mockserver.specs import load_spec
from tests.contracts.conftest import OFFICIAL_218, OFFICIAL_LATEST
from tests.contracts.run_reports import every_kind_was_fuzzed, findings

pytestmark = [pytest.mark.slow, pytest.mark.spread]  # each test starts its own backends
QUICK = ["--phases", "examples,fuzzing,stateful", "--max-examples", "5"]


def test_the_default_run_passes_our_fake(tmp_path: Path) -> None:
    """`contracts run` as a user types it: all phases, all scenarios, our contract, our fake; five cases
    per operation and phase instead of twenty (the coverage phase, whose cases do not depend on that
    number, is most of the run either way)."""
    assert main(["run", "--max-examples", "5", "--report-dir", str(tmp_path)]) == 0, findings(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Contract run: the backend conforms")
    assert "| lifecycle | passed |" in report and "| Running | Stopping |" in report
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert findings(tmp_path) == set()
    journals = list(tmp_path.glob("journal-*.jsonl"))
    assert len(journals) == 1 and leftovers(journals[0]) == []
    every_kind_was_fuzzed(tmp_path, "2.18")


def test_same_seed_same_report(tmp_path: Path) -> None:
    # Two scenarios (one training's lifecycle, one preemption) stand for the rest: same code paths.
    scenarios = ["--scenarios", "lifecycle,preemption"]
    for attempt in ("a", "b"):
        argv = ["run", "--seed", "3", *QUICK, *scenarios, "--report-dir", str(tmp_path / attempt)]
        assert main(argv) == 0
    for name in ("junit.xml", "report.md", "report.html"):
        # JUnit carries each case's time; nothing else may differ.
        first, second = (
            re.sub(r' time="[0-9.]+"', "", (tmp_path / attempt / name).read_text()).splitlines()
            for attempt in ("a", "b")
        )
        assert first == second, "\n".join(difflib.unified_diff(first, second, lineterm=""))


def test_the_official_218_document_passes_our_fake(tmp_path: Path) -> None:
    # Every operation of the official document, fewer cases each: the default run above already fuzzes
    # our contract, derived from this same document, at the default depth.
    # The coverage phase (thousands of requests) is the default run's, above, on the contract derived from
    # this document; here the other phases and every scenario.
    phases = ["--phases", "examples,fuzzing,stateful"]
    argv = ["run", "--spec", str(OFFICIAL_218), *phases, "--max-examples", "5", "--report-dir", str(tmp_path)]
    assert main(argv) == 0, findings(tmp_path)
    assert "Fix-ups applied to the spec in memory" in (tmp_path / "report.md").read_text()


# The fake implements 2.18; the latest API answers create with 202 and delete with 202 + body.
LATEST_DIVERGENCES = {
    "status_code_conformance",
    "scenario:lifecycle",
    "scenario:gpu-release",
    "scenario:backoff",
    "scenario:preemption",
    "scenario:every-phase",
    "scenario:views",
    "scenario:workspace-completes",
    "scenario:distributed-runs",
    "scenario:distributed-gang-waits",
    # Inference PATCH is 2.19+: a 2.18 fake answers 405.
    "scenario:inference-updates",
    # Fields only the latest API defines (nodeAffinityRequired …) are not kept by a 2.18 fake, so a read
    # does not give them back: checked below to be the only lifecycle finding.
    "TrainingLifecycle",
}
# The look-ups whose answers changed between the versions: the node-pool list moved to /api/v1/node-pools
# (absent from 2.18), org units gained `totalResources` and `description`, workloads `priority`, and some
# query parameters gained constraints 2.18 does not have; the org-unit counts are not in 2.18.
LATEST_LOOKUP_DIFFERENCES = {
    "GET /api/v1/node-pools",
    "GET /api/v1/org-unit/departments",
    "GET /api/v1/org-unit/departments/{departmentId}",
    "GET /api/v1/org-unit/projects",
    "GET /api/v1/org-unit/projects/{projectId}",
    "GET /api/v1/workloads",
    "GET /api/v1/workloads/{workloadId}",
    "GET /api/v1/clusters",
    "GET /api/v1/workloads/{workloadId}/events",
    "GET /api/v1/org-unit/departments/count",
    "GET /api/v1/org-unit/projects/count",
}
# Every workload kind shares the create/delete status changes (and distributed suspend/resume is 2.20+).
WORKLOAD_KIND_PATHS = (
    *(f"/api/v1/workloads/{kind}" for kind in ("trainings", "workspaces", "distributed", "inferences")),
    "/api/v1/token",
)
# Operations of later versions that a 2.18 fake does not have (its 404/405 fail every check on them),
# and the scenario that uses one of them.
LATER_OPERATIONS = {
    "POST /api/v1/workloads/distributed/{workloadId}/suspend",
    "POST /api/v1/workloads/distributed/{workloadId}/resume",
    "PATCH /api/v1/workloads/inferences/{workloadId}",
    "inference-updates",
}


def failing_operations(report_dir: Path) -> set[str]:
    """The operations (JUnit case names such as `GET /api/v1/clusters`) with a finding."""
    root = ElementTree.parse(report_dir / "junit.xml").getroot()
    return {
        str(case.get("name"))
        for case in root.iter("testcase")
        if case.get("classname") == "contracts.operations" and case.find("failure") is not None
    }


def test_the_latest_document_finds_only_the_version_differences(tmp_path: Path) -> None:
    assert main(["run", "--spec", str(OFFICIAL_LATEST), *QUICK, "--report-dir", str(tmp_path)]) == 1
    junit = (tmp_path / "junit.xml").read_text()
    assert "delete_training answered 204, expected 202" in junit
    assert "Received: 200" in junit and "Received: 204" in junit
    failing = failing_operations(tmp_path)
    lookups = {label for label in failing if not label.split(" ", 1)[1].startswith(WORKLOAD_KIND_PATHS)}
    assert lookups <= LATEST_LOOKUP_DIFFERENCES, lookups - LATEST_LOOKUP_DIFFERENCES
    # The look-ups are fuzzed: the latest node-pool list, which 2.18 does not have, is found missing.
    assert "GET /api/v1/node-pools" in lookups
    trainings_findings = findings(tmp_path, leaving_out=frozenset(lookups | LATER_OPERATIONS))
    assert trainings_findings <= LATEST_DIVERGENCES, trainings_findings - LATEST_DIVERGENCES
    report = (tmp_path / "report.md").read_text()
    lifecycle = re.findall(
        r"GET returns a different spec: spec\.(\w+) was sent as .+?, came back as None", report
    )
    known_218 = set(_spec_fields_218())
    assert not set(lifecycle) & known_218, set(lifecycle) & known_218
    if "TrainingLifecycle" in trainings_findings:
        assert lifecycle, "a lifecycle finding other than a latest-only spec field not kept"


def _spec_fields_218() -> list[str]:
    """The spec fields a 2.18 create may carry, as its served contract declares them."""
    contract = load_spec("trainings-2.18.yaml")
    schema = contract["paths"]["/api/v1/workloads/trainings"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]

    def resolve(node: dict) -> dict:
        return contract["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node

    fields: list[str] = []

    def collect(node: dict) -> None:
        node = resolve(node)
        fields.extend(node.get("properties", {}))
        for part in node.get("allOf", []):
            collect(part)

    collect(
        resolve(resolve(schema)["properties"]["spec"]) if "properties" in resolve(schema) else resolve(schema)
    )
    return fields


def test_the_stateful_phase_alone_follows_the_workloads_it_creates(tmp_path: Path) -> None:
    """Its chains start with a create that is accepted (positive data, an image where the spec has none)
    and go on to act on that workload (negative data there made every chain end at its first step).
    Schemathesis also calls the operations on one workload with made-up ids, and with four kinds to choose
    from a seed's 20 chains may follow none of its creates (seed 0 does not): a few seeds must."""
    tables = []
    for seed in ("0", "1", "2"):
        report_dir = tmp_path / seed
        argv = [
            "run",
            "--phases",
            "stateful",
            "--scenarios",
            "",
            "--seed",
            seed,
            "--report-dir",
            str(report_dir),
        ]
        assert main(argv) == 0
        report = (report_dir / "report.md").read_text()
        table = report.split("## Coverage: operations on existing workloads, by the phase they were in")[1]
        reached = [
            int(count)
            for line in table.split("## ")[0].splitlines()
            if line.startswith("| ") and "{workloadId}" in line
            for count in re.findall(r"\| (\d+) ", line + " ")
        ]
        if sum(reached) > 0:
            return
        tables.append(table)
    pytest.fail("no seed's stateful phase acted on a workload it created:\n" + "\n".join(tables))

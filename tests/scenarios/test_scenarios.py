"""Scenario files: the shipped examples pass, a wrong expectation fails naming its step, `within` waits
exactly as long as it says, bad files are refused with the file and the step, and runs are deterministic."""

from __future__ import annotations

import copy
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.scenario.actions import submittable_kinds
from mockserver.scenario.cli import main as scenario_main
from mockserver.scenario.model import ScenarioError, load_scenario, scenario_from_dict
from mockserver.scenario.render import render_html
from mockserver.scenario.runner import run_scenario
from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "scenarios"
FILES = sorted(EXAMPLES.glob("*.scenario.yaml"))
GPU = {"image": "ubuntu", "compute": {"gpuDevicesRequest": 1}}


def _training(name: str, project: str = "1", spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": "training", "as": name, "body": {"name": name, "projectId": project, "spec": spec or GPU}}


def _scenario(*steps: dict[str, Any], **top: Any) -> Any:
    return scenario_from_dict({"name": "test", "api": "latest", "steps": list(steps), **top}, "test.yaml")


def test_the_examples_are_there() -> None:
    assert len(FILES) >= 5


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_example_scenario_passes(path: Path) -> None:
    result = run_scenario(load_scenario(path))
    assert result.passed, "\n".join(str(f) for f in result.failures)
    assert result.expectations >= 3


def test_a_wrong_expectation_fails_with_the_name_of_its_step() -> None:
    data = yaml.safe_load((EXAMPLES / "node-failure.scenario.yaml").read_text())
    wrong = copy.deepcopy(data)
    for step in wrong["steps"]:
        if step.get("name") == "the training runs on node-default-1":
            step["expect"]["nodes"] = ["node-default-2"]
    result = run_scenario(scenario_from_dict(wrong, "wrong.yaml", EXAMPLES))
    assert [f.step.name for f in result.failures] == ["the training runs on node-default-1"]
    message = str(result.failures[0])
    assert "'the training runs on node-default-1'" in message
    assert "trainer's pods are on node-default-1, expected node-default-2" in message


def test_within_passes_at_the_first_instant_it_holds_and_fails_after_its_deadline() -> None:
    # Creating 1 s, a scheduling cycle, Initializing 2 s: Running from about 4 s after submission.
    early = _scenario(
        {"at": 0, "submit": _training("t")},
        {"at": 0, "name": "too soon", "expect": {"workload": "t", "phase": "Running", "within": 2}},
        {"at": 0, "name": "in time", "expect": {"workload": "t", "phase": "Running", "within": 10}},
    )
    result = run_scenario(early)
    assert [f.step.name for f in result.failures] == ["too soon"]
    assert result.failures[0].at == 2
    assert "t is Initializing, expected Running (still, 2s after 0s)" in result.failures[0].message


def test_an_action_on_an_unknown_name_fails_its_step_and_the_run_goes_on() -> None:
    result = run_scenario(
        _scenario(
            {"at": 0, "name": "suspend a ghost", "suspend": "ghost"},
            {"at": 0, "submit": _training("real")},
            {"at": 5, "expect": {"workload": "real", "phase": "Running", "within": 10}},
        )
    )
    assert len(result.failures) == 1
    assert "no workload named 'ghost'" in str(result.failures[0])


def test_a_submission_the_api_would_refuse_fails_with_the_api_s_words() -> None:
    result = run_scenario(
        _scenario({"at": 0, "name": "bad project", "submit": _training("t", project="999")})
    )
    assert len(result.failures) == 1 and "submit was refused" in str(result.failures[0])
    assert "999" in str(result.failures[0])


def test_kinds_are_found_by_name_with_the_api_s_parser() -> None:
    kinds = submittable_kinds()
    assert {"training", "workspace"} <= set(kinds)
    assert all(kind.name == name for name, (kind, _) in kinds.items())
    result = run_scenario(
        _scenario(
            {"at": 0, "name": "a kind nobody serves", "submit": {**_training("x"), "kind": "spaceship"}}
        )
    )
    assert "unknown kind 'spaceship'" in str(result.failures[0]) and "training" in str(result.failures[0])


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([{"at": 0}], "steps/0"),
        ([{"at": -1, "suspend": "x"}], "steps/0/at"),
        ([{"at": 0, "suspend": "x", "resume": "x"}], "a step does exactly one thing"),
        ([{"at": 0, "expect": {"phase": "Running"}}], "phase needs a workload"),
        ([{"at": 0, "teleport": "x"}], "steps/0"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_step(steps: list[dict[str, Any]], words: str) -> None:
    with pytest.raises(ScenarioError, match=r"test\.yaml") as refused:
        _scenario(*steps)
    assert words in str(refused.value)


def test_a_spare_node_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ScenarioError, match="spareNodes: no node named nowhere"):
        run_scenario(_scenario({"at": 0, "addNode": "nowhere"}, spareNodes=["nowhere"]))


def test_the_same_scenario_gives_the_same_timeline() -> None:
    path = EXAMPLES / "quickstart-fairness.scenario.yaml"
    first, second = run_scenario(load_scenario(path)), run_scenario(load_scenario(path))
    assert first.timeline.pods == second.timeline.pods and first.timeline.pods
    assert first.timeline.phases == second.timeline.phases


def test_the_timeline_is_one_self_contained_page(tmp_path: Path) -> None:
    result = run_scenario(load_scenario(EXAMPLES / "node-failure.scenario.yaml"))
    page = render_html(result.timeline)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
    assert "node-default-1 GPU 3" in page and "node node-default-1 down" in page
    # Each pod of the evicted training, before and after, is drawn on its node's GPUs.
    assert "trainer pod 0 on node-default-1 (GPU 0), 2s to 20s" in page
    assert "trainer pod 0 on node-default-2 (GPU 0), 22s to 140s" in page


def test_the_command_exits_by_the_worst_outcome_and_writes_timelines(tmp_path: Path, capsys) -> None:
    wrong = yaml.safe_load((EXAMPLES / "gpu-failure.scenario.yaml").read_text())
    wrong["cluster"] = str(EXAMPLES / "quickstart-cluster.yaml")
    wrong["steps"][1]["expect"]["phase"] = "Failed"
    (tmp_path / "wrong.scenario.yaml").write_text(yaml.safe_dump(wrong))
    (tmp_path / "broken.scenario.yaml").write_text("name: x\nsteps: []\n")
    good = EXAMPLES / "priority-preemption.scenario.yaml"
    assert scenario_main(["run", str(good), "--timeline", str(tmp_path / "one.html")]) == 0
    assert (tmp_path / "one.html").read_text().count("<svg") == 1
    assert (
        scenario_main(
            ["run", str(good), str(tmp_path / "wrong.scenario.yaml"), "--timeline", str(tmp_path / "all")]
        )
        == 1
    )
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["priority-preemption.html", "wrong.html"]
    assert scenario_main(["run", str(tmp_path / "broken.scenario.yaml")]) == 2
    shown = capsys.readouterr().out
    assert "PASS" in shown and "FAIL" in shown and "ERROR" in shown
    assert "step 2 'expect one at 10s'" in shown


def test_mockserver_scenario_is_a_subcommand_of_the_server_command() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver.cli",
            "scenario",
            "run",
            str(EXAMPLES / "node-failure.scenario.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("PASS")


def test_pytest_collects_scenario_files_as_items(tmp_path: Path) -> None:
    for name in (
        "node-failure.scenario.yaml",
        "quickstart-fairness.scenario.yaml",
        "quickstart-cluster.yaml",
    ):
        (tmp_path / name).write_text((EXAMPLES / name).read_text())
    wrong = (
        (EXAMPLES / "node-failure.scenario.yaml")
        .read_text()
        .replace("phase: Running, nodes: [node-default-1]", "phase: Failed, nodes: [node-default-1]")
    )
    (tmp_path / "wrong.scenario.yaml").write_text(wrong)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    # Once the package is installed with its entry point the plugin loads by itself (naming it again
    # with -p would register it twice).
    installed = any(e.name == "runai_scenarios" for e in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "mockserver.scenario.pytest_plugin"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-p", "no:xdist", "-q",
         "--scenario-timelines", str(tmp_path / "pages"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 passed" in done.stdout and "1 failed" in done.stdout
    assert "'the training runs on node-default-1'" in done.stdout
    assert "trainer is Running, expected Failed" in done.stdout
    assert len(list((tmp_path / "pages").glob("*.html"))) == 3


def test_the_schema_is_a_valid_json_schema() -> None:
    import json

    from jsonschema import Draft202012Validator

    from mockserver.scenario.model import SCHEMA_FILE

    Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


def test_loading_the_plugin_does_not_load_the_fake() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, mockserver.scenario.pytest_plugin; "
         "print(sorted(m for m in sys.modules if m.startswith('mockserver.')))"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "['mockserver.scenario', 'mockserver.scenario.pytest_plugin']"


def test_a_kind_or_action_the_version_does_not_serve_is_refused() -> None:
    from dataclasses import replace

    from mockserver.cluster.clock import ManualClock
    from mockserver.cluster.cluster import FakeCluster
    from mockserver.config import load_config
    from mockserver.scenario.actions import Actions
    from mockserver.scenario.model import Action, Step
    from mockserver.versions import VERSIONS

    config = load_config()
    cluster = FakeCluster(config.topology, config.timing, ManualClock(), 0)
    version = replace(VERSIONS["latest"], actions={"training": frozenset({"delete"})})
    actions = Actions(cluster, version)
    actions.perform(Step(0, "submit", Action.SUBMIT, _training("t")))
    with pytest.raises(ScenarioError, match="has no suspend for training workloads"):
        actions.perform(Step(0, "suspend", Action.SUSPEND, "t"))
    workspace = {**_training("w"), "kind": "workspace"}
    with pytest.raises(ScenarioError, match="serves no workspace workloads"):
        actions.perform(Step(0, "submit", Action.SUBMIT, workspace))

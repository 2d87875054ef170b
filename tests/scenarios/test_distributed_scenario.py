"""The issue's "done when", shipped as an example: a node dies under a running distributed training; the
gang is evicted whole, waits, and runs again on the other node of its pool — and its timeline page shows
the master and the worker by name on the GPUs they held before and after."""

from __future__ import annotations

from pathlib import Path

import yaml

from mockserver.scenario.cli import main as scenario_main
from mockserver.scenario.model import load_scenario, scenario_from_dict
from mockserver.scenario.runner import run_scenario
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "scenarios" / "distributed-node-loss.scenario.yaml"


def test_the_example_passes_and_the_gang_moved_whole() -> None:
    result = run_scenario(load_scenario(EXAMPLE))
    assert result.passed, "\n".join(str(f) for f in result.failures)
    assert result.expectations == 3
    spans = {(s.label, s.node) for s in result.timeline.pods}
    assert spans == {
        ("pod gang-master-0", "node-a-1"),
        ("pod gang-worker-0", "node-a-1"),
        ("pod gang-master-0", "node-a-2"),
        ("pod gang-worker-0", "node-a-2"),
    }
    phases = [p.phase for p in result.timeline.phases if p.workload == "gang"]
    assert phases[-3:] == ["Pending", "Initializing", "Running"] and "Terminating" in phases


def test_its_timeline_page_names_the_workload_and_its_pods(tmp_path: Path, capsys) -> None:
    page = tmp_path / "distributed.html"
    assert scenario_main(["run", str(EXAMPLE), "--timeline", str(page)]) == 0
    html = page.read_text()
    assert "distributed node loss evicts the gang" in html and "node node-a-1 down" in html
    assert "gang pod gang-master-0 on node-a-1 (GPU 0), 2s to 20s" in html
    assert "gang pod gang-worker-0 on node-a-2 (GPU 4), 22s to 140s" in html
    assert "gang: Terminating 20s to 21s — node node-a-1 is not ready" in html
    assert "PASS" in capsys.readouterr().out


def test_without_a_second_node_the_two_minute_expectation_fails_naming_its_step() -> None:
    # The same file with node-a-2 down too: the gang cannot run again, and the step says so.
    data = yaml.safe_load(EXAMPLE.read_text())
    data["steps"].insert(0, {"at": 15, "nodeDown": "node-a-2"})
    result = run_scenario(scenario_from_dict(data, "busy.yaml", EXAMPLE.parent))
    failed = [f.step.name for f in result.failures]
    assert "it runs again on node-a-2 within 2 minutes" in failed
    assert "(still, 120s after 20s)" in str(result.failures[-1])


def test_a_load_that_never_ran_does_not_break_the_timeline() -> None:
    # A load has no phase history of its own until it is placed; the timeline drew nothing for it, not a crash.
    data = yaml.safe_load(EXAMPLE.read_text())
    data["steps"].insert(0, {"at": 0, "load": {"as": "huge", "projectId": "3", "gpus": 64}})
    result = run_scenario(scenario_from_dict(data, "huge.yaml", EXAMPLE.parent))
    assert result.passed, "\n".join(str(f) for f in result.failures)
    assert not [p for p in result.timeline.phases if p.workload == "huge"]

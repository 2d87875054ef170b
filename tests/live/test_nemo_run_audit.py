"""The client audit on a recorded NeMo-Run 0.11.1 run: its `DGXCloudExecutor`, unmodified, in its default
launch with two nodes, against `mockserver --audit FILE` on a real-time clock (no control API). The run
creates the data mover and the distributed training, polls it to Running and calls `cancel()` — which
sends GET to the POST-only `…/distributed/{id}/suspend`. The audit written at stop flags that GET by name,
as a request the contract does not allow, and the JUnit beside it fails that check. (runapy's user flow
is flagged with nothing: tests/scenarios/test_audit.py.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from contracts.backend.server import LocalServer, fake_command
from tests.live.test_nemo_run import _nemo_python
from tests.live.test_nemo_run_distributed import DRIVER, SPEED, WAIT_SECONDS

pytestmark = [pytest.mark.slow, pytest.mark.waits(10)]  # a launch on a real-time clock
SUSPEND = "GET /api/v1/workloads/distributed/{id}/suspend"


def test_the_audit_flags_nemo_run_s_get_on_the_post_only_suspend(tmp_path: Path) -> None:
    report = tmp_path / "audit.md"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = {**os.environ, "NEMORUN_HOME": str(tmp_path)}
    base = fake_command(seed=17, clock="realtime", speed=SPEED, api="latest", real_deployment=True)
    with LocalServer.start(lambda port: [*base(port), "--audit", str(report)]) as live:
        ran = subprocess.run(
            [str(_nemo_python()), str(driver), live.base_url, str(tmp_path), str(WAIT_SECONDS)],
            capture_output=True, text=True, env=env, timeout=WAIT_SECONDS + 90, check=False,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr[-2000:]
    run: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    assert run["phases"][-1] == "Running" and run["after_cancel"] == "Running", run

    page = report.read_text()
    section = page.split("## Requests the contract does not allow", 1)[-1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| mock-app |")]
    suspend = [row for row in rows if f"`{SUSPEND}`" in row]
    assert len(suspend) == 1, page
    assert "the contract serves no GET on this path (answered 405)" in suspend[0]
    # Only NeMo-Run's own requests are in it, and its create, polls and data mover were all allowed.
    assert rows == suspend, page
    suite = ElementTree.parse(report.with_suffix(".xml")).getroot()
    failed = {case.get("name"): case.find("failure") for case in suite}
    contract = failed["Requests the contract does not allow"]
    assert contract is not None and SUSPEND in (contract.text or "")

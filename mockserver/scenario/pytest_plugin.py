"""pytest plugin (entry point `runai_scenarios`): every `*.scenario.yaml` pytest finds is a test item.

The item runs the scenario on the manual clock and fails with every failed expectation, each naming its
step; `--scenario-timelines DIR` writes each scenario's timeline page there. Enable it without the entry
point with `-p mockserver.scenario.pytest_plugin`. Light to load: the runner is imported only when a
scenario file is collected and run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the runner loads the fake cluster: only a session with scenario files pays for it
    from mockserver.scenario.runner import ScenarioResult

SUFFIX = ".scenario.yaml"
TIMELINES_OPTION = "--scenario-timelines"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        TIMELINES_OPTION,
        metavar="DIR",
        default=None,
        help="write the timeline of every *.scenario.yaml test into DIR as <name>.html",
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIX):
        collected: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return collected
    return None


class ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.scenario.name)
        self.result = result


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield ScenarioItem.from_parent(self, name=self.path.name[: -len(SUFFIX)])


class ScenarioItem(pytest.Item):
    def runtest(self) -> None:
        from mockserver.scenario.model import load_scenario
        from mockserver.scenario.render import render_html
        from mockserver.scenario.runner import run_scenario

        result = run_scenario(load_scenario(self.path))
        folder = self.config.getoption(TIMELINES_OPTION)
        if folder:
            target = Path(folder) / f"{self.name}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                render_html(result.timeline, [str(f) for f in result.failures]), encoding="utf-8"
            )
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        error = excinfo.value
        if isinstance(error, ScenarioFailed):
            lines = [f"scenario '{error.result.scenario.name}' ({self.path.name}):"]
            return "\n".join(lines + [f"  {failure}" for failure in error.result.failures])
        from mockserver.scenario.model import ScenarioError

        if isinstance(error, ScenarioError):
            return f"scenario {self.path.name} cannot run: {error}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"

"""A config the server cannot honour is refused at start-up, naming the file, the path in it and the problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.cli import main
from mockserver.cluster.errors import ConfigError
from mockserver.config import DEFAULT_CONFIG, load_config


def _write(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "my.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_default_config_is_accepted_as_written(tmp_path: Path) -> None:
    # The refusals below would be worthless if they also refused the shipped file rewritten.
    config = load_config(_write(tmp_path, lambda data: None))
    assert [a.client_id for a in config.accounts] == ["mock-app", "limited-app"]


def test_non_utf8_file_is_refused_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        DEFAULT_CONFIG.read_text(encoding="utf-8").replace("research", "récherche").encode("latin-1")
    )
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: (file): is not UTF-8 text" in err
    assert "Traceback" not in err and "UnicodeDecodeError" not in err


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda data: data.update(bogusKey=1))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert refused.value.path == "bogusKey"
    assert "unknown key" in refused.value.problem


def test_misspelt_node_key_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda data: data["nodes"][3].update(gpuz=8))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).startswith(f"{path}: nodes[3].gpuz: unknown key")
    assert "gpus" in refused.value.problem  # the message lists what is allowed


def test_account_naming_a_missing_project_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda data: data["accounts"][1].update(projects=["3", "99"]))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert refused.value.path == "accounts[1].projects"
    assert "'99'" in refused.value.problem


def test_refusal_through_the_command_exits_2_before_any_banner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, lambda data: data["cluster"].update(colour="blue"))
    assert main(["--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err.strip()
        == f"mockserver: invalid configuration: {path}: cluster.colour: unknown key (known: id, name)"
    )

"""The run's probes without a valid token: once per operation and run, reported to the run's stream; and
the built-in check that probed after every 2xx (uncounted) is off."""

from __future__ import annotations

from contracts.run import probes
from contracts.run.events import CaseAnswered, Event
from contracts.run.fuzz import DISABLED_CHECKS, schemathesis_config
from contracts.run.settings import FuzzSettings


def test_each_operation_is_probed_once_per_run() -> None:
    seen: list[Event] = []
    with probes.probes_reported_to(seen.append):
        assert probes._PROBING.first_time("GET /x")
        assert not probes._PROBING.first_time("GET /x")
        assert probes._PROBING.first_time("GET /y")
        probes._PROBING.emit(CaseAnswered(None))  # type: ignore[arg-type]
    assert len(seen) == 1
    with probes.probes_reported_to(seen.append):
        assert probes._PROBING.first_time("GET /x")  # a new run probes again
    probes._PROBING.emit(CaseAnswered(None))  # type: ignore[arg-type]
    assert len(seen) == 1  # outside a run nothing is reported to it


def test_the_foreign_token_is_a_well_formed_jwt() -> None:
    token = probes.foreign_token()
    assert token.count(".") == 2 and token.startswith("eyJ")


def test_the_checks_replaced_by_ours_are_off() -> None:
    config = schemathesis_config("http://127.0.0.1:1", FuzzSettings()).projects.get_default()
    checks = config.checks_config_for()
    assert {"ignored_auth", "use_after_free"} <= set(DISABLED_CHECKS)
    assert not checks.get_by_name(name="ignored_auth").enabled
    assert not checks.get_by_name(name="use_after_free").enabled
    assert checks.get_by_name(name="UnauthenticatedRejected").enabled

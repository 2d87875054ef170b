"""The fast path leans on private Connexion and jsonschema modules (issue 17): when a release renames
them, the fast path turns itself off with a warning and the server still starts and answers."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

import connexion.context
import pytest

import mockserver.http.fastpath
from mockserver.app import create_app, load_fast_path
from tests.conftest import get_token, training


def _serves_a_training(app: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with app.test_client() as client:
            auth = {"Authorization": f"Bearer {get_token(client)}"}
            created = client.post("/api/v1/workloads/trainings", json=training("still-served"), headers=auth)
            assert created.status_code == 200, created.text
            read = client.get(f"/api/v1/workloads/trainings/{created.json()['workloadId']}", headers=auth)
            assert read.status_code == 200 and read.json()["name"] == "still-served"


def test_a_renamed_private_import_turns_the_fast_path_off_and_the_server_still_serves(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delattr(connexion.context, "_receive")  # as if a Connexion release renamed it
    monkeypatch.delitem(sys.modules, "mockserver.http.fastpath")  # imported again, as in a fresh process
    with caplog.at_level(logging.WARNING, logger="mockserver"):
        assert load_fast_path() is None
        app = create_app()
    assert "fast path off" in caplog.text and "_receive" in caplog.text
    assert not any(
        getattr(m, "func", None) is mockserver.http.fastpath.FastPath for m in app.middleware.middlewares
    )
    _serves_a_training(app)


def test_a_changed_private_api_at_compile_time_turns_it_off_too(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def renamed(*args: Any, **kwargs: Any) -> Any:
        raise AttributeError("module 'jsonschema._keywords' has no attribute 'items_draft3_draft4'")

    monkeypatch.setattr(mockserver.http.fastpath, "compile_operations", renamed)
    with caplog.at_level(logging.WARNING, logger="mockserver"):
        app = create_app()
        _serves_a_training(app)
    assert "fast path off" in caplog.text
    fast = [m for m in app.middleware.middleware_stack if isinstance(m, mockserver.http.fastpath.FastPath)]
    assert len(fast) == 1 and fast[0].served == 0, "every answer came from Connexion"


def test_without_any_change_the_fast_path_is_on_and_answers() -> None:
    assert load_fast_path() is mockserver.http.fastpath.FastPath
    app = create_app()
    _serves_a_training(app)
    fast = [m for m in app.middleware.middleware_stack if isinstance(m, mockserver.http.fastpath.FastPath)]
    assert fast[0].served == 2

"""An ASGI app served by uvicorn on a thread of the test process, on a loopback port of its own: for tests
whose server needs no process of its own (starting one costs most of a second of CPU)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from mockserver.cli import listen


@contextlib.contextmanager
def served_in_thread(app: Any, **settings: Any) -> Iterator[str]:
    """Serve `app` (uvicorn `Config` settings may be given) and yield its base URL; stop it on exit."""
    sock = listen("127.0.0.1", 0)
    config = uvicorn.Config(app, **{"log_level": "warning", "timeout_graceful_shutdown": 1, **settings})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()

"""Serve a workspace from a background thread: for notebooks, tests and benchmarks.

with serve_in_background(ws) as url:
    ...  # http://127.0.0.1:<free port>
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from robustar.errors import RobustarError
from robustar.server.app import create_app
from robustar.workspace import Workspace


@contextmanager
def serve_in_background(workspace: Workspace, timeout: float = 20.0) -> Iterator[str]:
    """The app on 127.0.0.1 and a free port, until the block ends; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(workspace), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RobustarError(f"the server did not start within {timeout} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

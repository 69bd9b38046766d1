"""`robustar serve`'s worker: a child process, restarted when it dies, stopped with the server.

When the child dies (a crash, `kill -9`, out of memory), its running job is marked
interrupted at once and a new worker takes the rest of the queue. `stop` sends SIGTERM (the
job stops at its next step, interrupted) and, past a timeout, SIGKILL. The child also stops
by itself when this process is gone (`robustar.jobs.process` watches its parent).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from robustar.jobs.context import Sessions
from robustar.jobs.lock import check_free
from robustar.jobs.store import mark_interrupted

RESTART_DELAY = 1.0  # seconds before a dead worker is replaced
QUICK_EXIT = 10.0  # a worker that dies this soon after its start ...
GIVE_UP_AFTER = 3  # ... this many times in a row is not started again
USAGE_ERROR = 2  # the worker's exit status for a problem a restart cannot fix


class WorkerProcess:
    def __init__(self, root: Path, sessions: Sessions, say: Callable[[str], None] = print) -> None:
        self.root, self._sessions, self._say = root, sessions, say
        self.process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._stopping = threading.Event()
        self._spawning = threading.Lock()  # no new child once stop() has begun
        self._watcher = threading.Thread(target=self._watch, name="worker-watch", daemon=True)

    def start(self) -> None:
        """Start the worker; a clear error here when another worker has the workspace."""
        check_free(self.root)
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        with self._spawning:
            if self._stopping.is_set():
                return
            command = [sys.executable, "-m", "robustar.jobs.process", str(self.root)]
            self.process = subprocess.Popen([*command, str(os.getpid())])
            self._started_at = time.monotonic()

    def _watch(self) -> None:
        quick_exits = 0
        while self.process is not None:
            status = self.process.wait()
            if self._stopping.is_set():
                return
            with self._sessions() as session:
                lost = mark_interrupted(session)
            jobs = f"; job {', '.join(map(str, lost))} interrupted (resumable)" if lost else ""
            quick = time.monotonic() - self._started_at < QUICK_EXIT
            quick_exits = quick_exits + 1 if quick else 0
            if status == USAGE_ERROR or quick_exits >= GIVE_UP_AFTER:
                self._say(f"the job worker stopped (exit status {status}){jobs}; not restarted")
                return
            self._say(f"the job worker stopped (exit status {status}){jobs}; restarting it")
            if self._stopping.wait(RESTART_DELAY):
                return
            self._spawn()

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the worker (SIGTERM, then SIGKILL after `timeout`); no job is left running."""
        with self._spawning:
            self._stopping.set()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._watcher.is_alive():
            self._watcher.join()
        with self._sessions() as session:
            mark_interrupted(session)

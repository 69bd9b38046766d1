"""Sign-in attempts, bounded per account and per client address: a sliding window of recent
failures in this process (one server process per workspace, so no shared store is needed)."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque


class Limiter:
    """At most `limit` failures per key within `window` seconds; a success clears the key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self.limit:
                return 0
            return max(1, math.ceil(recent[0] + self.window - time.monotonic()))

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= time.monotonic() - self.window:
            times.popleft()
        return times

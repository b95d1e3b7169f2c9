"""The rate limit: N requests per window per bucket (API key, path, method), fixed windows.

Fixed, clock-aligned windows are the sandbox_choice of behaviour.yaml `rate_limit.window`; reading
the injected clock makes the window move with a virtual clock, so a test can wait one out at no cost.
"""

from __future__ import annotations

import math
import threading

from conformance.clock import Clock

Bucket = tuple[str, str, str]


class FixedWindowLimiter:
    def __init__(self, clock: Clock, requests: int, window_seconds: int) -> None:
        self._clock = clock
        self.default_requests = requests
        self._requests = requests
        self._window_seconds = window_seconds
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[Bucket, int] = {}

    def admit(self, bucket: Bucket) -> bool:
        """Count one request; False once the bucket has used up its window."""
        window = math.floor(self._clock.now().timestamp() / self._window_seconds)
        with self._lock:
            if window != self._window:
                # Windows are aligned for every bucket, so all counts from older ones can go at once.
                self._window = window
                self._counts.clear()
            count = self._counts.get(bucket, 0) + 1
            self._counts[bucket] = count
        return count <= self._requests

    def set_limit(self, requests: int | None) -> None:
        """Enforce `requests` per window (None: the built-in limit) from a fresh count on."""
        if requests is not None and (
            isinstance(requests, bool) or not isinstance(requests, int) or requests < 1
        ):
            raise ValueError("a rate limit is a whole number of requests, at least 1")
        with self._lock:
            self._requests = self.default_requests if requests is None else requests
            self._counts.clear()

    def reset(self) -> None:
        self.set_limit(None)

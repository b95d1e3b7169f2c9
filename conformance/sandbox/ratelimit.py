"""The rate limit: N requests per window per bucket (behaviour.yaml rate_limit.bucket: API key, path, method).

By default (the first option of the reading rate-limit-window) windows are fixed and clock-aligned;
rate-limit-window=sliding makes it the last `window_seconds` instead, and rate-limit-counts decides
what counts: every admitted request, or (successes-only) only those answered with success. A refused
request never counts, so a client that keeps knocking is admitted as soon as its window allows.
Reading the injected clock makes the window move with a virtual clock, so a test can wait one out
at no cost.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from conformance.core.clock import Clock

Bucket = tuple[str, ...]  # the request's values of the contract's bucket parts


class RateLimiter:
    """The times of the requests that count, per bucket, kept while they are within their window."""

    def __init__(
        self,
        clock: Clock,
        requests: int,
        window_seconds: int,
        *,
        sliding: bool = False,
        successes_only: bool = False,
    ) -> None:
        self._clock = clock
        self.default_requests = requests
        self._requests = requests
        self._window_seconds = window_seconds
        self._sliding = sliding
        self._successes_only = successes_only
        self._lock = threading.Lock()
        self._counted: dict[Bucket, deque[float]] = {}
        self._swept = -math.inf

    def admit(self, bucket: Bucket) -> bool:
        """Whether the bucket has room for one more request now; counts it unless only successes count."""
        now = self._now()
        with self._lock:
            counted = self._current(bucket, now)
            if len(counted) >= self._requests:
                return False
            if not self._successes_only:
                counted.append(now)
        return True

    def answered(self, bucket: Bucket, *, success: bool) -> None:
        """An admitted request was answered; under successes-only a success counts now."""
        if self._successes_only and success:
            now = self._now()
            with self._lock:
                self._current(bucket, now).append(now)

    def wait_seconds(self, bucket: Bucket) -> int:
        """Whole seconds until the bucket admits a request again, at least 1 (for Retry-After)."""
        now = self._now()
        with self._lock:
            counted = self._current(bucket, now)
            excess = len(counted) - self._requests
            wait = self._leaves(counted[excess]) - now if excess >= 0 else 0.0
        return max(1, math.ceil(wait))

    def set_limit(self, requests: int | None) -> None:
        """Enforce `requests` per window (None: the built-in limit) from a fresh count on."""
        if requests is not None and (
            isinstance(requests, bool) or not isinstance(requests, int) or requests < 1
        ):
            raise ValueError("a rate limit is a whole number of requests, at least 1")
        with self._lock:
            self._requests = self.default_requests if requests is None else requests
            self._counted.clear()

    def reset(self) -> None:
        self.set_limit(None)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _leaves(self, counted_at: float) -> float:
        """When a request counted at `counted_at` stops counting: its fixed window's end, or a window on."""
        if self._sliding:
            return counted_at + self._window_seconds
        return (math.floor(counted_at / self._window_seconds) + 1) * self._window_seconds

    def _current(self, bucket: Bucket, now: float) -> deque[float]:
        """The bucket's counted requests that still count at `now` (call with the lock held)."""
        if abs(now - self._swept) >= self._window_seconds:
            self._sweep(now)
        counted = self._counted.setdefault(bucket, deque())
        self._drop_outside(counted, now)
        return counted

    def _sweep(self, now: float) -> None:
        """Forget the buckets nothing counts in any more, so idle ones do not pile up."""
        self._swept = now
        for bucket, counted in list(self._counted.items()):
            self._drop_outside(counted, now)
            if not counted:
                del self._counted[bucket]

    def _drop_outside(self, counted: deque[float], now: float) -> None:
        """Drop the times that no longer count at `now` (older ones; later ones if the clock went back)."""
        while counted and self._leaves(counted[0]) <= now:
            counted.popleft()
        while counted and counted[-1] > now:
            counted.pop()

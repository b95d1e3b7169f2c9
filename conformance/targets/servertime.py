"""Where the target's clock stands, so that time-window cases land on the intended side of each edge.

A virtual clock is known exactly. A real one is bracketed from `Date` headers: a header stamped D
(whole seconds) on a response to a request sent at local time s and received at r means the
server's clock read between D and D + 1 somewhere in [s, r], so its offset from ours lies in
[D - r, D + 1 - s]. Every response narrows the bracket; its width is the tolerance the edge cases
state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from conformance.generate.oracle import ServerTime

# How long a request may take to reach the handler beyond the slowest latency seen: room for the
# suite's own work between reading the clock and sending.
HANDLING_ALLOWANCE_SECONDS = 0.5


class ServerClock(Protocol):
    """What the suite knows of the target's clock: learnt from answers, read as bounds."""

    @property
    def calibrated(self) -> bool:
        """False until an answer has taught the clock where the target's clock stands."""

    @property
    def tolerance_seconds(self) -> float: ...

    def observe(self, date_header: str | None, sent: float, received: float) -> None: ...

    def reads_at_most(self) -> datetime: ...

    def when(self) -> ServerTime: ...


class ExactServerClock:
    """A target whose clock the suite reads directly (the in-process sandbox's virtual clock)."""

    calibrated = True

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        """Nothing to learn: the clock is read directly."""

    def reads_at_most(self) -> datetime:
        return self._now()

    def when(self) -> ServerTime:
        moment = self._now()
        return ServerTime(earliest=moment, latest=moment)

    @property
    def tolerance_seconds(self) -> float:
        return 0.0


class BracketedServerClock:
    """A real clock known within bounds learnt from `Date` headers and latencies."""

    def __init__(self, local: Callable[[], float] = time.time) -> None:
        self._local = local
        self._low = float("-inf")
        self._high = float("inf")
        self._slowest = 0.0
        self._lock = threading.Lock()

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        with self._lock:
            self._slowest = max(self._slowest, received - sent)
            if not date_header:
                return
            try:
                stamped = parsedate_to_datetime(date_header).timestamp()
            except (TypeError, ValueError):
                return
            self._low = max(self._low, stamped - received)
            self._high = min(self._high, stamped + 1 - sent)
            if self._low > self._high:  # the server's clock jumped: start bracketing afresh
                self._low, self._high = stamped - received, stamped + 1 - sent

    @property
    def calibrated(self) -> bool:
        return self._low != float("-inf")

    @property
    def tolerance_seconds(self) -> float:
        """The width of the window in which the server may handle a request sent now."""
        return (self._high - self._low) + self._slowest + HANDLING_ALLOWANCE_SECONDS

    def reads_at_most(self) -> datetime:
        """The latest the server's clock can read at this moment (no handling allowance).

        A moment the suite compares later with `when().earliest` must be taken on this upper scale:
        as `Date` headers narrow the bracket, its lower edge rises, and an `earliest` taken earlier
        would make the time elapsed since then look longer than it was.
        """
        return datetime.fromtimestamp(self._local() + self._high, UTC)

    def when(self) -> ServerTime:
        if not self.calibrated:
            raise RuntimeError("the server clock is not calibrated: send a request first")
        now = self._local()
        earliest = now + self._low
        latest = now + self._high + self._slowest + HANDLING_ALLOWANCE_SECONDS
        return ServerTime(
            earliest=datetime.fromtimestamp(earliest, UTC),
            latest=datetime.fromtimestamp(latest, UTC),
        )

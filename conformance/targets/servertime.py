"""Where the target's clock stands, so that time-window cases land on the intended side of each edge.

A virtual clock is known exactly. A real one is bracketed from `Date` headers: a header stamped D
(whole seconds) on a response to a request sent at local time s and received at r means the
server's clock read between D and D + 1 somewhere in [s, r], so its offset from ours lies in
[D - r, D + 1 - s]. Every response narrows the bracket; its width is the tolerance the edge cases
state.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from conformance.core.clock import Phase, ServerTime

# How long a request may take to reach the handler beyond the slowest latency seen: room for the
# suite's own work between reading the clock and sending.
HANDLING_ALLOWANCE_SECONDS = 0.5
# An aimed request: room for the suite's work between aiming and sending (its real send time is
# used to judge it), the least jitter allowed for, and the margin kept from the second's edges.
SEND_ALLOWANCE_SECONDS = 0.05
JITTER_FLOOR_SECONDS = 0.005
SECOND_MARGIN = 0.05
# Sharpening the phase bracket: at most this many requests, stopping once it is this narrow.
SHARPENING_REQUESTS = 8
SHARP_PHASE_SECONDS = 0.02


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

    def aim(self) -> ServerTime:
        """Bounds for a request sent as soon as this returns, inside one second of the target's clock
        where the measurements allow it (it may wait for the right moment); else `when()`."""

    def handled(self, moment: ServerTime, sent: float, received: float) -> ServerTime:
        """The bounds to judge with, once the request read at `moment` left at local time `sent` and
        its answer arrived at `received`."""

    def sharpen(self, send: Callable[[], object]) -> None:
        """Learn where the target's second ticks over, calling `send` (a harmless request) as needed."""


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

    def aim(self) -> ServerTime:
        return self.when()

    def handled(self, moment: ServerTime, sent: float, received: float) -> ServerTime:  # noqa: ARG002
        return replace(moment, latest=max(moment.latest, self._now()))

    def sharpen(self, send: Callable[[], object]) -> None:
        """Nothing to learn: the clock is read directly."""

    @property
    def tolerance_seconds(self) -> float:
        return 0.0


class BracketedServerClock:
    """A real clock known within bounds learnt from `Date` headers and latencies.

    Two brackets are kept. The offset bracket holds whatever the latency: the target's clock minus
    ours lies in [D - received, D + 1 - sent]. The phase bracket, the target's clock when it handles
    a request minus our clock when we send it, lies in [D - sent, D + 1 - sent]; it assumes the
    one-way latency is steady (allowing for the spread of round trips seen), and it narrows to a few
    milliseconds once requests are sent either side of the target's second boundary (`sharpen`).
    With it a request can be aimed to arrive mid-second, so that a server comparing in whole seconds
    and one comparing in real time decide an edge alike.
    """

    def __init__(
        self, local: Callable[[], float] = time.time, sleep: Callable[[float], object] = time.sleep
    ) -> None:
        self._local = local
        self._sleep = sleep
        self._low = float("-inf")
        self._high = float("inf")
        self._phase = (float("-inf"), float("inf"))
        self._slowest = 0.0
        # The spread of round trips is the jitter an aimed request allows for: every one since the
        # first (which may carry a TLS handshake), since the phase bracket keeps what each taught it.
        self._observed = 0
        self._steady = (float("inf"), 0.0)  # fastest and slowest round trip after the first
        self._lock = threading.Lock()

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        with self._lock:
            self._slowest = max(self._slowest, received - sent)
            self._observed += 1
            if self._observed > 1:
                fastest, slowest = self._steady
                self._steady = (min(fastest, received - sent), max(slowest, received - sent))
            if not date_header:
                return
            offset = offset_bounds(date_header, sent, received)
            if offset is None:
                return
            self._low, self._high = _narrowed((self._low, self._high), offset)
            stamped = offset[0] + received
            self._phase = _narrowed(self._phase, (stamped - sent, stamped + 1 - sent))

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
        return _utc(self._local() + self._high)

    def when(self) -> ServerTime:
        if not self.calibrated:
            raise RuntimeError("the server clock is not calibrated: send a request first")
        now = self._local()
        return ServerTime(
            earliest=_utc(now + self._low),
            latest=_utc(now + self._high + self._slowest + HANDLING_ALLOWANCE_SECONDS),
        )

    def _aimed_phase(self) -> Phase | None:
        """The phase bounds with the jitter allowance, if they fit inside one second with margin."""
        fastest, slowest = self._steady
        if self._observed < 2:
            return None
        jitter = slowest - fastest + JITTER_FLOOR_SECONDS
        low, high = self._phase[0] - jitter, self._phase[1] + jitter
        fits = high + SEND_ALLOWANCE_SECONDS - low <= 1 - 2 * SECOND_MARGIN
        return Phase(low, high, slowest + JITTER_FLOOR_SECONDS) if fits else None

    def aim(self) -> ServerTime:
        phase = self._aimed_phase()
        if phase is None:
            return self.when()
        now = self._local()
        first = now + phase.low - SECOND_MARGIN
        last = now + phase.high + SEND_ALLOWANCE_SECONDS + SECOND_MARGIN
        # Send now if the handling window lies inside one target second, else just after the next tick.
        send_at = now if math.floor(first) == math.floor(last) else math.ceil(first) - first + now
        self._sleep(max(0.0, send_at - self._local()))
        return ServerTime(
            earliest=_utc(send_at + phase.low),
            latest=_utc(send_at + phase.high + SEND_ALLOWANCE_SECONDS),
            phase=phase,
        )

    def handled(self, moment: ServerTime, sent: float, received: float) -> ServerTime:
        """An aimed request is judged from when it really left, while its round trip stayed within
        what the aim assumed; a slower one (a retransmit, a starved client) may have been handled
        anywhere its round trip allows, so it gets the bounds that assume nothing of the latency."""
        phase = moment.phase
        if phase is not None and received - sent <= phase.round_trip:
            return ServerTime(earliest=_utc(sent + phase.low), latest=_utc(sent + phase.high), phase=phase)
        if phase is not None:
            return ServerTime(earliest=_utc(sent + self._low), latest=_utc(received + self._high))
        return replace(moment, latest=max(moment.latest, self.reads_at_most()))

    def sharpen(self, send: Callable[[], object]) -> None:
        """Bisect the phase bracket: each request is sent so that the target's clock ticks over at the
        middle of what is still possible, and its `Date` says on which side it was handled."""
        for _ in range(SHARPENING_REQUESTS):
            low, high = self._phase
            if high - low <= SHARP_PHASE_SECONDS or not math.isfinite(high - low):
                return
            middle = (low + high) / 2
            now = self._local()
            self._sleep(max(0.0, math.ceil(now + middle + SEND_ALLOWANCE_SECONDS) - middle - now))
            send()


def offset_bounds(date_header: str, sent: float, received: float) -> tuple[float, float] | None:
    """The target's clock minus ours, bounded by one answer: its `Date` (whole seconds) was stamped
    somewhere between our `sent` and `received`, so the offset lies in [D - received, D + 1 - sent].
    None for a header that is no HTTP date."""
    try:
        stamped = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return None
    return stamped - received, stamped + 1 - sent


def _narrowed(bracket: tuple[float, float], sample: tuple[float, float]) -> tuple[float, float]:
    """The intersection; a sample that contradicts the bracket (the target's clock jumped, or
    latency moved) starts it afresh."""
    low, high = max(bracket[0], sample[0]), min(bracket[1], sample[1])
    return (low, high) if low <= high else sample


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)

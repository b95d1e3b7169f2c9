"""Where the target's clock stands: exactly (a virtual clock) or bracketed from Date headers and latencies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.targets.servertime import (
    HANDLING_ALLOWANCE_SECONDS,
    SECOND_MARGIN,
    BracketedServerClock,
    ExactServerClock,
)

LOCAL_START = 1_800_000_000.0
# datetime keeps microseconds: comparisons of a bracket against the truth allow this much rounding.
MICROSECOND = 1e-6


def _date_header(server_seconds: float) -> str:
    """An HTTP Date header: the server's clock truncated to whole seconds, in GMT."""
    return format_datetime(datetime.fromtimestamp(math.floor(server_seconds), UTC), usegmt=True)


@dataclass
class SimulatedTarget:
    """A server whose clock runs `skew` seconds ahead of ours; each call takes `latency` and is handled
    `handled_at` of the way through it."""

    clock: BracketedServerClock
    skew: float
    local: float = LOCAL_START

    def call(self, latency: float, handled_at: float, pause: float = 0.0) -> None:
        sent = self.local
        server_now = sent + latency * handled_at + self.skew
        self.local = sent + latency
        self.clock.observe(_date_header(server_now), sent, self.local)
        self.local += pause


def _simulated(skew: float) -> tuple[SimulatedTarget, BracketedServerClock]:
    holder: list[SimulatedTarget] = []
    clock = BracketedServerClock(local=lambda: holder[0].local)
    target = SimulatedTarget(clock, skew)
    holder.append(target)
    return target, clock


def _truth(target: SimulatedTarget, after: float = 0.0) -> datetime:
    return datetime.fromtimestamp(target.local + after + target.skew, UTC)


def _within(moment: datetime, earliest: datetime, latest: datetime) -> bool:
    slack = timedelta(seconds=MICROSECOND * 2)
    return earliest - slack <= moment <= latest + slack


# -- exact ---------------------------------------------------------------------------------------


def test_exact_clock_is_known_exactly() -> None:
    """A virtual clock read directly: earliest == latest == its now, tolerance 0, Date headers ignored."""
    now = datetime(2026, 5, 20, 10, 0, 0, 123456, tzinfo=UTC)
    clock = ExactServerClock(lambda: now)
    clock.observe("Wed, 20 May 2026 09:00:00 GMT", 0.0, 1.0)
    when = clock.when()
    assert when.earliest == when.latest == now
    assert clock.tolerance_seconds == 0.0


# -- bracketed -----------------------------------------------------------------------------------


def test_uncalibrated_clock_refuses_to_guess() -> None:
    """Before any Date header, the bracket is unknown: when() raises with what to do."""
    clock = BracketedServerClock(local=lambda: LOCAL_START)
    assert not clock.calibrated
    with pytest.raises(RuntimeError, match="send a request first"):
        clock.when()


@pytest.mark.parametrize("header", [None, "", "not a date"])
def test_missing_or_unreadable_date_header_teaches_nothing(header: str | None) -> None:
    """A response without a readable Date header leaves the clock uncalibrated."""
    clock = BracketedServerClock(local=lambda: LOCAL_START)
    clock.observe(header, LOCAL_START, LOCAL_START + 0.1)
    assert not clock.calibrated


def test_server_ahead_by_37_4_seconds_is_bracketed_and_narrowed() -> None:
    """A server 37.4 s ahead: every bracket holds the true time, and more responses narrow it below 1.5 s."""
    target, clock = _simulated(37.4)
    latencies = [0.30, 0.12, 0.25, 0.08, 0.20, 0.15, 0.05, 0.22, 0.10, 0.18]
    phases = [0.9, 0.1, 0.5, 0.3, 0.7, 0.95, 0.2, 0.6, 0.4, 0.8]
    widths = []
    for latency, phase in zip(latencies, phases, strict=True):
        target.call(latency, phase, pause=0.37)
        when = clock.when()
        assert _within(_truth(target), when.earliest, when.latest)
        widths.append((when.latest - when.earliest).total_seconds())
    assert widths[-1] < widths[0]
    assert widths[-1] < 1 + max(latencies) + HANDLING_ALLOWANCE_SECONDS
    assert widths[-1] == pytest.approx(clock.tolerance_seconds, abs=MICROSECOND * 2)
    when = clock.when()
    assert _truth(target) - when.earliest < timedelta(seconds=1)


def test_clock_jump_restarts_the_bracket() -> None:
    """A Date header outside the current bracket (the server's clock jumped) restarts bracketing from it."""
    target, clock = _simulated(37.4)
    for _ in range(3):
        target.call(0.1, 0.5, pause=0.4)
    target.skew = -120.0
    target.call(0.1, 0.5)
    when = clock.when()
    assert _within(_truth(target), when.earliest, when.latest)


@settings(max_examples=200)
@given(
    skew=st.floats(-3600, 3600),
    calls=st.lists(
        st.tuples(st.floats(0.001, 2.0), st.floats(0, 1), st.floats(0, 5)), min_size=1, max_size=12
    ),
    handled_after=st.floats(0, 1),
)
def test_true_server_time_always_lies_in_the_bracket(
    skew: float, calls: list[tuple[float, float, float]], handled_after: float
) -> None:
    """Property: for any skew and latencies, the server's time at handling is in the bracket."""
    target, clock = _simulated(skew)
    slowest = 0.0
    for latency, phase, pause in calls:
        target.call(latency, phase, pause)
        slowest = max(slowest, latency)
        when = clock.when()
        # A request sent now is handled within the slowest latency seen (the allowance covers the suite).
        assert _within(_truth(target, handled_after * slowest), when.earliest, when.latest)


# -- aiming at the middle of the target's second -------------------------------------------------


@dataclass
class SteadyTarget:
    """A server `skew` seconds ahead of us, `one_way` seconds away each way; sleeping moves our clock."""

    skew: float
    one_way: float
    local: float = LOCAL_START + 0.123

    def clock(self) -> BracketedServerClock:
        return BracketedServerClock(local=lambda: self.local, sleep=self.sleep)

    def sleep(self, seconds: float) -> None:
        self.local += seconds

    def handles_at(self, sent: float) -> float:
        """The target's clock when it handles a request we send at `sent`."""
        return sent + self.one_way + self.skew

    def call(self, clock: BracketedServerClock) -> None:
        sent = self.local
        self.local = sent + 2 * self.one_way
        clock.observe(_date_header(self.handles_at(sent)), sent, self.local)


@pytest.mark.parametrize("skew", [0.0, 45.0, -45.0, 45.37])
@pytest.mark.parametrize("one_way", [0.0005, 0.15])
def test_aim_puts_the_request_inside_one_target_second(skew: float, one_way: float) -> None:
    """After sharpening (a few requests), an aimed request is handled inside one second of the target's
    clock, clear of its ticks and within the bounds it was given: a whole-second and a real-time
    comparison then agree."""
    target = SteadyTarget(skew, one_way)
    clock = target.clock()
    for _ in range(3):
        target.call(clock)
    clock.sharpen(lambda: target.call(clock))
    for _ in range(5):
        moment = clock.aim()
        handled = target.handles_at(target.local)
        assert moment.phase is not None
        assert moment.earliest.timestamp() - MICROSECOND <= handled <= moment.latest.timestamp() + MICROSECOND
        assert math.floor(moment.earliest.timestamp()) == math.floor(moment.latest.timestamp())
        assert SECOND_MARGIN <= handled % 1 <= 1 - SECOND_MARGIN, "kept clear of the tick"
        target.call(clock)


def test_sharpening_narrows_the_phase_to_a_few_hundredths() -> None:
    """Bisecting on the target's tick leaves an aimed window of a few hundredths of a second."""
    target = SteadyTarget(45.37, 0.15)
    clock = target.clock()
    target.call(clock)
    clock.sharpen(lambda: target.call(clock))
    moment = clock.aim()
    assert (moment.latest - moment.earliest).total_seconds() < 0.1


def test_aim_falls_back_to_the_plain_bounds_when_they_cannot_fit_a_second() -> None:
    """Unsharpened (one Date header: a whole second of doubt), aiming gives the ordinary bounds."""
    target = SteadyTarget(3.0, 0.15)
    clock = target.clock()
    target.call(clock)
    moment = clock.aim()
    assert moment.phase is None
    assert moment == clock.when()


def test_handled_moves_an_aimed_window_to_the_real_send_time() -> None:
    """A request that left later than aimed is judged with bounds from when it really left."""
    target = SteadyTarget(0.0, 0.01)
    clock = target.clock()
    target.call(clock)
    clock.sharpen(lambda: target.call(clock))
    moment = clock.aim()
    late = target.local + 0.7
    handled = clock.handled(moment, late, late + 2 * target.one_way)
    assert handled.phase == moment.phase
    assert handled.earliest.timestamp() <= target.handles_at(late) <= handled.latest.timestamp()
    assert handled.earliest > moment.earliest


def test_a_request_slower_than_aimed_gets_bounds_that_assume_no_latency() -> None:
    """Aimed at a steady 150 ms, one request is held 120 ms longer on its way in: the bounds it is
    judged with still hold where it was handled (a retransmit must not become a wrong verdict)."""
    target = SteadyTarget(45.37, 0.15)
    clock = target.clock()
    for _ in range(3):
        target.call(clock)
    clock.sharpen(lambda: target.call(clock))
    moment = clock.aim()
    sent = target.local
    handled_at = target.handles_at(sent) + 0.12
    received = sent + 2 * target.one_way + 0.12
    clock.observe(_date_header(handled_at), sent, received)
    handled = clock.handled(moment, sent, received)
    assert handled.phase is None
    assert (
        handled.earliest.timestamp() - MICROSECOND <= handled_at <= handled.latest.timestamp() + MICROSECOND
    )

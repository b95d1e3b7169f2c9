"""One notion of "now" for the sandbox, the strategies and cassette replay.

The sandbox reads time only through a `Clock`; the suite, when the target's clock is virtual, moves
that same clock instead of sleeping, so waiting for a token sync or an expiry costs no wall time.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that stands still until told to move; thread-safe, never goes backwards."""

    def __init__(self, start: datetime | None = None) -> None:
        # A whole second by default, so timestamps written "now + N s" are exact on this clock.
        self._now = (start or datetime.now(UTC).replace(microsecond=0)).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def pin(self, moment: datetime) -> None:
        """Set the clock to `moment`, backwards too: only cassette replay does this, per test."""
        with self._lock:
            self._now = moment.astimezone(UTC)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("a clock moves forward only")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


def sleep_on(clock: Clock, seconds: float) -> None:
    """Let `seconds` pass on `clock`: advance a virtual one, sleep on a real one."""
    if isinstance(clock, VirtualClock):
        clock.advance(seconds)
    else:
        time.sleep(seconds)


RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_rfc3339(text: str) -> datetime | None:
    """An RFC 3339 timestamp with its offset (the docs' only format), else None.

    Stricter than `datetime.fromisoformat`, which takes ISO 8601 forms RFC 3339 forbids (basic
    format, week dates, `+0200`), and laxer where RFC 3339 is: a lowercase `t` and `z`.
    """
    if not RFC3339.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text.upper())
    except (ValueError, OverflowError):
        return None


def rfc3339(moment: datetime, *, exact: bool = False, utc_offset: timedelta = timedelta(0)) -> str:
    """`2026-05-20T10:00:00Z`: whole seconds, UTC, as every documented example writes it.

    `exact` keeps the fraction of a second (RFC 3339 `time-secfrac`), for timestamps placed at an
    edge; `utc_offset` writes the same moment in another zone (`2026-05-20T15:30:00+05:30`).
    """
    local = moment.astimezone(timezone(utc_offset))
    if not exact:
        local = local.replace(microsecond=0)
    text = local.isoformat(timespec="microseconds" if local.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z" if not utc_offset else text


@dataclass(frozen=True)
class Phase:
    """Where an aimed request lands (`ServerClock.aim`): the target's clock when it handles the
    request minus ours when we send it lies in [low, high], provided the round trip takes no longer
    than `round_trip` seconds (the latency the measurement assumed)."""

    low: float
    high: float
    round_trip: float


@dataclass(frozen=True)
class ServerTime:
    """Bounds of the target's clock when it handles the request (measured skew and latency);
    `phase` is set on an aimed reading, so the bounds can follow the request's real send time."""

    earliest: datetime
    latest: datetime
    phase: Phase | None = None


ReadingKind = Literal["when", "reads_at_most", "tolerance"]


@dataclass(frozen=True)
class ClockReading:
    """One reading of a live target's clock that a test took, in order: a cassette keeps them, since
    a replay cannot measure the target again (`when` bounds, a `reads_at_most` moment, or a
    `tolerance` in seconds)."""

    kind: ReadingKind
    when: ServerTime | None = None
    moment: datetime | None = None
    seconds: float | None = None

    def to_json(self) -> list[str | float]:
        """`["when", earliest, latest]` (an aimed one adds its phase: low, high, round trip),
        `["reads_at_most", moment]` or `["tolerance", seconds]`."""
        if self.when is not None:
            when, phase = self.when, self.when.phase
            aimed = [phase.low, phase.high, phase.round_trip] if phase is not None else []
            return [self.kind, when.earliest.isoformat(), when.latest.isoformat(), *aimed]
        if self.moment is not None:
            return [self.kind, self.moment.isoformat()]
        return [self.kind, float(self.seconds or 0.0)]

    @classmethod
    def from_json(cls, item: object) -> ClockReading:
        """Raises ValueError on anything `to_json` does not write (the caller names the file)."""
        match item:
            case ["when", str(earliest), str(latest)]:
                return cls(
                    "when", when=ServerTime(datetime.fromisoformat(earliest), datetime.fromisoformat(latest))
                )
            case [
                "when",
                str(earliest),
                str(latest),
                int() | float() as low,
                int() | float() as high,
                int() | float() as trip,
            ]:
                phase = Phase(float(low), float(high), float(trip))
                return cls(
                    "when",
                    when=ServerTime(datetime.fromisoformat(earliest), datetime.fromisoformat(latest), phase),
                )
            case ["reads_at_most", str(moment)]:
                return cls("reads_at_most", moment=datetime.fromisoformat(moment))
            case ["tolerance", int(seconds) | float(seconds)]:
                return cls("tolerance", seconds=float(seconds))
        raise ValueError(f"not a clock reading: {item!r}")

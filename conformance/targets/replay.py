"""Recording a test so that its replay takes the same path, and replaying it.

A replay must send the recorded requests byte for byte. Beyond the answers (VCR.py's part), two
things decide a test's path and so its requests: what the target offered (a control API, a virtual
clock, the rate-limit probe, keys per account state: `Offers`, tagged on every recorded request),
and what the target clock read, since many requests carry an ends_at placed from it. Two kinds of
clock, two ways to read the same again:

* the in-process sandbox's virtual clock reads the same by construction once the replay pins it
  where the recorded test started (the cassette's `x-conformance-test-start`);
* a live clock is bracketed from this run's `Date` headers and latencies (`BracketedServerClock`),
  which a replay cannot measure again. So while recording, every reading a test takes is kept, in
  order, and stored in its cassette (`x-conformance-clock-readings`); the replay gives back exactly
  those readings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE
from conformance.cassettes.recorded import RecordedTest
from conformance.core.clock import ClockReading, ReadingKind, ServerTime, VirtualClock
from conformance.core.errors import CassetteError, Place
from conformance.core.exchange import Exchange, Request
from conformance.profile.target_profile import Account
from conformance.targets.control_client import FaultKind
from conformance.targets.servertime import ExactServerClock, ServerClock
from conformance.targets.target import Target

# A replay sends no key anywhere; each offered account state gets this stand-in.
REPLAYED_KEY = "replayed-key"
# Where a cassette keeps its test's tags (a tags-only cassette keeps them at the top).
TAGS = Place(path="interactions[0].request.headers")


class ClockReplayError(AssertionError):
    """The replay read the clock otherwise than the recording did: the suite changed since."""


class RecordingServerClock:
    """A live target's clock, keeping every reading a test takes for its cassette."""

    def __init__(self, clock: ServerClock) -> None:
        self._clock = clock
        self._kept: list[ClockReading] | None = None

    @contextmanager
    def keeping(self) -> Iterator[list[ClockReading]]:
        """Keep the readings taken inside the block (one test's), in order."""
        kept: list[ClockReading] = []
        self._kept = kept
        try:
            yield kept
        finally:
            self._kept = None

    def _keep(self, reading: ClockReading) -> None:
        if self._kept is not None:
            self._kept.append(reading)

    @property
    def calibrated(self) -> bool:
        return self._clock.calibrated

    @property
    def tolerance_seconds(self) -> float:
        seconds = self._clock.tolerance_seconds
        self._keep(ClockReading("tolerance", seconds=seconds))
        return seconds

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        self._clock.observe(date_header, sent, received)

    def reads_at_most(self) -> datetime:
        moment = self._clock.reads_at_most()
        self._keep(ClockReading("reads_at_most", moment=moment))
        return moment

    def when(self) -> ServerTime:
        return self._kept_when(self._clock.when())

    def aim(self) -> ServerTime:
        return self._kept_when(self._clock.aim())

    def handled(self, moment: ServerTime, sent: float, received: float) -> ServerTime:
        return self._kept_when(self._clock.handled(moment, sent, received))

    def sharpen(self, send: Callable[[], object]) -> None:
        self._clock.sharpen(send)

    def _kept_when(self, moment: ServerTime) -> ServerTime:
        self._keep(ClockReading("when", when=moment))
        return moment


class ReplayedServerClock:
    """Replay: the readings a cassette kept, in order; where it kept none, the pinned virtual clock."""

    calibrated = True

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._exact = ExactServerClock(clock.now)
        self._readings: Iterator[ClockReading] | None = None
        self._rerecord = ""

    def replay(self, start: datetime | None, readings: list[ClockReading] | None, *, rerecord: str) -> None:
        """Stand where the recorded test started; give back its kept readings, if it kept any."""
        if start is not None:
            self._clock.pin(start)
        self._readings = iter(readings) if readings is not None else None
        self._rerecord = rerecord

    def _next(self, kind: ReadingKind) -> ClockReading:
        assert self._readings is not None
        reading = next(self._readings, None)
        if reading is None or reading.kind != kind:
            found = "no more readings" if reading is None else f"a {reading.kind!r} reading"
            raise ClockReplayError(
                f"the replay asked the target clock for a {kind!r} reading where the recording kept "
                f"{found}: the suite changed since this cassette was recorded; record it again: "
                f"{self._rerecord}"
            )
        return reading

    @property
    def tolerance_seconds(self) -> float:
        return (
            self._exact.tolerance_seconds
            if self._readings is None
            else float(self._next("tolerance").seconds or 0.0)
        )

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        """Nothing to learn: the readings were kept while recording."""

    def reads_at_most(self) -> datetime:
        if self._readings is None:
            return self._exact.reads_at_most()
        moment = self._next("reads_at_most").moment
        assert moment is not None  # ClockReading.from_json gives every reads_at_most reading a moment
        return moment

    def when(self) -> ServerTime:
        if self._readings is None:
            return self._exact.when()
        when = self._next("when").when
        assert when is not None  # ClockReading.from_json gives every when reading its bounds
        return when

    def aim(self) -> ServerTime:
        return self.when()

    def handled(self, moment: ServerTime, sent: float, received: float) -> ServerTime:
        return self._exact.handled(moment, sent, received) if self._readings is None else self.when()

    def sharpen(self, send: Callable[[], object]) -> None:
        """Nothing to learn: the readings were kept while recording."""


class CassetteControl:
    """The control API as seen in replay: faults were recorded, except a dropped answer, replayed here."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._drops: dict[str, int] = {}
        self.clock_is_virtual = True  # as the recording's target had it (`Replay.begin`)

    def inject(self, endpoint: str | None, kind: FaultKind, *, times: int = 1, **_: object) -> None:
        """Status and latency faults are in the recording; a drop is replayed by `intercept`."""
        if kind == "drop_after_commit" and endpoint is not None:
            self._drops[endpoint] = times  # a dropped answer left nothing in the cassette to play

    def clear_faults(self) -> None:
        self._drops.clear()

    def advance_clock(self, seconds: float) -> None:
        self._clock.advance(seconds)

    def limit_rate(self, requests_per_minute: int | None) -> None:
        """The 429s of a lowered limit are in the recording: nothing to do."""

    def intercept(self, request: Request) -> Exchange | None:
        remaining = self._drops.get(request.endpoint, 0)
        if not remaining:
            return None
        self._drops[request.endpoint] = remaining - 1
        return Exchange(request=request, response=None, error="timeout: the answer was dropped (replayed)")


class Replay:
    """What a replay sets for each test: the clock its recording read, what its target offered."""

    def __init__(self, clock: VirtualClock) -> None:
        self._virtual = clock
        self.clock = ReplayedServerClock(clock)
        self.control = CassetteControl(clock)

    def wait(self, seconds: float) -> None:
        """Move the replay's own clock (the rate budget reads it); never sleep."""
        self._virtual.advance(seconds)

    def begin(self, target: Target, recorded: RecordedTest, *, path: Path, rerecord: str) -> None:
        """Set up one test; a CassetteError when its recording cannot be replayed here."""
        _check_pseudonyms(recorded, target.pseudonym_key, path)
        offers = recorded.offers
        self.clock.replay(recorded.start, recorded.readings, rerecord=rerecord)
        self.control.clock_is_virtual = offers.virtual_clock
        target.control = self.control if offers.control else None
        target.allow_rate_limit_probe = offers.rate_limit_probe
        accounts = {s: Account(state=s, literal=REPLAYED_KEY, env=None) for s in offers.accounts}
        target.profile = target.client.profile = replace(target.profile, accounts=accounts)


def _check_pseudonyms(recorded: RecordedTest, replaying_with: str | None, path: Path) -> None:
    """A live recording holds pseudonyms made with one key: it replays with that key only."""
    if recorded.pseudonym_key == replaying_with:
        return
    if recorded.pseudonym_key is None:
        raise CassetteError(
            path, TAGS, "holds real ids, not pseudonyms", f"replay it with {PSEUDONYM_KEY_VARIABLE} unset"
        )
    raise CassetteError(
        path,
        TAGS,
        "holds pseudonyms of ids (recorded from a live target) "
        + ("made with another key" if replaying_with else "and no pseudonym key is set"),
        f"export {PSEUDONYM_KEY_VARIABLE} as it was when recording; pass the profile recorded with",
    )

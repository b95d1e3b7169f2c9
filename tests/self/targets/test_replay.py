"""The clock and offers of a recorded test, as its replay gives them back (conformance/targets/replay.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from conformance.core.clock import ClockReading, Phase, ServerTime, VirtualClock
from conformance.profile.offers import Offers
from conformance.targets.replay import ClockReplayError, RecordingServerClock, ReplayedServerClock
from conformance.targets.servertime import BracketedServerClock

RERECORD = "conformance run --record-mode=rewrite -k test_x"
LOCAL = 1_790_000_000.0
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _bracketed(local: list[float]) -> BracketedServerClock:
    """A bracketed clock 7 s ahead of ours, taught by two answers of 40 ms and 25 ms."""
    clock = BracketedServerClock(local=lambda: local[0])
    clock.observe("Thu, 26 Nov 2026 12:00:07 GMT", LOCAL - 0.04, LOCAL)
    clock.observe("Thu, 26 Nov 2026 12:00:08 GMT", LOCAL + 0.975, LOCAL + 1.0)
    return clock


def _take_readings(clock: RecordingServerClock | ReplayedServerClock, local: list[float]) -> list[object]:
    """The readings a test might take, with local time passing between them as it does while recording."""
    seen: list[object] = []
    for step in (0.0, 0.3, 1.7):
        local[0] += step
        seen += [clock.when(), clock.tolerance_seconds, clock.reads_at_most()]
    return seen


def test_a_replay_reads_exactly_what_the_recording_read() -> None:
    """Kept through JSON (as a cassette header keeps them), the readings come back equal, in order."""
    local = [LOCAL + 2.0]
    recording = RecordingServerClock(_bracketed(local))
    with recording.keeping() as kept:
        recorded = _take_readings(recording, local)
    assert [r.kind for r in kept] == ["when", "tolerance", "reads_at_most"] * 3
    header = json.loads(json.dumps([r.to_json() for r in kept]))
    replayed = ReplayedServerClock(VirtualClock())
    replayed.replay(START, [ClockReading.from_json(r) for r in header], rerecord=RERECORD)
    assert _take_readings(replayed, [0.0]) == recorded  # local time no longer matters


def test_readings_outside_a_test_are_not_kept() -> None:
    local = [LOCAL + 2.0]
    recording = RecordingServerClock(_bracketed(local))
    recording.when()
    with recording.keeping() as kept:
        recording.when()
    recording.reads_at_most()
    assert len(kept) == 1


@pytest.mark.parametrize(
    ("asked", "found"),
    [("reads_at_most", "a 'when' reading"), ("when", "no more readings")],
    ids=["another kind", "one reading too many"],
)
def test_a_replay_that_reads_otherwise_fails_with_the_rerecord_command(asked: str, found: str) -> None:
    """A replay that asks for another reading than the recording took says so and how to re-record."""
    replayed = ReplayedServerClock(VirtualClock())
    readings = [ClockReading("when", when=ServerTime(START, START))]
    replayed.replay(START, readings if asked != "when" else [], rerecord=RERECORD)
    with pytest.raises(ClockReplayError) as raised:
        getattr(replayed, asked)()
    assert f"a {asked!r} reading where the recording kept {found}" in str(raised.value)
    assert str(raised.value).endswith(RERECORD)


def test_without_kept_readings_the_replay_reads_the_pinned_virtual_clock() -> None:
    """A sandbox recording keeps no readings: the clock stands where the test started, and moves only
    when the suite moves it."""
    virtual = VirtualClock()
    replayed = ReplayedServerClock(virtual)
    replayed.replay(START, None, rerecord=RERECORD)
    assert replayed.when().earliest == replayed.when().latest == START
    virtual.advance(90)
    assert replayed.reads_at_most() == START + timedelta(seconds=90)
    assert replayed.tolerance_seconds == 0.0


def test_offers_survive_their_tag() -> None:
    offers = Offers(control=False, virtual_clock=False, rate_limit_probe=True, accounts=("good", "disabled"))
    assert Offers.from_json(offers.to_json()) == offers


@pytest.mark.parametrize(
    "text", ["", "[]", '{"control": true}', "{"], ids=["empty", "list", "partial", "broken"]
)
def test_a_damaged_offers_tag_is_a_value_error(text: str) -> None:
    """What `_replay` turns into a cassette error naming the file and the re-record command."""
    with pytest.raises((ValueError, KeyError, TypeError)):
        Offers.from_json(text)


@pytest.mark.parametrize(
    "reading",
    [
        ClockReading(
            "when",
            when=ServerTime(
                datetime(2026, 5, 20, 10, tzinfo=UTC), datetime(2026, 5, 20, 10, 0, 1, tzinfo=UTC)
            ),
        ),
        ClockReading(
            "when",
            when=ServerTime(
                datetime(2026, 5, 20, 10, tzinfo=UTC),
                datetime(2026, 5, 20, 10, 0, 0, 400000, tzinfo=UTC),
                Phase(-0.25, 0.05, 0.012),
            ),
        ),
        ClockReading("reads_at_most", moment=datetime(2026, 5, 20, 10, 0, 2, tzinfo=UTC)),
        ClockReading("tolerance", seconds=0.75),
    ],
    ids=["when", "when, aimed", "reads_at_most", "tolerance"],
)
def test_a_clock_reading_survives_its_cassette(reading: ClockReading) -> None:
    """What a live recording keeps of its clock comes back whole, an aimed reading's phase included
    (the case labels of aimed edges depend on it)."""
    assert ClockReading.from_json(json.loads(json.dumps(reading.to_json()))) == reading

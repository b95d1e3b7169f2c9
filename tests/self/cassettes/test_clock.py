"""Replay pins the clock: each test starts where its recording started, whatever ran before it.

The recorded `x-conformance-test-start` is the target clock when the test began; in replay the
`conformance` fixture pins the clock there, so every ends_at computed from "now" is the recorded one.
"""

from __future__ import annotations

from datetime import datetime

from conformance.cassettes.tags import START_HEADER
from tests.self.cassettes.cassette_support import (
    LOST_RESPONSE_TEST,
    Recorded,
    cassette_of,
    interactions,
    outcomes_by_test,
    sections,
    tag,
)


def _recorded_starts(recording: Recorded) -> dict[str, datetime]:
    """The test-start tag of every recorded cassette, by suite node id (one value per cassette)."""
    starts = {}
    for test in recording.probe["tests"]:
        values = {tag(i, START_HEADER) for i in interactions(cassette_of(recording.cassettes, test))}
        assert len(values) == 1, (test, values)
        (value,) = values
        assert value is not None
        starts[test] = datetime.fromisoformat(value)
    return starts


def _clock_at_start(run: Recorded) -> dict[str, datetime]:
    return {test: datetime.fromisoformat(seen["start"]) for test, seen in run.probe["tests"].items()}


def test_the_recorded_start_is_the_clock_when_the_test_began(recording: Recorded) -> None:
    """While recording, each cassette's test-start tag is what the target clock read as the test began."""
    assert _clock_at_start(recording) == _recorded_starts(recording)
    assert len(set(_recorded_starts(recording).values())) > 1  # the sandbox clock moved between tests


def test_replay_starts_each_test_at_its_recorded_start(
    recording: Recorded, replays: dict[str, Recorded]
) -> None:
    """In replay, each test's clock reads its cassette's test-start tag when the test begins."""
    assert _clock_at_start(replays["replay"]) == _recorded_starts(recording)


def test_replay_in_reverse_order_gives_the_same_outcome(
    recording: Recorded, replays: dict[str, Recorded]
) -> None:
    """Replayed last test first, every test starts at its recorded start and gets its recorded verdicts."""
    reversed_run = replays["reversed"]
    assert reversed_run.run.returncode == 0, reversed_run.run.output[-3000:]
    order = list(reversed_run.probe["tests"])
    assert order == list(reversed(list(recording.probe["tests"])))
    assert _clock_at_start(reversed_run) == _recorded_starts(recording)
    assert outcomes_by_test(reversed_run.run) == outcomes_by_test(recording.run)
    assert reversed_run.probe["unmatched"] == []


def test_replay_of_one_test_alone_gives_the_same_outcome(
    recording: Recorded, replays: dict[str, Recorded]
) -> None:
    """Replayed by itself, a test starts at its recorded start and gets its recorded verdicts."""
    alone = replays["alone"]
    assert alone.run.returncode == 0, alone.run.output[-3000:]
    (test,) = alone.probe["tests"]
    assert LOST_RESPONSE_TEST in test
    assert _clock_at_start(alone)[test] == _recorded_starts(recording)[test]
    assert outcomes_by_test(alone.run) == {test: outcomes_by_test(recording.run)[test]}


def test_a_clock_pinned_elsewhere_sends_requests_the_cassette_lacks(replays: dict[str, Recorded]) -> None:
    """The pin carries the replay: one second off, the first ends_at differs and nothing matches."""
    shifted = replays["shifted"]
    assert shifted.run.returncode == 1
    ((name, section),) = sections(shifted.run.output).items()
    assert name == LOST_RESPONSE_TEST
    assert "no recorded interaction for this request" in section
    assert "/register" in section

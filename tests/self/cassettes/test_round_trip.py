"""Record a subset of the suite from the sandbox, replay it, and check that the replay is exact.

Exact means: the replay reaches the recording's verdict for every case, twice in a row, and every
request it sends is answered by its own recorded interaction, in recorded order, each played once.
"""

from __future__ import annotations

from pathlib import Path

from conformance.cassettes.tags import CASE_HEADER
from tests.self.cassettes.cassette_support import (
    HYPOTHESIS_TEST,
    LIFECYCLE_TEST,
    LOST_RESPONSE_TEST,
    SUBSET,
    Recorded,
    cassette_files,
    cassette_of,
    interactions,
    outcomes,
    tag,
)


def test_recording_writes_one_cassette_per_test(recording: Recorded) -> None:
    """Recording the subset writes one cassette per test, named as pytest-recording names it, per module."""
    tests = {c["test"] for c in recording.run.results["cases"]}
    expected = {cassette_of(recording.cassettes, t) for t in tests}
    assert set(cassette_files(recording.cassettes)) == expected
    assert all(any(name in t for t in tests) for name in SUBSET)
    assert all(interactions(p) for p in expected)


def test_replay_gives_the_recorded_verdict_for_every_case(
    recording: Recorded, replays: dict[str, Recorded]
) -> None:
    """Replay passes with the recording's verdict, rows and observed answer for every case, in order."""
    replayed = replays["replay"]
    assert replayed.run.returncode == 0, replayed.run.output[-3000:]
    assert outcomes(replayed.run) == outcomes(recording.run)
    assert replayed.run.verdicts() == recording.run.verdicts()
    assert recording.run.results["counts"]["passed"] > 50
    for name in (HYPOTHESIS_TEST, LIFECYCLE_TEST, LOST_RESPONSE_TEST):
        assert any(name in test for test, *_ in outcomes(replayed.run))


def test_replay_twice_gives_identical_verdicts(replays: dict[str, Recorded]) -> None:
    """A second replay of the same cassettes gives the same verdict for every case."""
    again = replays["again"]
    assert again.run.returncode == 0, again.run.output[-3000:]
    assert outcomes(again.run) == outcomes(replays["replay"].run)


def test_every_replayed_request_has_its_recorded_interaction(replays: dict[str, Recorded]) -> None:
    """No request of the replay went unmatched: each one found a recorded interaction."""
    assert replays["replay"].probe["unmatched"] == []
    assert replays["replay"].probe["plays"]  # the probe saw the cassettes being played


def test_every_recorded_interaction_is_played_once_in_order(
    recording: Recorded, replays: dict[str, Recorded]
) -> None:
    """Each cassette is played completely, each interaction once, in the order it was recorded."""
    replayed = replays["replay"]
    played = replayed.probe["plays"]
    for path in cassette_files(recording.cassettes):
        assert played.get(str(path)) == list(range(len(interactions(path)))), path.name
    for test, seen in replayed.probe["tests"].items():
        assert seen["all_played"], test
        assert seen["play_count"] == seen["length"] == len(interactions(Path(seen["cassette"]))), test


def test_a_dropped_answer_is_replayed_without_a_recorded_interaction(recording: Recorded) -> None:
    """The answer the sandbox dropped left nothing to play: the cassette holds only the answered requests."""
    recorded = interactions(cassette_of(recording.cassettes, LOST_RESPONSE_TEST))
    cases = [tag(i, CASE_HEADER) for i in recorded]
    assert cases.count("start retried after a lost response") == 1
    assert cases.count("end retried after a lost response") == 1
    assert None not in cases  # the dropped requests themselves were never recorded

"""What a replay says when a cassette lacks a request, is missing, unreadable, or of another format.

One damaged copy of the recording holds every case (see `cassette_support.damage`); each failing
test must show one message naming the test, the request or the place, and the command that records
it again, without a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cassettes.messages import rerecord_command
from conformance.cassettes.tags import OFFERS_HEADER
from tests.self.cassettes.cassette_support import (
    BACKOFF_TEST,
    HYPOTHESIS_TEST,
    LIFECYCLE_TEST,
    LOST_RESPONSE_TEST,
    MAX_EDGE,
    MIN_EDGE,
    NAMED_EDGE_TEST,
    PAST_EDGE,
    Recorded,
    cassette_of,
    sections,
)

UNRECORDED = (LOST_RESPONSE_TEST, HYPOTHESIS_TEST, LIFECYCLE_TEST)
UNREADABLE = (BACKOFF_TEST, PAST_EDGE, MAX_EDGE, MIN_EDGE)
NOISE = ("Traceback", "site-packages/vcr", "CannotOverwriteExistingCassetteException", "raise ", "    def ")


@pytest.fixture(scope="module")
def damaged(replays: dict[str, Recorded]) -> dict[str, str]:
    """The failure section of each test in the replay of the damaged copy, by test name."""
    run = replays["damaged"].run
    assert run.returncode == 1
    return sections(run.output)


def test_only_the_damaged_cassettes_fail(replays: dict[str, Recorded], damaged: dict[str, str]) -> None:
    """Every damaged cassette fails its test, and only those: the others still replay."""
    assert set(damaged) == {*UNRECORDED, *UNREADABLE}
    summary = replays["damaged"].run.output.splitlines()[-1]
    assert "3 failed" in summary
    assert "4 error" in summary


def test_no_traceback_noise_in_a_failed_replay(damaged: dict[str, str]) -> None:
    """No failure section shows a traceback, VCR's exception or source lines."""
    for name, section in damaged.items():
        assert not [noise for noise in NOISE if noise in section], (name, section)


@pytest.mark.parametrize("test", UNRECORDED)
def test_an_unrecorded_request_fails_with_one_message(
    test: str, damaged: dict[str, str], damaged_copy: tuple[Path, dict[str, str]]
) -> None:
    """An edited or missing cassette fails naming the test, cassette, request and the re-record command."""
    directory, expected_paths = damaged_copy
    section = damaged[test]
    assert section.count("no recorded interaction for this request") == 1, section
    assert f"in {cassette_of(directory, test)}\n" in section
    assert f"  test     {test}\n" in section
    assert f"  request  POST {expected_paths.get(test, '/api/v1/live-activity/')}" in section
    assert section.count(rerecord_command(test)) == 1
    assert rerecord_command(test) == f"conformance run --record-mode=rewrite -k {test}"


def test_a_missing_cassette_names_the_file_it_looked_for(
    damaged: dict[str, str], damaged_copy: tuple[Path, dict[str, str]]
) -> None:
    """A test whose cassette file is absent says which file it read, and fails at its first request."""
    directory, _ = damaged_copy
    path = cassette_of(directory, LIFECYCLE_TEST)
    assert not path.exists()
    assert str(path) in damaged[LIFECYCLE_TEST]


@pytest.mark.parametrize(
    ("test", "place", "problem"),
    [
        (BACKOFF_TEST, "at line 3: ", "cannot be read as a cassette: ParserError"),
        (
            PAST_EDGE,
            "at interactions[0].request.headers: ",
            "another cassette format (found none, this suite reads 1)",
        ),
        (
            MAX_EDGE,
            "at interactions[0].request.headers: ",
            "another cassette format (found 0, this suite reads 1)",
        ),
        (MIN_EDGE, "at interactions[0].request.headers: ", f"a missing or damaged tag: '{OFFERS_HEADER}'"),
    ],
    ids=["broken YAML", "no format header", "format 0", "no offers tag"],
)
def test_an_unreadable_cassette_fails_with_the_cassette_error(
    test: str, place: str, problem: str, damaged: dict[str, str], damaged_copy: tuple[Path, dict[str, str]]
) -> None:
    """A broken or other-format cassette fails at setup naming file, place and the re-record command."""
    directory, _ = damaged_copy
    section = damaged[test]
    assert f"cassette error in {cassette_of(directory, test)} {place}" in section, section
    assert problem in section
    assert f"  fix: record it again: {rerecord_command(test)}" in section
    assert rerecord_command(test).endswith(f"-k {test.split('[', maxsplit=1)[0]}")


@pytest.mark.parametrize("test", [PAST_EDGE, MAX_EDGE], ids=["no format header", "format 0"])
def test_a_cassette_of_another_format_is_reported_once(test: str, damaged: dict[str, str]) -> None:
    """The other-format message appears once, not chained to a second copy of itself."""
    section = damaged[test]
    assert section.count("cassette error in") == 1, section
    assert "During handling of the above exception" not in section


def test_an_unrecorded_request_in_a_hypothesis_test_is_clear_with_warnings_as_errors(
    replays: dict[str, Recorded],
) -> None:
    """A Hypothesis test's unrecorded request gives the one clear message, no warning, also with -W error."""
    assert "HypothesisWarning" not in replays["damaged"].run.output
    output = replays["strict-warnings"].run.output
    section = sections(output)[HYPOTHESIS_TEST]
    assert "no recorded interaction for this request" in section, section[-2000:]
    assert "Traceback" not in section
    assert "Flaky" not in section


def test_named_edges_are_separate_cassettes() -> None:
    """The two damaged edges are two cassettes of one parametrized test (a guard on the damage set-up)."""
    assert PAST_EDGE != MAX_EDGE
    assert PAST_EDGE.startswith(NAMED_EDGE_TEST)
    assert MAX_EDGE.startswith(NAMED_EDGE_TEST)

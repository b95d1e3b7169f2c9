"""Fixtures for the cassette self-tests: one recording of a subset of the suite, and its replays.

The suite harness (tests/self/suite/suite_runner.py) is imported, not copied. Every replay
of the recording is a separate suite run in its own directory; they run side by side (subprocesses)
so that the whole directory stays under a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.self.cassettes.cassette_support import (
    HYPOTHESIS_TEST,
    LOST_RESPONSE_TEST,
    SELECT,
    Recorded,
    copy_cassettes,
    damage,
    record,
    replay,
)

PIN_SHIFT_SECONDS = "1"


@pytest.fixture(scope="session")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """The subset recorded from the in-process sandbox into a fresh directory."""
    recorded = record(tmp_path_factory.mktemp("record"), "-k", SELECT)
    assert recorded.run.returncode == 0, recorded.run.output[-3000:]
    return recorded


@pytest.fixture(scope="session")
def damaged_copy(
    recording: Recorded, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """A copy of the recording with one cassette broken per kind of damage (see `damage`)."""
    copy = copy_cassettes(recording.cassettes, tmp_path_factory.mktemp("damaged") / "cassettes")
    return copy, damage(copy)


@pytest.fixture(scope="session")
def replays(
    recording: Recorded, damaged_copy: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Recorded]:
    """Every replay the tests look at, run side by side, by name.

    replay, again: the subset in recorded order, twice; reversed: the same in reverse order;
    alone: one test by itself; shifted: that test with the clock pinned a second off; damaged: the
    damaged copy;
    strict-warnings: the damaged Hypothesis test with warnings as errors (as the checkout's
    pyproject.toml sets them).
    """
    good, (bad, _) = recording.cassettes, damaged_copy
    runs: dict[str, Callable[[Path], Recorded]] = {
        "replay": lambda tmp: replay(tmp, good, "-k", SELECT),
        "again": lambda tmp: replay(tmp, good, "-k", SELECT),
        "reversed": lambda tmp: replay(tmp, good, "-k", SELECT, env={"PROBE_REVERSE": "1"}),
        "alone": lambda tmp: replay(tmp, good, "-k", LOST_RESPONSE_TEST),
        "shifted": lambda tmp: replay(
            tmp, good, "-k", LOST_RESPONSE_TEST, env={"PROBE_PIN_SHIFT": PIN_SHIFT_SECONDS}
        ),
        "damaged": lambda tmp: replay(tmp, bad, "-k", SELECT),
        "strict-warnings": lambda tmp: replay(tmp, bad, "-k", HYPOTHESIS_TEST, "-W", "error"),
    }
    directories = {name: tmp_path_factory.mktemp(name) for name in runs}
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {name: pool.submit(run, directories[name]) for name, run in runs.items()}
        return {name: future.result() for name, future in futures.items()}

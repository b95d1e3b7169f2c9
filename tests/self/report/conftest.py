"""Run the suite once for the report tests, and five times for the nightly history."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.self.report.report_support import NIGHT_FILES, NIGHTLY_TESTS, night_started_at, nights
from tests.self.suite.suite_runner import SuiteRun, run_suite


@pytest.fixture(scope="session")
def reference_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results file of one suite run on the reference sandbox; tests drift edited copies of it."""
    run = run_suite(tmp_path_factory.mktemp("reference"))
    if not run.results:
        pytest.fail(f"the suite wrote no results file:\n{run.output[-3000:]}")
    path = tmp_path_factory.getbasetemp() / "reference.json"
    path.write_text(json.dumps(run.results), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of five nightly results files: real runs of part of the suite (NIGHTLY_TESTS) on the
    in-process sandbox, its readings switched on and off between nights (`nights()`).

    The runs go two at a time, so their own start times say nothing of the nights' order; each file's
    `started_at` is set to its night (a day apart, at 03:00 UTC), and the files are named so that their
    names sort in another order than the nights (NIGHT_FILES).
    """
    root = tmp_path_factory.mktemp("nightly")
    switched = nights()

    def night(number: int) -> SuiteRun:
        readings = [f"--sandbox-reading={reading}" for reading in switched[number - 1]]
        return run_suite(root / f"run-{number}", "-k", NIGHTLY_TESTS, *readings)

    for directory in (root / f"run-{n}" for n in range(1, len(switched) + 1)):
        directory.mkdir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(night, range(1, len(switched) + 1)))
    results = root / "results"
    results.mkdir()
    for number, run in enumerate(runs, start=1):
        if not run.results or run.returncode != 0:
            pytest.fail(f"night {number} did not pass as the sandbox should:\n{run.output[-3000:]}")
        data = {**run.results, "started_at": night_started_at(number)}
        (results / NIGHT_FILES[number - 1]).write_text(json.dumps(data), encoding="utf-8")
    return results

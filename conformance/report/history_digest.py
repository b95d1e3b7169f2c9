"""What one run contributes to the drift history, and nothing more: a few kilobytes instead of its
results file, so a year of nights is read without holding a year of cases.

Per run: each matrix cell's state (worst verdict, distinct answers, levels, the documented verdict),
the recorded behaviour outside the table, the documented cases that passed or failed (the keys a
regression is judged by), and each test's worst verdict with its first error. Stored as compressed
JSON; a digest that does not decode is corrupt (`ValueError`), and the store says which file.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.judging.results import JUDGED, CaseResult, RunResults, Verdict
from conformance.report.matrix import Key, by_cell, table_rows, verdict_of
from conformance.report.pairs import keyed, outcome


@dataclass(frozen=True)
class CellState:
    """A cell (row, endpoint) or a recorded input class (case, endpoint) in one run."""

    key: Key
    verdict: Verdict
    answers: tuple[str, ...]  # every distinct answer its cases got, sorted
    levels: tuple[str, ...]
    documented: Verdict | None  # the worst verdict of its documented cases, if passed or failed


@dataclass(frozen=True)
class FailedCase:
    """A documented case that failed: what a regression message names."""

    test: str
    case: str
    occurrence: int
    endpoint: str
    rows: tuple[str, ...]  # the error-table rows it exercised

    @property
    def key(self) -> str:
        return case_key(self.test, self.case, self.occurrence)


@dataclass(frozen=True)
class RunDigest:
    cells: tuple[CellState, ...]  # in matrix order
    outside: tuple[CellState, ...]  # in the order the run first met them
    passed: tuple[str, ...]  # the documented cases that passed, by `case_key`
    failed: tuple[FailedCase, ...]  # the documented cases that failed, in the run's order
    tests: tuple[tuple[str, Verdict], ...]  # each test and its worst verdict, in the run's order
    errors: dict[
        str, tuple[str, str]
    ]  # for each test whose verdict is `error`: where and why it first errored


def case_key(test: str, case: str, occurrence: int) -> str:
    """The key that pairs a case across runs (test, input class, occurrence), as one string: a year of
    runs repeats it hundreds of thousands of times."""
    return f"{test}\x1f{case}\x1f{occurrence}"


@dataclass(frozen=True)
class StoredRun:
    """A run as the history reads it: its entry in the run list, and its digest."""

    file: str
    started_at: str
    counts: dict[str, int]
    interrupted: bool
    digest: RunDigest


def digest_run(results: RunResults) -> RunDigest:
    documented = [(key, case) for key, case in keyed(results.cases).items() if case.level == "documented"]
    tests = _by_test(results.cases)
    return RunDigest(
        cells=tuple(_state(key, cases) for key, cases in by_cell(results.cases).items()),
        outside=tuple(_state(key, cases) for key, cases in _outside(results.cases).items()),
        passed=tuple(case_key(*key) for key, case in documented if case.verdict == Verdict.PASSED),
        failed=tuple(
            FailedCase(*key, case.endpoint, tuple(table_rows(case)))
            for key, case in documented
            if case.verdict == Verdict.FAILED
        ),
        tests=tuple((test, _worst(cases)) for test, cases in tests.items()),
        errors={
            test: next((c.case, c.reason) for c in cases if c.verdict == Verdict.ERROR)
            for test, cases in tests.items()
            if _worst(cases) == Verdict.ERROR
        },
    )


def _state(key: Key, cases: list[CaseResult]) -> CellState:
    verdict = verdict_of(c.verdict for c in cases)
    assert verdict is not None  # a cell or class is in a run only through its cases
    documented = verdict_of(c.verdict for c in cases if c.level == "documented")
    return CellState(
        key=key,
        verdict=verdict,
        answers=tuple(sorted({outcome(c.observed) for c in cases})),
        levels=tuple(sorted({c.level for c in cases})),
        documented=documented if documented in JUDGED else None,
    )


def _outside(cases: Iterable[CaseResult]) -> dict[Key, list[CaseResult]]:
    """Recorded cases that name no error-table row, by (input class, endpoint)."""
    found: dict[Key, list[CaseResult]] = {}
    for case in cases:
        if case.verdict == Verdict.RECORDED and not table_rows(case):
            found.setdefault((case.case, case.endpoint), []).append(case)
    return found


def _by_test(cases: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
    found: dict[str, list[CaseResult]] = {}
    for case in cases:
        found.setdefault(case.test, []).append(case)
    return found


def _worst(cases: list[CaseResult]) -> Verdict:
    verdict = verdict_of(c.verdict for c in cases)
    assert verdict is not None  # a test is in a run only through its cases
    return verdict


def encode(digest: RunDigest) -> bytes:
    data = {
        "cells": [_cell_data(c) for c in digest.cells],
        "outside": [_cell_data(c) for c in digest.outside],
        "passed": list(digest.passed),
        "failed": [[c.test, c.case, c.occurrence, c.endpoint, list(c.rows)] for c in digest.failed],
        "tests": [list(t) for t in digest.tests],
        "errors": digest.errors,
    }
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"))


def decode(blob: bytes) -> RunDigest:
    """The digest `encode` wrote; ValueError when the bytes are not one (a corrupt store)."""
    try:
        data = json.loads(zlib.decompress(blob))
        return RunDigest(
            cells=tuple(_cell(c) for c in data["cells"]),
            outside=tuple(_cell(c) for c in data["outside"]),
            passed=tuple(data["passed"]),
            failed=tuple(
                FailedCase(test, case, int(n), endpoint, tuple(rows))
                for test, case, n, endpoint, rows in data["failed"]
            ),
            tests=tuple((test, Verdict(verdict)) for test, verdict in data["tests"]),
            errors={test: (where, why) for test, (where, why) in data["errors"].items()},
        )
    except (zlib.error, UnicodeDecodeError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"a run's digest does not decode ({type(exc).__name__})") from None


def _cell_data(cell: CellState) -> list[Any]:
    return [*cell.key, cell.verdict, list(cell.answers), list(cell.levels), cell.documented]


def _cell(data: list[Any]) -> CellState:
    name, endpoint, verdict, answers, levels, documented = data
    documented = None if documented is None else Verdict(documented)
    return CellState((name, endpoint), Verdict(verdict), tuple(answers), tuple(levels), documented)

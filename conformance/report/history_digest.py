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

from conformance.report.matrix import Key, by_cell, table_rows, verdict_of
from conformance.report.pairs import keyed, outcome
from conformance.results import ERROR, CaseResult, RunResults


@dataclass(frozen=True)
class CellState:
    """A cell (row, endpoint) or a recorded input class (case, endpoint) in one run."""

    key: Key
    verdict: str
    answers: tuple[str, ...]  # every distinct answer its cases got, sorted
    levels: tuple[str, ...]
    documented: str | None  # the worst verdict of its documented cases, if passed or failed


@dataclass(frozen=True)
class JudgedCase:
    """A documented case that passed or failed, by the key that pairs it across runs."""

    key: tuple[str, str, int]  # (test, input class, occurrence)
    verdict: str
    endpoint: str
    rows: tuple[str, ...]  # the error-table rows it exercised


@dataclass(frozen=True)
class TestState:
    test: str
    verdict: str
    error: tuple[str, str] | None  # (where, why) of its first error, when its verdict is `error`


@dataclass(frozen=True)
class RunDigest:
    cells: tuple[CellState, ...]  # in matrix order
    outside: tuple[CellState, ...]  # in the order the run first met them
    cases: tuple[JudgedCase, ...]  # in the run's order
    tests: tuple[TestState, ...]  # in the run's order


@dataclass(frozen=True)
class StoredRun:
    """A run as the history reads it: its entry in the run list, and its digest."""

    file: str
    started_at: str
    counts: dict[str, int]
    interrupted: bool
    digest: RunDigest


def digest_run(results: RunResults) -> RunDigest:
    documented = [
        JudgedCase(key, case.verdict, case.endpoint, tuple(table_rows(case)))
        for key, case in keyed(results.cases).items()
        if case.level == "documented" and case.verdict in ("passed", "failed")
    ]
    return RunDigest(
        cells=tuple(_state(key, cases) for key, cases in by_cell(results.cases).items()),
        outside=tuple(_state(key, cases) for key, cases in _outside(results.cases).items()),
        cases=tuple(documented),
        tests=tuple(_test(test, cases) for test, cases in _by_test(results.cases).items()),
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
        documented=documented if documented in ("passed", "failed") else None,
    )


def _outside(cases: Iterable[CaseResult]) -> dict[Key, list[CaseResult]]:
    """Recorded cases that name no error-table row, by (input class, endpoint)."""
    found: dict[Key, list[CaseResult]] = {}
    for case in cases:
        if case.verdict == "recorded" and not table_rows(case):
            found.setdefault((case.case, case.endpoint), []).append(case)
    return found


def _by_test(cases: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
    found: dict[str, list[CaseResult]] = {}
    for case in cases:
        found.setdefault(case.test, []).append(case)
    return found


def _test(test: str, cases: list[CaseResult]) -> TestState:
    verdict = verdict_of(c.verdict for c in cases)
    assert verdict is not None  # a test is in a run only through its cases
    error = next(((c.case, c.reason) for c in cases if c.verdict == ERROR), None)
    return TestState(test, verdict, error)


def encode(digest: RunDigest) -> bytes:
    data = {
        "cells": [_cell_data(c) for c in digest.cells],
        "outside": [_cell_data(c) for c in digest.outside],
        "cases": [[*c.key, c.verdict, c.endpoint, list(c.rows)] for c in digest.cases],
        "tests": [[t.test, t.verdict, None if t.error is None else list(t.error)] for t in digest.tests],
    }
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"))


def decode(blob: bytes) -> RunDigest:
    """The digest `encode` wrote; ValueError when the bytes are not one (a corrupt store)."""
    try:
        data = json.loads(zlib.decompress(blob))
        return RunDigest(
            cells=tuple(_cell(c) for c in data["cells"]),
            outside=tuple(_cell(c) for c in data["outside"]),
            cases=tuple(
                JudgedCase((test, case, int(n)), verdict, endpoint, tuple(rows))
                for test, case, n, verdict, endpoint, rows in data["cases"]
            ),
            tests=tuple(
                TestState(test, verdict, None if error is None else (error[0], error[1]))
                for test, verdict, error in data["tests"]
            ),
        )
    except (zlib.error, UnicodeDecodeError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"a run's digest does not decode ({type(exc).__name__})") from None


def _cell_data(cell: CellState) -> list[Any]:
    return [*cell.key, cell.verdict, list(cell.answers), list(cell.levels), cell.documented]


def _cell(data: list[Any]) -> CellState:
    name, endpoint, verdict, answers, levels, documented = data
    return CellState((name, endpoint), verdict, tuple(answers), tuple(levels), documented)

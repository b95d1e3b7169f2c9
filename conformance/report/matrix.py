"""The matrix of error-table rows x endpoints: one run's cases by cell, and each cell judged in two runs.

A results case names the rows it exercised: an error-table row by its id (the code, or HTTP_<status>
for a body-less row), or one of the oracle's success rules (lowercase, such as
`eligibility:register`). The matrix has the error-table rows; a cell's verdict is the worst of its
cases' (failed, then passed, recorded, skipped), and its change says how the cell moved. (An `error`
case names no row, so no cell has one; it ranks worst when a test's cases are ranked.) A cell not
verified now gives the reasons: its tests' skips and errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from conformance.judging.coverage import shows_row
from conformance.judging.results import UNVERIFIED, CaseResult, Verdict
from conformance.report.pairs import Pair

ROW_ID = re.compile(r"[A-Z][A-Z0-9_]*")
Key = tuple[str, str]  # (row, endpoint)
WORST_FIRST = (Verdict.ERROR, Verdict.FAILED, Verdict.PASSED, Verdict.RECORDED, Verdict.SKIPPED)
LEVEL_ORDER = ("documented", "inferred", "undocumented", "")
# One character per verdict, for grids in plain text (Markdown) where colour is not available.
VERDICT_MARKS = {
    Verdict.PASSED: "✓",
    Verdict.FAILED: "✗",
    Verdict.RECORDED: "●",
    Verdict.SKIPPED: "○",
    Verdict.ERROR: "!",
}
Change = Literal[
    "regressed", "newly failing", "no longer verified", "fixed", "new", "gone", "outcome changed", "unchanged"
]
CHANGES: tuple[Change, ...] = (
    "regressed",
    "newly failing",
    "no longer verified",
    "fixed",
    "new",
    "gone",
    "outcome changed",
    "unchanged",
)


@dataclass(frozen=True)
class Cell:
    row: str
    endpoint: str
    baseline: Verdict | None  # the cell's verdict in each run; None: no case exercised it
    current: Verdict | None
    level: str  # the strongest level among its cases
    change: Change
    pairs: tuple[Pair, ...]  # the evidence: every case that exercised the cell in either run
    skip_reasons: tuple[str, ...]  # why the current run did not verify it, where it says

    @property
    def anchor(self) -> str:
        return anchor(self.row, self.endpoint)


def anchor(row: str, endpoint: str) -> str:
    """The id of a cell's evidence on an HTML page; the matrix links to it."""
    return f"cell-{row}-{endpoint}"


def table_rows(case: CaseResult) -> list[str]:
    """The error-table rows a case exercised (none for a case that names no endpoint)."""
    return list(filter(ROW_ID.fullmatch, case.rows)) if case.endpoint else []


def ordered(keys: Iterable[Key]) -> list[Key]:
    """Rows sorted, endpoints in the order they first appear (the order the suite ran them)."""
    found = list(keys)
    endpoints = list(dict.fromkeys(endpoint for _, endpoint in found))
    return sorted(found, key=lambda k: (k[0], endpoints.index(k[1])))


def by_cell(cases: Iterable[CaseResult], *, answered: bool = False) -> dict[Key, list[CaseResult]]:
    """One run's cases grouped by the (row, endpoint) pairs they exercised, in matrix order.

    `answered`: a pass counts only for the row the target answered with, not for every row it
    would have accepted (one run's matrix: verified where seen). A history or drift keeps every
    row a case named, so that a target switching between two accepted codes shows in both cells.
    """
    touched: dict[Key, list[CaseResult]] = {}
    for case in cases:
        for row in table_rows(case):
            if answered and not shows_row(case, row):
                continue
            touched.setdefault((row, case.endpoint), []).append(case)
    return {key: touched[key] for key in ordered(touched)}


def verdict_of(verdicts: Iterable[Verdict]) -> Verdict | None:
    present = set(verdicts)
    return next((v for v in WORST_FIRST if v in present), None)


def build_cells(pairs: tuple[Pair, ...], current_cases: list[CaseResult]) -> tuple[Cell, ...]:
    """Every (row, endpoint) either run exercised, rows sorted, endpoints in the order they ran."""
    touched: dict[Key, list[Pair]] = {}
    for pair in pairs:
        for case in filter(None, (pair.baseline, pair.current)):
            for row in table_rows(case):
                members = touched.setdefault((row, case.endpoint), [])
                if not members or members[-1] is not pair:  # both runs' cases of a pair come in a row
                    members.append(pair)
    return tuple(
        _cell(row, endpoint, tuple(touched[(row, endpoint)]), current_cases)
        for row, endpoint in ordered(touched)
    )


def _cell(row: str, endpoint: str, pairs: tuple[Pair, ...], current_cases: list[CaseResult]) -> Cell:
    def mine(case: CaseResult | None) -> bool:
        return case is not None and case.endpoint == endpoint and row in case.rows

    before = [p.baseline for p in pairs if p.baseline is not None and mine(p.baseline)]
    after = [p.current for p in pairs if p.current is not None and mine(p.current)]
    baseline, current = verdict_of(c.verdict for c in before), verdict_of(c.verdict for c in after)
    documented = (
        verdict_of(c.verdict for c in before if c.level == "documented"),
        verdict_of(c.verdict for c in after if c.level == "documented"),
    )
    if documented == (Verdict.PASSED, Verdict.FAILED):
        change: Change = "regressed"
    elif current == Verdict.FAILED and baseline != Verdict.FAILED:
        change = "newly failing"
    elif baseline == Verdict.PASSED and current in (Verdict.SKIPPED, None):
        change = "no longer verified"
    elif baseline == Verdict.FAILED and current == Verdict.PASSED:
        change = "fixed"
    elif baseline is None:
        change = "new"
    elif current is None:
        change = "gone"
    elif any(_outcome_changed(p) for p in pairs):
        change = "outcome changed"
    else:
        change = "unchanged"
    tests = {c.test for c in before}
    reasons = [c.reason for c in after if c.verdict == Verdict.SKIPPED]
    reasons += [c.reason for c in current_cases if c.verdict in UNVERIFIED and c.test in tests]
    levels = {c.level for c in (*before, *after)}
    return Cell(
        row=row,
        endpoint=endpoint,
        baseline=baseline,
        current=current,
        level=next(level for level in LEVEL_ORDER if level in levels),
        change=change,
        pairs=pairs,
        skip_reasons=tuple(dict.fromkeys(r for r in reasons if r)),
    )


def _outcome_changed(pair: Pair) -> bool:
    observed = pair.observed()
    if observed is None:
        return False
    before, after = observed
    return (before.status, before.code, before.body_fields) != (after.status, after.code, after.body_fields)

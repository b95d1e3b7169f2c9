"""Contract coverage, and the one set of counts of a run.

A run is counted in the contract's units (`contract/rules.py`): error-table rows, (row, endpoint)
pairs, behaviour rules, and readings (what holds under every option of an open point). `conformance
check` announces them, progress and the end-of-run summary count them (`Counts.line`), and the
reports show the coverage table (`coverage`): each item, its level, the cases that judged it, its
verdict.

A pair is verified only where the target answered with its row: a case that accepts several codes
(REQUEST_INVALID or BAD_REQUEST) and passed shows the row it got, not every row it would have
accepted. A rule is judged by a case that names it among the expectations its verdict is about
(`CaseResult.expectations`, written by the verifier from the oracle); a reading's common ground by
a case that judges one of the rules it governs (`governs:` in behaviour.yaml).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from conformance.contract.model import LEVELS
from conformance.contract.rules import PAIR, READING, RULE, ContractItem
from conformance.judging.results import JUDGED, CaseResult, Observed, RunResults, Verdict

# An item no case judged or recorded; an item's verdict is otherwise its cases' (`Covered.verdict`).
NOT_EXERCISED: Final = "not exercised"
ItemVerdict = Literal[Verdict.PASSED, Verdict.FAILED, Verdict.RECORDED, "not exercised"]
ERROR_STATUS = 400


def answered_row(case: CaseResult) -> str | None:
    """The error-table row the target answered with (its code, or `HTTP_<status>` for a body-less
    row); None for a success or no answer."""
    observed: Observed | None = case.observed
    if observed is None or observed.status is None or observed.status < ERROR_STATUS:
        return None
    return observed.code or f"HTTP_{observed.status}"


# Verdicts that say what the target answered: they belong to the row it answered with.
SEEN = frozenset({Verdict.PASSED, Verdict.RECORDED})


def shows_row(case: CaseResult, row: str) -> bool:
    """Whether `case` counts for `row` on its endpoint: what the target was seen doing (a pass, or a
    recorded answer) only where it answered with the row; a failure or a skip wherever the case names
    the row, since each row it names went unmet or unseen."""
    return row in case.rows and (case.verdict not in SEEN or answered_row(case) == row)


@dataclass(frozen=True)
class Covered:
    """One item of the contract in one run: how many cases judged it, and its verdict."""

    item: ContractItem
    judged: int  # cases that passed or failed on it
    failed: int
    recorded: int  # cases that only recorded it (undocumented behaviour, never judged)

    @property
    def verdict(self) -> ItemVerdict:
        if self.failed:
            return Verdict.FAILED
        if self.judged:
            return Verdict.PASSED
        return Verdict.RECORDED if self.recorded else NOT_EXERCISED


def coverage(results: RunResults) -> tuple[Covered, ...]:
    """Each item the results file lists (`expectations`, from the contract), with its cases."""
    by_pair: dict[tuple[str, str], list[CaseResult]] = defaultdict(list)
    by_rule: dict[str, list[CaseResult]] = defaultdict(list)
    for case in results.cases:
        for row in case.rows:
            if shows_row(case, row):
                by_pair[(row, case.endpoint)].append(case)
        for expectation in case.expectations:
            by_rule[expectation].append(case)

    def cases_of(item: ContractItem) -> list[CaseResult]:
        if item.unit == PAIR:
            return by_pair[(item.id, item.endpoints[0])]
        if item.unit == READING:  # each case once, though it may judge several governed rules
            return list({id(c): c for g in item.governs for c in by_rule[g]}.values())
        return by_rule[item.id]

    return tuple(_covered(item, cases_of(item)) for item in results.expectations)


def _covered(item: ContractItem, cases: list[CaseResult]) -> Covered:
    if item.level == "undocumented":  # never judged, whatever else a case that names it judged
        return Covered(item, 0, 0, len(cases))
    verdicts = [c.verdict for c in cases]
    judged = sum(v in JUDGED for v in verdicts)
    return Covered(item, judged, verdicts.count(Verdict.FAILED), verdicts.count(Verdict.RECORDED))


def unexercised(covered: Iterable[Covered]) -> tuple[Covered, ...]:
    """The asserted items (documented or inferred) no case judged: a hole in the suite or the run."""
    return tuple(c for c in covered if c.item.level != "undocumented" and not c.judged)


def exercised_lines(covered: Sequence[Covered]) -> list[str]:
    """How many items of each level were judged (recorded, for undocumented ones): the coverage
    table's last lines, e.g. `documented expectations exercised: 148 / 148`."""
    lines = []
    for level in LEVELS:
        items = [c for c in covered if c.item.level == level]
        if not items:
            continue
        if level == "undocumented":
            seen = sum(1 for c in items if c.judged or c.recorded)
            lines.append(f"undocumented behaviour recorded: {seen} / {len(items)}")
        else:
            lines.append(
                f"{level} expectations exercised: {sum(1 for c in items if c.judged)} / {len(items)}"
            )
    return lines


@dataclass(frozen=True)
class Tally:
    """Items of one unit by verdict: verified (passed), failed, recorded only, not exercised."""

    unit: str
    passed: int
    failed: int
    recorded: int
    total: int

    def text(self) -> str:
        rest = self.total - self.passed - self.failed - self.recorded
        recorded = f", {self.recorded} recorded" if self.recorded else ""
        return f"{self.unit}: {self.passed} verified, {self.failed} failed{recorded}, {rest} not verified"


@dataclass(frozen=True)
class Counts:
    """The one set of counts of a run: rows, (row, endpoint) pairs, rules and readings."""

    rows: Tally
    pairs: Tally
    rules: Tally
    readings: Tally

    def line(self) -> str:
        return "; ".join(t.text() for t in (self.rows, self.pairs, self.rules, self.readings))


def unit_counts(results: RunResults) -> Counts | None:
    """The run's counts in the contract's units; None when the results list no contract items (no
    target was opened, or a file an older suite wrote)."""
    if not results.expectations:
        return None
    covered = coverage(results)
    pairs = [c for c in covered if c.item.unit == PAIR]
    rows: dict[str, list[Covered]] = defaultdict(list)
    for pair in pairs:
        rows[pair.item.id].append(pair)
    row_verdicts = [_worst(p.verdict for p in of_row) for of_row in rows.values()]
    return Counts(
        rows=_tally("rows", row_verdicts),
        pairs=_tally("(row, endpoint) pairs", [p.verdict for p in pairs]),
        rules=_tally("rules", [c.verdict for c in covered if c.item.unit == RULE]),
        readings=_tally("readings", [c.verdict for c in covered if c.item.unit == READING]),
    )


def _worst(verdicts: Iterable[ItemVerdict]) -> ItemVerdict:
    found = set(verdicts)
    worst_first: tuple[ItemVerdict, ...] = (Verdict.FAILED, Verdict.PASSED, Verdict.RECORDED)
    return next((v for v in worst_first if v in found), NOT_EXERCISED)


def _tally(unit: str, verdicts: list[ItemVerdict]) -> Tally:
    passed, failed, recorded = (verdicts.count(v) for v in (Verdict.PASSED, Verdict.FAILED, Verdict.RECORDED))
    return Tally(unit, passed, failed, recorded, len(verdicts))


def coverage_json(results: RunResults) -> list[dict[str, object]]:
    """The coverage table as the results file carries it, ending with the exercised lines."""
    covered = coverage(results)
    rows: list[dict[str, object]] = [
        {
            "unit": c.item.unit,
            "expectation": c.item.label,
            "level": c.item.level,
            "cases_judged": c.judged,
            "verdict": c.verdict,
        }
        for c in covered
    ]
    totals: list[dict[str, object]] = [{"total": line} for line in exercised_lines(covered)]
    return rows + totals

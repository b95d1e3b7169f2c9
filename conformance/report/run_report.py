"""One results file read for a person, as data: `conformance report RESULTS` renders it.

What a person reading last night's run asks, in order: did it finish; how many cases passed, failed,
were recorded, skipped or errored; which rows on which endpoints failed, with what was expected and
what came back; what the run could not verify and why; which undocumented behaviour it saw; how
fast the target answered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from conformance.judging.coverage import Counts, Covered, coverage, exercised_lines, unit_counts
from conformance.judging.results import UNVERIFIED, CaseResult, Observed, RunResults, Verdict
from conformance.report.latency import Percentiles, run_latency
from conformance.report.matrix import LEVEL_ORDER, anchor, by_cell, verdict_of
from conformance.report.pairs import outcome

NO_ITEMS = "The results file lists no contract items (written by an older suite, or no target opened)."


@dataclass(frozen=True)
class RunCell:
    """One (row, endpoint) of the matrix in one run: its worst verdict and the cases behind it."""

    row: str
    endpoint: str
    verdict: Verdict
    level: str  # the strongest level among its cases
    cases: tuple[CaseResult, ...]

    @property
    def anchor(self) -> str:
        return anchor(self.row, self.endpoint)

    def reasons(self) -> tuple[str, ...]:
        """Why its cases were not verified, where they say."""
        return tuple(dict.fromkeys(c.reason for c in self.cases if c.verdict == Verdict.SKIPPED and c.reason))


@dataclass(frozen=True)
class FailureGroup:
    """Failed cases alike: the same rows on the same endpoint got the same answer."""

    endpoint: str
    rows: tuple[str, ...]
    received: str
    count: int
    example: CaseResult  # the first such case


@dataclass(frozen=True)
class NotVerified:
    """Cases the run reached no verdict on, for one reason: skipped (the target could not be tested)
    or error (the suite failed to decide)."""

    verdict: Verdict
    reason: str
    count: int
    example: str  # one test that gave this reason


@dataclass(frozen=True)
class Recorded:
    """Behaviour the run observed and did not judge (verdict `recorded`), alike cases counted together."""

    endpoint: str
    case: str
    level: str
    answer: str
    matched: str  # the rule (and reading) the answer met, where the suite could tell
    count: int


@dataclass(frozen=True)
class RunReport:
    file: str
    results: RunResults
    interrupted: bool
    counts: dict[str, int]
    cells: tuple[RunCell, ...]
    failures: tuple[CaseResult, ...]
    not_verified: tuple[NotVerified, ...]
    recorded: tuple[Recorded, ...]
    latency: tuple[tuple[str, Percentiles], ...]
    coverage: tuple[Covered, ...]  # every item of the contract, whether a case judged it or not
    units: Counts | None  # rows, pairs and rules, as progress and the summary count them

    def coverage_order(self) -> tuple[Covered, ...]:
        """Failed items first, then the asserted ones no case judged, then the rest, in contract order."""

        def rank(c: Covered) -> int:
            if c.failed:
                return 0
            return 3 if c.item.level == "undocumented" else 2 if c.judged else 1

        return tuple(sorted(self.coverage, key=rank))

    def exercised(self) -> list[str]:
        """`documented expectations exercised: N / N`, and the same for inferred and undocumented."""
        return exercised_lines(self.coverage)

    def headline(self) -> str:
        """What failed, or that every verified case passed."""
        failed, errors = self.counts[Verdict.FAILED], self.counts[Verdict.ERROR]
        found = [f"{failed} failed"] if failed else []
        found += [f"{errors} error(s)"] if errors else []
        headline = ", ".join(found) or "every verified case passed"
        return f"interrupted, {headline}" if self.interrupted else headline

    @property
    def bad(self) -> bool:
        return bool(self.counts[Verdict.FAILED] or self.counts[Verdict.ERROR])

    def failure_groups(self) -> tuple[FailureGroup, ...]:
        """The failures, alike ones counted together, in the order the run met them."""
        groups: dict[tuple[str, tuple[str, ...], str], list[CaseResult]] = {}
        for case in self.failures:
            groups.setdefault((case.endpoint, case.rows, received(case.observed)), []).append(case)
        return tuple(FailureGroup(*key, len(cases), cases[0]) for key, cases in groups.items())

    def unverified_cells(self) -> tuple[RunCell, ...]:
        """Rows the run exercised on an endpoint and verified no case of."""
        return tuple(c for c in self.cells if c.verdict == Verdict.SKIPPED)


def build_report(results: RunResults, file: Path) -> RunReport:
    cases = results.cases
    return RunReport(
        file=str(file),
        results=results,
        # The field arrives with interrupt handling; a file written before it was not interrupted.
        interrupted=bool(getattr(results, "interrupted", False)),
        counts=results.counts(),
        cells=tuple(
            _cell(row, endpoint, found) for (row, endpoint), found in by_cell(cases, answered=True).items()
        ),
        failures=tuple(c for c in cases if c.verdict == Verdict.FAILED),
        not_verified=_not_verified(cases),
        recorded=_recorded(cases),
        latency=run_latency(results),
        coverage=coverage(results),
        units=unit_counts(results),
    )


def _cell(row: str, endpoint: str, cases: list[CaseResult]) -> RunCell:
    levels = {c.level for c in cases}
    verdict = verdict_of(c.verdict for c in cases)
    assert verdict is not None  # a cell has at least one case
    return RunCell(
        row=row,
        endpoint=endpoint,
        verdict=verdict,
        level=next(level for level in LEVEL_ORDER if level in levels),
        cases=tuple(cases),
    )


def _not_verified(cases: list[CaseResult]) -> tuple[NotVerified, ...]:
    """Skipped and erroring cases by reason, the most frequent first."""
    counted: Counter[tuple[Verdict, str]] = Counter()
    example: dict[tuple[Verdict, str], str] = {}
    for case in cases:
        if case.verdict in UNVERIFIED:
            key = (case.verdict, case.reason or "no reason given")
            counted[key] += 1
            example.setdefault(key, case.test)
    return tuple(
        NotVerified(verdict, reason, count, example[(verdict, reason)])
        for (verdict, reason), count in counted.most_common()
    )


def _recorded(cases: list[CaseResult]) -> tuple[Recorded, ...]:
    """Recorded cases, alike ones (endpoint, input class, level, answer, rule met) counted together;
    undocumented behaviour first (what no source documents), then which documented answer won."""
    counted: Counter[tuple[str, str, str, str, str]] = Counter()
    for case in cases:
        if case.verdict == Verdict.RECORDED:
            counted[(case.endpoint, case.case, case.level, received(case.observed), case.matched or "")] += 1
    undocumented_first = sorted(counted, key=lambda key: -LEVEL_ORDER.index(key[2]))
    return tuple(Recorded(*key, count=counted[key]) for key in undocumented_first)


def received(observed: Observed | None) -> str:
    """`400 ENDS_AT_TOO_SOON`, or `200 {activity_id, status}` for an answer with no code."""
    said = outcome(observed)
    if observed is None or observed.code or not observed.body_fields:
        return said
    return f"{said} {{{', '.join(observed.body_fields)}}}"


def curl(case: CaseResult) -> str:
    """The failed request as curl, key redacted, where the results file carries it (`request`)."""
    return str(getattr(case, "request", "") or "")

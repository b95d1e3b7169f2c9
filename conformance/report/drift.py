"""Two results files compared, as data: what changed, what regressed, and the evidence.

Regressions (the exit status 1 of `conformance drift`) are documented behaviour that got worse: a
documented case that passed in the baseline fails now, or a documented row that was verified fails
now. Changes in undocumented behaviour (level `undocumented`, or verdict `recorded`) are reported and
never regressions: only a change there is news, and the news may be good.

A test that errors now and did not in the baseline (verdict `error`: a crash, a fixture error, the
test's own assertion; the suite reached no verdict) also sets exit status 1, though it names no
documented row: the suite could not verify what it verified before, so the run cannot say that
nothing regressed. It is listed apart from the documented regressions. A test that errors in both
runs is no news; one that stops erroring is reported, never a regression.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from conformance.judging.results import CaseResult, RunResults, Verdict
from conformance.report.edges import EdgeDrift, compare_edges
from conformance.report.latency import EndpointLatency, compare_latency
from conformance.report.matrix import Cell, build_cells, verdict_of
from conformance.report.pairs import Pair, outcome, pair_cases

Direction = Literal["added", "removed"]


@dataclass(frozen=True)
class RunSummary:
    file: str
    target: str
    base_url: str
    contract_digest: str
    suite_version: str
    started_at: str
    counts: dict[str, int]


@dataclass(frozen=True)
class OutcomeChange:
    """The status or code one input class got on one endpoint changed (`count` cases alike)."""

    endpoint: str
    case: str
    test: str
    rows: tuple[str, ...]
    level: str
    undocumented: bool
    before: str
    after: str
    count: int

    @property
    def input_class(self) -> str:
        return self.case

    def what(self) -> str:
        return f"{self.before} → {self.after}"


@dataclass(frozen=True)
class FieldChange:
    """A top-level body field appeared in, or went from, answers of the same status and code."""

    endpoint: str
    outcome: str
    field: str
    change: Direction
    undocumented: bool
    count: int
    example: str  # the input class of one such case

    @property
    def input_class(self) -> str:
        return self.example

    def what(self) -> str:
        return f"{self.outcome}: {'+' if self.change == 'added' else '-'}{self.field}"


@dataclass(frozen=True)
class VerdictChange:
    endpoint: str
    test: str
    case: str
    rows: tuple[str, ...]
    level: str
    before: Verdict | None  # None: the baseline did not have the case
    after: Verdict
    reason: str


@dataclass(frozen=True)
class ErrorChange:
    """A test that errors in one run and not in the other: where and why it errored."""

    test: str
    case: str  # where it errored, e.g. "error (call)"
    before: Verdict | None  # the test's worst verdict in each run (error first); None: the run lacks it
    after: Verdict | None
    reason: str  # the error's one-line summary

    @property
    def newly(self) -> bool:
        return self.after == Verdict.ERROR


@dataclass(frozen=True)
class Regression:
    kind: Literal["case", "row"]
    message: str


@dataclass(frozen=True)
class Drift:
    baseline: RunSummary
    current: RunSummary
    regressions: tuple[Regression, ...]
    outcome_changes: tuple[OutcomeChange, ...]
    field_changes: tuple[FieldChange, ...]
    newly_failing: tuple[VerdictChange, ...]
    newly_passing: tuple[VerdictChange, ...]
    newly_erroring: tuple[ErrorChange, ...]
    no_longer_erroring: tuple[ErrorChange, ...]
    no_longer_verified: tuple[Cell, ...]
    edges: tuple[EdgeDrift, ...]
    latency: tuple[EndpointLatency, ...]
    cells: tuple[Cell, ...]
    cases_only_in_baseline: int
    cases_only_in_current: int

    @property
    def regressed(self) -> bool:
        """The exit status: a documented regression, or a test that newly errors."""
        return bool(self.regressions or self.newly_erroring)

    def headline(self) -> str:
        """What regressed, or that nothing did."""
        found = [f"{len(self.regressions)} documented regression(s)"] if self.regressions else []
        found += [f"{len(self.newly_erroring)} test(s) newly erroring"] if self.newly_erroring else []
        return ", ".join(found) or "no documented regression"

    def documented_outcome_changes(self) -> tuple[OutcomeChange, ...]:
        return tuple(c for c in self.outcome_changes if not c.undocumented)

    def documented_field_changes(self) -> tuple[FieldChange, ...]:
        return tuple(c for c in self.field_changes if not c.undocumented)

    def undocumented_changes(self) -> tuple[OutcomeChange | FieldChange, ...]:
        changes: list[OutcomeChange | FieldChange] = [*self.outcome_changes, *self.field_changes]
        return tuple(c for c in changes if c.undocumented)

    def moved_edges(self) -> tuple[EdgeDrift, ...]:
        return tuple(e for e in self.edges if e.moved)

    def summary(self) -> dict[str, int]:
        """How many of each kind of change: the first table of every rendering."""
        return {
            "documented regressions": len(self.regressions),
            "status or code changed": len(self.documented_outcome_changes()),
            "body fields added or removed": len(self.documented_field_changes()),
            "undocumented behaviour changed": len(self.undocumented_changes()),
            "cases newly failing": len(self.newly_failing),
            "cases newly passing": len(self.newly_passing),
            "tests newly erroring": len(self.newly_erroring),
            "tests no longer erroring": len(self.no_longer_erroring),
            "rows no longer verified": len(self.no_longer_verified),
            "edges moved": len(self.moved_edges()),
        }


def compare(baseline: RunResults, current: RunResults, files: tuple[Path, Path]) -> Drift:
    pairs = pair_cases(baseline, current)
    cells = build_cells(pairs, current.cases)
    errors = _error_changes(baseline, current)
    return Drift(
        baseline=_summary(baseline, files[0]),
        current=_summary(current, files[1]),
        regressions=_regressions(pairs, cells),
        outcome_changes=_outcome_changes(pairs),
        field_changes=_field_changes(pairs),
        newly_failing=tuple(_verdict_change(p) for p in pairs if _newly(p, Verdict.FAILED)),
        newly_passing=tuple(
            _verdict_change(p) for p in pairs if p.verdicts() == (Verdict.FAILED, Verdict.PASSED)
        ),
        newly_erroring=tuple(e for e in errors if e.newly),
        no_longer_erroring=tuple(e for e in errors if not e.newly),
        no_longer_verified=tuple(c for c in cells if c.change == "no longer verified"),
        edges=compare_edges(baseline, current),
        latency=compare_latency(baseline, current),
        cells=cells,
        cases_only_in_baseline=sum(1 for p in pairs if p.current is None),
        cases_only_in_current=sum(1 for p in pairs if p.baseline is None),
    )


def _summary(results: RunResults, file: Path) -> RunSummary:
    return RunSummary(
        file=str(file),
        target=results.target,
        base_url=results.base_url,
        contract_digest=results.contract_digest,
        suite_version=results.suite_version,
        started_at=results.started_at,
        counts=results.counts(),
    )


def _newly(pair: Pair, verdict: Verdict) -> bool:
    before, after = pair.verdicts()
    return after == verdict and before != verdict


def _regressions(pairs: tuple[Pair, ...], cells: tuple[Cell, ...]) -> tuple[Regression, ...]:
    found = []
    regressed = set()
    for pair in pairs:
        if pair.documented and pair.verdicts() == (Verdict.PASSED, Verdict.FAILED):
            regressed.add(id(pair))
            where = f"/{pair.latest.endpoint} {pair.case!r} ({pair.test})"
            found.append(Regression("case", f"documented case {where} passed in the baseline and fails now"))
    for cell in cells:
        if cell.change == "regressed" and not any(id(p) in regressed for p in cell.pairs):
            message = f"documented row {cell.row} on /{cell.endpoint} was verified and fails now"
            found.append(Regression("row", message))
    return tuple(found)


def _outcome_changes(pairs: tuple[Pair, ...]) -> tuple[OutcomeChange, ...]:
    """Pairs whose status or code changed, identical changes of one input class counted together."""
    counted: Counter[tuple[str, str, str, str, bool]] = Counter()
    first: dict[tuple[str, str, str, str, bool], Pair] = {}
    for pair in pairs:
        observed = pair.observed()
        if observed is None:
            continue
        before, after = (outcome(o) for o in observed)
        if before != after:
            key = (pair.latest.endpoint, pair.case, before, after, pair.undocumented)
            counted[key] += 1
            first.setdefault(key, pair)
    return tuple(
        OutcomeChange(
            endpoint=endpoint,
            case=case,
            test=first[key].test,
            rows=first[key].latest.rows,
            level=first[key].latest.level,
            undocumented=undocumented,
            before=before,
            after=after,
            count=count,
        )
        for key, count in counted.items()
        for endpoint, case, before, after, undocumented in [key]
    )


def _field_changes(pairs: tuple[Pair, ...]) -> tuple[FieldChange, ...]:
    """Body fields added or removed in answers whose status and code stayed the same."""
    counted: Counter[tuple[str, str, str, Direction, bool]] = Counter()
    example: dict[tuple[str, str, str, Direction, bool], str] = {}
    for pair in pairs:
        observed = pair.observed()
        if observed is None or outcome(observed[0]) != outcome(observed[1]):
            continue
        before, after = (set(o.body_fields) for o in observed)
        added: list[tuple[str, Direction]] = [(f, "added") for f in sorted(after - before)]
        removed: list[tuple[str, Direction]] = [(f, "removed") for f in sorted(before - after)]
        for field, change in added + removed:
            key = (pair.latest.endpoint, outcome(observed[1]), field, change, pair.undocumented)
            counted[key] += 1
            example.setdefault(key, pair.case)
    return tuple(
        FieldChange(endpoint, status, field, change, undocumented, count, example[key])
        for key, count in counted.items()
        for endpoint, status, field, change, undocumented in [key]
    )


def _error_changes(baseline: RunResults, current: RunResults) -> tuple[ErrorChange, ...]:
    """Tests whose verdict is `error` in one run only, in the current run's order, each with its first error.

    By test, not by case: a test that errored in the baseline in setup and now errors in its body is
    still erroring, and is no news.
    """
    before, after = _by_test(baseline.cases), _by_test(current.cases)
    changes = []
    for test in dict.fromkeys([*after, *before]):
        was = verdict_of(c.verdict for c in before.get(test, ()))
        now = verdict_of(c.verdict for c in after.get(test, ()))
        if (was == Verdict.ERROR) != (now == Verdict.ERROR):
            errored = after[test] if now == Verdict.ERROR else before[test]
            error = next(c for c in errored if c.verdict == Verdict.ERROR)
            changes.append(ErrorChange(test, error.case, was, now, error.reason))
    return tuple(changes)


def _by_test(cases: list[CaseResult]) -> dict[str, list[CaseResult]]:
    found: dict[str, list[CaseResult]] = {}
    for case in cases:
        found.setdefault(case.test, []).append(case)
    return found


def _verdict_change(pair: Pair) -> VerdictChange:
    case = pair.latest
    before, after = pair.verdicts()
    assert after is not None  # only cases of the current run change verdict
    return VerdictChange(
        endpoint=case.endpoint,
        test=pair.test,
        case=pair.case,
        rows=case.rows,
        level=case.level,
        before=before,
        after=after,
        reason=case.reason,
    )

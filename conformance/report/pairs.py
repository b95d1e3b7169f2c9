"""The cases of two runs, paired: the same test, input class and occurrence in both runs.

A test may send the same input class several times (an arranging /register, say); the n-th one in
the baseline is paired with the n-th one in the current run. A case only one run has is paired
with None.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from conformance.judging.results import CaseResult, Observed, RunResults, Verdict

CaseKey = tuple[str, str, int]


@dataclass(frozen=True)
class Pair:
    test: str
    case: str
    occurrence: int
    baseline: CaseResult | None
    current: CaseResult | None

    @property
    def latest(self) -> CaseResult:
        found = self.current or self.baseline
        assert found is not None  # a pair holds the case of at least one run
        return found

    @property
    def undocumented(self) -> bool:
        """Behaviour no source documents: recorded, never judged, in either run."""
        return any(
            c is not None and (c.level == "undocumented" or c.verdict == Verdict.RECORDED)
            for c in (self.baseline, self.current)
        )

    @property
    def documented(self) -> bool:
        return self.baseline is not None and self.baseline.level == "documented"

    def verdicts(self) -> tuple[Verdict | None, Verdict | None]:
        return (
            None if self.baseline is None else self.baseline.verdict,
            None if self.current is None else self.current.verdict,
        )

    def observed(self) -> tuple[Observed, Observed] | None:
        """Both runs' observations, when both runs sent the request."""
        if self.baseline is None or self.current is None:
            return None
        if self.baseline.observed is None or self.current.observed is None:
            return None
        return self.baseline.observed, self.current.observed


def pair_cases(baseline: RunResults, current: RunResults) -> tuple[Pair, ...]:
    """Every case of either run, paired; in the current run's order, then the baseline's leftovers."""
    before, after = keyed(baseline.cases), keyed(current.cases)
    keys = list(after) + [k for k in before if k not in after]
    return tuple(Pair(k[0], k[1], k[2], before.get(k), after.get(k)) for k in keys)


def keyed(cases: Iterable[CaseResult]) -> dict[CaseKey, CaseResult]:
    """Each case by (test, input class, occurrence): the key that pairs it with another run's."""
    seen: Counter[tuple[str, str]] = Counter()
    found = {}
    for case in cases:
        occurrence = seen[(case.test, case.case)]
        seen[(case.test, case.case)] += 1
        found[(case.test, case.case, occurrence)] = case
    return found


def outcome(observed: Observed | None) -> str:
    """`400 ENDS_AT_TOO_SOON`, `200`, `timeout: ReadTimeout`, or `not sent`."""
    if observed is None:
        return "not sent"
    if observed.status is None:
        return observed.error or "no response"
    return f"{observed.status} {observed.code}" if observed.code else str(observed.status)

"""Whether a run's green is earned, and the colour of a nightly job.

A run passes only when it verified something: a run that judged no documented case, or whose error
cases outnumber its judged ones, is not green whatever else it did (`unearned`; the plugin makes its
exit status non-zero and writes the reason into the results file). A nightly job compares tonight's
results with the accepted baseline's (`nightly_reds`): what is new is red, known failures are not.
`conformance verdict` is that comparison on the command line, as examples/nightly-live.yml calls it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from conformance.judging.results import ARRANGEMENT, JUDGED, CaseResult, RunResults, Verdict, read_results

EXAMPLES = 3  # cases named in a line about many


def judged(cases: Iterable[CaseResult], *, documented: bool = False) -> list[CaseResult]:
    """The cases whose subject the run judged (documented ones only, if asked); a request that only
    set a test up verifies nothing by itself."""
    return [
        c
        for c in cases
        if c.verdict in JUDGED
        and not c.case.startswith(ARRANGEMENT)
        and (not documented or c.level == "documented")
    ]


def unearned(cases: list[CaseResult]) -> str:
    """Why this run's green would not be earned, in one line; "" when it verified something."""
    verdicts = len(judged(cases))
    errors = sum(c.verdict == Verdict.ERROR for c in cases)
    if not judged(cases, documented=True):
        arranged = sum(c.case.startswith(ARRANGEMENT) for c in cases)
        counted = Counter(c.verdict for c in cases if not c.case.startswith(ARRANGEMENT))
        return (
            f"verified nothing: no test judged a documented expectation ({len(cases)} cases: "
            f"{verdicts} judged not documented, {arranged} setting tests up, {counted[Verdict.RECORDED]} "
            f"recorded, {counted[Verdict.SKIPPED]} skipped, {errors} error)"
        )
    if errors > verdicts:
        return f"errors outnumber verdicts: {errors} cases ended in error, {verdicts} were judged"
    return ""


def _key(case: CaseResult) -> tuple[str, str]:
    return case.test, case.case


def _examples(cases: list[CaseResult]) -> str:
    """The first few cases, each once, with the reason of one that reached no verdict."""
    named = list(dict.fromkeys(f"{c.test} ({c.case})" + (f": {c.reason}" if c.reason else "") for c in cases))
    more = f" and {len(named) - EXAMPLES} more" if len(named) > EXAMPLES else ""
    return "; ".join(named[:EXAMPLES]) + more


def nightly_reds(tonight: RunResults, baseline: RunResults | None) -> Iterator[str]:
    """One line per reason tonight's job is red: an unearned run, error cases, and against the
    baseline a documented failure it did not have or fewer documented cases judged; without one,
    any documented failure. Nothing: green."""
    cases = tonight.cases
    reason = unearned(cases)
    if reason:
        yield reason
    errors = [c for c in cases if c.verdict == Verdict.ERROR]
    if errors:
        yield f"{len(errors)} case(s) ended in error, with no verdict: {_examples(errors)}"
    failing = [c for c in judged(cases, documented=True) if c.verdict == Verdict.FAILED]
    if baseline is None:
        if failing:
            yield (
                f"{len(failing)} documented case(s) failed, and no baseline is accepted yet: "
                + _examples(failing)
            )
        return
    known = {_key(c) for c in baseline.cases if c.verdict == Verdict.FAILED and c.level == "documented"}
    new = [c for c in failing if _key(c) not in known]
    if new:
        yield f"{len(new)} documented case(s) fail that the baseline did not have failing: {_examples(new)}"
    before = judged(baseline.cases, documented=True)
    now = judged(cases, documented=True)
    if len(now) < len(before):
        judged_now = {_key(c) for c in now}
        tonight_of = {_key(c): c for c in cases}
        lost = [tonight_of.get(_key(c), c) for c in before if _key(c) not in judged_now]
        yield (
            f"verified less than the baseline: {len(now)} documented case(s) judged, the baseline "
            f"{len(before)}; not judged tonight: {_examples(lost)}"
        )


def verdict_main(results: Path, baseline: Path | None, *, github: bool) -> int:
    """`conformance verdict`: print why the night is red (exit 1), or that it is green (exit 0)."""
    tonight = read_results(results)
    reds = list(nightly_reds(tonight, read_results(baseline) if baseline else None))
    for line in reds:
        print(f"::error::{line}" if github else f"red: {line}")  # noqa: T201 - the command's output
    if reds:
        return 1
    against = "the accepted baseline" if baseline else "no baseline accepted yet"
    documented = len(judged(tonight.cases, documented=True))
    print(f"green: {documented} documented case(s) judged, nothing new failing ({against})")  # noqa: T201
    return 0

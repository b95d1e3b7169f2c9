"""Nightly results files read in order, as data: since when each change holds, and what flaps.

`conformance drift DIRECTORY` reads every results file of a directory, ordered by `started_at`
(runs are numbered from 1, the oldest). Each error-table row on each endpoint (a cell of the matrix)
gets one state per run: its worst verdict and the answers its cases got. A change is a run whose
state differs from the run before it (a run that did not exercise the cell, an interrupted one
say, is a gap, not a change). For each cell that changed: the first run that showed its current
state, the run since which it has held, and whether it is *flapping*: a state it had left came
back (A B A), so the same news is not announced as new every other night.

Exit status 1 (`regressed`) means the latest run broke a documented rule the API has been seen to
keep: a documented case, or a documented row on an endpoint, that passed in ANY earlier run of the
directory and fails in the latest; or a test that errors in the latest run and did not in some
earlier one (as for two files: the suite could not verify what it verified before). A flapping
documented failure still fails the run; it is labelled flapping. A rule broken in every run of the
directory is a known failure, reported and not a regression; a team that wants a run it accepted
to be the reference keeps that results file in the directory.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from conformance.report.matrix import LEVEL_ORDER, Key, by_cell, ordered, table_rows, verdict_of
from conformance.report.pairs import keyed, outcome
from conformance.results import ERROR, CaseResult, RunResults

Status = Literal["unchanged", "changed", "flapping"]
SLUG = re.compile(r"[^A-Za-z0-9_:.-]+")


@dataclass(frozen=True)
class RunEntry:
    number: int  # 1 for the oldest run
    file: str
    started_at: str
    counts: dict[str, int]
    interrupted: bool


@dataclass(frozen=True)
class State:
    """What one cell (or one recorded input class) showed in one run: its worst verdict and every
    distinct answer its cases got."""

    verdict: str
    answers: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.verdict}: {', '.join(self.answers)}"

    def since(self, before: State) -> str:
        """What differs from `before`: `passed → failed, +200, -400 ENDS_AT_TOO_SOON`."""
        parts = [f"{before.verdict} → {self.verdict}"] if before.verdict != self.verdict else []
        parts += [f"+{a}" for a in self.answers if a not in before.answers]
        parts += [f"-{a}" for a in before.answers if a not in self.answers]
        return ", ".join(parts)


@dataclass(frozen=True)
class Turn:
    """A run (0-based) whose state differs from the one before; `until`: the run of the next change,
    None when it has held since."""

    run: int
    before: State
    after: State
    until: int | None


@dataclass(frozen=True)
class Series:
    """One thing's state in each run, oldest first; None: no case of that run exercised it."""

    states: tuple[State | None, ...]

    def known(self) -> list[tuple[int, State]]:
        return [(i, s) for i, s in enumerate(self.states) if s is not None]

    def turns(self) -> list[int]:
        """The runs (0-based) whose state differs from the last state known before them."""
        known = self.known()
        return [i for (_, before), (i, now) in pairwise(known) if now != before]

    @property
    def flapping(self) -> bool:
        """A state the series had left came back."""
        known = self.known()
        segments = [s for _, s in known[:1]] + [self.states[i] for i in self.turns()]
        return len(segments) != len(set(segments))

    @property
    def status(self) -> Status:
        if not self.turns():
            return "unchanged"
        return "flapping" if self.flapping else "changed"

    @property
    def latest(self) -> State | None:
        known = self.known()
        return known[-1][1] if known else None

    def since(self) -> int:
        """The run (0-based) from which the latest known state has held."""
        turns = self.turns()
        return turns[-1] if turns else self.known()[0][0]

    def first_seen(self) -> int:
        """The first run (0-based) that showed the latest known state."""
        return next(i for i, s in self.known() if s == self.latest)

    def changes(self) -> list[Turn]:
        """Each change, oldest first, and how long it held."""
        known, turns = self.known(), self.turns()
        return [
            Turn(
                run=turn,
                before=next(state for i, state in reversed(known) if i < turn),
                after=next(state for i, state in known if i == turn),
                until=turns[n + 1] if n + 1 < len(turns) else None,
            )
            for n, turn in enumerate(turns)
        ]

    def describe(self) -> str:
        """`B since run 3` (held), or `B since run 5, first seen in run 3; flapping (4 changes)`."""
        latest = self.latest
        said = f"{'·' if latest is None else self.letters()[latest]} since run {self.since() + 1}"
        if self.status == "flapping":
            said += f", first seen in run {self.first_seen() + 1}; flapping ({len(self.turns())} changes)"
        return said

    def letters(self) -> dict[State, str]:
        """Each distinct state's letter, A for the first seen: the timeline's short names."""
        distinct = list(dict.fromkeys(s for _, s in self.known()))
        return {s: _letter(n) for n, s in enumerate(distinct)}

    def timeline(self) -> list[str]:
        letters = self.letters()
        return ["·" if s is None else letters[s] for s in self.states]


@dataclass(frozen=True)
class Tracked:
    """A cell of the matrix (row, endpoint), or recorded behaviour outside it (input class, endpoint),
    followed over the runs: `states` for what changed, `verdicts` for the timeline's colours."""

    name: str  # the row, or for recorded behaviour outside the table, the input class
    endpoint: str
    level: str
    states: Series
    verdicts: tuple[str | None, ...]

    @property
    def slug(self) -> str:
        """`BAD_REQUEST-register`: the name and endpoint as an HTML id may hold them."""
        return SLUG.sub("-", f"{self.name}-{self.endpoint}")

    @property
    def anchor(self) -> str:
        return f"history-{self.slug}"


@dataclass(frozen=True)
class Broken:
    """A documented case or row that passed before and fails in the latest run, or a test that errors
    in the latest run and did not before."""

    kind: Literal["case", "row", "error"]
    what: str
    good_run: int  # the latest earlier run it passed (did not error) in, numbered from 1
    since: int  # the run since which it has failed (errored)
    flapping: bool
    reason: str = ""

    def message(self) -> str:
        verb = ("ran", "errors") if self.kind == "error" else ("passed", "fails")
        held = f"since run {self.since}" + ("; flapping" if self.flapping else "")
        return f"{self.what} {verb[0]} in run {self.good_run} and {verb[1]} now ({held})"


@dataclass(frozen=True)
class History:
    runs: tuple[RunEntry, ...]
    regressions: tuple[Broken, ...]
    newly_erroring: tuple[Broken, ...]
    cells: tuple[Tracked, ...]  # every cell of the matrix any run exercised, in matrix order
    outside: tuple[Tracked, ...]  # recorded behaviour no table row names

    @property
    def regressed(self) -> bool:
        return bool(self.regressions or self.newly_erroring)

    def verdict(self) -> str:
        flapping = sum(1 for b in (*self.regressions, *self.newly_erroring) if b.flapping)
        found = [f"{len(self.regressions)} documented regression(s)"] if self.regressions else []
        found += [f"{len(self.newly_erroring)} test(s) newly erroring"] if self.newly_erroring else []
        found += [f"{flapping} of them flapping"] if flapping else []
        return ", ".join(found) or "no documented regression"

    def changed(self, tracked: Sequence[Tracked]) -> list[Tracked]:
        """The ones that changed: failing now first, then changes that held, then flapping ones; the
        latest change first within each."""
        found = [t for t in tracked if t.states.status != "unchanged"]
        return sorted(
            found,
            key=lambda t: (
                t.verdicts[-1] != "failed",
                t.states.flapping,
                -t.states.since(),
                t.name,
                t.endpoint,
            ),
        )

    def summary(self) -> dict[str, int]:
        cells, outside = self.changed(self.cells), self.changed(self.outside)
        return {
            "runs": len(self.runs),
            "documented regressions": len(self.regressions),
            "tests newly erroring": len(self.newly_erroring),
            "cells changed and held": sum(1 for t in cells if t.states.status == "changed"),
            "cells flapping": sum(1 for t in cells if t.states.status == "flapping"),
            "recorded behaviour outside the table changed": len(outside),
        }


def build_history(runs: Sequence[tuple[RunResults, str]]) -> History:
    """`runs`: each results file with its name, oldest first (at least two)."""
    results = [r for r, _ in runs]
    cells = [by_cell(r.cases) for r in results]
    outside = [_outside(r.cases) for r in results]
    return History(
        runs=tuple(
            RunEntry(n, file, r.started_at, r.counts(), bool(getattr(r, "interrupted", False)))
            for n, (r, file) in enumerate(runs, start=1)
        ),
        regressions=_regressions(results, cells),
        newly_erroring=_newly_erroring(results),
        cells=tuple(_tracked(key, [c.get(key, []) for c in cells]) for key in ordered(_union(cells))),
        outside=tuple(_tracked(key, [o.get(key, []) for o in outside]) for key in _union(outside)),
    )


def _letter(n: int) -> str:
    return string.ascii_uppercase[n] if n < len(string.ascii_uppercase) else str(n + 1)


def _union(per_run: Iterable[dict[Key, list[CaseResult]]]) -> list[Key]:
    return list(dict.fromkeys(key for found in per_run for key in found))


def _outside(cases: Iterable[CaseResult]) -> dict[Key, list[CaseResult]]:
    """Recorded cases that name no error-table row, by (input class, endpoint)."""
    found: dict[Key, list[CaseResult]] = {}
    for case in cases:
        if case.verdict == "recorded" and not table_rows(case):
            found.setdefault((case.case, case.endpoint), []).append(case)
    return found


def _tracked(key: Key, per_run: list[list[CaseResult]]) -> Tracked:
    levels = {c.level for cases in per_run for c in cases}
    verdicts = tuple(verdict_of(c.verdict for c in cases) for cases in per_run)
    return Tracked(
        name=key[0],
        endpoint=key[1],
        level=next(level for level in LEVEL_ORDER if level in levels),
        states=Series(tuple(_state(v, cases) for v, cases in zip(verdicts, per_run, strict=True))),
        verdicts=verdicts,
    )


def _state(verdict: str | None, cases: list[CaseResult]) -> State | None:
    return None if verdict is None else State(verdict, tuple(sorted({outcome(c.observed) for c in cases})))


def _streak(verdicts: Sequence[str | None], good: Callable[[str], bool]) -> tuple[int, int, bool] | None:
    """For a series that is bad in the latest run and was good before: (the latest good run, the run
    since which it is bad, whether it flaps), runs numbered from 1; None otherwise."""
    known = [(i, v) for i, v in enumerate(verdicts) if v is not None]
    if not known or good(known[-1][1]) or known[-1][0] != len(verdicts) - 1:
        return None
    good_runs = [i for i, v in known if good(v)]
    if not good_runs:
        return None
    since = next(i for i, v in known if i > good_runs[-1])
    bad_runs = [i for i, v in known if not good(v)]
    return good_runs[-1] + 1, since + 1, bad_runs[0] < good_runs[-1]


def _regressions(results: list[RunResults], cells: list[dict[Key, list[CaseResult]]]) -> tuple[Broken, ...]:
    """Documented cases, then documented cells, that passed in some earlier run and fail in the latest."""
    found: list[Broken] = []
    per_run = [keyed(r.cases) for r in results]
    covered: set[Key] = set()
    for pair_key, case in per_run[-1].items():
        if case.verdict != "failed":
            continue
        verdicts = [_documented(run.get(pair_key)) for run in per_run]
        streak = _streak(verdicts, lambda v: v == "passed")
        if streak is not None:
            what = f"documented case /{case.endpoint} {case.case!r} ({case.test})"
            found.append(Broken("case", what, *streak))
            covered.update((row, case.endpoint) for row in table_rows(case))
    for key in ordered(cells[-1]):
        verdicts = [
            _judged(verdict_of(c.verdict for c in run.get(key, []) if c.level == "documented"))
            for run in cells
        ]
        streak = _streak(verdicts, lambda v: v == "passed")
        if key not in covered and streak is not None:
            found.append(Broken("row", f"documented row {key[0]} on /{key[1]}", *streak))
    return tuple(found)


def _documented(case: CaseResult | None) -> str | None:
    """The case's verdict where it was judged at the documented level."""
    return None if case is None or case.level != "documented" else _judged(case.verdict)


def _judged(verdict: str | None) -> str | None:
    """`passed` or `failed`; None for anything else (a recorded or skipped verdict judged nothing)."""
    return verdict if verdict in ("passed", "failed") else None


def _newly_erroring(results: list[RunResults]) -> tuple[Broken, ...]:
    tests = [_by_test(r.cases) for r in results]
    found = []
    for test, cases in tests[-1].items():
        verdicts = [verdict_of(c.verdict for c in run.get(test, [])) for run in tests]
        streak = _streak(verdicts, lambda v: v != ERROR)
        if streak is not None:
            error = next(c for c in cases if c.verdict == ERROR)
            found.append(Broken("error", f"test {test} ({error.case})", *streak, reason=error.reason))
    return tuple(found)


def _by_test(cases: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
    found: dict[str, list[CaseResult]] = {}
    for case in cases:
        found.setdefault(case.test, []).append(case)
    return found

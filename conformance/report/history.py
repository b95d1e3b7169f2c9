"""Nightly results files read in order, as data: since when each change holds, and what flaps.

`conformance drift DIRECTORY` reads the runs ordered by `started_at` (runs are numbered from 1, the
oldest), one at a time: each run's digest (history_digest) from the store (history_store), folded
here into what the history needs, so memory holds a pointer per cell per run, not the runs. Each
error-table row on each endpoint (a cell of the matrix)
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
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import Literal, TypeVar

from conformance.judging.results import Verdict
from conformance.report.history_digest import CellState, RunDigest, StoredRun
from conformance.report.matrix import LEVEL_ORDER, Key, ordered

Status = Literal["unchanged", "changed", "flapping"]
SLUG = re.compile(r"[^A-Za-z0-9_:.-]+")
# A report for people shows the last RECENT_RUNS runs, and of the earlier ones those where a change began.
RECENT_RUNS = 30
Gap = tuple[int, int]  # runs first..last (0-based, inclusive) a report leaves out
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class RunEntry:
    number: int  # 1 for the oldest run
    file: str
    started_at: str
    counts: dict[str, int]
    interrupted: bool


@dataclass(frozen=True)
class Seen:
    """What one cell (or one recorded input class) showed in one run: its worst verdict and every
    distinct answer its cases got."""

    verdict: Verdict
    answers: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.verdict}: {', '.join(self.answers)}"

    def since(self, before: Seen) -> str:
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
    before: Seen
    after: Seen
    until: int | None


@dataclass(frozen=True)
class Series:
    """One thing's state in each run, oldest first; None: no case of that run exercised it."""

    states: tuple[Seen | None, ...]

    def known(self) -> list[tuple[int, Seen]]:
        return self._known

    def turns(self) -> list[int]:
        """The runs (0-based) whose state differs from the last state known before them."""
        return self._turns

    # Computed once: a report asks each series for them many times, over as many runs as the history has.
    @cached_property
    def _known(self) -> list[tuple[int, Seen]]:
        return [(i, s) for i, s in enumerate(self.states) if s is not None]

    @cached_property
    def _turns(self) -> list[int]:
        return [i for (_, before), (i, now) in pairwise(self._known) if now != before]

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
    def latest(self) -> Seen | None:
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
        found = [(i, before, now) for (_, before), (i, now) in pairwise(self.known()) if now != before]
        return [
            Turn(run=run, before=before, after=after, until=found[n + 1][0] if n + 1 < len(found) else None)
            for n, (run, before, after) in enumerate(found)
        ]

    def first_changes(self) -> list[int]:
        """The first run (0-based) of each distinct change (A → B once, however often it flapped)."""
        first: dict[tuple[Seen, Seen], int] = {}
        for turn in self.changes():
            first.setdefault((turn.before, turn.after), turn.run)
        return sorted(first.values())

    def describe(self) -> str:
        """`B since run 3` (held), or `B since run 5, first seen in run 3; flapping (4 changes)`."""
        latest = self.latest
        said = f"{'·' if latest is None else self.letters()[latest]} since run {self.since() + 1}"
        if self.status == "flapping":
            said += f", first seen in run {self.first_seen() + 1}; flapping ({len(self.turns())} changes)"
        return said

    def letters(self) -> dict[Seen, str]:
        """Each distinct state's letter, A for the first seen: the timeline's short names."""
        return dict(self._letters)

    @cached_property
    def _letters(self) -> dict[Seen, str]:
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
    verdicts: tuple[Verdict | None, ...]

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

    def headline(self) -> str:
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
                t.verdicts[-1] != Verdict.FAILED,
                t.states.flapping,
                -t.states.since(),
                t.name,
                t.endpoint,
            ),
        )

    def shown(self) -> list[int | Gap]:
        """The runs (0-based) a report for people shows, in order, the others as gaps: the first run, the
        last RECENT_RUNS, and the first run of each change (of every cell that changed, and of each
        regression); everything is in the JSON."""
        count = len(self.runs)
        runs = {0, *range(max(0, count - RECENT_RUNS), count)}
        for tracked in (*self.changed(self.cells), *self.changed(self.outside)):
            runs.update(tracked.states.first_changes())
        for broken in (*self.regressions, *self.newly_erroring):
            runs.update((broken.good_run - 1, broken.since - 1))
        shown: list[int | Gap] = []
        for run in sorted(runs):
            previous = shown[-1] if shown else -1
            assert isinstance(previous, int)  # a gap is always followed by a run
            if run > previous + 1:
                shown.append((previous + 1, run - 1))
            shown.append(run)
        return shown

    def started(self, run: int) -> str:
        """The day run `run` (0-based) started: `2026-11-02`."""
        return self.runs[run].started_at[:10]

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


def build_history(runs: Iterable[StoredRun], count: int, latest: RunDigest) -> History:
    """`runs`: the `count` runs' digests, oldest first (at least two), read once, one at a time;
    `latest`: the last one's, read first, so that only what fails in it is followed for regressions."""
    fold = _Fold(count, latest)
    entries = []
    for number, run in enumerate(runs, start=1):
        entries.append(RunEntry(number, run.file, run.started_at, run.counts, run.interrupted))
        fold.add(number - 1, run.digest)
    assert len(entries) == count  # the store gave every run it counted
    return History(
        runs=tuple(entries),
        regressions=fold.regressions(latest),
        newly_erroring=fold.newly_erroring(latest),
        cells=tuple(fold.cells[key].tracked(key, count) for key in ordered(fold.cells)),
        outside=tuple(fold.outside[key].tracked(key, count) for key in fold.outside),
    )


def _letter(n: int) -> str:
    return string.ascii_uppercase[n] if n < len(string.ascii_uppercase) else str(n + 1)


class _Streak:
    """A series judged good or bad run by run, folded as it comes: in the end, whether it is bad in
    the latest run and was good before, since when, and whether it flaps (bad before its last good)."""

    def __init__(self) -> None:
        self.last: tuple[int, bool] | None = None  # the latest run that judged it, and how
        self.last_good: int | None = None
        self.since: int | None = None  # the first run that judged it after `last_good`
        self.first_bad: int | None = None

    def see(self, run: int, good: bool) -> None:
        self.last = (run, good)
        if good:
            self.last_good, self.since = run, None
            return
        self.first_bad = run if self.first_bad is None else self.first_bad
        self.since = run if self.since is None else self.since

    def broken(self, count: int) -> tuple[int, int, bool] | None:
        """(the latest good run, the run since which it is bad, flapping), numbered from 1, when it is bad
        in the latest of `count` runs and was good before; None otherwise."""
        if self.last is None or self.last != (count - 1, False) or self.last_good is None:
            return None
        # a bad run came after the good one
        assert self.since is not None
        assert self.first_bad is not None
        return self.last_good + 1, self.since + 1, self.first_bad < self.last_good


class _Follow:
    """One cell's (or recorded class's) state and verdict run by run, and every level its cases had."""

    def __init__(self) -> None:
        self.states: list[Seen | None] = []
        self.verdicts: list[Verdict | None] = []
        self.levels: set[str] = set()

    def add(self, run: int, state: Seen, levels: Iterable[str]) -> None:
        self._pad(run)
        self.states.append(state)
        self.verdicts.append(state.verdict)
        self.levels.update(levels)

    def tracked(self, key: Key, count: int) -> Tracked:
        self._pad(count)
        return Tracked(
            name=key[0],
            endpoint=key[1],
            level=next(level for level in LEVEL_ORDER if level in self.levels),
            states=Series(tuple(self.states)),
            verdicts=tuple(self.verdicts),
        )

    def _pad(self, runs: int) -> None:
        """None for the runs up to `runs` that did not exercise it."""
        missing = runs - len(self.states)
        self.states += [None] * missing
        self.verdicts += [None] * missing


class _Fold:
    """The history built one run at a time, oldest first: what a run adds is kept, the run is not."""

    def __init__(self, count: int, latest: RunDigest) -> None:
        self.count = count
        self.cells: dict[Key, _Follow] = {}  # in the order the runs first exercised them
        self.outside: dict[Key, _Follow] = {}
        # Only what fails (errors) in the latest run can be a regression: only that is followed.
        self.documented_cells = {c.key: _Streak() for c in latest.cells if c.documented == Verdict.FAILED}
        self.cases = {c.key: _Streak() for c in latest.failed}  # by case_key
        self.tests = {test: _Streak() for test in latest.errors}
        self._states: dict[tuple[str, tuple[str, ...]], Seen] = {}

    def add(self, run: int, digest: RunDigest) -> None:
        for cell in digest.cells:
            _entry(self.cells, cell.key, _Follow).add(run, self._state(cell), cell.levels)
            streak = self.documented_cells.get(cell.key)
            if streak is not None and cell.documented is not None:
                streak.see(run, cell.documented == Verdict.PASSED)
        for cell in digest.outside:
            _entry(self.outside, cell.key, _Follow).add(run, self._state(cell), cell.levels)
        if self.cases:
            passed, failed = set(digest.passed), {c.key for c in digest.failed}
            for key, streak in self.cases.items():
                if key in passed or key in failed:
                    streak.see(run, key in passed)
        if self.tests:
            verdicts = dict(digest.tests)
            for test, streak in self.tests.items():
                if test in verdicts:
                    streak.see(run, verdicts[test] != Verdict.ERROR)

    def _state(self, cell: CellState) -> Seen:
        """One object per distinct state, however many runs show it."""
        key = (cell.verdict, cell.answers)
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = Seen(cell.verdict, cell.answers)
        return found

    def regressions(self, latest: RunDigest) -> tuple[Broken, ...]:
        """Documented cases, then documented cells, that passed in some earlier run and fail in the latest."""
        found: list[Broken] = []
        covered: set[Key] = set()
        for case in latest.failed:
            streak = self.cases[case.key].broken(self.count)
            if streak is not None:
                what = f"documented case /{case.endpoint} {case.case!r} ({case.test})"
                found.append(Broken("case", what, *streak))
                covered.update((row, case.endpoint) for row in case.rows)
        for key in ordered(cell.key for cell in latest.cells):
            followed = self.documented_cells.get(key)
            streak = None if followed is None else followed.broken(self.count)
            if key not in covered and streak is not None:
                found.append(Broken("row", f"documented row {key[0]} on /{key[1]}", *streak))
        return tuple(found)

    def newly_erroring(self, latest: RunDigest) -> tuple[Broken, ...]:
        found = []
        for test, _ in latest.tests:
            followed = self.tests.get(test)
            streak = None if followed is None else followed.broken(self.count)
            if streak is not None:
                where, reason = latest.errors[test]  # it errors in the latest run
                found.append(Broken("error", f"test {test} ({where})", *streak, reason=reason))
        return tuple(found)


def _entry(found: dict[K, V], key: K, new: Callable[[], V]) -> V:
    """`found[key]`, made by `new()` the first time (setdefault would make one on every call)."""
    value = found.get(key)
    if value is None:
        value = found[key] = new()
    return value

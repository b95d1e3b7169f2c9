"""Activities started ahead of the tests that will need them synced, so that the sync waits overlap.

On a live target a token sync takes the profile's declared bound in wall time, and polling the sync
gate with a push would reach real devices: a test that needs a STARTED, synced activity waits out the
bound. Started ahead, an activity's wait runs while earlier tests run, and a run waits about one bound
in all instead of one per test.

Each prepared activity goes to one test only, with the cases that prepared it (re-attributed to that
test), so a test's results are the same as when it arranges its own: only the moment the requests were
sent moves. The pool is used on a live run that does not record (see `sync_pool_in_use` in the pytest
plugin): a cassette holds a test's own requests in order, and the embedded sandbox's virtual clock
costs no wall time.

Warmed from what the run collected: a test that may ask for synced activities says so with the
`synced` marker (the kind: which insiders; how many at most), so when the pool is made it starts
`FIRST_AHEAD` of each kind the collected tests will ask for, and the first test of each kind does not
wait a whole bound. It keeps `ahead` ready per kind, doubling it (up to `MAX_AHEAD`) each time a test
still had to wait, but never more than the marked tests after the last one finished will likely
take (`demand`: what their markers allow, scaled by what their test function's finished tests took;
the activities a run starts and no test takes are few), nor more than it can prepare in one sync
bound at the fastest round trip seen (`worth_keeping`: over a slow path a big fill would cost more
time than the waits it saves). A kind no marker names is not prepared (its tests arrange their own).
Under `-n N` "after the last one finished" counts the other workers' tests too: tests are handed
out in collection order, so it still falls to nothing as the run ends; and each worker prepares only
its share (1/N) of what the tests to come may take, since the others take the rest (each worker's
own spares made a `-n 2` run send 11 % more requests than one process), and keeps ready its share of
`FIRST_AHEAD` and `MAX_AHEAD` (with a whole first fill each, 18 % more).
They end with the run's others at cleanup (or are listed as leftovers): they are in the target's world.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import pytest

from conformance.generate.world import ActivityModel
from conformance.judging.results import CaseResult
from conformance.profile.target_profile import Insider
from conformance.targets.arrange import REUSE_MARGIN_SECONDS, Arranger, insiders_of_kind
from conformance.targets.target import Target
from conformance.targets.verifier import Verifier

# The marker of a test that may ask `arrange` for synced activities: synced(syncing=, offline=, count=).
SYNCED_MARKER = "synced"
# Activities of each marked kind started when the pool is made (fewer if the marked tests take fewer).
FIRST_AHEAD = 96
# The most activities of one kind kept ahead: bounds the ones a run starts and no test takes.
MAX_AHEAD = 128
# Requests that prepare one activity (register, start): what it costs the run in round trips.
PREPARING_REQUESTS = 2
# What the pool's own cases are recorded under until a test takes the activity (never in the results).
PREPARING = "(sync pool)"

Kind = tuple[str, ...]  # the insider ids of the activity


@dataclass(frozen=True)
class Prepared:
    """An activity registered and started ahead, with the cases and JUnit properties that made it."""

    activity: ActivityModel
    cases: tuple[CaseResult, ...]
    properties: tuple[tuple[str, object], ...]
    # Started by the pool's first fill: a test waiting on it waits because the pool is young, not
    # because the tests outran it.
    first: bool = False


@dataclass
class SyncPool:
    """One worker's activities started ahead (under `-n N` each worker has its own target, its own
    share of the rate budget, and so its own pool)."""

    target: Target
    workers: int = 1  # pytest-xdist workers sharing the run's tests: this pool prepares 1/workers
    ready: dict[Kind, deque[Prepared]] = field(default_factory=dict)
    ahead: dict[Kind, int] = field(default_factory=dict)
    # What the tests may take, in run order: (position, kind, most activities that test may take,
    # its test function).
    wanted: list[tuple[int, Kind, int, str]] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)  # node id -> position in the run
    finished: int = -1  # the position of the last test this worker finished
    # Per kind, what the running test has taken so far.
    taken: Counter[Kind] = field(default_factory=Counter)
    # Per (test function, kind), over this worker's finished tests: what their markers said they may
    # take, and what they took. A marker names the most a test may take; many of its parametrizations
    # take fewer or none, and those of one function behave alike.
    claimed: Counter[tuple[str, Kind]] = field(default_factory=Counter)
    used: Counter[tuple[str, Kind]] = field(default_factory=Counter)
    insiders: dict[Kind, tuple[Insider, ...]] = field(default_factory=dict)  # of each kind planned
    # Kinds the pool could not prepare (an arrangement that failed or was skipped): tests arrange them.
    refused: set[Kind] = field(default_factory=set)
    filled: bool = False  # whether the pool has started preparing (after the first test's own /start)

    def plan(self, items: Iterable[pytest.Item]) -> None:
        """What the collected `items` will ask for (their `synced` markers), in run order. Nothing starts
        before a test has finished (`warm`) or has its own activity (`fill`): an interrupted run has
        then always judged something."""
        for item in items:
            self.positions[item.nodeid] = len(self.positions)
            for _, chosen, count in self._marked(item):
                self.expect(chosen, count, _function(item))

    def expect(self, insiders: tuple[Insider, ...], count: int, function: str = "") -> None:
        """The next test (of `function`) may take up to `count` synced activities of `insiders`."""
        kind = tuple(i.insider_id for i in insiders)
        position = len(self.positions) - 1 if self.positions else len(self.wanted)
        self.wanted.append((position, kind, count, function))
        self.ahead.setdefault(kind, self._per_worker(FIRST_AHEAD))
        self.ready.setdefault(kind, deque())
        self.insiders[kind] = insiders

    def warm(self) -> None:
        """Start the first of every kind once a test has finished (the suite runs the tests that need
        no synced activity first, so their time covers these activities' sync waits)."""
        if not self.filled and self.finished >= 0:
            self.fill()

    def fill(self) -> None:
        """Start ahead what the tests to come may take, of every kind (after a test has finished or
        has its own activity: see `plan`)."""
        first, self.filled = not self.filled, True
        for kind, insiders in self.insiders.items():
            self._fill(kind, insiders, first=first)

    def done(self, item: pytest.Item) -> None:
        """`item` has finished: what it, and the tests before it, could have taken is no longer to come
        (under `-n N` the tests before it ran on this worker or another)."""
        self.finished = max(self.finished, self.positions.get(item.nodeid, self.finished))
        for kind, _, count in self._marked(item):
            self.claimed[_function(item), kind] += count
            self.used[_function(item), kind] += self.taken[kind]
        self.taken.clear()

    def demand(self, kind: Kind) -> int:
        """The activities of `kind` this worker's share of the tests yet to finish will likely take:
        what their markers allow, each scaled by the share its function's finished tests took of what
        theirs allowed (all of it, for a function none of whose tests finished yet)."""
        to_come = sum(
            count * self._share(function, kind)
            for position, k, count, function in self.wanted
            if k == kind and position > self.finished
        )
        return max(math.ceil(to_come / self.workers) - self.taken[kind], 0)

    def _share(self, function: str, kind: Kind) -> float:
        claimed = self.claimed[function, kind]
        return self.used[function, kind] / claimed if claimed else 1.0

    def _marked(self, item: pytest.Item) -> Iterable[tuple[Kind, tuple[Insider, ...], int]]:
        for marker in item.iter_markers(SYNCED_MARKER):
            options = dict(marker.kwargs)
            count = int(options.pop("count", 1))
            chosen = insiders_of_kind(self.target.profile, **options)
            if chosen:
                yield tuple(i.insider_id for i in chosen), chosen, count

    def take(self, arranger: Arranger, insiders: tuple[Insider, ...]) -> ActivityModel | None:
        """A STARTED activity of `insiders` for this test, its sync wait begun earlier if one was ready;
        None when none was (the test then arranges its own, and then calls `fill`)."""
        kind = tuple(i.insider_id for i in insiders)
        if kind in self.refused:
            return None
        queue = self.ready.setdefault(kind, deque())
        while queue and not self._usable(queue[0].activity):
            queue.popleft()  # too close to its end to hand out: cleanup ends it with the others
        prepared = queue.popleft() if queue else None
        young = prepared.first if prepared is not None else not self.filled
        if not young and (prepared is None or self._wait_left(prepared.activity) > 0):  # outran
            self.ahead[kind] = min(2 * self.ahead.get(kind, 1), self._per_worker(MAX_AHEAD))
        self.taken[kind] += 1  # from the pool or arranged by the test itself
        if prepared is None:
            return None
        verifier = arranger.verifier
        for case in prepared.cases:
            verifier.target.record(replace(case, test=verifier.test))
        for name, value in prepared.properties:
            verifier.record_property(name, value)
        verifier.started.append(prepared.activity)
        return prepared.activity

    def worth_keeping(self) -> int:
        """The most activities of one kind worth keeping ready: those the run can prepare in one sync
        bound. Tests cannot take them faster than the pool prepares them, and a fill that took longer
        than a bound would make the test waiting on it wait longer than arranging its own."""
        preparing = PREPARING_REQUESTS * self.target.fastest_round_trip
        bound = self.target.profile.sync_delay_seconds
        return MAX_AHEAD if preparing == 0 else max(1, min(MAX_AHEAD, math.ceil(bound / preparing)))

    def _per_worker(self, activities: int) -> int:
        """This worker's share of what one process would keep: the other workers take the rest."""
        return math.ceil(activities / self.workers)

    def _fill(self, kind: Kind, insiders: tuple[Insider, ...], *, first: bool) -> None:
        queue = self.ready[kind]
        wanted = min(self.ahead.get(kind, 0), self.demand(kind), self.worth_keeping())
        while len(queue) < wanted and kind not in self.refused:
            prepared = self._prepare(insiders, first=first)
            if prepared is None:
                self.refused.add(kind)
            else:
                queue.append(prepared)

    def _prepare(self, insiders: tuple[Insider, ...], *, first: bool) -> Prepared | None:
        """Register and start one activity, keeping its cases aside; None if that did not work (the
        test that needs one will arrange its own and meet the same answer under its own name)."""
        cases: list[CaseResult] = []
        properties: list[tuple[str, object]] = []
        verifier = Verifier(
            self.target, PREPARING, lambda name, value: properties.append((name, value)), sink=cases.append
        )
        arranger = Arranger(verifier)
        try:
            activity = arranger.register(insiders)
            arranger.start(activity)
        except (Exception, pytest.skip.Exception):
            return None
        if activity.state != self.target.contract.started_state:
            return None
        return Prepared(activity, tuple(cases), tuple(properties), first)

    def _usable(self, activity: ActivityModel) -> bool:
        left = (activity.ends_at - self.target.when().latest).total_seconds()
        return activity.state == self.target.contract.started_state and left > REUSE_MARGIN_SECONDS

    def _wait_left(self, activity: ActivityModel) -> float:
        if activity.started_at is None:
            return 0.0
        synced = activity.started_at.timestamp() + self.target.profile.sync_delay_seconds
        return synced - self.target.when().earliest.timestamp()


def _function(item: pytest.Item) -> str:
    """The test function of `item`: its node id without the parametrization."""
    return item.nodeid.partition("[")[0]

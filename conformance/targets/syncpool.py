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

Lazy: a kind of activity (the insiders it is for) is prepared only once a test has asked for one, and
the pool keeps `ahead` more of that kind, doubling it (up to `MAX_AHEAD`) each time a test still had
to wait: the activities a run starts and no test takes are at most `MAX_AHEAD` of each kind asked for.
They end with the run's others at cleanup (or are listed as leftovers): they are in the target's world.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import pytest

from conformance.generate.world import ActivityModel
from conformance.judging.results import CaseResult
from conformance.profile.target_profile import Insider
from conformance.targets.arrange import REUSE_MARGIN_SECONDS, Arranger
from conformance.targets.target import Target
from conformance.targets.verifier import Verifier

# The most activities of one kind kept ahead: bounds the ones a run starts and no test takes.
MAX_AHEAD = 8
# What the pool's own cases are recorded under until a test takes the activity (never in the results).
PREPARING = "(sync pool)"

Kind = tuple[str, ...]  # the insider ids of the activity


@dataclass(frozen=True)
class Prepared:
    """An activity registered and started ahead, with the cases and JUnit properties that made it."""

    activity: ActivityModel
    cases: tuple[CaseResult, ...]
    properties: tuple[tuple[str, object], ...]


@dataclass
class SyncPool:
    """One worker's activities started ahead (under `-n N` each worker has its own target, its own
    share of the rate budget, and so its own pool)."""

    target: Target
    ready: dict[Kind, deque[Prepared]] = field(default_factory=dict)
    ahead: dict[Kind, int] = field(default_factory=dict)
    # Kinds the pool could not prepare (an arrangement that failed or was skipped): tests arrange them.
    refused: set[Kind] = field(default_factory=set)

    def take(self, arranger: Arranger, insiders: tuple[Insider, ...]) -> ActivityModel | None:
        """A STARTED activity of `insiders` for this test, its sync wait begun earlier if one was ready;
        None when none was (the test then arranges its own). Starts the next ones ahead either way."""
        kind = tuple(i.insider_id for i in insiders)
        if kind in self.refused:
            return None
        queue = self.ready.setdefault(kind, deque())
        while queue and not self._usable(queue[0].activity):
            queue.popleft()  # too close to its end to hand out: cleanup ends it with the others
        prepared = queue.popleft() if queue else None
        if prepared is None or self._wait_left(prepared.activity) > 0:
            self.ahead[kind] = min(2 * self.ahead.get(kind, 0) or 1, MAX_AHEAD)  # demand outran the pool
        self._fill(kind, insiders)
        if prepared is None:
            return None
        verifier = arranger.verifier
        for case in prepared.cases:
            verifier.target.record(replace(case, test=verifier.test))
        for name, value in prepared.properties:
            verifier.record_property(name, value)
        verifier.started.append(prepared.activity)
        return prepared.activity

    def _fill(self, kind: Kind, insiders: tuple[Insider, ...]) -> None:
        queue = self.ready[kind]
        while len(queue) < self.ahead[kind] and kind not in self.refused:
            prepared = self._prepare(insiders)
            if prepared is None:
                self.refused.add(kind)
            else:
                queue.append(prepared)

    def _prepare(self, insiders: tuple[Insider, ...]) -> Prepared | None:
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
        return Prepared(activity, tuple(cases), tuple(properties))

    def _usable(self, activity: ActivityModel) -> bool:
        left = (activity.ends_at - self.target.when().latest).total_seconds()
        return activity.state == self.target.contract.started_state and left > REUSE_MARGIN_SECONDS

    def _wait_left(self, activity: ActivityModel) -> float:
        if activity.started_at is None:
            return 0.0
        synced = activity.started_at.timestamp() + self.target.profile.sync_delay_seconds
        return synced - self.target.when().earliest.timestamp()

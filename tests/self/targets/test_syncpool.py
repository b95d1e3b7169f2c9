"""The sync pool (conformance/targets/syncpool.py): one activity per test, ended or listed at the end.

On the embedded sandbox (its virtual clock makes the sync waits instant); the fixture that decides
where a run uses the pool is exercised by tests/self/suite/test_sync_pool_live.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from conformance.judging.results import CaseResult
from conformance.profile.target_profile import Insider
from conformance.targets.arrange import Arranger
from conformance.targets.kind import RunOptions
from conformance.targets.kinds import kind_named
from conformance.targets.syncpool import FIRST_AHEAD, MAX_AHEAD, PREPARING, SYNCED_MARKER, SyncPool
from conformance.targets.target import Target
from conformance.targets.verifier import Verifier
from tests.self.reference import bundled_contract, sandbox_profile


@pytest.fixture
def recorded() -> list[CaseResult]:
    return []


@pytest.fixture
def target(recorded: list[CaseResult]) -> Iterator[Target]:
    sandbox = kind_named("sandbox")
    with sandbox.open(bundled_contract(), sandbox_profile(), recorded.append, RunOptions()) as opened:
        yield opened


def _pool(target: Target, count: int, insiders: tuple[Insider, ...] = ()) -> SyncPool:
    """A pool told that tests to come will take `count` synced activities of `insiders` (default: the
    syncing ones), as the `synced` markers of the collected tests tell it on a run."""
    pool = SyncPool(target)
    pool.expect(insiders or target.profile.syncing_insiders(), count)
    return pool


def _arranger(target: Target, pool: SyncPool, test: str) -> Arranger:
    return Arranger(Verifier(target=target, test=test, record_property=lambda *_: None), pool=pool)


def test_each_test_gets_an_activity_of_its_own(target: Target, recorded: list[CaseResult]) -> None:
    """Tests asking the pool for a synced activity each get a different one, with the cases that made it
    recorded under their own name only."""
    pool = _pool(target, 8)
    activities = [_arranger(target, pool, f"test_{n}").synced() for n in range(6)]
    ids = [a.activity_id for a in activities]
    assert len(set(ids)) == len(ids)
    assert all(a.state == target.contract.started_state for a in activities)
    assert not [c for c in recorded if c.test == PREPARING]
    for n, activity_id in enumerate(ids):
        starts = [c for c in recorded if c.test == f"test_{n}" and c.endpoint == target.contract.roles.starts]
        assert len(starts) == 1, (n, activity_id)
    prepared_ahead = len(target.world.activities) - len(ids)
    assert 0 < prepared_ahead <= 2  # no more than the tests to come may take


def test_a_taken_activity_is_not_handed_out_again(target: Target) -> None:
    """What one test did to its activity (here: ended it) never reaches another test through the pool."""
    pool = _pool(target, 5)
    first = _arranger(target, pool, "test_first").ended()
    later = [_arranger(target, pool, f"test_{n}").synced() for n in range(4)]
    assert first.state == target.contract.ended_state
    assert first.activity_id not in {a.activity_id for a in later}
    assert all(a.state == target.contract.started_state for a in later)


def test_activities_left_in_the_pool_are_ended_at_cleanup(target: Target) -> None:
    """The activities prepared ahead and never taken are ended with the run's others."""
    pool = _pool(target, 5)
    taken = {_arranger(target, pool, f"test_{n}").synced().activity_id for n in range(3)}
    untaken = [a for a in target.world.activities.values() if a.activity_id not in taken]
    assert untaken
    target.clean_up()
    assert all(a.state == target.contract.ended_state for a in untaken)
    assert target.leftovers() == []


def test_pool_activities_that_cannot_be_ended_are_leftovers(target: Target) -> None:
    """An activity prepared ahead for devices that never sync cannot be ended: the leftovers list it."""
    offline = target.profile.never_syncing_insiders()[:1]
    pool = _pool(target, 3, offline)
    taken = _arranger(target, pool, "test_offline").synced(offline)
    untaken = [a for a in target.world.activities.values() if a.activity_id != taken.activity_id]
    assert untaken
    target.clean_up()
    leftovers = " ".join(target.leftovers())
    assert all(a.activity_id in leftovers for a in untaken)


def test_a_kind_no_test_is_marked_for_is_not_prepared(target: Target) -> None:
    """Only what the tests to come are marked to take is started ahead: a test asking for another kind
    arranges its own, and the pool starts none for it."""
    pool = SyncPool(target)
    before = set(target.world.activities)
    offline = target.profile.never_syncing_insiders()[:1]
    _arranger(target, pool, "test_unmarked").synced(offline)
    assert len(set(target.world.activities) - before) == 1


def test_a_worker_prepares_its_share_of_what_the_tests_to_come_may_take(target: Target) -> None:
    """Under `-n 2` the other worker takes about half of the marked tests: this worker's pool starts
    ahead half of what they may take (rounded up), not all of it, and keeps half as many ready."""
    alone, shared = SyncPool(target), SyncPool(target, workers=2)
    for pool in (alone, shared):
        pool.expect(target.profile.syncing_insiders(), 7)
    kind = tuple(i.insider_id for i in target.profile.syncing_insiders())
    assert (alone.demand(kind), shared.demand(kind)) == (7, 4)
    assert (alone.ahead[kind], shared.ahead[kind]) == (FIRST_AHEAD, math.ceil(FIRST_AHEAD / 2))


class _Marked:
    """A collected test as the pool reads one: its node id and its `synced` markers."""

    def __init__(self, nodeid: str, **options: int) -> None:
        self.nodeid, self.options = nodeid, options

    def iter_markers(self, name: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(kwargs=self.options)] if name == SYNCED_MARKER else []


def test_a_function_whose_finished_tests_took_nothing_is_not_prepared_for(target: Target) -> None:
    """A marker gives the most a test may take: once one parametrization of a function has finished
    without taking any, the pool expects its other parametrizations to take none either."""
    items = [_Marked(f"test_rows[{n}]") for n in range(6)] + [_Marked("test_other")]
    pool = SyncPool(target)
    pool.plan(items)  # type: ignore[arg-type]
    kind = tuple(i.insider_id for i in target.profile.syncing_insiders())
    assert pool.demand(kind) == 7
    pool.done(items[0])  # type: ignore[arg-type]  # it took none
    assert pool.demand(kind) == 1  # test_other, whose function has not shown what it takes


def test_the_pool_keeps_no_more_than_it_can_prepare_in_one_sync_bound(target: Target) -> None:
    """Over a path whose round trip is long against the bound, a big fill would cost more time than
    the waits it saves: the pool keeps only what two requests each can prepare in one bound."""
    pool = SyncPool(target)
    bound = target.profile.sync_delay_seconds
    target.fastest_round_trip = bound / 10
    assert pool.worth_keeping() == 5
    target.fastest_round_trip = bound * 3
    assert pool.worth_keeping() == 1
    target.fastest_round_trip = 0.0
    assert pool.worth_keeping() == MAX_AHEAD


def test_the_first_test_arranging_its_own_does_not_grow_the_pool(target: Target) -> None:
    """The first test of a run finds the pool empty because it has not started yet, not because the
    tests outran it: what the pool keeps ready stays at its first size."""
    pool = _pool(target, 200)
    kind = tuple(i.insider_id for i in target.profile.syncing_insiders())
    _arranger(target, pool, "test_first").synced()
    assert pool.ahead[kind] == FIRST_AHEAD

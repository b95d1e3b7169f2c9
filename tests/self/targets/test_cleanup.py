"""The run's cleanup (`Target.clean_up`): an /end refused for want of a synced token waits only what is
left of the sync bound, and only for activities whose devices may still sync.

On the embedded sandbox: its virtual clock moves only when the suite waits, so the time cleanup
waited is read exactly from it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.profile.target_profile import Insider
from conformance.targets.arrange import Arranger
from conformance.targets.kind import RunOptions
from conformance.targets.kinds import kind_named
from conformance.targets.target import SYNC_MARGIN_SECONDS, Target
from conformance.targets.verifier import Verifier
from tests.self.reference import bundled_contract, sandbox_profile


@pytest.fixture
def target() -> Iterator[Target]:
    sandbox = kind_named("sandbox")
    with sandbox.open(bundled_contract(), sandbox_profile(), lambda _: None, RunOptions()) as opened:
        yield opened


def _started(target: Target, insiders: tuple[Insider, ...]) -> str:
    arranger = Arranger(Verifier(target=target, test="test_cleanup", record_property=lambda *_: None))
    activity = arranger.register(insiders)
    arranger.start(activity)
    return activity.activity_id


def _cleanup_waits(target: Target) -> float:
    """Seconds of target time that `clean_up` let pass."""
    before = target.when().earliest
    target.clean_up()
    return (target.when().earliest - before).total_seconds()


def test_an_end_refused_as_not_synced_is_sent_again_after_what_is_left_of_the_bound(target: Target) -> None:
    """An activity started a moment ago is ended after its bound: cleanup waits what is left of it."""
    bound = target.profile.sync_delay_seconds
    activity_id = _started(target, target.profile.syncing_insiders())
    target.wait(bound / 2)
    waited = _cleanup_waits(target)
    assert target.world.activities[activity_id].state == target.contract.ended_state
    assert bound / 2 <= waited <= bound / 2 + SYNC_MARGIN_SECONDS
    assert target.leftovers() == []


def test_an_end_refused_after_the_bound_is_not_waited_for(target: Target) -> None:
    """Devices that have not synced by the bound never will (a phone switched off): cleanup does not
    wait for them, and lists the activity as left on the target."""
    activity_id = _started(target, target.profile.never_syncing_insiders()[:1])
    target.wait(target.profile.sync_delay_seconds + SYNC_MARGIN_SECONDS)
    assert _cleanup_waits(target) == 0
    assert activity_id in " ".join(target.leftovers())

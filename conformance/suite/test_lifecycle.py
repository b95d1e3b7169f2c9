"""The lifecycle as a state machine: random sequences checked against the contract's state model.

Hypothesis drives register / add-users / remove-users / start / update / end, and waits for the
token sync or for expiry; every response is judged by the oracle against the suite's model of the
target (REGISTERED -> STARTED -> DEAD, the sync gate, 409 on a second /start, 404 after /end).

On a real clock waiting is wall time: a sync wait after the machine's own /start costs the whole
bound, once per sequence (minutes a run at a 5 s bound), and expiry is minutes away. There the machine
does not wait: it sends no more requests to what it started itself, and begins each sequence with a
STARTED, synced activity of its own, made before the first sequence with `arrange.synced_many`: the
sync waits overlap, in the sync pool or among themselves. On a virtual clock (the in-process sandbox,
its cassettes) waiting costs nothing, and the machine is the one it always was.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    rule,
    run_state_machine_as_test,
)

from conformance.core.exchange import Request
from conformance.generate.bodies import push_body, segment_body
from conformance.generate.determinism import seed_from_name
from conformance.generate.world import ActivityModel
from conformance.suite.valid import update_endpoint
from conformance.targets.arrange import Arranger
from conformance.targets.verifier import Verifier

STEPS_PER_SEQUENCE = 12


@pytest.mark.synced(count=settings().max_examples)
def test_lifecycle_sequences(arrange: Arranger) -> None:
    """Any sequence of lifecycle calls gets the outcome the state model gives at each step."""
    if not arrange.profile.syncing_insiders():
        arrange.skip("the target profile lists no eligible insider whose devices sync")

    machine: type[LifecycleMachine] = VirtualClockLifecycle
    ready: list[ActivityModel] = []
    if not arrange.verifier.target.clock_is_virtual:  # one synced activity for each sequence to come
        machine, ready = RealClockLifecycle, arrange.synced_many(settings().max_examples)

    class Lifecycle(machine):  # type: ignore[valid-type,misc]
        arranger = arrange
        synced_ahead = ready

    if settings().derandomize:  # its examples follow its name, not its source
        seed_from_name(Lifecycle)
    run_state_machine_as_test(
        Lifecycle, settings=settings(settings.default, stateful_step_count=STEPS_PER_SEQUENCE)
    )


class LifecycleMachine(RuleBasedStateMachine):
    arranger: Arranger
    activities = Bundle("activities")

    @property
    def verifier(self) -> Verifier:
        return self.arranger.verifier

    def insider_ids(self) -> list[str]:
        profile = self.verifier.profile
        return [i.insider_id for i in (*profile.syncing_insiders(), *profile.never_syncing_insiders())]

    @rule(target=activities, with_offline_device=st.booleans())
    def register(self, with_offline_device: bool) -> ActivityModel:
        profile = self.verifier.profile
        insiders = profile.syncing_insiders()[:2]
        if with_offline_device:
            insiders = (*insiders, *profile.never_syncing_insiders()[:1])
        return self.arranger.register(insiders)

    @rule(activity=activities, index=st.integers(0, 3))
    def add_users(self, activity: ActivityModel, index: int) -> None:
        self.edit_segment(self.verifier.contract.roles.adds_to_segment, activity, index)

    @rule(activity=activities, index=st.integers(0, 3))
    def remove_users(self, activity: ActivityModel, index: int) -> None:
        self.edit_segment(self.verifier.contract.roles.removes_from_segment, activity, index)

    def edit_segment(self, endpoint: str, activity: ActivityModel, index: int) -> None:
        ids = self.insider_ids()
        body = segment_body(activity, [ids[index % len(ids)]])
        self.verifier.verify(Request(endpoint, body), case=f"{endpoint} on {activity.state}")

    def send_start(self, activity: ActivityModel) -> None:
        endpoint = self.verifier.contract.roles.starts
        self.verifier.verify(Request(endpoint, push_body(activity)), case=f"{endpoint} on {activity.state}")

    @rule(activity=activities, targeted=st.booleans())
    def update(self, activity: ActivityModel, targeted: bool) -> None:
        self.push(update_endpoint(self.verifier.contract), activity, targeted)

    @rule(activity=activities, targeted=st.booleans())
    def end(self, activity: ActivityModel, targeted: bool) -> None:
        self.push(self.verifier.contract.roles.ends, activity, targeted)

    def push(self, endpoint: str, activity: ActivityModel, targeted: bool) -> None:
        extra = {}
        if targeted:
            insider = self.verifier.profile.syncing_insiders()[0]
            extra["target_devices"] = [
                {"insider_id": insider.insider_id, "udid": d.udid} for d in insider.devices
            ]
        body = push_body(activity, **extra)
        label = f"{endpoint} on {activity.state}" + (" (targeted)" if targeted else "")
        self.verifier.verify(Request(endpoint, body), case=label)


class VirtualClockLifecycle(LifecycleMachine):
    """Waiting moves the clock: for the token sync of what the machine started, or past expiry."""

    @rule(activity=LifecycleMachine.activities)
    def start(self, activity: ActivityModel) -> None:
        self.send_start(activity)

    @rule()
    def wait_for_sync(self) -> None:
        self.arranger.wait_for_sync()

    @rule()
    def wait_until_expiry(self) -> None:
        window = self.verifier.contract.behaviour.ends_at
        self.verifier.target.wait(window.minimum.value + 120)


class RealClockLifecycle(LifecycleMachine):
    """No waiting. What the machine starts leaves its hands: a push before its sync bound would get an
    answer that depends on how long the run took to get there, so a run's verdicts and answers would
    depend on its pace. Each sequence begins with one of the test's STARTED, synced activities, made
    before the first sequence (from the sync pool, or started together: one bound for all)."""

    synced_ahead: ClassVar[list[ActivityModel]] = []

    @initialize(target=LifecycleMachine.activities)
    def synced(self) -> ActivityModel:
        return self.synced_ahead.pop(0) if self.synced_ahead else self.arranger.synced()

    @rule(activity=consumes(LifecycleMachine.activities))
    def start(self, activity: ActivityModel) -> None:
        self.send_start(activity)


PARALLEL_STARTS = 4


def test_parallel_start_starts_once(verifier: Verifier, arrange: Arranger) -> None:
    """Several /start of one activity at once, each on its own connection: one 200, every other 409.

    Which request wins is not known beforehand, so the successes are judged first (against the
    REGISTERED activity) and the rest after (against the STARTED one): a second 200 fails as a
    documented ALREADY_STARTED, and no 200 at all fails the first /start.
    """
    activity = arrange.register()
    when = verifier.when()
    request = Request(verifier.contract.roles.starts, push_body(activity))
    exchanges = verifier.send_together(request, PARALLEL_STARTS, case="parallel start")
    success = verifier.contract.behaviour.success_status
    for exchange in sorted(exchanges, key=lambda e: e.response is None or e.response.status != success):
        verifier.conclude(exchange, case=f"one of {PARALLEL_STARTS} parallel starts", when=when)

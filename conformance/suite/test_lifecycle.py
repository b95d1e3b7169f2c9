"""The lifecycle as a state machine: random sequences checked against the contract's state model.

Hypothesis drives register / add-users / remove-users / start / update / end, and waits for the
token sync or for expiry; every response is judged by the oracle against the suite's model of the
target (REGISTERED -> STARTED -> DEAD, the sync gate, 409 on a second /start, 404 after /end).
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from conformance.exchange import Request
from conformance.generate.oracle import ActivityModel
from conformance.targets.target import Verifier

STEPS_PER_SEQUENCE = 12


def test_lifecycle_sequences(conformance: Verifier) -> None:
    """Any sequence of lifecycle calls gets the outcome the state model gives at each step."""
    if not conformance.profile.syncing_insiders():
        conformance.skip("the target profile lists no eligible insider whose devices sync")

    class Lifecycle(LifecycleMachine):
        verifier = conformance

    run_state_machine_as_test(
        Lifecycle, settings=settings(settings.default, stateful_step_count=STEPS_PER_SEQUENCE)
    )


class LifecycleMachine(RuleBasedStateMachine):
    verifier: Verifier
    activities = Bundle("activities")

    def insider_ids(self) -> list[str]:
        profile = self.verifier.profile
        return [i.insider_id for i in (*profile.syncing_insiders(), *profile.never_syncing_insiders())]

    @rule(target=activities, with_offline_device=st.booleans())
    def register(self, with_offline_device: bool) -> ActivityModel:
        profile = self.verifier.profile
        insiders = profile.syncing_insiders()[:2]
        if with_offline_device:
            insiders = (*insiders, *profile.never_syncing_insiders()[:1])
        return self.verifier.register(insiders)

    @rule(activity=activities, index=st.integers(0, 3))
    def add_users(self, activity: ActivityModel, index: int) -> None:
        ids = self.insider_ids()
        body = self.verifier.segment_body(activity, [ids[index % len(ids)]])
        self.verifier.verify(Request("add-users", body), case=f"add-users on {activity.state}")

    @rule(activity=activities, index=st.integers(0, 3))
    def remove_users(self, activity: ActivityModel, index: int) -> None:
        ids = self.insider_ids()
        body = self.verifier.segment_body(activity, [ids[index % len(ids)]])
        self.verifier.verify(Request("remove-users", body), case=f"remove-users on {activity.state}")

    @rule(activity=activities)
    def start(self, activity: ActivityModel) -> None:
        self.verifier.verify(
            Request("start", self.verifier.push_body(activity)), case=f"start on {activity.state}"
        )

    @rule(activity=activities, targeted=st.booleans())
    def update(self, activity: ActivityModel, targeted: bool) -> None:
        self.push("update", activity, targeted)

    @rule(activity=activities, targeted=st.booleans())
    def end(self, activity: ActivityModel, targeted: bool) -> None:
        self.push("end", activity, targeted)

    def push(self, endpoint: str, activity: ActivityModel, targeted: bool) -> None:
        extra = {}
        if targeted:
            insider = self.verifier.profile.syncing_insiders()[0]
            extra["target_devices"] = [
                {"insider_id": insider.insider_id, "udid": d.udid} for d in insider.devices
            ]
        body = self.verifier.push_body(activity, **extra)
        label = f"{endpoint} on {activity.state}" + (" (targeted)" if targeted else "")
        self.verifier.verify(Request(endpoint, body), case=label)

    @rule()
    def wait_for_sync(self) -> None:
        self.verifier.wait_for_sync()

    @precondition(lambda self: self.verifier.target.clock_is_virtual)
    @rule()
    def wait_until_expiry(self) -> None:
        """Only on a virtual clock: waiting out ends_at on a real one takes minutes."""
        window = self.verifier.contract.behaviour.ends_at
        self.verifier.target.wait(window.minimum.value + 120)


PARALLEL_STARTS = 4


def test_parallel_start_starts_once(conformance: Verifier) -> None:
    """Several /start of one activity at once, each on its own connection: one 200, every other 409.

    Which request wins is not known beforehand, so the successes are judged first (against the
    REGISTERED activity) and the rest after (against the STARTED one): a second 200 fails as a
    documented ALREADY_STARTED, and no 200 at all fails the first /start.
    """
    activity = conformance.register()
    when = conformance.when()
    request = Request("start", conformance.push_body(activity))
    exchanges = conformance.send_together(request, PARALLEL_STARTS, case="parallel start")
    success = conformance.contract.behaviour.success_status
    for exchange in sorted(exchanges, key=lambda e: e.response is None or e.response.status != success):
        conformance.conclude(exchange, case=f"one of {PARALLEL_STARTS} parallel starts", when=when)

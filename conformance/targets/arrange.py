"""Arranging a test: the activities, states and faults it needs, set up through the `Verifier`.

An `Arranger` (the `arrange` fixture) registers, starts and ends activities and injects faults.
What it sends is judged only on what the test needs (`Verifier.arrange`), so a test proves only
what it is about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn, Protocol

from conformance.contract import Contract
from conformance.core.clock import ServerTime, rfc3339
from conformance.core.exchange import Exchange, Request
from conformance.core.signals import deferred
from conformance.generate.bodies import push_body, register_body
from conformance.generate.world import ActivityModel
from conformance.judging.results import ARRANGEMENT
from conformance.profile.target_profile import Insider, TargetProfile
from conformance.targets.control_client import Control, FaultKind
from conformance.targets.verifier import Verifier

# An arranged activity lives this long past the shortest lifetime allowed (and the clock's tolerance):
# the longest a request may take to reach the target (the live client's timeout), so that one the
# run cannot end (a REGISTERED one) is gone as soon as the documentation allows.
LIFETIME_MARGIN_SECONDS = 10
# A kept activity this close to its end is not handed out again: the test's next request may be late.
REUSE_MARGIN_SECONDS = 60


def insiders_of_kind(
    profile: TargetProfile, syncing: int | None = None, offline: int = 0
) -> tuple[Insider, ...]:
    """The insiders of a synced activity: the first `syncing` of those whose devices sync (None: all of
    them, what `synced` takes by default), then the first `offline` of those whose devices never do."""
    return (*profile.syncing_insiders()[:syncing], *profile.never_syncing_insiders()[:offline])


class Pool(Protocol):
    """Activities started ahead (conformance/targets/syncpool.py): one for this test, or None."""

    def take(self, arranger: Arranger, insiders: tuple[Insider, ...]) -> ActivityModel | None: ...

    def fill(self) -> None: ...


@dataclass
class Arranger:
    verifier: Verifier
    # Where STARTED activities come from with their sync wait already begun: None arranges each now.
    pool: Pool | None = None
    # need -> (this test's activity for it, the state it was in when made): see `reuse`.
    kept: dict[str, tuple[ActivityModel, str]] = field(default_factory=dict)

    @property
    def contract(self) -> Contract:
        return self.verifier.contract

    @property
    def profile(self) -> TargetProfile:
        return self.verifier.profile

    def when(self) -> ServerTime:
        return self.verifier.when()

    def skip(self, reason: str, *, endpoint: str = "", rows: tuple[str, ...] = ()) -> NoReturn:
        self.verifier.skip(reason, endpoint=endpoint, rows=rows)

    # -- activities ---------------------------------------------------------------------------------

    def register(
        self,
        insiders: tuple[Insider, ...] | None = None,
        *,
        ends_in: float | None = None,
        case: str | None = None,
    ) -> ActivityModel:
        """An activity of `insiders` (default: the syncing eligible ones), ending soon after the
        shortest lifetime allowed. Without a `case` it arranges a test and is judged only on what the
        test needs; with one it is the test's subject, judged in full."""
        chosen = insiders or self.profile.syncing_insiders()
        if not chosen:
            self.skip("the target profile lists no eligible insider whose devices sync")
        target = self.verifier.target
        window = self.contract.behaviour.ends_at
        seconds = (
            ends_in
            if ends_in is not None
            else window.minimum.value + LIFETIME_MARGIN_SECONDS + target.tolerance_seconds
        )
        when = self.when()
        ends_at = rfc3339(when.latest + timedelta(seconds=seconds))
        body = register_body(self.contract, self.profile, [i.insider_id for i in chosen], ends_at)
        request = Request(self.contract.roles.creates_activity, body)
        v = self.verifier
        exchange = v.arrange(request, when=when) if case is None else v.verify(request, case=case, when=when)
        answer = exchange.response.json() if exchange.response else None
        model = v.world.activity(answer.get("activity_id") if isinstance(answer, dict) else None)
        if model is None:
            answer = (
                f"{exchange.response.status} {exchange.response.code or ''}" if exchange.response else "none"
            )
            v.skip(
                f"a valid request to create an activity got no activity (answer: {answer.strip()}): "
                "the test it would set up cannot run",
                endpoint=request.endpoint,
            )
        return model

    def reuse(self, need: str, make: Callable[[], ActivityModel]) -> ActivityModel:
        """This test's activity kept under `need`, while it is in the state it was made in and far
        from its end; else a new one from `make`. For the examples Hypothesis draws in one test, each
        needing an activity in one state: they share one instead of leaving one each on the target.
        A caller that needs several distinct activities at once calls `make` itself. Tests do not
        share: each test's requests (and its cassette) stay the same whichever tests ran before it."""
        kept = self.kept.get(need)
        if kept is not None:
            activity, state = kept
            left = (activity.ends_at - self.when().latest).total_seconds()
            if activity.state == state and left > REUSE_MARGIN_SECONDS:
                return activity
        activity = make()
        self.kept[need] = (activity, activity.state)
        return activity

    def start(self, activity: ActivityModel) -> Exchange:
        request = Request(self.contract.roles.starts, push_body(activity))
        # A /start cut off on its way leaves the run unsure whether the activity started (its /end
        # cannot tell: it answers a REGISTERED one as it answers an unsynced STARTED one), so an
        # interrupt waits for its answer (at most the request deadline).
        with deferred():
            try:
                return self.verifier.verify(request, case=f"{ARRANGEMENT}start", arrangement=True)
            except KeyboardInterrupt:  # off the main thread nothing waits: cleanup tries an /end
                self.verifier.target.maybe_started.append(activity)
                raise

    def wait_for_sync(self, activity: ActivityModel | None = None) -> None:
        """Wait until `activity` (default: all this test started) is past the target's declared sync
        bound (virtual: move it)."""
        chosen = self.verifier.started if activity is None else [activity]
        self.verifier.target.wait_for_sync([a for a in chosen if a.started_at is not None])

    def synced(self, insiders: tuple[Insider, ...] | None = None) -> ActivityModel:
        """A STARTED activity of `insiders` (default as `register`), past the target's sync bound:
        this test's own, from the pool if it has one (its wait began while earlier tests ran)."""
        (activity,) = self.synced_many(1, insiders)
        return activity

    def synced_many(self, count: int, insiders: tuple[Insider, ...] | None = None) -> list[ActivityModel]:
        """`count` activities as `synced` gives one: those the pool has ready, and the rest started one
        after another before any is waited for, so that their sync waits overlap (one bound for all)."""
        chosen = insiders or self.profile.syncing_insiders()
        pool = self.pool if chosen else None  # asked for each one, so that it counts what this test takes
        taken = [pool.take(self, chosen) for _ in range(count)] if pool is not None else []
        activities = [a for a in taken if a is not None]
        for _ in range(count - len(activities)):
            activities.append(self.register(insiders))
            self.start(activities[-1])
        if self.pool is not None:
            self.pool.fill()  # the next ones, now that this test has its own
        for activity in activities:  # in the order they started: after the first, what is left of each
            self.wait_for_sync(activity)
        return activities

    def ended(self) -> ActivityModel:
        """A started, synced, then ended activity (DEAD)."""
        activity = self.synced()
        self.verifier.arrange(Request(self.contract.roles.ends, push_body(activity)))
        return activity

    # -- faults -------------------------------------------------------------------------------------

    def require_control(
        self, fault: FaultKind | None = None, *, endpoint: str = "", rows: tuple[str, ...] = ()
    ) -> Control:
        control = self.verifier.target.control
        if control is None or (fault is not None and fault not in self.profile.faults):
            self.skip(
                f"the target cannot inject {fault or 'faults'} (no control API in its profile)",
                endpoint=endpoint,
                rows=rows,
            )
        return control

    @contextmanager
    def fault(
        self, endpoint: str, kind: FaultKind, *, row: str | None = None, **options: Any
    ) -> Iterator[Control]:
        """Inject a fault into the next request of `endpoint`; the oracle then expects `row`."""
        control = self.require_control(kind, endpoint=endpoint, rows=(row,) if row else ())
        control.inject(endpoint, kind, **options)
        world = self.verifier.world
        if row is not None:
            world.pending_rows[endpoint] = row
        try:
            yield control
        finally:
            control.clear_faults()
            world.pending_rows.pop(endpoint, None)

"""Activities: a thread-safe store, their lifecycle state, token sync and expiry.

Time is read only from the injected clock, and expiry is evaluated lazily against it, so a virtual
clock moved forward makes activities expire and tokens sync without any timer running. Every syncing
device syncs at the delay after /start, or (token-sync=staggered) the k-th of n at delay * k / n.
"""

from __future__ import annotations

import heapq
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from conformance.contract import Outcome
from conformance.contract.model import Lifecycle, Roles, State
from conformance.core.clock import Clock
from conformance.sandbox.decide import Codes, decide
from conformance.sandbox.eligibility import DeviceKey
from conformance.sandbox.incoming import Incoming
from conformance.sandbox.readings import END_ON_REGISTERED, Readings

ACTIVITY_ID = "activity_id"
# The states of the model's `State` type; the lifecycle rules say what each allows.
REGISTERED: State = "REGISTERED"
STARTED: State = "STARTED"
DEAD: State = "DEAD"


@dataclass
class Activity:
    activity_id: str
    owner: str
    activity_type: str
    ends_at: datetime
    segment: dict[DeviceKey, bool]  # device -> whether its per-activity token ever syncs
    started_at: datetime | None = None


@dataclass(frozen=True)
class ActivityView:
    """A read-only snapshot of one activity, for tests and the control API."""

    activity_id: str
    state: State
    activity_type: str
    ends_at: datetime
    devices: tuple[DeviceKey, ...]
    started_at: datetime | None


class ActivityStore:
    """All live activities. `lock` is re-entrant: a request holds it from its checks to its commit."""

    def __init__(self, clock: Clock, sync_delay_seconds: float, *, staggered: bool = False) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self._sync_delay = timedelta(seconds=sync_delay_seconds)
        self._staggered = staggered
        self._activities: dict[str, Activity] = {}
        self._expiry: list[tuple[datetime, str]] = []

    def create(
        self, owner: str, activity_type: str, ends_at: datetime, devices: Mapping[DeviceKey, bool]
    ) -> Activity:
        activity = Activity(str(uuid.uuid4()), owner, activity_type, ends_at, dict(devices))
        with self.lock:
            self._activities[activity.activity_id] = activity
            heapq.heappush(self._expiry, (ends_at, activity.activity_id))
        return activity

    def find(self, owner: str | None, activity_id: object) -> Activity | None:
        """The owner's live activity with this id; another account's activity is as absent as a dead one."""
        if owner is None or not isinstance(activity_id, str):
            return None
        with self.lock:
            self._expire()
            activity = self._activities.get(activity_id)
        return activity if activity is not None and activity.owner == owner else None

    def state_of(self, activity: Activity | None) -> State:
        if activity is None:
            return DEAD
        return STARTED if activity.started_at is not None else REGISTERED

    def start(self, activity: Activity) -> None:
        activity.started_at = self._clock.now()

    def delete(self, activity: Activity) -> None:
        with self.lock:
            self._activities.pop(activity.activity_id, None)

    def devices_elsewhere(self, owner: str, activity_type: str, but: str | None = None) -> set[DeviceKey]:
        """The devices in the segments of the owner's other live activities of this type."""
        with self.lock:
            self._expire()
            return {
                device
                for activity in self._activities.values()
                if activity.owner == owner
                and activity.activity_type == activity_type
                and activity.activity_id != but
                for device in activity.segment
            }

    def synced(self, activity: Activity, targets: Iterable[DeviceKey]) -> int:
        """How many targets have synced by now (never any before /start)."""
        if activity.started_at is None:
            return 0
        elapsed = self._clock.now() - activity.started_at
        if self._staggered:
            ready = _staggered_ready(activity, elapsed, self._sync_delay)
            return sum(1 for target in targets if target in ready)
        if elapsed < self._sync_delay:
            return 0
        return sum(1 for target in targets if activity.segment.get(target, False))

    def reset(self) -> None:
        with self.lock:
            self._activities.clear()
            self._expiry.clear()

    def snapshot(self) -> tuple[ActivityView, ...]:
        with self.lock:
            self._expire()
            return tuple(
                ActivityView(
                    a.activity_id,
                    self.state_of(a),
                    a.activity_type,
                    a.ends_at,
                    tuple(a.segment),
                    a.started_at,
                )
                for a in self._activities.values()
            )

    def _expire(self) -> None:
        # ends_at passing kills an activity with no push: it simply stops being found.
        now = self._clock.now()
        while self._expiry and self._expiry[0][0] <= now:
            ends_at, activity_id = heapq.heappop(self._expiry)
            activity = self._activities.get(activity_id)
            if activity is not None and activity.ends_at == ends_at:
                del self._activities[activity_id]


def _staggered_ready(activity: Activity, elapsed: timedelta, delay: timedelta) -> set[DeviceKey]:
    """Of the n devices that sync, in sorted order, the k-th has synced once `elapsed` >= delay * k / n."""
    syncing = sorted(device for device, syncs in activity.segment.items() if syncs)
    n = len(syncing)
    return {device for k, device in enumerate(syncing, 1) if elapsed * n >= delay * k}


class LifecycleRules:
    """behaviour.yaml `lifecycle`: what each endpoint does in each state, and the lifecycle check group.

    The reading end-on-registered replaces the sandbox_choice of /end on a REGISTERED activity: with
    `not-found` it answers as on a DEAD one; with `ok` it succeeds and ends it as /end on a STARTED one.
    """

    def __init__(
        self,
        lifecycle: Lifecycle,
        roles: Roles,
        store: ActivityStore,
        codes: Codes,
        readings: Readings | None = None,
    ) -> None:
        self._store = store
        self._codes = codes
        self._outcomes = {key: decide(t.expectation) for key, t in lifecycle.transitions.items()}
        self._to = {key: t.to for key, t in lifecycle.transitions.items()}
        self._end_on_registered(roles.ends, readings)
        self._endpoints = {endpoint for endpoint, _ in lifecycle.transitions}
        for endpoint in self._endpoints:
            if codes.of(self.outcome(endpoint, DEAD)) is None:
                raise ValueError(
                    f"lifecycle: {endpoint} on a DEAD activity must be an error, there is nothing to act on"
                )

    def _end_on_registered(self, end: str, readings: Readings | None) -> None:
        if readings is None:
            return
        cell = (end, REGISTERED)
        if readings.takes(END_ON_REGISTERED, "not-found"):
            self._outcomes[cell] = self._outcomes[(end, DEAD)]
        elif readings.takes(END_ON_REGISTERED, "ok"):
            self._outcomes[cell] = Outcome(kind="ok")
            self._to[cell] = self._to[(end, STARTED)]

    def outcome(self, endpoint: str, state: State) -> Outcome:
        return self._outcomes[(endpoint, state)]

    def next_state(self, endpoint: str, state: State) -> State | None:
        return self._to[(endpoint, state)]

    def check(self, incoming: Incoming) -> str | None:
        """The lifecycle group: the code this endpoint answers in the activity's state, if an error."""
        if incoming.endpoint not in self._endpoints:
            return None
        activity_id = incoming.data.get(ACTIVITY_ID)
        if not isinstance(activity_id, str) or not activity_id.strip():
            return None  # the fields group owns a missing or blank activity_id
        state = self._store.state_of(self._store.find(incoming.key, activity_id))
        return self._codes.of(self.outcome(incoming.endpoint, state))

"""The suite's model of the target: the activities it created and the state each is in.

The oracle reads it to predict an answer; after a success the oracle allowed, `World.follow` moves
it as the documented lifecycle says, so the next prediction starts from where the target is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conformance.contract import Contract
from conformance.contract.model import State
from conformance.core.exchange import Request
from conformance.profile.target_profile import TargetProfile


@dataclass
class ActivityModel:
    """What the suite knows of one activity on the target."""

    activity_id: str
    activity_type: str
    state: State
    segment: set[str]  # insider ids whose eligible devices are in the segment
    ends_at: datetime
    started_at: datetime | None = None


@dataclass
class World:
    """The activities the suite created on the target, and the rows it told the target to produce."""

    contract: Contract
    profile: TargetProfile
    # Every activity the run created, in order (the cleanup and the leftovers list read it).
    activities: dict[str, ActivityModel] = field(default_factory=dict)
    # Rows the target was told to produce for the next request of an endpoint (an injected fault,
    # a lowered rate limit): the oracle expects the row instead of what the request would get.
    pending_rows: dict[str, str] = field(default_factory=dict)

    def activity(self, activity_id: str | None) -> ActivityModel | None:
        return self.activities.get(activity_id or "")

    def follow(
        self, request: Request, response_body: Any, started_at: Callable[[], datetime]
    ) -> ActivityModel | None:
        """Move the model as a success of `request` moves the target; `response_body` is the success's
        body (`{}` for a success whose answer was lost). Returns the activity the success started, if
        any; `started_at` is asked for the latest moment the target may have started it.
        """
        roles = self.contract.roles
        body = request.body if isinstance(request.body, dict) else {}
        if request.endpoint == roles.creates_activity:
            self._created(response_body, body)
            return None
        activity = self.activity(request.activity_id())
        if activity is None:
            return None
        if request.endpoint == roles.adds_to_segment:
            activity.segment |= {i for i in body["insider_ids"] if self.eligible(i)}
        if request.endpoint == roles.removes_from_segment:
            activity.segment -= set(body["insider_ids"])
        to = self._after_success(request.endpoint, activity.state)
        if to is None or to == activity.state:
            return None
        activity.state = to
        if request.endpoint != roles.starts:
            return None
        # Compared with a later `when().earliest`, the difference never exceeds the time that passed.
        activity.started_at = started_at()
        return activity

    def _after_success(self, endpoint: str, state: State) -> State | None:
        """The state a success leaves an activity in. Where the lifecycle leaves the state open (a 200
        /end on a REGISTERED activity, under one reading), a success does what it does in the states
        the documentation covers: a /end deletes, a /start starts."""
        lifecycle = self.contract.behaviour.lifecycle
        transition = lifecycle.transition(endpoint, state)
        if transition.expectation.asserted:
            return transition.to
        leads_to = {t.to for (e, _), t in lifecycle.transitions.items() if e == endpoint and t.to}
        return leads_to.pop() if len(leads_to) == 1 else None

    def _created(self, response_body: Any, request_body: dict[str, Any]) -> None:
        activity_id = response_body.get("activity_id") if isinstance(response_body, dict) else None
        if not isinstance(activity_id, str):
            return
        model = ActivityModel(
            activity_id=activity_id,
            activity_type=request_body["activity_type"],
            state=self.contract.behaviour.lifecycle.after_register,
            segment={i for i in request_body["insider_ids"] if self.eligible(i)},
            ends_at=datetime.fromisoformat(request_body[self.contract.behaviour.ends_at.field]),
        )
        self.activities[activity_id] = model

    def eligible(self, insider_id: str) -> bool:
        """Whether the profile says this insider's devices join a segment."""
        insider = next((i for i in self.profile.insiders if i.insider_id == insider_id), None)
        classes = self.contract.behaviour.eligibility.classes
        return insider is not None and classes[insider.eligibility].counter is not None

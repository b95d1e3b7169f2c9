"""One question to the oracle: a request, the world it is sent into, and when the server reads it.

Every rule family reads the same `Ask`; what several families need of the world (the activity the
request names, its state, the devices a push addresses, whether the sync gate is open) is read here
once, so that the families agree on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conformance.contract import Contract
from conformance.contract.model import Behaviour, State
from conformance.core.clock import ServerTime
from conformance.core.exchange import Request
from conformance.generate.world import ActivityModel, World
from conformance.profile.target_profile import Insider

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class BodyShape:
    """How a request body parses: the body cases (behaviour.yaml `body[].case`) it breaks, in the
    order the oracle names them, and the JSON object, when it is a non-empty one."""

    cases: tuple[str, ...]
    data: dict[str, Any] | None


def body_shape(content: bytes) -> BodyShape:
    """The body cases `content` breaks. Whitespace only is as empty as it is unparseable (behaviour.yaml
    readings: unparseable-body-code), so it breaks both."""
    if not content.strip():
        return BodyShape(("empty", "unparseable") if content else ("empty",), None)
    try:
        data = json.loads(content)
    except ValueError:
        return BodyShape(("unparseable",), None)
    if not isinstance(data, dict):
        return BodyShape(("not_object",), None)
    return BodyShape((), data) if data else BodyShape(("empty_object",), None)


@dataclass(frozen=True)
class Ask:
    request: Request
    world: World
    when: ServerTime
    shape: BodyShape

    @classmethod
    def of(cls, world: World, request: Request, when: ServerTime) -> Ask:
        return cls(request, world, when, body_shape(request.content()))

    @property
    def contract(self) -> Contract:
        return self.world.contract

    @property
    def behaviour(self) -> Behaviour:
        return self.world.contract.behaviour

    @property
    def endpoint(self) -> str:
        return self.request.endpoint

    @property
    def body(self) -> dict[str, Any] | None:
        """The body as a JSON object with a field, or None: then a body rule is broken."""
        return self.shape.data

    @property
    def json_content_type(self) -> bool:
        return (self.request.content_type or "").split(";")[0].strip().lower() == JSON_MEDIA_TYPE

    @property
    def account_answered(self) -> bool:
        """The key's account state is one the API answers (behaviour.yaml accounts: `outcome: ok`)."""
        return self.behaviour.accounts[self.request.account].outcome.kind == "ok"

    @property
    def activity(self) -> ActivityModel | None:
        """The activity the request names; to a key the API refuses, every id is unknown."""
        if not self.account_answered:
            return None
        return self.world.activity(self.request.activity_id())

    def state_of(self, activity: ActivityModel | None) -> State:
        """An unknown or expired activity is DEAD."""
        if activity is None or activity.ends_at <= self.when.earliest:
            return "DEAD"
        return activity.state

    def insider(self, insider_id: str) -> Insider:
        found = next((i for i in self.world.profile.insiders if i.insider_id == insider_id), None)
        return found or Insider(insider_id=insider_id, eligibility="no_profile", devices=())

    def targets(self, activity: ActivityModel) -> list[tuple[str, str, bool]]:
        """(insider_id, udid, syncs) of the segment's devices the request addresses."""
        devices = [(i, d.udid, d.syncs) for i in sorted(activity.segment) for d in self.insider(i).devices]
        wanted = (self.body or {}).get(self.behaviour.target_devices.field)
        if not wanted:
            return devices
        pairs = {(e["insider_id"], e["udid"]) for e in wanted}
        return [d for d in devices if (d[0], d[1]) in pairs]

    def synced_for_sure(self, activity: ActivityModel) -> bool:
        """Past the target's declared sync bound since /start: every device that syncs has."""
        bound = timedelta(seconds=self.world.profile.sync_delay_seconds)
        return activity.started_at is not None and self.when.earliest - activity.started_at >= bound

    def synced(self, activity: ActivityModel) -> bool:
        """Some device of the segment has surely synced: the gate is open to an untargeted push."""
        syncing = any(d.syncs for i in activity.segment for d in self.insider(i).devices)
        return activity.state == "STARTED" and syncing and self.synced_for_sure(activity)

"""What each endpoint does once every check group has passed; runs under the store's lock.

The lifecycle rules decide whether an activity endpoint acts, answers an error, or goes through
the sync gate, and which state it leaves the activity in; this module only does the work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.clock import parse_rfc3339
from conformance.contract import Contract
from conformance.sandbox.eligibility import DeviceKey, EligibilityRules, SegmentDelta
from conformance.sandbox.incoming import Incoming
from conformance.sandbox.replies import Replies, Reply
from conformance.sandbox.rules import Codes
from conformance.sandbox.state import ACTIVITY_ID, DEAD, STARTED, Activity, ActivityStore, LifecycleRules

# Request and response field names of openapi.yaml that the actions read or write.
ACTIVITY_TYPE = "activity_type"
INSIDER_IDS = "insider_ids"
ENDS_AT = "ends_at"
TARGET_DEVICES = "target_devices"
SESSIONS = "sessions_triggered"
GDPR_DETAILS = "gdpr_denied_details"
REGISTER = "register"
ADD_USERS = "add-users"
REMOVE_USERS = "remove-users"

Action = Callable[[Incoming, Activity], Reply]


class Actions:
    def __init__(
        self,
        contract: Contract,
        store: ActivityStore,
        lifecycle: LifecycleRules,
        eligibility: EligibilityRules,
        replies: Replies,
    ) -> None:
        behaviour = contract.behaviour
        self._codes = Codes(behaviour)
        self._store = store
        self._lifecycle = lifecycle
        self._eligibility = eligibility
        self._replies = replies
        rules = behaviour.eligibility
        self._no_eligible = (rules.no_eligible_code, frozenset(rules.no_eligible_endpoints))
        self._no_profile = (
            rules.single_without_profile_code,
            frozenset(contract.table.row(rules.single_without_profile_code).endpoints),
        )
        gdpr_on_add = rules.gdpr_details_on_add_users.sandbox_choice.get("present", False)
        self._gdpr_endpoints = frozenset({REGISTER, *((ADD_USERS,) if gdpr_on_add else ())})
        not_synced = self._codes.decided(behaviour.sync_gate.none_synced)
        if not_synced is None:
            raise ValueError(
                "behaviour.yaml sync_gate.none_synced must be an error for the sandbox to gate pushes"
            )
        self._not_synced_code = not_synced
        self._not_synced_field = behaviour.sync_gate.count_field
        # What an activity endpoint does when its lifecycle outcome is plain `ok`; the rest push.
        self._on_ok: Mapping[str, Action] = {ADD_USERS: self._add_users, REMOVE_USERS: self._remove_users}

    def run(self, incoming: Incoming) -> Reply:
        if incoming.endpoint == REGISTER:
            return self._register(incoming)
        activity = self._store.find(incoming.key, incoming.data.get(ACTIVITY_ID))
        state = self._store.state_of(activity)
        outcome = self._lifecycle.outcome(incoming.endpoint, state)
        code = self._codes.of(outcome)
        if code is not None or activity is None:
            # LifecycleRules makes DEAD, the state of an absent activity, an error everywhere.
            return self._replies.error(code or self._codes.fallback)
        if outcome.kind == "sync_gate":
            reply = self._sync_gate(incoming, activity)
        else:
            reply = self._on_ok.get(incoming.endpoint, self._push)(incoming, activity)
        if reply.code is None:
            self._transition(activity, self._lifecycle.next_state(incoming.endpoint, state))
        return reply

    def _transition(self, activity: Activity, to: str | None) -> None:
        if to == STARTED:
            self._store.start(activity)
        elif to == DEAD:
            self._store.delete(activity)

    # -- segments ------------------------------------------------------------------------------

    def _register(self, incoming: Incoming) -> Reply:
        ids = _insider_ids(incoming.data)
        code, endpoints = self._no_profile
        if incoming.endpoint in endpoints and len(ids) == 1 and self._eligibility.has_no_profile(ids[0]):
            return self._replies.error(code)
        delta = self._eligibility.evaluate(ids, ())
        refused = self._refuse_ineligible(incoming.endpoint, delta)
        if refused is not None:
            return refused
        ends_at = parse_rfc3339(str(incoming.data[ENDS_AT]))
        if incoming.key is None or ends_at is None:  # the checks passed, so neither can happen
            raise AssertionError("register passed its checks without a key or an ends_at")
        activity = self._store.create(incoming.key, str(incoming.data[ACTIVITY_TYPE]), ends_at, delta.added)
        return self._segment_result(incoming.endpoint, activity, delta)

    def _add_users(self, incoming: Incoming, activity: Activity) -> Reply:
        delta = self._eligibility.evaluate(_insider_ids(incoming.data), activity.segment)
        refused = self._refuse_ineligible(incoming.endpoint, delta)
        if refused is not None:
            return refused
        activity.segment.update(delta.added)
        return self._segment_result(incoming.endpoint, activity, delta)

    def _remove_users(self, incoming: Incoming, activity: Activity) -> Reply:
        leaving = set(_insider_ids(incoming.data))
        removed = [key for key in activity.segment if key[0] in leaving]
        for key in removed:
            del activity.segment[key]
        return self._segment_result(
            incoming.endpoint,
            activity,
            SegmentDelta(skipped=dict.fromkeys(self._eligibility.skipped_keys, 0)),
            removed=len(removed),
        )

    def _refuse_ineligible(self, endpoint: str, delta: SegmentDelta) -> Reply | None:
        code, endpoints = self._no_eligible
        if delta.eligible_devices or endpoint not in endpoints:
            return None
        return self._replies.error(code, skipped=delta.skipped, **self._gdpr(endpoint, delta))

    def _segment_result(
        self, endpoint: str, activity: Activity, delta: SegmentDelta, removed: int = 0
    ) -> Reply:
        return self._replies.ok(
            activity_id=activity.activity_id,
            matched=delta.matched,
            added=len(delta.added),
            refreshed=delta.refreshed,
            removed=removed,
            skipped=delta.skipped,
            **self._gdpr(endpoint, delta),
        )

    def _gdpr(self, endpoint: str, delta: SegmentDelta) -> dict[str, Any]:
        if not delta.gdpr_denied or endpoint not in self._gdpr_endpoints:
            return {}
        return {GDPR_DETAILS: delta.gdpr_details()}

    # -- pushes --------------------------------------------------------------------------------

    def _push(self, incoming: Incoming, activity: Activity) -> Reply:
        return self._replies.ok(**{SESSIONS: len(_targets(incoming.data, activity))})

    def _sync_gate(self, incoming: Incoming, activity: Activity) -> Reply:
        targets = _targets(incoming.data, activity)
        synced = self._store.synced(activity, targets)
        if not synced:
            return self._replies.error(self._not_synced_code)
        skipped = len(targets) - synced
        return self._replies.ok(
            **{SESSIONS: synced}, **({self._not_synced_field: skipped} if skipped else {})
        )


def _insider_ids(data: Mapping[str, Any]) -> list[str]:
    ids = data.get(INSIDER_IDS)
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def _targets(data: Mapping[str, Any], activity: Activity) -> list[DeviceKey]:
    """The segment devices a push goes to: the listed pairs that are in the segment, else all of it."""
    listed = data.get(TARGET_DEVICES)
    if not isinstance(listed, list) or not listed:
        return list(activity.segment)
    wanted = {(d.get("insider_id"), d.get("udid")) for d in listed if isinstance(d, dict)}
    return [key for key in activity.segment if key in wanted]

"""What each endpoint does once every check group has passed; runs under the store's lock.

The lifecycle rules decide whether an activity endpoint acts, answers an error, or goes through
the sync gate, and which state it leaves the activity in; this module only does the work, and the
readings that change it: mismatched-activity-type, refreshed-scope, gdpr-details-on-add-users and
start-without-matching-target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.contract import Contract
from conformance.contract.rules import ProbeId
from conformance.core.clock import parse_rfc3339
from conformance.sandbox.decide import Codes
from conformance.sandbox.eligibility import DeviceKey, EligibilityRules, SegmentDelta
from conformance.sandbox.incoming import Incoming
from conformance.sandbox.readings import (
    GDPR_DETAILS_ON_ADD_USERS,
    MISMATCHED_ACTIVITY_TYPE,
    REFRESHED_SCOPE,
    START_WITHOUT_MATCHING_TARGET,
    Readings,
)
from conformance.sandbox.replies import Replies, Reply
from conformance.sandbox.state import (
    ACTIVITY_ID,
    DEAD,
    STARTED,
    Activity,
    ActivityStore,
    LifecycleRules,
)

# Request and response field names of openapi.yaml that the actions read or write.
ACTIVITY_TYPE = "activity_type"
INSIDER_IDS = "insider_ids"
ENDS_AT = "ends_at"
TARGET_DEVICES = "target_devices"
SESSIONS = "sessions_triggered"
GDPR_DETAILS = "gdpr_denied_details"

Action = Callable[[Incoming, Activity], Reply]


class Actions:
    def __init__(
        self,
        contract: Contract,
        store: ActivityStore,
        lifecycle: LifecycleRules,
        eligibility: EligibilityRules,
        replies: Replies,
        *,
        codes: Codes,
        readings: Readings,
    ) -> None:
        behaviour, roles = contract.behaviour, contract.roles
        self._creates = roles.creates_activity
        self._codes = codes
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
        gdpr_on_add = rules.gdpr_details_on_add_users.sandbox_choice.get("present", False) and not (
            readings.takes(GDPR_DETAILS_ON_ADD_USERS, "absent")
        )
        self._gdpr_endpoints = frozenset(
            {roles.creates_activity, *((roles.adds_to_segment,) if gdpr_on_add else ())}
        )
        self._same_type_refreshes = readings.takes(REFRESHED_SCOPE, "same-type")
        self._type_checked = frozenset(
            next((p.endpoints for p in behaviour.probes if p.id == ProbeId.MISMATCHED_ACTIVITY_TYPE), ())
            if readings.takes(MISMATCHED_ACTIVITY_TYPE, "rejected")
            else ()
        )
        self._unmatched_targets_refused = readings.takes(START_WITHOUT_MATCHING_TARGET, "no-eligible-device")
        not_synced = self._codes.decided(behaviour.sync_gate.none_synced)
        if not_synced is None:
            raise ValueError(
                "behaviour.yaml sync_gate.none_synced must be an error for the sandbox to gate pushes"
            )
        self._not_synced_code = not_synced
        self._not_synced_field = behaviour.sync_gate.count_field
        # What an activity endpoint does when its lifecycle outcome is plain `ok`; the rest push.
        self._on_ok: Mapping[str, Action] = {
            roles.adds_to_segment: self._add_users,
            roles.removes_from_segment: self._remove_users,
            roles.starts: self._start,
            roles.ends: self._end_unstarted,
        }

    def run(self, incoming: Incoming) -> Reply:
        if incoming.endpoint == self._creates:
            return self._register(incoming)
        activity = self._store.find(incoming.key, incoming.data.get(ACTIVITY_ID))
        state = self._store.state_of(activity)
        outcome = self._lifecycle.outcome(incoming.endpoint, state)
        code = self._codes.of(outcome)
        if code is not None or activity is None:
            # LifecycleRules makes DEAD, the state of an absent activity, an error everywhere.
            return self._replies.error(code or self._codes.fallback)
        if self._mismatched(incoming, activity):
            return self._replies.error(self._codes.fallback)
        if outcome.kind == "sync_gate":
            reply = self._sync_gate(incoming, activity)
        else:
            reply = self._on_ok.get(incoming.endpoint, self._push)(incoming, activity)
        if reply.code is None:
            self._transition(activity, self._lifecycle.next_state(incoming.endpoint, state))
        return reply

    def _mismatched(self, incoming: Incoming, activity: Activity) -> bool:
        """mismatched-activity-type=rejected: activity_type differs from the one registered."""
        return (
            incoming.endpoint in self._type_checked
            and incoming.data.get(ACTIVITY_TYPE) != activity.activity_type
        )

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
        ends_at = parse_rfc3339(str(incoming.data[ENDS_AT]))
        if incoming.key is None or ends_at is None:  # the checks passed, so neither can happen
            raise AssertionError("register passed its checks without a key or an ends_at")
        activity_type = str(incoming.data[ACTIVITY_TYPE])
        delta = self._eligibility.evaluate(ids, (), self._elsewhere(incoming.key, activity_type, None))
        refused = self._refuse_ineligible(incoming.endpoint, delta)
        if refused is not None:
            return refused
        activity = self._store.create(incoming.key, activity_type, ends_at, delta.joining)
        return self._segment_result(incoming.endpoint, activity, delta)

    def _add_users(self, incoming: Incoming, activity: Activity) -> Reply:
        elsewhere = self._elsewhere(activity.owner, activity.activity_type, activity.activity_id)
        delta = self._eligibility.evaluate(_insider_ids(incoming.data), activity.segment, elsewhere)
        refused = self._refuse_ineligible(incoming.endpoint, delta)
        if refused is not None:
            return refused
        activity.segment.update(delta.joining)
        return self._segment_result(incoming.endpoint, activity, delta)

    def _elsewhere(self, owner: str, activity_type: str, but: str | None) -> set[DeviceKey]:
        """refreshed-scope=same-type: the devices in the owner's other live activities of the type."""
        if not self._same_type_refreshes:
            return set()
        return self._store.devices_elsewhere(owner, activity_type, but)

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
            added=delta.added,
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

    def _start(self, incoming: Incoming, activity: Activity) -> Reply:
        """A push; under start-without-matching-target=no-eligible-device, a listed target_devices that
        matches no device of the segment is refused as no eligible device, and nothing starts."""
        listed = incoming.data.get(TARGET_DEVICES)
        if self._unmatched_targets_refused and listed and not _targets(incoming.data, activity):
            code, _ = self._no_eligible
            return self._replies.error(code, skipped=dict.fromkeys(self._eligibility.skipped_keys, 0))
        return self._push(incoming, activity)

    def _end_unstarted(self, _incoming: Incoming, _activity: Activity) -> Reply:
        """/end let through without the sync gate (end-on-registered=ok): nothing started, no session."""
        return self._replies.ok(**{SESSIONS: 0})

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

"""Lifecycle cells, the sync gate, /end and expiry, against the in-process client on a virtual clock."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from conformance.contract.model import State
from conformance.core.clock import VirtualClock
from conformance.sandbox import Sandbox
from conformance.sandbox.decide import Codes, decide
from conformance.sandbox.state import ActivityStore
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import ONE_HOUR, Api, code_of

B = bundled_contract().behaviour
SYNCING = sandbox_profile().syncing_insiders()[0]
OFFLINE = sandbox_profile().never_syncing_insiders()[0]
CODES = Codes(B)
NOT_SYNCED = CODES.decided(B.sync_gate.none_synced)
COUNT_FIELD = B.sync_gate.count_field
UNKNOWN_ACTIVITY = "00000000-0000-4000-8000-000000000000"


def _in_state(api: Api, state: State) -> str:
    """An activity of the syncing insider in `state`, its tokens synced if it was started."""
    if state == "REGISTERED":
        return api.register(SYNCING)
    activity_id = api.synced(SYNCING)
    if state == "DEAD":
        assert api.post("end", api.push_body(activity_id)).status_code == 200
    return activity_id


@pytest.mark.parametrize(("endpoint", "state"), list(B.lifecycle.transitions))
def test_lifecycle_cell(api: Api, sandbox: Sandbox, endpoint: str, state: State) -> None:
    """Each (endpoint, state) cell answers as behaviour.yaml (or its sandbox_choice) says and moves state."""
    transition = B.lifecycle.transition(endpoint, state)
    outcome = decide(transition.expectation)
    activity_id = _in_state(api, state)
    response = api.post(endpoint, api.body_for(endpoint, activity_id, [SYNCING.insider_id]))
    if outcome.kind == "error":
        assert code_of(response) == bundled_contract().body_code(outcome.codes[0])
    elif outcome.kind == "sync_gate" and state == "REGISTERED":
        assert code_of(response) == NOT_SYNCED  # nothing can have synced before /start
    else:
        assert response.status_code == 200, response.text
    states = {a.activity_id: a.state for a in sandbox.control.activities()}
    if transition.to is not None and response.status_code == 200:
        assert states.get(activity_id, "DEAD") == transition.to


@pytest.mark.parametrize("endpoint", [e for e in bundled_contract().endpoints if e != "register"])
def test_unknown_activity_is_dead(api: Api, endpoint: str) -> None:
    """An activity id never registered answers as DEAD."""
    response = api.post(endpoint, api.body_for(endpoint, UNKNOWN_ACTIVITY, [SYNCING.insider_id]))
    assert code_of(response) == CODES.decided(B.lifecycle.transition(endpoint, "DEAD").expectation)


def test_another_accounts_activity_is_absent(clock: VirtualClock) -> None:
    """The store does not give one account's activity to another: it counts as DEAD."""
    store = ActivityStore(clock, 0)
    activity = store.create("owner-a", "T", clock.now() + timedelta(hours=1), {("i", "u"): True})
    assert store.find("owner-a", activity.activity_id) is activity
    assert store.find("owner-b", activity.activity_id) is None
    assert store.find(None, activity.activity_id) is None


def test_register_ignores_a_client_activity_id(api: Api) -> None:
    """/register generates a UUID v4 and ignores any activity_id the client sends."""
    body = {**api.register_body([SYNCING.insider_id]), "activity_id": UNKNOWN_ACTIVITY}
    activity_id = api.post("register", body).json()["activity_id"]
    assert activity_id != UNKNOWN_ACTIVITY
    assert uuid.UUID(activity_id).version == 4


def test_start_counts_targets_in_the_segment(api: Api) -> None:
    """/start triggers one session per targeted device of the segment; unknown pairs count nothing."""
    activity_id = api.register(SYNCING, OFFLINE)
    first = SYNCING.devices[0].udid
    targets = [(SYNCING.insider_id, first), (SYNCING.insider_id, first), ("stranger", "phone")]
    response = api.post("start", api.push_body(activity_id, targets))
    assert response.json()["sessions_triggered"] == 1


def test_start_with_no_matching_target(api: Api) -> None:
    """target_devices naming no segment device: 200 with 0 sessions (the probe's sandbox_choice)."""
    response = api.post("start", api.push_body(api.register(SYNCING), [("stranger", "phone")]))
    assert (response.status_code, response.json()["sessions_triggered"]) == (200, 0)


# -- the sync gate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", B.sync_gate.endpoints)
def test_none_synced_before_the_delay(api: Api, clock: VirtualClock, endpoint: str) -> None:
    """Right up to the sync delay nothing has synced: 412; at the delay everything that syncs has."""
    activity_id = api.started(SYNCING)
    clock.advance(sandbox_profile().sync_delay_seconds * 0.99)
    assert code_of(api.post(endpoint, api.push_body(activity_id))) == NOT_SYNCED
    clock.advance(sandbox_profile().sync_delay_seconds * 0.01)
    response = api.post(endpoint, api.push_body(activity_id))
    assert response.status_code == 200
    assert COUNT_FIELD not in response.json()


@pytest.mark.parametrize("endpoint", B.sync_gate.endpoints)
def test_some_synced(api: Api, endpoint: str) -> None:
    """Some targets synced: 200, pushes to the synced ones, the rest in skipped_not_synced."""
    response = api.post(endpoint, api.push_body(api.synced(SYNCING, OFFLINE)))
    assert response.status_code == 200
    assert response.json() == {
        B.success_field: B.success_value,
        "sessions_triggered": len(SYNCING.devices),
        COUNT_FIELD: len(OFFLINE.devices),
    }


@pytest.mark.parametrize("endpoint", B.sync_gate.endpoints)
def test_never_syncing_targets_stay_unsynced(api: Api, clock: VirtualClock, endpoint: str) -> None:
    """Targets whose devices never sync get 412 however long one waits; the gate looks at targets only."""
    activity_id = api.synced(SYNCING, OFFLINE)
    clock.advance(ONE_HOUR / 2)  # long after the sync delay, before ends_at
    offline = [(OFFLINE.insider_id, d.udid) for d in OFFLINE.devices]
    assert code_of(api.post(endpoint, api.push_body(activity_id, offline))) == NOT_SYNCED
    synced = [(SYNCING.insider_id, SYNCING.devices[0].udid)]
    response = api.post(endpoint, api.push_body(activity_id, synced))
    assert response.json()["sessions_triggered"] == 1


def test_end_412_keeps_the_activity(api: Api, sandbox: Sandbox) -> None:
    """/end with no synced target answers 412 and does not delete the activity."""
    activity_id = api.synced(OFFLINE)
    assert code_of(api.post("end", api.push_body(activity_id))) == NOT_SYNCED
    assert activity_id in {a.activity_id for a in sandbox.control.activities()}
    assert code_of(api.post("update", api.push_body(activity_id))) == NOT_SYNCED  # not 404


def test_end_deletes_even_when_some_were_skipped(api: Api) -> None:
    """/end with some targets unsynced still deletes the whole activity; every later call is 404."""
    activity_id = api.synced(SYNCING, OFFLINE)
    assert api.post("end", api.push_body(activity_id)).json()[COUNT_FIELD] == len(OFFLINE.devices)
    for endpoint in ("start", "update", "end"):
        assert code_of(api.post(endpoint, api.push_body(activity_id))) == CODES.decided(
            B.lifecycle.transition(endpoint, "DEAD").expectation
        )


# -- expiry ----------------------------------------------------------------------------------------


def test_expiry_makes_the_activity_dead(api: Api, clock: VirtualClock, sandbox: Sandbox) -> None:
    """Once ends_at passes the activity is DEAD with no push: a second before, it is alive."""
    lifetime = B.ends_at.minimum.value
    activity_id = api.register(SYNCING, ends_in=lifetime)
    assert api.post("start", api.push_body(activity_id)).status_code == 200
    clock.advance(lifetime - 1)
    assert api.post("update", api.push_body(activity_id)).status_code == 200
    clock.advance(1)
    assert code_of(api.post("update", api.push_body(activity_id))) == CODES.decided(
        B.lifecycle.transition("update", "DEAD").expectation
    )
    assert sandbox.control.activities() == ()

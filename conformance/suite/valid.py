"""A valid request of any endpoint, on an activity in the state it needs: what a test breaks one thing of.

The bodies come from conformance/generate/bodies.py, chosen by the endpoint's role (behaviour.yaml
`roles`); the states come from the lifecycle, so no endpoint or state is named here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from conformance.contract import Contract
from conformance.contract.model import State
from conformance.generate.bodies import push_body, register_body, segment_body
from conformance.generate.strategies import place_ends_at
from conformance.generate.world import ActivityModel
from conformance.targets.arrange import Arranger
from conformance.targets.verifier import Verifier

# A created activity ends this long past the shortest lifetime allowed: valid whatever the clock's
# tolerance, and soon gone if the run cannot end it.
LIFETIME_MARGIN_SECONDS = 120

# What an endpoint's activity must have been through: `nothing` is "whatever a valid request of it
# needs" (synced for a sync-gated endpoint, registered otherwise).
Need = Literal["nothing", "registered", "started", "synced", "dead"]


def ends_at_soon(verifier: Verifier) -> str:
    """A valid ends_at, placed on the target's clock (reads it: call it only when the body needs it)."""
    window = verifier.contract.behaviour.ends_at
    return place_ends_at(window.minimum.value + LIFETIME_MARGIN_SECONDS, verifier.when(), window)[0]


def creating_body(
    verifier: Verifier, insider_ids: Sequence[str] | None = None, ends_at: str | None = None
) -> dict[str, Any]:
    """A valid body of the activity-creating endpoint: the syncing insiders unless `insider_ids`,
    ending soon unless `ends_at` (the clock is read only when it is not given, so an aimed request
    keeps its aim)."""
    profile = verifier.profile
    ids = [i.insider_id for i in profile.syncing_insiders()] if insider_ids is None else insider_ids
    return register_body(
        verifier.contract, profile, ids, ends_at if ends_at is not None else ends_at_soon(verifier)
    )


def is_segment_edit(contract: Contract, endpoint: str) -> bool:
    roles = contract.roles
    return endpoint in (roles.adds_to_segment, roles.removes_from_segment)


def valid_body(verifier: Verifier, endpoint: str, activity: ActivityModel | None) -> dict[str, Any]:
    """A valid body of `endpoint`; of an endpoint that acts on an activity, on `activity`."""
    if endpoint == verifier.contract.roles.creates_activity:
        return creating_body(verifier)
    assert activity is not None, f"/{endpoint} acts on an existing activity"
    if is_segment_edit(verifier.contract, endpoint):
        return segment_body(activity, [verifier.profile.syncing_insiders()[0].insider_id])
    return push_body(activity)


def update_endpoint(contract: Contract) -> str:
    """The push that neither starts nor ends: the sync-gated endpoint other than the ending one."""
    (update,) = (e for e in contract.behaviour.sync_gate.endpoints if e != contract.roles.ends)
    return update


def need_of_state(contract: Contract, state: State) -> Need:
    """What an activity goes through to be in `state`: registered, then started, then ended."""
    needs: dict[State, Need] = {
        contract.behaviour.lifecycle.after_register: "registered",
        contract.started_state: "started",
        contract.ended_state: "dead",
    }
    return needs[state]


def activity_for(arrange: Arranger, endpoint: str, need: Need = "nothing") -> ActivityModel | None:
    """A fresh activity for a request of `endpoint`, arranged as `need` says; None for the endpoint
    that creates one."""
    contract = arrange.contract
    if endpoint == contract.roles.creates_activity:
        return None
    if need == "nothing":
        need = "synced" if endpoint in contract.behaviour.sync_gate.endpoints else "registered"
    if need == "dead":
        return arrange.ended()
    if need == "synced":
        return arrange.synced()
    activity = arrange.register()
    if need == "started":
        arrange.start(activity)
    return activity

"""Valid request bodies, built in one place: a test breaks one field of a valid body, never builds its own.

Field names come from the contract where it names them (`ends_at_window.field`, `insider_ids.field`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.contract import Contract
from conformance.generate.world import ActivityModel
from conformance.profile.target_profile import TargetProfile


def register_body(
    contract: Contract, profile: TargetProfile, insider_ids: Sequence[str], ends_at: str, **fields: Any
) -> dict[str, Any]:
    """A valid body of the activity-creating endpoint, ending at `ends_at` (see `place_ends_at`)."""
    behaviour = contract.behaviour
    return {
        "activity_type": profile.activity_type,
        behaviour.insider_ids.field: list(insider_ids),
        behaviour.ends_at.field: ends_at,
        **fields,
    }


def push_body(activity: ActivityModel, **extra: Any) -> dict[str, Any]:
    """A valid body of an endpoint that pushes to the activity's devices (start, update, end)."""
    return {
        "activity_id": activity.activity_id,
        "activity_type": activity.activity_type,
        "content": {"title": "Conformance", "message": "suite", "content_state": {"status": "in_transit"}},
        **extra,
    }


def segment_body(activity: ActivityModel, insider_ids: Sequence[str]) -> dict[str, Any]:
    """A valid body of an endpoint that edits the activity's segment."""
    return {
        "activity_id": activity.activity_id,
        "activity_type": activity.activity_type,
        "insider_ids": list(insider_ids),
    }

"""Helpers for the oracle, strategy and check self-tests: the contract, the sandbox profile, bodies.

Limits, codes, keys and insiders come from the contract and the profile, never from literals here. (A
module rather than conftest.py, so that tests import it as `tests.self.generate.generate_support`.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from conformance.contract.model import State
from conformance.core.clock import ServerTime, rfc3339
from conformance.core.exchange import Exchange, Request, Response
from conformance.generate.expected import Expected
from conformance.generate.oracle import expected_outcome
from conformance.generate.world import ActivityModel, World
from conformance.profile.target_profile import Insider
from tests.self.reference import bundled_contract, sandbox_profile

# A whole second, so that an offset added to it is exactly what the oracle sees.
T0 = datetime(2026, 5, 20, 10, 0, 0, tzinfo=UTC)
EXACT = ServerTime(earliest=T0, latest=T0)
ONE_HOUR = 3600
ACTIVITY_ID = "act-under-test"
SEGMENT_ENDPOINTS = ("add-users", "remove-users")
PUSH_ENDPOINTS = ("start", "update", "end")


def exact(seconds: float = 0.0) -> ServerTime:
    """A clock known exactly, `seconds` after T0."""
    moment = T0 + timedelta(seconds=seconds)
    return ServerTime(earliest=moment, latest=moment)


def syncing_ids() -> list[str]:
    return [i.insider_id for i in sandbox_profile().syncing_insiders()]


def never_syncing_ids() -> list[str]:
    return [i.insider_id for i in sandbox_profile().never_syncing_insiders()]


def one(eligibility: str) -> Insider:
    return sandbox_profile().insiders_of(eligibility)[0]


def devices(*insider_ids: str) -> int:
    """How many devices the profile gives these insiders."""
    return sum(len(i.devices) for i in sandbox_profile().insiders if i.insider_id in insider_ids)


def register_body(ids: list[str] | None = None, *, ends_in: float = ONE_HOUR) -> dict[str, Any]:
    return {
        "activity_type": sandbox_profile().activity_type,
        "insider_ids": syncing_ids() if ids is None else ids,
        "ends_at": rfc3339(T0 + timedelta(seconds=ends_in)),
    }


def segment_body(ids: list[str] | None = None, activity_id: str = ACTIVITY_ID) -> dict[str, Any]:
    return {
        "activity_id": activity_id,
        "activity_type": sandbox_profile().activity_type,
        "insider_ids": syncing_ids()[:1] if ids is None else ids,
    }


def push_body(activity_id: str = ACTIVITY_ID, **extra: Any) -> dict[str, Any]:
    return {
        "activity_id": activity_id,
        "activity_type": sandbox_profile().activity_type,
        "content": {
            "title": "Conformance",
            "message": "self-test",
            "content_state": {"status": "in_transit"},
        },
        **extra,
    }


def valid_body(endpoint: str, activity_id: str = ACTIVITY_ID) -> dict[str, Any]:
    """A body breaking no rule for `endpoint`."""
    if endpoint == "register":
        return register_body()
    if endpoint in SEGMENT_ENDPOINTS:
        return segment_body(activity_id=activity_id)
    return push_body(activity_id)


def world(
    state: str | None = "REGISTERED",
    *,
    segment: list[str] | None = None,
    started_at: datetime | None = None,
    ends_in: float = ONE_HOUR,
) -> World:
    """A world with one activity (ACTIVITY_ID) in `state`, or none when `state` is None."""
    model = World(bundled_contract(), sandbox_profile())
    if state is not None:
        model.activities[ACTIVITY_ID] = ActivityModel(
            activity_id=ACTIVITY_ID,
            activity_type=sandbox_profile().activity_type,
            state=cast(State, state),
            segment=set(syncing_ids() if segment is None else segment),
            ends_at=T0 + timedelta(seconds=ends_in),
            started_at=started_at if started_at is not None or state == "REGISTERED" else T0,
        )
    return model


def documented_state(endpoint: str) -> str:
    """The last state whose answer to `endpoint` is documented and no error: REGISTERED for segment
    edits and /start, STARTED for /update and /end; the state /register leaves, for an endpoint the
    lifecycle does not cover."""
    lifecycle = bundled_contract().behaviour.lifecycle
    return (lifecycle.after_register, *lifecycle.answering_states(endpoint))[-1]


def settled_world(endpoint: str) -> World:
    """A world whose activity is in `documented_state(endpoint)`, started (where it is) long enough
    ago that its devices have synced: a valid request for the endpoint there is answered as no error."""
    return world(
        documented_state(endpoint), started_at=T0 - timedelta(seconds=sandbox_profile().sync_delay_seconds)
    )


def expect(request: Request, *, state: World | None = None, when: ServerTime = EXACT) -> Expected:
    return expected_outcome(state if state is not None else world(), request, when)


def codes(expected: Expected) -> set[str]:
    """Every code any alternative accepts."""
    return {c for a in expected.alternatives for c in a.codes}


def response(status: int, body: Any = None, *, raw: bytes | None = None) -> Response:
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return Response(status=status, headers={}, content=content, latency_seconds=0.01, sent_at=0.0)


def exchange(request: Request, status: int, body: Any = None, *, raw: bytes | None = None) -> Exchange:
    return Exchange(request=request, response=response(status, body, raw=raw))


def error_body(code: str, **extra: Any) -> dict[str, Any]:
    return {"error": f"{code.lower().replace('_', ' ')}", "code": code, **extra}

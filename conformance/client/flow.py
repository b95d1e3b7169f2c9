"""The normal integration flow: register a segment, adjust it, start, update, end.

This is what a real integration does for one Live Activity (say, an order being delivered): it
registers the customers it knows of, adds one who subscribed late and removes one who cancelled,
starts the activity, pushes an update, and ends it. `conformance certify` runs exactly this flow
under each fault scenario, so every rule of the retry table meets a real sequence of calls.

The flow stops at the first call that did not succeed, as an integration should: after a final
answer (400, 401, 403, ...) or an uncertain one (502 on /start), going on would only add noise.
One exception: a /start or /end *probably done by the lost attempt* lets the flow go on, since the
activity is most likely in the state the flow wanted; the report keeps it apart from a success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conformance.client.activity_client import LiveActivityClient
from conformance.client.outcomes import (
    CallResult,
    GaveUp,
    ProbablyDoneByLostAttempt,
    Rejected,
    Success,
    Uncertain,
)
from conformance.client.settings import FlowSettings
from conformance.core.clock import rfc3339


@dataclass(frozen=True)
class FlowReport:
    """Every call the flow made, in order, and whether it got through to the end."""

    results: tuple[CallResult, ...]
    finished: bool

    def summary(self) -> str:
        """One line: what happened, for a person (no key, no insider id)."""
        if self.finished:
            caveats = [r.endpoint for r in self.results if isinstance(r, ProbablyDoneByLostAttempt)]
            note = f" ({', '.join(caveats)} probably done by a lost attempt)" if caveats else ""
            return f"flow finished: {len(self.results)} calls{note}"
        last = self.results[-1]
        return f"flow stopped at /{last.endpoint}: {_describe(last)}"


def run_flow(settings: FlowSettings) -> FlowReport:
    """The reference integration: what `conformance certify` runs in-process (an `Integration`)."""
    with LiveActivityClient(settings) as client:
        return normal_flow(client)


def normal_flow(client: LiveActivityClient) -> FlowReport:
    """Register, add the last id, remove the first, start, update, end (with one id: no add/remove)."""
    settings, results = client.settings, []
    ids = settings.insider_ids
    segment, late, cancelled = (ids[:-1], ids[-1:], ids[:1]) if len(ids) > 1 else (ids, (), ())
    registered = client.call(
        "register",
        {"activity_type": settings.activity_type, "insider_ids": list(segment), "ends_at": _ends_at(client)},
    )
    results.append(registered)
    activity_id = registered.body.get("activity_id") if isinstance(registered, Success) else None
    if not isinstance(activity_id, str):
        return FlowReport(tuple(results), finished=False)
    base = {"activity_id": activity_id, "activity_type": settings.activity_type}
    edits = [("add-users", late), ("remove-users", cancelled)] if late else []
    steps: list[tuple[str, dict[str, Any]]] = [
        *((endpoint, {**base, "insider_ids": list(who)}) for endpoint, who in edits),
        ("start", {**base, "content": _content("Your order is on its way", {"stage": "shipped"})}),
        ("update", {**base, "content": _content("Almost there", {"stage": "nearby"})}),
        ("end", {**base, "content": _content("Delivered", {"stage": "delivered"})}),
    ]
    for endpoint, body in steps:
        result = client.call(endpoint, body, activity_id=activity_id)
        results.append(result)
        if not isinstance(result, Success | ProbablyDoneByLostAttempt):
            return FlowReport(tuple(results), finished=False)
    return FlowReport(tuple(results), finished=True)


def _ends_at(client: LiveActivityClient) -> str:
    """Midway between the contract's shortest and longest allowed ends_at: far from both edges, so
    clock skew between us and the server cannot make it too soon or too far."""
    window = client.contract.behaviour.ends_at
    return rfc3339(client.wall_now() + timedelta(seconds=(window.minimum.value + window.maximum.value) / 2))


def _content(message: str, state: dict[str, str]) -> dict[str, Any]:
    return {"title": "Order 1042", "message": message, "content_state": state}


def _describe(result: CallResult) -> str:
    """`Rejected 400 VALIDATION_FAILED after 1 attempt(s): <why>`."""
    answer = None if isinstance(result, Success) else result.answer
    said = f" {answer.status} {answer.code or ''}".rstrip() if answer is not None else ""
    if isinstance(result, Rejected):
        why = result.fix
    elif isinstance(result, Uncertain | GaveUp):
        why = result.reason
    else:
        why = ""
    return f"{type(result).__name__}{said} after {result.attempts} attempt(s)" + (f": {why}" if why else "")

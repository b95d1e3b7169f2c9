"""A correct integration in another style than the reference flow: a delivery that updates its ETA.

It registers, adjusts the segment, starts, then updates the same activity twice with new bodies (an
ETA of 20 minutes, then 10: what every delivery integration does), and ends. Each /update is a new
call, not a retry of the one before. An attempt whose answer was lost is logged with `code` and
`error` null: there was no response body, and null is a faithful record of that.

In-process: `delivery_flow` is an `Integration`. Over HTTP, as a script:

    python tests/self/certify/clients/delivery.py     # reads the LA_* variables
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from conformance.client import AttemptRecord, LiveActivityClient, Parts
from conformance.client.__main__ import settings_from_env
from conformance.client.activity_client import Log
from conformance.client.outcomes import ProbablyDoneByLostAttempt, Success
from conformance.client.settings import FlowSettings
from conformance.contract import load_contract
from conformance.core.clock import rfc3339


@dataclass(frozen=True)
class NullOnLost:
    """Logs a lost answer with `code` and `error` null, as the body it never got."""

    inner: Log

    def write(self, record: AttemptRecord) -> None:
        self.inner.write(replace(record, error=None) if record.status is None else record)


def _content(minutes: int) -> dict[str, Any]:
    return {"title": "Order 77", "message": f"{minutes} min away", "content_state": {"eta_minutes": minutes}}


def delivery_flow(settings: FlowSettings) -> bool:
    """True when the flow got through /end."""
    contract = load_contract()
    base = Parts.from_contract(contract, settings)
    with LiveActivityClient(
        settings, contract=contract, parts=replace(base, log=NullOnLost(base.log))
    ) as client:
        ids = list(settings.insider_ids)
        registered = client.call(
            "register",
            {
                "activity_type": settings.activity_type,
                "insider_ids": ids[:-1] or ids,
                "ends_at": _ends_at(client),
            },
        )
        activity = registered.body.get("activity_id") if isinstance(registered, Success) else None
        if not isinstance(activity, str):
            return False
        common = {"activity_id": activity, "activity_type": settings.activity_type}
        calls: list[tuple[str, dict[str, Any]]] = []
        if len(ids) > 1:
            calls += [("add-users", {"insider_ids": ids[-1:]}), ("remove-users", {"insider_ids": ids[:1]})]
        calls += [
            ("start", {"content": _content(30)}),
            ("update", {"content": _content(20)}),
            ("update", {"content": _content(10)}),
            ("end", {"content": _content(0)}),
        ]
        for endpoint, extra in calls:
            result = client.call(endpoint, {**common, **extra}, activity_id=activity)
            if not isinstance(result, Success | ProbablyDoneByLostAttempt):
                return False
    return True


def _ends_at(client: LiveActivityClient) -> str:
    """Two hours ahead: well inside the window the contract allows."""
    return rfc3339(client.wall_now() + timedelta(hours=2))


if __name__ == "__main__":
    sys.exit(0 if delivery_flow(settings_from_env(os.environ)) else 1)

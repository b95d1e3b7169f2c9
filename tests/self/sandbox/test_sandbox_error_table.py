"""Walk the error table: every row of contracts/errors.yaml, provoked on a served sandbox over HTTP.

Only what a client of a served sandbox has is used: the target profile (keys, insiders, its rate
limit) and the HTTP control API (faults for 502 and 503, the clock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from conformance.core.clock import VirtualClock
from conformance.sandbox import SandboxConfig, build_sandbox
from conformance.sandbox.serve import running
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import key

CONTROL = "walk-the-table"
# The served sandbox runs with a low limit so that the 429 row takes a few requests, not a thousand.
RATE_LIMIT = 20


class Served:
    """A client of a served sandbox: customer calls with profile keys, control calls with the token."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def call(
        self, endpoint: str, body: Any, *, account: str | None = "good", raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if account is not None:
            headers["X-Api-Key"] = key(account)
        if raw is not None:
            return self.client.post(bundled_contract().paths[endpoint], content=raw, headers=headers)
        return self.client.post(bundled_contract().paths[endpoint], json=body, headers=headers)

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = self.client.request(
            method, f"/_sandbox/{path}", json=body, headers={"X-Sandbox-Control": CONTROL}
        )
        assert response.status_code == 200, response.text
        return response

    def now(self) -> datetime:
        return datetime.fromisoformat(self.control("POST", "clock", {"advance_seconds": 0}).json()["now"])

    def ends_at(self, seconds: float) -> str:
        return (self.now() + timedelta(seconds=seconds)).isoformat()

    def register(self, ids: list[str], ends_in: float = 3600) -> httpx.Response:
        return self.call(
            "register",
            {
                "activity_type": sandbox_profile().activity_type,
                "insider_ids": ids,
                "ends_at": self.ends_at(ends_in),
            },
        )

    def push(self, endpoint: str, activity_id: str, **extra: Any) -> httpx.Response:
        content = {"title": "t", "message": "m", "content_state": {}}
        return self.call(
            endpoint,
            {
                "activity_id": activity_id,
                "activity_type": sandbox_profile().activity_type,
                "content": content,
                **extra,
            },
        )

    def registered(self) -> str:
        response = self.register([sandbox_profile().syncing_insiders()[0].insider_id])
        assert response.status_code == 200, response.text
        activity_id: str = response.json()["activity_id"]
        return activity_id

    def fault(self, endpoint: str, status: int) -> None:
        self.control("POST", "faults", {"endpoint": endpoint, "kind": "status", "status": status})


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    config = SandboxConfig(control_token=CONTROL, rate_limit_per_minute=RATE_LIMIT)
    sandbox = build_sandbox(bundled_contract(), sandbox_profile(), clock=VirtualClock(), config=config)
    with running(sandbox) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield Served(client)


def _rate_limited(s: Served) -> tuple[str, httpx.Response]:
    limit = RATE_LIMIT
    s.control(
        "POST", "clock", {"advance_seconds": bundled_contract().behaviour.rate_limit.per_seconds}
    )  # a fresh window
    for _ in range(limit):
        assert s.call("remove-users", {}).status_code != 429
    return "remove-users", s.call("remove-users", {})


def _already_started(s: Served) -> tuple[str, httpx.Response]:
    activity_id = s.registered()
    assert s.push("start", activity_id).status_code == 200
    return "start", s.push("start", activity_id)


def _not_synced(s: Served) -> tuple[str, httpx.Response]:
    activity_id = s.registered()
    assert s.push("start", activity_id).status_code == 200
    return "update", s.push("update", activity_id)


def _faulted(status: int) -> Callable[[Served], tuple[str, httpx.Response]]:
    def provoke(s: Served) -> tuple[str, httpx.Response]:
        s.fault("end", status)
        return "end", s.push("end", "00000000-0000-4000-8000-000000000000")

    return provoke


def _ends_at(offset: Callable[[], float]) -> Callable[[Served], tuple[str, httpx.Response]]:
    def provoke(s: Served) -> tuple[str, httpx.Response]:
        body = {
            "activity_type": sandbox_profile().activity_type,
            "insider_ids": [sandbox_profile().syncing_insiders()[0].insider_id],
        }
        return "register", s.call("register", {**body, "ends_at": s.ends_at(offset())})

    return provoke


WINDOW = bundled_contract().behaviour.ends_at
UNKNOWN_ACTIVITY = "00000000-0000-4000-8000-000000000000"
# Row id -> how to provoke it: (endpoint used, response).
PROVOKE: dict[str, Callable[[Served], tuple[str, httpx.Response]]] = {
    "VALIDATION_FAILED": lambda s: ("register", s.register([" "])),  # blank element: the sandbox_choice
    "PARTNER_REQUIRED": lambda s: ("start", s.call("start", {}, account="unbound")),
    "REQUEST_INVALID": lambda s: ("register", s.call("register", None, raw=b"")),
    "ACTIVITY_TYPE_REQUIRED": lambda s: ("start", s.call("start", {"activity_id": UNKNOWN_ACTIVITY})),
    "ACTIVITY_ID_REQUIRED": lambda s: (
        "update",
        s.call("update", {"activity_type": sandbox_profile().activity_type}),
    ),
    "INSIDER_IDS_OUT_OF_RANGE": lambda s: ("register", s.register([])),
    "ENDS_AT_IN_PAST": _ends_at(lambda: -60),
    "ENDS_AT_TOO_SOON": _ends_at(lambda: WINDOW.minimum.value - 1),
    "ENDS_AT_TOO_FAR": _ends_at(lambda: WINDOW.maximum.value + 1),
    "TARGET_DEVICES_INVALID": lambda s: (
        "start",
        s.push("start", UNKNOWN_ACTIVITY, target_devices=[{"insider_id": "", "udid": "u"}]),
    ),
    "HTTP_401": lambda s: ("register", s.call("register", {}, account=None)),
    "LIVE_ACTIVITY_DISABLED": lambda s: ("add-users", s.call("add-users", {}, account="disabled")),
    "APP_NOT_FOUND": lambda s: ("remove-users", s.call("remove-users", {}, account="unknown_app")),
    "NOT_FOUND": lambda s: ("start", s.push("start", UNKNOWN_ACTIVITY)),
    "PROFILE_NOT_FOUND": lambda s: (
        "register",
        s.register([sandbox_profile().insiders_of("no_profile")[0].insider_id]),
    ),
    "ALREADY_STARTED": _already_started,
    "APNS_CERT_MISSING": lambda s: ("update", s.call("update", {}, account="no_cert")),
    "APNS_CERT_TYPE_UNSUPPORTED": lambda s: ("end", s.call("end", {}, account="p12_cert")),
    "PUSH_TOKEN_NOT_SYNCED": _not_synced,
    "NO_ELIGIBLE_DEVICE": lambda s: (
        "register",
        s.register([sandbox_profile().insiders_of("android")[0].insider_id]),
    ),
    "HTTP_429": _rate_limited,
    "UPSTREAM_UNAVAILABLE": _faulted(502),
    "HTTP_503": _faulted(503),
}


def test_every_row_has_a_provocation() -> None:
    """The walk covers exactly the rows of the error table, so a new row fails until it is provoked."""
    assert set(PROVOKE) == {row.id for row in bundled_contract().table.rows}


@pytest.mark.parametrize("row_id", [row.id for row in bundled_contract().table.rows])
def test_row_is_answered_as_the_table_says(served: Served, row_id: str) -> None:
    """Each row comes back over HTTP with its status, its code and its body presence."""
    row = bundled_contract().table.row(row_id)
    endpoint, response = PROVOKE[row_id](served)
    assert endpoint in row.endpoints
    assert response.status_code == row.status, response.text
    if row.body == "always":
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["code"] == row.code
        assert isinstance(body["error"], str)
        assert body["error"]
    else:  # "never", and "sometimes" where the sandbox_choice of the bodies probe is no body
        assert response.content == b""

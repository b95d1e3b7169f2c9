"""Helpers for the sandbox self-tests: the contract, the sandbox profile, and a caller with valid bodies.

Keys, insiders and limits come from the profile and the contract, never from literals here. (A module
rather than conftest.py, so that tests import it as `tests.self.sandbox.sandbox_support`.)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx

from conformance.core.clock import VirtualClock
from conformance.profile.target_profile import Insider, TargetProfile
from conformance.sandbox import Sandbox, SandboxConfig, build_sandbox
from tests.self.reference import bundled_contract, sandbox_profile

# High enough that no unit test meets it; the rate-limit tests configure their own.
UNLIMITED = 10**9
ONE_HOUR = 3600


def key(state: str, profile: TargetProfile | None = None) -> str:
    profile = profile or sandbox_profile()
    value = profile.accounts[state].key()
    assert value is not None, f"the profile gives no key for {state}"
    return value


def insider(eligibility: str, profile: TargetProfile | None = None) -> Insider:
    profile = profile or sandbox_profile()
    return profile.insiders_of(eligibility)[0]


def device_count(*insiders: Insider) -> int:
    return sum(len(i.devices) for i in insiders)


class Api:
    """A thin caller of the six endpoints with valid bodies, so each test breaks only what it means to."""

    def __init__(
        self, client: httpx.Client, clock: VirtualClock, profile: TargetProfile | None = None
    ) -> None:
        self.client = client
        self.clock = clock
        self.profile = profile or sandbox_profile()

    def post(
        self,
        endpoint: str,
        body: Any = None,
        *,
        account: str | None = "good",
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"X-Api-Key": key(account, self.profile)} if account else {}
        if content is None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        if content is None:
            return self.client.post(bundled_contract().paths[endpoint], json=body, headers=sent)
        return self.client.post(bundled_contract().paths[endpoint], content=content, headers=sent)

    def ends_at(self, seconds: float) -> str:
        return (self.clock.now() + timedelta(seconds=seconds)).isoformat()

    def register_body(self, ids: list[str], ends_in: float = ONE_HOUR) -> dict[str, Any]:
        return {
            "activity_type": self.profile.activity_type,
            "insider_ids": ids,
            "ends_at": self.ends_at(ends_in),
        }

    def segment_body(self, activity_id: str, ids: list[str]) -> dict[str, Any]:
        return {"activity_id": activity_id, "activity_type": self.profile.activity_type, "insider_ids": ids}

    def push_body(self, activity_id: str, targets: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "activity_id": activity_id,
            "activity_type": self.profile.activity_type,
            "content": {"title": "t", "message": "m", "content_state": {"status": "pickup"}},
        }
        if targets is not None:
            body["target_devices"] = [{"insider_id": i, "udid": u} for i, u in targets]
        return body

    def body_for(self, endpoint: str, activity_id: str, ids: list[str]) -> dict[str, Any]:
        """A valid body for any endpoint."""
        if endpoint == "register":
            return self.register_body(ids)
        if endpoint in ("add-users", "remove-users"):
            return self.segment_body(activity_id, ids)
        return self.push_body(activity_id)

    def register(self, *insiders: Insider, ends_in: float = ONE_HOUR) -> str:
        response = self.post("register", self.register_body([i.insider_id for i in insiders], ends_in))
        assert response.status_code == 200, response.text
        activity_id: str = response.json()["activity_id"]
        return activity_id

    def started(self, *insiders: Insider) -> str:
        activity_id = self.register(*insiders)
        response = self.post("start", self.push_body(activity_id))
        assert response.status_code == 200, response.text
        return activity_id

    def synced(self, *insiders: Insider) -> str:
        """An activity started long enough ago for every syncing device to have synced."""
        activity_id = self.started(*insiders)
        self.clock.advance(self.profile.sync_delay_seconds)
        return activity_id


def build(clock: VirtualClock, **config: Any) -> Sandbox:
    config.setdefault("rate_limit_per_minute", UNLIMITED)
    return build_sandbox(bundled_contract(), sandbox_profile(), clock=clock, config=SandboxConfig(**config))


def code_of(response: httpx.Response) -> str | None:
    if not response.content:
        return None
    code: str | None = response.json().get("code")
    return code


def serve_command(*options: str) -> list[str]:
    """`conformance sandbox serve` on an ephemeral port with a virtual clock, plus `options`."""
    return [
        sys.executable,
        "-m",
        "conformance.cli",
        "sandbox",
        "serve",
        "--port",
        "0",
        "--clock",
        "virtual",
        *options,
    ]

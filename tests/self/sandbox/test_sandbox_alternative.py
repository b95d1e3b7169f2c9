"""A deliberately different but conforming sandbox: other messages, precedence, seed data and limits.

The suite runs against such a sandbox to prove it asserts nothing the docs leave open; here we check
that config and profile alone produce one, and that what the docs fix stays fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.core.clock import VirtualClock
from conformance.profile.target_profile import TargetProfile, load_profile
from conformance.sandbox import Sandbox, SandboxConfig, build_sandbox, default_messages
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import Api, code_of

OTHER_PROFILE = """
format = 1
name = "other-sandbox"
base_url = "http://127.0.0.1:9090"
activity_type = "WorkoutActivityAttributes"
sync_delay_seconds = 3
rate_limit_per_minute = 5

[accounts]
good = { key = "alt-good" }
disabled = { key = "alt-disabled" }

[[insiders.eligible]]
insider_id = "alt-runner"
devices = [{ udid = "alt-phone" }, { udid = "alt-watch", syncs = false }]

[[insiders.android]]
insider_id = "alt-android"
devices = [{ udid = "alt-pixel" }]

[[insiders.no_profile]]
insider_id = "alt-ghost"
devices = []
"""
OTHER_ORDER = ("lifecycle", "target_devices", "fields", "insider_ids", "ends_at_window", "body", "account")


@pytest.fixture
def other_profile(tmp_path: Path) -> TargetProfile:
    path = tmp_path / "other.toml"
    path.write_text(OTHER_PROFILE, encoding="utf-8")
    return load_profile(path, bundled_contract())


@pytest.fixture
def other(other_profile: TargetProfile, clock: VirtualClock) -> Sandbox:
    messages = {code: f"other wording for {code.lower()}" for code in default_messages(bundled_contract())}
    return build_sandbox(
        bundled_contract(),
        other_profile,
        clock=clock,
        config=SandboxConfig(messages=messages, precedence=OTHER_ORDER),
    )


def test_other_seed_other_keys(other: Sandbox, other_profile: TargetProfile, clock: VirtualClock) -> None:
    """Keys and insiders come from the profile: the default profile's key is unknown here, its own works."""
    with other.client() as client:
        api = Api(client, clock, other_profile)
        runner = other_profile.insiders_of("eligible")[0]
        assert api.post("register", api.register_body([runner.insider_id])).status_code == 200
        assert (
            api.post(
                "register",
                api.register_body([runner.insider_id]),
                account=None,
                headers={"X-Api-Key": sandbox_profile().accounts["good"].key() or ""},
            ).status_code
            == 401
        )


def test_other_messages_and_limits(other: Sandbox, other_profile: TargetProfile, clock: VirtualClock) -> None:
    """Messages are the configured ones, codes the contract's; sync delay and rate limit the profile's."""
    with other.client() as client:
        api = Api(client, clock, other_profile)
        runner = other_profile.insiders_of("eligible")[0]
        activity_id = api.started(runner)
        too_soon = api.post("update", api.push_body(activity_id))
        assert too_soon.json() == {
            "error": "other wording for push_token_not_synced",
            "code": "PUSH_TOKEN_NOT_SYNCED",
        }
        clock.advance(other_profile.sync_delay_seconds)
        some = api.post("update", api.push_body(activity_id)).json()
        assert (some["sessions_triggered"], some[bundled_contract().behaviour.sync_gate.count_field]) == (
            1,
            1,
        )
        assert other.settings.rate_limit_requests == other_profile.rate_limit_per_minute


def test_other_precedence_changes_only_which_broken_rule_wins(
    other: Sandbox, other_profile: TargetProfile, clock: VirtualClock
) -> None:
    """Reordered groups change which of two broken rules answers; a single broken rule answers as before."""
    with other.client() as client:
        api = Api(client, clock, other_profile)
        both = api.post("register", {"insider_ids": []}, account="disabled")  # account and fields broken
        assert code_of(both) == "ACTIVITY_TYPE_REQUIRED"
        only_account = api.post("register", api.register_body(["alt-runner"]), account="disabled")
        assert code_of(only_account) == "LIVE_ACTIVITY_DISABLED"
        ghost = api.post("register", api.register_body(["alt-ghost"]))
        assert code_of(ghost) == bundled_contract().behaviour.eligibility.single_without_profile_code

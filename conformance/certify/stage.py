"""One scenario's stage: a fresh sandbox with its script in front, and what the integration is given."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.contract.certification import Policy, Scenario
from conformance.core.clock import Clock
from conformance.core.errors import ProfileError
from conformance.profile.target_profile import TargetProfile, load_profile, sandbox_profile_path
from conformance.sandbox import Sandbox, SandboxConfig, build_sandbox
from conformance.sandbox.scripted import AttemptJournal, Script, ScriptedSandbox, ScriptStep


@dataclass(frozen=True)
class Stage:
    scenario: Scenario
    sandbox: Sandbox
    app: ScriptedSandbox
    api_key: str
    insider_ids: tuple[str, ...]
    activity_type: str

    @property
    def journal(self) -> AttemptJournal:
        return self.app.journal


def sandbox_profile(policy: Policy) -> TargetProfile:
    """The embedded sandbox's profile: its keys per account state, its insiders, its activity type."""
    return load_profile(sandbox_profile_path(policy.contract), policy.contract)


def build_stage(policy: Policy, scenario: Scenario, profile: TargetProfile, clock: Clock) -> Stage:
    stalled = scenario.lose == "stalled"
    config = SandboxConfig(
        sync_delay_seconds=scenario.sync_delay_seconds,
        # A dropped answer closes the connection at once; a stalled one waits for the client to give up.
        drop_hang_seconds=policy.harness.stall_seconds if stalled else 0.0,
    )
    sandbox = build_sandbox(policy.contract, profile, clock=clock, config=config)
    script = Script(
        {
            endpoint: [ScriptStep(row=s.row, times=s.times, lose=s.lose is not None) for s in steps]
            for endpoint, steps in scenario.script.items()
        }
    )
    account = profile.accounts.get(scenario.account)
    key = account.key() if account is not None else None
    insiders = (
        profile.syncing_insiders()
        if scenario.insiders == "eligible"
        else profile.insiders_of(scenario.insiders)
    )
    if key is None or not insiders:
        raise ProfileError(
            profile.path,
            f"accounts.{scenario.account} / insiders.{scenario.insiders}",
            f"scenario {scenario.name!r} needs a key for {scenario.account!r} "
            f"and insiders of class {scenario.insiders!r}",
            "give the profile that key and at least one such insider",
        )
    return Stage(
        scenario=scenario,
        sandbox=sandbox,
        app=ScriptedSandbox(sandbox, script, AttemptJournal()),
        api_key=key,
        insider_ids=tuple(i.insider_id for i in insiders),
        activity_type=profile.activity_type,
    )

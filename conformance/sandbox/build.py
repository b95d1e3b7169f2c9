"""Assemble a sandbox from a contract, a target profile, a clock and a config."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.types import ASGIApp

from conformance.clock import Clock, SystemClock
from conformance.contract import Contract
from conformance.sandbox.actions import Actions
from conformance.sandbox.app import CustomerEndpoint, build_app
from conformance.sandbox.config import SandboxConfig, Settings, resolve
from conformance.sandbox.control import ControlApi, SandboxControl
from conformance.sandbox.eligibility import EligibilityRules
from conformance.sandbox.engine import Engine
from conformance.sandbox.faults import FaultQueue, Journal
from conformance.sandbox.ratelimit import FixedWindowLimiter
from conformance.sandbox.replies import Replies
from conformance.sandbox.rules import Codes
from conformance.sandbox.seed import Seed, seed_from
from conformance.sandbox.state import ActivityStore, LifecycleRules
from conformance.sandbox.transport import in_process_client
from conformance.sandbox.validation import Checks
from conformance.targets.profile import TargetProfile


@dataclass(frozen=True)
class Sandbox:
    """A built sandbox: the ASGI app, its control, and what it was built from."""

    app: ASGIApp
    control: SandboxControl
    settings: Settings
    seed: Seed
    contract: Contract
    profile: TargetProfile

    def client(self, timeout: float = 5.0) -> httpx.Client:
        """An httpx client that reaches the app in-process (base URL http://sandbox.invalid); close it."""
        return in_process_client(self.app, timeout)


def build_sandbox(
    contract: Contract,
    profile: TargetProfile,
    *,
    clock: Clock | None = None,
    config: SandboxConfig | None = None,
) -> Sandbox:
    """Build a sandbox; ValueError when the config or the contract asks for something it cannot do."""
    clock = clock or SystemClock()
    settings = resolve(config or SandboxConfig(), contract, profile)
    seed = seed_from(profile, contract)
    replies = Replies(contract, settings.messages)
    store = ActivityStore(clock, settings.sync_delay_seconds)
    lifecycle = LifecycleRules(contract.behaviour.lifecycle, store, Codes(contract.behaviour))
    groups = {**Checks(contract, clock).groups(), "lifecycle": lifecycle.check}
    limiter = FixedWindowLimiter(clock, settings.rate_limit_requests, settings.rate_limit_window_seconds)
    engine = Engine(
        seed=seed,
        checks=[groups[name] for name in settings.precedence],
        store=store,
        actions=Actions(
            contract, store, lifecycle, EligibilityRules(contract.behaviour.eligibility, seed), replies
        ),
        limiter=limiter,
        replies=replies,
        rate_limited_row=contract.behaviour.rate_limit.row,
    )
    faults = FaultQueue()
    journal = Journal(settings.journal_size)
    control = SandboxControl(
        clock=clock,
        endpoints=contract.endpoints,
        faults=faults,
        journal=journal,
        store=store,
        limiter=limiter,
        replies=replies,
    )
    endpoints = {
        name: CustomerEndpoint(
            name,
            engine=engine,
            faults=faults,
            journal=journal,
            replies=replies,
            clock=clock,
            max_body_bytes=settings.max_body_bytes,
        )
        for name in contract.endpoints
    }
    app = build_app(
        endpoints, contract.paths, ControlApi(control, settings.control_token), settings.drop_hang_seconds
    )
    return Sandbox(app=app, control=control, settings=settings, seed=seed, contract=contract, profile=profile)

"""Assemble a sandbox from a contract, a target profile, a clock and a config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from starlette.types import ASGIApp

from conformance.contract import Contract
from conformance.core.clock import Clock, SystemClock
from conformance.profile.target_profile import TargetProfile
from conformance.sandbox.actions import Actions
from conformance.sandbox.app import CustomerEndpoint, build_app
from conformance.sandbox.config import SandboxConfig, Settings, resolve
from conformance.sandbox.control import ControlApi, SandboxControl
from conformance.sandbox.decide import Codes
from conformance.sandbox.eligibility import EligibilityRules
from conformance.sandbox.engine import Engine
from conformance.sandbox.faults import FaultQueue, Journal
from conformance.sandbox.ratelimit import RateLimiter
from conformance.sandbox.readings import (
    RATE_LIMIT_COUNTS,
    RATE_LIMIT_WINDOW,
    RETRY_AFTER_HEADER,
    TOKEN_SYNC,
)
from conformance.sandbox.replies import Replies
from conformance.sandbox.seed import Seed, seed_from
from conformance.sandbox.state import ActivityStore, LifecycleRules
from conformance.sandbox.transport import in_process_client
from conformance.sandbox.validation import Checks


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


class ShiftedClock:
    """Another clock's time plus a fixed offset: a server whose clock is off."""

    def __init__(self, clock: Clock, offset_seconds: float) -> None:
        self._clock = clock
        self._offset = timedelta(seconds=offset_seconds)

    def now(self) -> datetime:
        return self._clock.now() + self._offset

    @classmethod
    def of(cls, clock: Clock, offset_seconds: float) -> Clock:
        """`clock` shifted by the offset; `clock` itself when there is none."""
        return cls(clock, offset_seconds) if offset_seconds else clock


def build_sandbox(
    contract: Contract,
    profile: TargetProfile,
    *,
    clock: Clock | None = None,
    config: SandboxConfig | None = None,
) -> Sandbox:
    """Build a sandbox; ValueError when the config or the contract asks for something it cannot do."""
    injected = clock or SystemClock()
    settings = resolve(config or SandboxConfig(), contract, profile)
    clock = ShiftedClock.of(injected, settings.clock_offset_seconds)
    readings = settings.readings
    seed = seed_from(profile, contract)
    codes = Codes(contract.behaviour, readings)
    replies = Replies(contract, settings.messages, readings)
    store = ActivityStore(
        clock, settings.sync_delay_seconds, staggered=readings.takes(TOKEN_SYNC, "staggered")
    )
    lifecycle = LifecycleRules(contract.behaviour.lifecycle, contract.roles, store, codes, readings)
    groups = {**Checks(contract, clock, codes, readings).groups(), "lifecycle": lifecycle.check}
    limiter = _limiter(clock, settings)
    eligibility = EligibilityRules(contract.behaviour.eligibility, seed, readings)
    engine = Engine(
        seed=seed,
        checks=[groups[name] for name in settings.precedence],
        store=store,
        actions=Actions(contract, store, lifecycle, eligibility, replies, codes=codes, readings=readings),
        limiter=limiter,
        replies=replies,
        rate_limited_row=contract.behaviour.rate_limit.row,
        bucket=contract.behaviour.rate_limit.bucket,
        retry_after=readings.takes(RETRY_AFTER_HEADER, "present"),
    )
    faults = FaultQueue()
    journal = Journal(settings.journal_size)
    control = SandboxControl(
        clock=clock,
        injected=injected,
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
            clock=clock,
            max_body_bytes=settings.max_body_bytes,
            key_header=contract.api_key_header,
        )
        for name in contract.endpoints
    }
    app = build_app(
        endpoints,
        contract.paths,
        ControlApi(control, settings.control_token),
        settings.drop_hang_seconds,
        settings.latency_ms,
        http=settings.http,
    )
    return Sandbox(app=app, control=control, settings=settings, seed=seed, contract=contract, profile=profile)


def _limiter(clock: Clock, settings: Settings) -> RateLimiter:
    return RateLimiter(
        clock,
        settings.rate_limit_requests,
        settings.rate_limit_window_seconds,
        sliding=settings.readings.takes(RATE_LIMIT_WINDOW, "sliding"),
        successes_only=settings.readings.takes(RATE_LIMIT_COUNTS, "successes-only"),
    )

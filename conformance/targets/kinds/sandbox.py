"""The embedded sandbox, in-process: no port, a virtual clock the suite moves instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.cassettes.recorded import RecordedTest
from conformance.contract import Contract
from conformance.core.clock import VirtualClock
from conformance.profile.target_profile import TargetProfile
from conformance.profile.traits import Traits
from conformance.sandbox import Fault, SandboxConfig, SandboxControl, build_sandbox
from conformance.targets.api_client import ApiClient, rate_budget
from conformance.targets.control_client import FaultKind
from conformance.targets.kind import RunOptions
from conformance.targets.servertime import ExactServerClock
from conformance.targets.target import Recorder, Target


class InProcessControl:
    """The in-process sandbox's control object, seen through the suite's `Control` protocol."""

    def __init__(self, control: SandboxControl) -> None:
        self._control = control
        self.clock_is_virtual = True

    def inject(
        self,
        endpoint: str | None,
        kind: FaultKind,
        *,
        status: int | None = None,
        latency_ms: int = 0,
        times: int = 1,
    ) -> None:
        self._control.inject(endpoint, Fault(kind, status=status, latency_ms=latency_ms), times)

    def clear_faults(self) -> None:
        self._control.clear_faults()

    def advance_clock(self, seconds: float) -> None:
        self._control.advance_clock(seconds)

    def limit_rate(self, requests_per_minute: int | None) -> None:
        self._control.limit_rate(requests_per_minute)


class SandboxKind:
    traits = Traits(
        name="sandbox",
        remote=False,
        needs_profile=False,
        personal_data=False,
        shared_between_workers=False,
        replays=False,
    )

    @contextmanager
    def open(
        self, contract: Contract, profile: TargetProfile, record: Recorder, options: RunOptions
    ) -> Iterator[Target]:
        clock = VirtualClock()
        hook = options.sandbox_hook
        given = hook(contract=contract, profile=profile, clock=clock) if hook is not None else None
        sandbox = given or build_sandbox(
            contract, profile, clock=clock, config=SandboxConfig(readings=dict(options.sandbox_readings))
        )
        control = InProcessControl(sandbox.control)
        with sandbox.client() as http:
            budget = rate_budget(contract, profile, clock)
            client = ApiClient(contract, profile, http, budget, now=lambda: clock.now().timestamp())
            yield Target(self.traits, contract, profile, client, ExactServerClock(clock.now), control, record)

    def begin_test(self, target: Target, recorded: RecordedTest | None, *, path: Path, rerecord: str) -> None:
        """Nothing to give a test: the sandbox is the same for every one."""

"""Build the target a run asked for: the in-process sandbox, or a live base URL.

The sandbox runs in-process on a virtual clock that the suite moves instead of sleeping. A live
target gets a real client with the rate budget, a clock bracketed from `Date` headers, and, when
its profile names a control token, the sandbox's HTTP control API (how CI exercises the live path
against `conformance sandbox serve`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from conformance.cassettes import PSEUDONYM_KEY_VARIABLE, Pseudonyms
from conformance.clock import VirtualClock
from conformance.contract import Contract
from conformance.targets.client import ApiClient, RateBudget
from conformance.targets.profile import TargetProfile
from conformance.targets.replay import RecordingServerClock, Replay
from conformance.targets.servertime import BracketedServerClock, ExactServerClock
from conformance.targets.target import FaultKind, Recorder, Target

# Spend at most this share of the documented rate limit, so clock differences never tip us over.
RATE_BUDGET_SHARE = 0.9
CONTROL_HEADER = "X-Sandbox-Control"
LIVE_TIMEOUT_SECONDS = 10.0


@contextmanager
def build_target(
    config: pytest.Config, contract: Contract, profile: TargetProfile, record: Recorder
) -> Iterator[Target]:
    kind = config.getoption("target")
    allow_probe = bool(config.getoption("allow_rate_limit_probe"))
    if kind == "sandbox":
        with _sandbox(config, contract, profile, record) as target:
            yield target
    elif kind == "live":
        base_url = config.getoption("base_url") or profile.base_url
        workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
        recording = (config.getoption("record_mode", None) or "none") != "none"
        # pytest_configure refused a live recording without the key
        pseudonyms = _pseudonyms(profile, os.environ[PSEUDONYM_KEY_VARIABLE]) if recording else None
        options = LiveOptions(base_url, allow_probe, workers, pseudonyms)
        with _live(contract, profile, record, options) as target:
            yield target
    elif kind == "cassettes":
        key = os.environ.get(PSEUDONYM_KEY_VARIABLE)
        with _cassettes(contract, profile, record, _pseudonyms(profile, key) if key else None) as target:
            yield target
    else:
        raise pytest.UsageError(f"--target {kind} is not available in this version")


def _budget(
    contract: Contract, profile: TargetProfile, clock: VirtualClock | None = None, *, workers: int = 1
) -> RateBudget:
    """A share of the documented limit (or the profile's lower one) per key + path + method, split
    between the parallel workers of a run (`-n N`), each of which keeps its own budget.

    On a virtual clock the budget counts the target's own time, and waiting moves that clock.
    """
    rate = contract.behaviour.rate_limit
    limit = min(rate.requests, profile.rate_limit_per_minute or rate.requests)
    allowance = max(1, int(limit * RATE_BUDGET_SHARE / workers))
    if clock is None:
        return RateBudget(allowance, rate.per_seconds)
    return RateBudget(allowance, rate.per_seconds, now=lambda: clock.now().timestamp(), sleep=clock.advance)


@contextmanager
def _sandbox(
    config: pytest.Config, contract: Contract, profile: TargetProfile, record: Recorder
) -> Iterator[Target]:
    from conformance.sandbox import SandboxConfig, build_sandbox
    from conformance.sandbox.serve import reading_choices

    clock = VirtualClock()
    hook = config.pluginmanager.hook.pytest_conformance_sandbox
    # pytest_configure has checked --sandbox-reading (a bad one ends the run before any test).
    readings = reading_choices(config.getoption("sandbox_reading") or ())
    sandbox = hook(contract=contract, profile=profile, clock=clock) or build_sandbox(
        contract, profile, clock=clock, config=SandboxConfig(readings=readings)
    )
    control = InProcessControl(sandbox.control)
    with sandbox.client() as http:
        budget = _budget(contract, profile, clock)
        client = ApiClient(contract, profile, http, budget, now=lambda: clock.now().timestamp())
        yield Target("sandbox", contract, profile, client, ExactServerClock(clock.now), control, record)


@dataclass(frozen=True)
class LiveOptions:
    base_url: str
    allow_rate_limit_probe: bool
    workers: int  # parallel pytest-xdist workers, each with its share of the rate budget
    # Recording into cassettes: what replaces the profile's ids there (None: not recording).
    recording_with: Pseudonyms | None = None


@contextmanager
def _live(
    contract: Contract, profile: TargetProfile, record: Recorder, options: LiveOptions
) -> Iterator[Target]:
    base_url = options.base_url
    if base_url.rstrip("/") != profile.base_url.rstrip("/") and base_url not in profile.destructive_allowed:
        raise pytest.UsageError(
            f"--base-url {base_url} is not the base_url of {profile.path} nor in its destructive_allowed: "
            "the suite creates and ends activities, so it only runs against targets the profile declares"
        )
    with httpx.Client(base_url=base_url, timeout=LIVE_TIMEOUT_SECONDS) as http:
        client = ApiClient(contract, profile, http, _budget(contract, profile, workers=options.workers))
        token = profile.control_token()
        control = HttpControl(base_url, token) if token else None
        clock = BracketedServerClock()
        target = Target(
            "live",
            contract,
            profile,
            client,
            RecordingServerClock(clock) if options.recording_with is not None else clock,
            control,
            record,
            allow_rate_limit_probe=options.allow_rate_limit_probe,
            pseudonyms=options.recording_with,
            alias_personal_ids=True,
        )
        try:
            yield target
        finally:
            if control is not None:
                control.close()


@contextmanager
def _cassettes(
    contract: Contract, profile: TargetProfile, record: Recorder, pseudonyms: Pseudonyms | None
) -> Iterator[Target]:
    """Replay: no server; VCR.py answers from the cassette, with the clock the recording read.

    A live recording holds pseudonyms only: the replay uses the profile with its ids replaced the same
    way, so that it sends what was recorded, and reads answers that name the same insiders.
    """
    if pseudonyms is not None:
        profile = profile.with_ids(pseudonyms.apply)
    clock = VirtualClock()
    replay = Replay(clock)
    transport = httpx.MockTransport(_unrecorded)
    with httpx.Client(base_url=profile.base_url, transport=transport) as http:
        budget = _budget(contract, profile, clock)
        client = ApiClient(
            contract,
            profile,
            http,
            budget,
            now=lambda: clock.now().timestamp(),
            intercept=replay.control.intercept,
        )
        yield Target(
            "cassettes",
            contract,
            profile,
            client,
            replay.clock,
            replay.control,
            record,
            pseudonyms=pseudonyms,
            replay=replay,
        )


def _unrecorded(request: httpx.Request) -> httpx.Response:
    """Reached only when no cassette is active: replay never touches a network."""
    raise httpx.ConnectError(
        "--target cassettes replays recordings only: no cassette is active here", request=request
    )


def _pseudonyms(profile: TargetProfile, key: str) -> Pseudonyms:
    """The keyed pseudonyms of the profile's insider ids and udids."""
    return Pseudonyms(key, profile.personal_ids())


class InProcessControl:
    """The in-process sandbox's control object, seen through the suite's `Control` protocol."""

    def __init__(self, control: object) -> None:
        from conformance.sandbox import SandboxControl

        assert isinstance(control, SandboxControl)
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
        from conformance.sandbox import Fault

        self._control.inject(endpoint, Fault(kind, status=status, latency_ms=latency_ms), times)

    def clear_faults(self) -> None:
        self._control.clear_faults()

    def advance_clock(self, seconds: float) -> None:
        self._control.advance_clock(seconds)

    def limit_rate(self, requests_per_minute: int | None) -> None:
        self._control.limit_rate(requests_per_minute)


class HttpControl:
    """The sandbox's HTTP control API under /_sandbox/, authenticated by its control token."""

    def __init__(self, base_url: str, token: str) -> None:
        self._http = httpx.Client(
            base_url=f"{base_url.rstrip('/')}/_sandbox",
            timeout=LIVE_TIMEOUT_SECONDS,
            headers={CONTROL_HEADER: token},
        )
        self.clock_is_virtual = bool(self._call("GET", "/clock").get("virtual"))

    def _call(self, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise pytest.UsageError(
                f"the control API answered {response.status_code} to {method} {path}: check the control token"
            )
        data = response.json()
        return data if isinstance(data, dict) else {}

    def inject(
        self,
        endpoint: str | None,
        kind: FaultKind,
        *,
        status: int | None = None,
        latency_ms: int = 0,
        times: int = 1,
    ) -> None:
        self._call(
            "POST",
            "/faults",
            {"endpoint": endpoint, "kind": kind, "status": status, "latency_ms": latency_ms, "times": times},
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "/clock", {"advance_seconds": seconds})

    def limit_rate(self, requests_per_minute: int | None) -> None:
        self._call("POST", "/rate-limit", {"requests_per_minute": requests_per_minute})

    def close(self) -> None:
        self._http.close()

"""Helpers for the target self-tests: the real contract and sandbox profile, fake clocks, a mock transport.

(A module rather than conftest.py, so that tests import it as `tests.self.targets.targets_support`.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from conformance.targets.api_client import ApiClient, RateBudget
from tests.self.reference import bundled_contract, sandbox_profile

MAX_SLEEPS = 1_000


@dataclass
class FakeClock:
    """A monotonic clock that moves only when slept on (or told to); it remembers every sleep."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"asked to sleep {seconds} s"
        # Fail rather than hang: a sleep that cannot move the clock would be asked for again forever.
        assert self.now + seconds > self.now, f"sleep({seconds!r}) cannot move the clock from {self.now!r}"
        assert len(self.sleeps) < MAX_SLEEPS, f"slept {MAX_SLEEPS} times without being let through"
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Recorder:
    """A mock-transport handler that records every request and answers with `reply`."""

    reply: Callable[[httpx.Request], httpx.Response] = field(
        default=lambda _request: httpx.Response(200, json={"status": "success"})
    )
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.reply(request)


def client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    budget: RateBudget | None = None,
    now: Callable[[], float] | None = None,
) -> ApiClient:
    """An ApiClient for the sandbox profile whose HTTP goes to `handler` (no socket is opened)."""
    http = httpx.Client(base_url=sandbox_profile().base_url, transport=httpx.MockTransport(handler))
    if now is None:
        return ApiClient(bundled_contract(), sandbox_profile(), http, budget)
    return ApiClient(bundled_contract(), sandbox_profile(), http, budget, now=now)

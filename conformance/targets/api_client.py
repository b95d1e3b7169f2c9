"""The one HTTP client every test goes through: requests as values, redaction, and a rate budget.

A live target is a guest's house: the client keeps every run under the documented rate limit per
key + path + method, never lets an API key into anything it returns, and times each exchange.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from conformance.contract import Contract
from conformance.core.clock import VirtualClock
from conformance.core.exchange import Exchange, Request, Response
from conformance.core.printable import REDACTED
from conformance.profile.target_profile import TargetProfile
from conformance.targets import bounded


class RateBudget:
    """Sliding-window limiter per (key, path, method): waits rather than spending more than allowed.

    The window is the contract's `per_seconds`; the allowance is a fraction of the contract's limit
    so that clock differences between us and the target cannot push a run over it.
    """

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.requests = requests
        self.per_seconds = per_seconds
        self._sent: dict[tuple[str, str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._now = now
        self._sleep = sleep

    def acquire(self, bucket: tuple[str, str, str]) -> None:
        while True:
            with self._lock:
                now = self._now()
                sent = self._sent.setdefault(bucket, deque())
                # The epsilon absorbs float rounding, so a wait of exactly the asked length frees the slot.
                while sent and now - sent[0] >= self.per_seconds - 1e-6:
                    sent.popleft()
                if len(sent) < self.requests:
                    sent.append(now)
                    return
                wait = self.per_seconds - (now - sent[0])
            self._sleep(wait)


class TargetStopped(BaseException):
    """The target stopped answering: no request is sent any more, and the run stops (the plugin).

    A BaseException, as KeyboardInterrupt is: no `except Exception` on the way swallows it, and
    Hypothesis does not replay the test to shrink it against a target that will not answer."""


@dataclass
class ApiClient:
    """Sends `Request` values to a target and returns `Exchange` values; never raises on HTTP errors."""

    contract: Contract
    profile: TargetProfile
    http: httpx.Client
    budget: RateBudget | None
    now: Callable[[], float] = time.time
    on_exchange: list[Callable[[Exchange], None]] = field(default_factory=list)
    # Answers a request without sending it (cassette replay of an injected drop), or None to send.
    intercept: Callable[[Request], Exchange | None] | None = None
    # Why the run stops sending (the target stopped answering), once it does; see `TargetStopped`.
    stopped: str | None = field(default=None, init=False)
    _unanswered: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def send(self, request: Request, *, spend_budget: bool = True, timeout: float | None = None) -> Exchange:
        """Send and time one request; `spend_budget=False` only for the opt-in rate-limit probe.

        `timeout` shortens the client's wait where a test expects no answer (an injected drop).
        Every request is bounded by the profile's `limits` (whole-request deadline, body cap); after
        `stop_after_unanswered` requests in a row with no answer, this and every later call raises
        `TargetStopped`.
        """
        path = self.contract.paths[request.endpoint]
        headers = {}
        key = self.key_for(request.account)
        if key is not None:
            headers[self.contract.api_key_header] = key
        if request.content_type is not None:
            headers["Content-Type"] = request.content_type
        if self.stopped is not None:
            raise TargetStopped(self.stopped)
        intercepted = self.intercept(request) if self.intercept is not None else None
        if intercepted is not None:
            return intercepted
        if self.budget is not None and spend_budget:
            self.budget.acquire((request.account, path, "POST"))
        sent_at = self.now()
        started = time.perf_counter()
        limits = self.profile.limits
        seconds = (
            limits.request_deadline_seconds
            if timeout is None
            else min(timeout, limits.request_deadline_seconds)
        )
        try:
            answer = bounded.post(
                self.http,
                path,
                content=request.content(),
                headers=headers,
                seconds=seconds,
                cap=limits.body_cap_bytes,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout),
            )
        except bounded.Oversized as exc:
            exchange = Exchange(request=request, response=None, error=str(exc))
        except httpx.TimeoutException as exc:
            exchange = Exchange(request=request, response=None, error=f"timeout: {_why(exc)}")
        except httpx.TransportError as exc:
            exchange = Exchange(
                request=request, response=None, error=f"transport error: {type(exc).__name__}"
            )
        else:
            exchange = Exchange(
                request=request,
                response=Response(
                    status=answer.status,
                    headers=answer.headers,
                    content=answer.content,
                    latency_seconds=time.perf_counter() - started,
                    sent_at=sent_at,
                ),
            )
        for listener in self.on_exchange:
            listener(exchange)
        self._count_unanswered(exchange)
        return exchange

    def _count_unanswered(self, exchange: Exchange) -> None:
        """Stop the run after the profile's number of consecutive requests with no answer at all."""
        unanswered = exchange.response is None and not (exchange.error or "").startswith("oversized")
        with self._lock:
            self._unanswered = self._unanswered + 1 if unanswered else 0
            limit = self.profile.limits.stop_after_unanswered
            if self._unanswered >= limit and self.stopped is None:
                self.stopped = (
                    f"the target stopped answering: {limit} consecutive requests got no answer "
                    f"(the last: {exchange.error}); the run stops"
                )
        if self.stopped is not None and unanswered:
            raise TargetStopped(self.stopped)

    def key_for(self, account: str) -> str | None:
        """The key for an account state; None for `missing_key`. A state the profile lacks is a bug
        of the caller: tests check `has_account` first and skip with the reason."""
        if account == "missing_key":
            return None
        resolved = self.profile.accounts[account].key()
        if resolved is None:
            raise LookupError(f"the profile offers no key for account state {account!r}")
        return resolved

    def has_account(self, account: str) -> bool:
        if account == "missing_key":
            return True
        entry = self.profile.accounts.get(account)
        return entry is not None and entry.key() is not None

    def curl(self, request: Request) -> str:
        """The request as a curl command, key redacted: what a failure message shows."""
        parts = ["curl", "-sS", "-X", "POST", self.profile.base_url + self.contract.paths[request.endpoint]]
        if request.account != "missing_key":
            parts += ["-H", f"{self.contract.api_key_header}: {REDACTED}"]
        if request.content_type is not None:
            parts += ["-H", f"Content-Type: {request.content_type}"]
        parts += ["--data-binary", request.content().decode("utf-8", errors="replace")]
        return " ".join(shlex.quote(p) for p in parts)


def _why(exc: httpx.TimeoutException) -> str:
    """`DeadlinePassed` says the deadline; httpx's own timeouts are named by their kind."""
    return str(exc) if isinstance(exc, bounded.DeadlinePassed) else type(exc).__name__


# Spend at most this share of the documented rate limit, so clock differences never tip us over.
RATE_BUDGET_SHARE = 0.9


def rate_budget(
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

"""One call to the Live Activities API, retried as the retry table says, every attempt logged.

`LiveActivityClient.call(endpoint, body)` returns a typed `CallResult`; it never raises on an HTTP
error or a lost response. Its parts are separate so each rule stays in one place and can be read
(and replaced) alone: `policy` (what an answer means), `schedule` (how long to wait, and when to
stop: backoff and budget), `rate_budget` (stay under the rate limit), `log` (the recommended record).

Time: the client never calls `time.sleep` or `time.monotonic` itself. It waits and reads elapsed
time only through `FlowSettings.sleep` and `FlowSettings.now`, so a test (or `conformance certify`
in-process) can give it a virtual clock and certify a 1-2-4-8 s backoff in milliseconds.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from conformance.client.backoff import RetrySchedule
from conformance.client.budget import DEFAULT_SHARE, RateBudget
from conformance.client.log import AttemptLog, AttemptRecord, LogFormat
from conformance.client.outcomes import (
    Answer,
    CallResult,
    GaveUp,
    ProbablyDoneByLostAttempt,
    Rejected,
    Success,
    Uncertain,
)
from conformance.client.policy import AttemptOutcome, NoResponse, Retry, RetryDecision, RetryPolicy, Stop
from conformance.client.settings import FlowSettings
from conformance.contract import Contract, load_contract
from conformance.contract.certification import load_policy
from conformance.core.clock import rfc3339

# How long to wait for an answer. Not a contract fact: long enough for a slow upstream, short enough
# that a lost response is noticed. A lost /start is then repeated once (see `policy`).
DEFAULT_TIMEOUT_SECONDS = 10.0


class RetryDecider(Protocol):
    """What an attempt's outcome means (`RetryPolicy`)."""

    def decide(self, endpoint: str, outcome: AttemptOutcome, *, lost_before: bool) -> RetryDecision: ...


class Schedule(Protocol):
    """How long to wait before the next attempt, None to stop (`RetrySchedule`)."""

    def next_wait(self, retry: Retry, *, attempts_made: int, elapsed: float) -> float | None: ...


class Log(Protocol):
    """Where each attempt's record goes (`AttemptLog`)."""

    def write(self, record: AttemptRecord) -> None: ...


@dataclass(frozen=True)
class Parts:
    """The rules the client follows, each built from the contract; replace one to change one rule."""

    policy: RetryDecider
    schedule: Schedule
    rate_budget: RateBudget
    log: Log

    @classmethod
    def from_contract(
        cls, contract: Contract, settings: FlowSettings, *, rate_share: float = DEFAULT_SHARE
    ) -> Parts:
        return cls(
            policy=RetryPolicy.from_contract(contract),
            schedule=RetrySchedule.from_contract(contract),
            rate_budget=RateBudget.from_contract(
                contract, now=settings.now, sleep=settings.sleep, share=rate_share
            ),
            log=AttemptLog(settings.log_file, log_format(contract)),
        )


class LiveActivityClient:
    """Sends the six POST endpoints with the X-Api-Key header; use as a context manager."""

    def __init__(
        self,
        settings: FlowSettings,
        *,
        contract: Contract | None = None,
        parts: Parts | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.contract = contract or load_contract()
        self.settings = settings
        self.parts = parts or Parts.from_contract(self.contract, settings)
        self._key_header = self.contract.api_key_header
        self._http = httpx.Client(base_url=settings.base_url, timeout=timeout_seconds, verify=_tls())
        # Log timestamps are wall-clock times that advance with `settings.now`, so that under a
        # virtual clock they match the (virtual) times the server saw.
        self._wall_anchor = datetime.now(UTC)
        self._now_anchor = settings.now()

    def __enter__(self) -> LiveActivityClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def wall_now(self) -> datetime:
        """The current wall-clock time, as seen through the injected clock."""
        return self._wall_anchor + timedelta(seconds=self.settings.now() - self._now_anchor)

    def call(self, endpoint: str, body: Mapping[str, Any], *, activity_id: str | None = None) -> CallResult:
        """Send `body` to `endpoint` until the policy stops or the budget runs out."""
        parts, started = self.parts, self.settings.now()
        lost_before, attempts = False, 0
        path, method = self.contract.paths[endpoint], operation_method(self.contract, endpoint)
        while True:
            parts.rate_budget.acquire(api_key=self.settings.api_key, path=path, method=method)
            sent_at = self.wall_now()
            outcome = self._send(method, path, body)
            attempts += 1
            decision = parts.policy.decide(endpoint, outcome, lost_before=lost_before)
            lost_before = lost_before or (isinstance(outcome, NoResponse) and outcome.maybe_committed)
            record = _record(endpoint, outcome, activity_id, sent_at, retry=attempts - 1)
            if isinstance(decision, Retry):
                elapsed = self.settings.now() - started
                wait = parts.schedule.next_wait(decision, attempts_made=attempts, elapsed=elapsed)
                if wait is not None:
                    parts.log.write(record)
                    self.settings.sleep(wait)
                    continue
                result: CallResult = GaveUp(
                    endpoint, f"retry budget spent: {decision.reason}", _answer(outcome), attempts
                )
            else:
                result = _result(endpoint, decision, outcome, attempts)
            parts.log.write(
                replace(record, activity_id=_activity_id(result) or activity_id, outcome=_kind(result))
            )
            return result

    def _send(self, method: str, path: str, body: Mapping[str, Any]) -> AttemptOutcome:
        try:
            response = self._http.request(
                method, path, json=dict(body), headers={self._key_header: self.settings.api_key}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return NoResponse(f"not sent: {type(exc).__name__}", maybe_committed=False)
        except httpx.TransportError as exc:  # timeouts after sending, dropped connections
            return NoResponse(f"no response: {type(exc).__name__}", maybe_committed=True)
        return _parse(response)


def log_format(contract: Contract) -> LogFormat:
    """The log line's keys, as contracts/certification.yaml `log` defines them for the harness."""
    return _log_format_in(contract.directory)


@functools.cache
def _log_format_in(directory: Path) -> LogFormat:
    policy_log = load_policy(load_contract(directory)).log
    return LogFormat(policy_log.endpoint_key, dict(policy_log.keys))


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process: building one reads the system's CA store (~50 ms), and a
    client is made per flow."""
    return ssl.create_default_context()


def operation_method(contract: Contract, endpoint: str) -> str:
    """The HTTP method of an endpoint, from its one operation in openapi.yaml (POST for all six)."""
    operations = contract.openapi["paths"][contract.paths[endpoint]]
    return str(next(m for m in operations if m in HTTP_METHODS)).upper()


HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _parse(response: httpx.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:  # 401, 429 and 503 may have no body at all
        body = None
    fields = body if isinstance(body, dict) else {}
    code, error = fields.get("code"), fields.get("error")
    return Answer(
        status=response.status_code,
        code=code if isinstance(code, str) else None,
        error=error if isinstance(error, str) else None,
        body=fields,
    )


def _answer(outcome: AttemptOutcome) -> Answer | None:
    return outcome if isinstance(outcome, Answer) else None


def _result(endpoint: str, stop: Stop, outcome: AttemptOutcome, attempts: int) -> CallResult:
    answer = _answer(outcome)
    if stop.kind == "success" and answer is not None:
        return Success(endpoint, answer.body, attempts)
    if stop.kind == "probably_done" and answer is not None:
        return ProbablyDoneByLostAttempt(endpoint, answer, attempts)
    if stop.kind == "rejected" and answer is not None:
        return Rejected(endpoint, answer, attempts, stop.reason)
    return Uncertain(endpoint, stop.reason, answer, attempts)


def _record(
    endpoint: str, outcome: AttemptOutcome, activity_id: str | None, sent_at: datetime, *, retry: int
) -> AttemptRecord:
    status: int | None
    code: str | None
    error: str | None
    if isinstance(outcome, NoResponse):
        status, code, error = None, None, outcome.detail
    else:
        status, code, error = outcome.status, outcome.code, outcome.error
    return AttemptRecord(
        endpoint=endpoint,
        status=status,
        code=code,
        error=error,
        activity_id=activity_id,
        request_timestamp=rfc3339(sent_at, exact=True),
        retry_counter=retry,
    )


def _activity_id(result: CallResult) -> str | None:
    """The activity_id a /register success returns, for the log record of that attempt."""
    value = result.body.get("activity_id") if isinstance(result, Success) else None
    return value if isinstance(value, str) else None


def _kind(result: CallResult) -> str:
    return {
        Success: "success",
        ProbablyDoneByLostAttempt: "probably_done_by_lost_attempt",
        Rejected: "rejected",
        Uncertain: "uncertain",
        GaveUp: "gave_up",
    }[type(result)]

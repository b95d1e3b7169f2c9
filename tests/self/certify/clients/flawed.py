"""Deliberately flawed integrations: the reference client with exactly one rule broken each.

Each `Flaw` swaps one part of the reference client (`conformance.client.Parts`: its policy, its
retry schedule or its log) for a variation that breaks one certification rule, named in `breaks`.
The self-tests certify every flaw and expect that rule, and no other, to fail: proof that each rule
catches what it is about and blames nothing else.

In-process: `flawed_integration(name)` is an `Integration`. Over HTTP, as a script:

    python tests/self/certify/clients/flawed.py --flaw retries-400     # reads the LA_* variables
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from conformance.client import Answer, AttemptRecord, LiveActivityClient, LogFormat, Parts, normal_flow
from conformance.client.__main__ import settings_from_env
from conformance.client.activity_client import Log, RetryDecider, Schedule, log_format
from conformance.client.outcomes import CallResult
from conformance.client.policy import (
    AttemptOutcome,
    NoResponse,
    Retry,
    RetryDecision,
    RetryPolicy,
    Stop,
    Wait,
)
from conformance.client.settings import FlowSettings, Integration
from conformance.contract import Contract, load_contract
from conformance.contract.certification import Policy, Scenario, load_policy

# -- the variations: a part that behaves like the reference part except where `when` holds ---------

# (endpoint, outcome, lost_before) -> does the flawed answer apply?
When = Callable[[str, AttemptOutcome, bool], bool]


@dataclass(frozen=True)
class PolicyExcept:
    """The reference policy, except that where `when` holds the decision is `instead`."""

    inner: RetryDecider
    when: When
    instead: RetryDecision

    def decide(self, endpoint: str, outcome: AttemptOutcome, *, lost_before: bool) -> RetryDecision:
        if self.when(endpoint, outcome, lost_before):
            return self.instead
        return self.inner.decide(endpoint, outcome, lost_before=lost_before)


@dataclass(frozen=True)
class ScheduleExcept:
    """The reference schedule, except that for retries where `when` holds the wait is `instead`
    (given the retry and the attempts made so far; None stops)."""

    inner: Schedule
    when: Callable[[Retry], bool]
    instead: Callable[[Retry, int], float | None]

    def next_wait(self, retry: Retry, *, attempts_made: int, elapsed: float) -> float | None:
        if self.when(retry):
            return self.instead(retry, attempts_made)
        return self.inner.next_wait(retry, attempts_made=attempts_made, elapsed=elapsed)


@dataclass(frozen=True)
class LogWithout:
    """Writes the reference log line without some of its keys."""

    inner: LogFormat
    path: Path
    fields: tuple[str, ...]  # contract logging field names whose keys are left out

    def write(self, record: AttemptRecord) -> None:
        left_out = {self.inner.keys[f] for f in self.fields}
        line = {k: v for k, v in self.inner.line(record).items() if k not in left_out}
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


@dataclass(frozen=True)
class LogFailuresOnly:
    """Logs the attempts that failed, not the ones that got a 200 ("we log errors")."""

    inner: Log
    success_status: int

    def write(self, record: AttemptRecord) -> None:
        if record.status != self.success_status:
            self.inner.write(record)


@dataclass(frozen=True)
class LogAnswersOnly:
    """Logs the attempts that got an answer: a timeout or a dropped connection leaves no line (the
    client logs in its response handler, which a transport error skips)."""

    inner: Log

    def write(self, record: AttemptRecord) -> None:
        if record.status is not None:
            self.inner.write(record)


# -- outcome tests the flaws use -----------------------------------------------------------------


def answered(
    status: int, code: str | None = None, endpoint: str | None = None, *, after_loss: bool = False
) -> When:
    """This answer, to a first or a plain retried attempt (or, with `after_loss`, to the repeat of a
    lost one: the reference policy's lost-response rule is left alone unless a flaw is about it)."""

    def test(at: str, outcome: AttemptOutcome, lost_before: bool) -> bool:
        return (
            isinstance(outcome, Answer)
            and outcome.status == status
            and (code is None or outcome.code == code)
            and (endpoint is None or at == endpoint)
            and lost_before == after_loss
        )

    return test


def lost_on(endpoint: str) -> When:
    def test(at: str, outcome: AttemptOutcome, _lost_before: bool) -> bool:
        return at == endpoint and isinstance(outcome, NoResponse)

    return test


def retry_with_backoff(status: int | None = None) -> RetryDecision:
    """Retry, after the reference backoff wait."""
    return Retry("backoff", "flawed: retried", status)


GIVE_UP = Stop("rejected", "flawed: gave up")


# -- the flaws -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flaw:
    name: str
    breaks: str  # the certification rule id it must fail, and no other (or the baseline it never completes)
    description: str
    apply: Callable[[Parts, FlowSettings, Contract], Parts]
    client: type[LiveActivityClient] = LiveActivityClient


class StartWithoutTitle(LiveActivityClient):
    """Sends /start without `content.title`: every /start gets a 400, the flow never completes."""

    def call(self, endpoint: str, body: Mapping[str, Any], *, activity_id: str | None = None) -> CallResult:
        if endpoint == "start" and isinstance(body.get("content"), dict):
            body = {**body, "content": {k: v for k, v in body["content"].items() if k != "title"}}
        return super().call(endpoint, body, activity_id=activity_id)


AT_ONCE = "flawed: retried at once"


@dataclass(frozen=True)
class AtOnceWithinBudget:
    """The reference schedule, except that a retry marked AT_ONCE is sent without waiting. The
    reference budget still ends a backoff call; a sync-gate call is hammered until it clears or the
    harness stops it (the flaw is the missing wait, not a missing budget)."""

    inner: Schedule

    def next_wait(self, retry: Retry, *, attempts_made: int, elapsed: float) -> float | None:
        wait = self.inner.next_wait(retry, attempts_made=attempts_made, elapsed=elapsed)
        if retry.reason != AT_ONCE:
            return wait
        return 0.0 if wait is not None or retry.wait == "sync" else None


def _at_once(
    status: int, code: str | None, endpoint: str
) -> Callable[[Parts, FlowSettings, Contract], Parts]:
    """Retries this answer on this endpoint only, without waiting."""

    def apply(parts: Parts, _s: FlowSettings, _c: Contract) -> Parts:
        gate = RetryPolicy.from_contract(_contract()).sync_gate_codes
        wait: Wait = "sync" if code in gate else "backoff"
        policy = PolicyExcept(parts.policy, answered(status, code, endpoint), Retry(wait, AT_ONCE, status))
        return replace(parts, policy=policy, schedule=AtOnceWithinBudget(parts.schedule))

    return apply


def _constant(_retry: Retry, _attempts_made: int) -> float:
    return 0.1


def scenario_flaw(policy: Policy, scenario: Scenario) -> Flaw:
    """The flaw that breaks a generated (class, endpoint) scenario's own rule there, and nowhere else:
    a wait rule -> retried at once; a `retried` rule -> given up; a `repeats` rule -> retried."""
    ((endpoint, steps),) = scenario.script.items()
    row = policy.contract.table.row(str(steps[0].row))
    own = [policy.rules[r] for r in scenario.rules if not policy.rules[r].in_every_scenario]
    rule = next((r for r in own if r.judge == "waits"), None) or next(r for r in own if r.judge != "logged")
    if rule.judge == "waits":
        how, apply = "retries at once", _at_once(row.status, row.code, endpoint)
    elif rule.judge == "retried":
        how, apply = "gives up on", _policy(answered(row.status, row.code, endpoint), GIVE_UP)
    else:
        how, apply = "retries", _retries(row.status, row.code, endpoint)
    return Flaw(f"{scenario.name}-{rule.id}", rule.id, f"{how} {row.describe()} on /{endpoint} only", apply)


def scenario_flaws(policy: Policy) -> dict[str, Flaw]:
    """One flaw per scenario that certification.yaml `generate` derived from the table."""
    flaws = [scenario_flaw(policy, s) for s in policy.scenarios.values() if s.derived]
    return {f.name: f for f in flaws}


def _policy(when: When, instead: RetryDecision) -> Callable[[Parts, FlowSettings, Contract], Parts]:
    return lambda parts, _s, _c: replace(parts, policy=PolicyExcept(parts.policy, when, instead))


def _retries(
    status: int, code: str | None = None, endpoint: str | None = None
) -> Callable[[Parts, FlowSettings, Contract], Parts]:
    """Retries this answer (with the reference backoff) instead of following the table."""
    return _policy(answered(status, code, endpoint), retry_with_backoff(status))


def _gives_up_on(status: int, code: str | None = None) -> Callable[[Parts, FlowSettings, Contract], Parts]:
    """Ends the call on this answer instead of retrying it."""
    return _policy(answered(status, code), GIVE_UP)


def _schedule(
    when: Callable[[Retry], bool], instead: Callable[[Retry, int], float | None]
) -> Callable[[Parts, FlowSettings, Contract], Parts]:
    return lambda parts, _s, _c: replace(parts, schedule=ScheduleExcept(parts.schedule, when, instead))


def _log_without(*fields: str) -> Callable[[Parts, FlowSettings, Contract], Parts]:
    return lambda parts, settings, contract: replace(
        parts, log=LogWithout(log_format(contract), settings.log_file, fields)
    )


def _unbounded_backoff(_retry: Retry, attempts_made: int) -> float:
    """Exponential ceilings with no budget: 1, 2, 4, 8, ... s for ever."""
    return 2.0 ** (attempts_made - 1)


def _blind(endpoint: str, done_status: int) -> Callable[[Parts, FlowSettings, Contract], Parts]:
    """Re-send a lost /start or /end like any timeout, in the generic retry loop, until it answers;
    then take the answer that says the lost attempt did it (409 on /start, 404 on /end) for a success."""

    def apply(parts: Parts, _s: FlowSettings, _c: Contract) -> Parts:
        repeat_is_success = PolicyExcept(
            parts.policy, answered(done_status, endpoint=endpoint, after_loss=True), Stop("success", "")
        )
        return replace(parts, policy=PolicyExcept(repeat_is_success, lost_on(endpoint), retry_with_backoff()))

    return apply


def _log_failures_only(parts: Parts, _s: FlowSettings, contract: Contract) -> Parts:
    return replace(parts, log=LogFailuresOnly(parts.log, contract.behaviour.success_status))


def _log_answers_only(parts: Parts, _s: FlowSettings, _c: Contract) -> Parts:
    return replace(parts, log=LogAnswersOnly(parts.log))


def _sync_gate(retry: Retry) -> bool:
    return retry.wait == "sync"


def _no_wait(_retry: Retry, _attempts_made: int) -> float:
    return 0.0


FLAWS: Mapping[str, Flaw] = {
    f.name: f
    for f in (
        # the retry table's rows that must not be retried
        Flaw("retries-400", "no-retry-validation", "retries a 400 VALIDATION_FAILED", _retries(400)),
        Flaw("retries-401", "no-retry-auth", "retries a 401", _retries(401)),
        Flaw("retries-403", "no-retry-disabled", "retries a 403", _retries(403)),
        Flaw("retries-404", "no-retry-not-found", "retries a 404 NOT_FOUND", _retries(404, "NOT_FOUND")),
        Flaw("retries-409", "no-retry-already-started", "retries a 409 on /start", _retries(409)),
        Flaw(
            "retries-412-cert",
            "no-retry-cert",
            "retries a 412 APNS_CERT_MISSING",
            _retries(412, "APNS_CERT_MISSING"),
        ),
        Flaw("retries-422", "no-retry-no-eligible-device", "retries a 422", _retries(422)),
        # the rows that are retried
        Flaw("gives-up-on-429", "retry-rate-limit", "gives up on the first 429", _gives_up_on(429)),
        Flaw(
            "no-wait-on-429",
            "backoff-rate-limit",
            "retries a 429 at once",
            _schedule(lambda r: r.status == 429, _no_wait),
        ),
        Flaw(
            "constant-backoff",
            "backoff-rate-limit",
            "waits a constant 0.1 s before every retry of a 429",
            _schedule(lambda r: r.status == 429, _constant),
        ),
        Flaw(
            "never-completes",
            "baseline-core",
            "sends /start without content.title: every /start is refused with 400",
            lambda parts, _s, _c: parts,
            StartWithoutTitle,
        ),
        Flaw("gives-up-on-502", "retry-upstream-idempotent", "never retries a 502", _gives_up_on(502)),
        Flaw(
            "retries-502-on-start",
            "no-blind-retry-upstream",
            "retries a 502 on /start",
            _retries(502, endpoint="start"),
        ),
        Flaw("gives-up-on-503", "retry-auth-layer", "never retries a 503", _gives_up_on(503)),
        Flaw(
            "unbounded-503",
            "retry-budget",
            "retries a 503 without bound",
            _schedule(lambda r: r.status == 503, _unbounded_backoff),
        ),
        Flaw(
            "token-sync-final",
            "retry-token-sync",
            "takes PUSH_TOKEN_NOT_SYNCED as final",
            _gives_up_on(412, "PUSH_TOKEN_NOT_SYNCED"),
        ),
        Flaw(
            "token-sync-no-wait",
            "wait-token-sync",
            "retries PUSH_TOKEN_NOT_SYNCED at once",
            _schedule(_sync_gate, _no_wait),
        ),
        # the /start and /end warnings
        Flaw(
            "blind-start-retry",
            "lost-response-start",
            "re-sends a lost /start until it answers; 409 = success",
            _blind("start", 409),
        ),
        Flaw(
            "blind-end-retry",
            "lost-response-end",
            "re-sends a lost /end until it answers; 404 = success",
            _blind("end", 404),
        ),
        # the logging recommendation
        Flaw(
            "logs-failures-only",
            "log-every-attempt",
            "logs only the attempts that failed",
            _log_failures_only,
        ),
        Flaw(
            "logs-answers-only",
            "log-every-attempt",
            "logs no line for an attempt whose answer was lost",
            _log_answers_only,
        ),
        Flaw("log-without-status", "log-status", "leaves the status out of its log", _log_without("status")),
        Flaw(
            "log-without-code-error",
            "log-code-error",
            "leaves code and error out of its log",
            _log_without("code", "error"),
        ),
        Flaw(
            "log-without-activity-id",
            "log-activity-id",
            "leaves activity_id out of its log",
            _log_without("activity_id"),
        ),
        Flaw(
            "log-without-retry",
            "log-timestamp-retry",
            "leaves the retry counter out of its log",
            _log_without("retry_counter"),
        ),
    )
}


@functools.cache
def _contract() -> Contract:
    return load_contract()


def run_flawed(flaw: Flaw, settings: FlowSettings) -> bool:
    """Run the normal flow with `flaw`; True when the flow finished."""
    contract = _contract()
    parts = flaw.apply(Parts.from_contract(contract, settings), settings, contract)
    with flaw.client(settings, contract=contract, parts=parts) as client:
        return normal_flow(client).finished


def flawed_integration(name: str) -> Integration:
    """The in-process `Integration` with the flaw `name` (of FLAWS, or a scenario flaw)."""
    flaw = FLAWS[name] if name in FLAWS else scenario_flaws(load_policy(_contract()))[name]

    def integration(settings: FlowSettings) -> None:
        run_flawed(flaw, settings)

    return integration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    every = {**FLAWS, **scenario_flaws(load_policy(_contract()))}
    parser.add_argument("--flaw", required=True, choices=sorted(every))
    flaw = every[parser.parse_args(argv).flaw]
    try:
        settings = settings_from_env(os.environ)
    except ValueError as exc:
        sys.stderr.write(f"flawed: {exc}\n")
        return 2
    return 0 if run_flawed(flaw, settings) else 1


if __name__ == "__main__":
    sys.exit(main())

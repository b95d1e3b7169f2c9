"""Each rule judged on synthetic journals: a run that obeys it passes, one that breaks it fails that rule
and no other of its scenario, and a run that never meets its trigger leaves it not exercised."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.certify.calls import group_calls
from conformance.certify.findings import LogLine, Run
from conformance.certify.judge import judge_rule, judge_runs
from conformance.certify.verdict import Ruling
from conformance.contract.certification import Policy, load_policy
from tests.self.certify.certify_support import ACTIVITY, attempt, flow, log_for, run_of


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def _errors(
    endpoint: str, status: int, row: str, times: list[float], code: str | None = "same"
) -> list[dict[str, Any]]:
    body_code = row if code == "same" else code
    return [{"endpoint": endpoint, "at": t, "status": status, "row": row, "code": body_code} for t in times]


def _ok(endpoint: str, at: float) -> dict[str, Any]:
    return {"endpoint": endpoint, "at": at, "status": 200}


def _lost(endpoint: str, at: float) -> dict[str, Any]:
    return {"endpoint": endpoint, "at": at, "status": None, "lost": True}


def _register_only(  # noqa: PLR0917 - the cases table reads better positionally
    status: int,
    row: str,
    times: list[float],
    code: str | None = "same",
    then_ok: bool = False,
    ok_after: float = 8.0,
) -> list[Any]:
    entries = [attempt(i + 1, **e) for i, e in enumerate(_errors("register", status, row, times, code))]
    if then_ok:
        entries.append(attempt(len(entries) + 1, "register", times[-1] + ok_after, 200))
    return entries


# rule id, scenario, a journal that obeys the rule, one that breaks it
CASES: list[tuple[str, str, Any, Any]] = [
    (
        "no-retry-validation",
        "update-400",
        flow(*_errors("update", 400, "VALIDATION_FAILED", [0.3])),
        flow(*_errors("update", 400, "VALIDATION_FAILED", [0.3, 1.3])),
    ),
    (
        "no-retry-auth",
        "register-401",
        _register_only(401, "HTTP_401", [0.0], code=None),
        _register_only(401, "HTTP_401", [0.0, 1.0], code=None),
    ),
    (
        "no-retry-disabled",
        "register-403",
        _register_only(403, "LIVE_ACTIVITY_DISABLED", [0.0]),
        _register_only(403, "LIVE_ACTIVITY_DISABLED", [0.0, 2.0]),
    ),
    (
        "no-retry-cert",
        "register-412-cert",
        _register_only(412, "APNS_CERT_MISSING", [0.0]),
        _register_only(412, "APNS_CERT_MISSING", [0.0, 0.5]),
    ),
    (
        "no-retry-no-eligible-device",
        "register-422",
        _register_only(422, "NO_ELIGIBLE_DEVICE", [0.0]),
        _register_only(422, "NO_ELIGIBLE_DEVICE", [0.0, 0.5]),
    ),
    (
        "no-retry-not-found",
        "update-404",
        flow(*_errors("update", 404, "NOT_FOUND", [0.3])),
        flow(*_errors("update", 404, "NOT_FOUND", [0.3, 0.4])),
    ),
    (
        "no-retry-already-started",
        "start-409",
        [
            attempt(1, "register", 0.0, 200),
            attempt(2, "start", 0.1, 409, row="ALREADY_STARTED", code="ALREADY_STARTED"),
        ],
        [
            attempt(1, "register", 0.0, 200),
            *[
                attempt(2 + i, "start", 0.1 + i, 409, row="ALREADY_STARTED", code="ALREADY_STARTED")
                for i in range(2)
            ],
        ],
    ),
    (
        "retry-rate-limit",
        "register-429",
        _register_only(429, "HTTP_429", [0.0, 1.0, 3.0], code=None, then_ok=True),
        _register_only(429, "HTTP_429", [0.0], code=None),
    ),
    (
        "backoff-rate-limit",
        "register-429",
        _register_only(429, "HTTP_429", [0.0, 0.4, 1.9], code=None, then_ok=True),
        _register_only(429, "HTTP_429", [0.0, 0.003, 0.006], code=None, then_ok=True, ok_after=0.003),
    ),
    (
        "retry-upstream-idempotent",
        "update-502",
        flow(*_errors("update", 502, "UPSTREAM_UNAVAILABLE", [0.3]), _ok("update", 1.0)),
        flow(*_errors("update", 502, "UPSTREAM_UNAVAILABLE", [0.3])),
    ),
    (
        "no-blind-retry-upstream",
        "start-502",
        [
            attempt(1, "register", 0.0, 200),
            attempt(2, "start", 0.1, 502, row="UPSTREAM_UNAVAILABLE", code="UPSTREAM_UNAVAILABLE"),
        ],
        [
            attempt(1, "register", 0.0, 200),
            *[
                attempt(2 + i, "start", 0.1 + i, 502, row="UPSTREAM_UNAVAILABLE", code="UPSTREAM_UNAVAILABLE")
                for i in range(3)
            ],
        ],
    ),
    (
        "retry-auth-layer",
        "register-503",
        _register_only(503, "HTTP_503", [0.0, 1.0, 3.0], code=None, then_ok=True),
        _register_only(503, "HTTP_503", [0.0, 1.0], code=None),
    ),
    (
        "backoff-auth-layer",
        "register-503",
        _register_only(503, "HTTP_503", [0.0, 0.4, 1.9], code=None, then_ok=True),
        _register_only(503, "HTTP_503", [0.0, 0.003, 0.006], code=None, then_ok=True, ok_after=0.003),
    ),
    (
        "backoff-upstream-contested",
        "register-502",
        _register_only(502, "UPSTREAM_UNAVAILABLE", [0.0, 0.8, 2.5]),
        _register_only(502, "UPSTREAM_UNAVAILABLE", [0.0, 0.002, 0.004, 0.006]),
    ),
    (
        "retry-budget",
        "register-503-always",
        _register_only(503, "HTTP_503", [0.0, 1.0, 3.0, 7.0, 15.0], code=None),
        _register_only(503, "HTTP_503", [float(i) for i in range(11)], code=None),
    ),
    (
        "retry-token-sync",
        "update-token-not-synced",
        flow(*_errors("update", 412, "PUSH_TOKEN_NOT_SYNCED", [0.2, 2.2]), _ok("update", 4.2)),
        flow(*_errors("update", 412, "PUSH_TOKEN_NOT_SYNCED", [0.2])),
    ),
    (
        "wait-token-sync",
        "update-token-not-synced",
        flow(*_errors("update", 412, "PUSH_TOKEN_NOT_SYNCED", [0.2, 2.2]), _ok("update", 4.2)),
        flow(
            *_errors("update", 412, "PUSH_TOKEN_NOT_SYNCED", [0.2 + 0.002 * i for i in range(30)]),
            _ok("update", 0.262),
        ),
    ),
    (
        "lost-response-start",
        "start-lost-dropped",
        [
            attempt(1, "register", 0.0, 200),
            attempt(2, **_lost("start", 0.1)),
            attempt(3, "start", 1.0, 409, row="ALREADY_STARTED", code="ALREADY_STARTED"),
        ],
        [
            attempt(1, "register", 0.0, 200),
            attempt(2, **_lost("start", 0.1)),
            attempt(3, **_lost("start", 1.0)),
            attempt(4, "start", 2.0, 409, row="ALREADY_STARTED", code="ALREADY_STARTED"),
        ],
    ),
    (
        "lost-response-end",
        "end-lost-dropped",
        flow(
            _lost("end", 0.5),
            {"endpoint": "end", "at": 1.5, "status": 404, "row": "NOT_FOUND", "code": "NOT_FOUND"},
        ),
        flow(_lost("end", 0.5), _lost("end", 1.5), _lost("end", 2.5)),
    ),
]


def _only(verdicts: dict[str, Any], scenario_rules: tuple[str, ...], verdict: str) -> set[str]:
    return {rule for rule in scenario_rules if verdicts[rule].verdict == verdict}


@pytest.mark.parametrize(("rule_id", "scenario", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_a_rule_passes_when_obeyed_and_fails_alone_when_broken(
    policy: Policy, rule_id: str, scenario: str, good: Any, bad: Any
) -> None:
    """The obeying journal passes the rule; the breaking one fails exactly that rule of its scenario."""
    rule = policy.rules[rule_id]
    assert judge_rule(policy, rule, run_of(policy, scenario, good)).verdict == Ruling.PASSED
    broken = run_of(policy, scenario, bad)
    outcome = judge_rule(policy, rule, broken)
    assert outcome.verdict == Ruling.FAILED, outcome.reason
    assert outcome.evidence, "a failure shows the offending attempts"
    verdicts = judge_runs(policy, [broken])
    assert _only(verdicts, policy.scenarios[scenario].rules, "fail") == {rule_id}


def test_every_rule_has_a_case() -> None:
    """No rule of certification.yaml goes without a pass/fail case here (logging rules: below)."""
    rules = {r.id for r in load_policy().rules.values() if r.judge != "logged"}
    assert rules == {c[0] for c in CASES}


def test_a_failure_shows_times_and_gaps(policy: Policy) -> None:
    """The evidence of a fail lists each offending attempt, its time since the start and the gap before it."""
    run = run_of(policy, "update-400", flow(*_errors("update", 400, "VALIDATION_FAILED", [0.3, 1.3])))
    outcome = judge_rule(policy, policy.rules["no-retry-validation"], run)
    assert outcome.evidence[0].startswith("#3 +0.300 s /update activity=act-1 -> 400 VALIDATION_FAILED")
    assert outcome.evidence[1].endswith("gap 0.999 s")
    assert "sent again 1 time(s); at most 0 allowed" in outcome.reason


def test_a_rule_whose_trigger_never_came_is_not_exercised_with_the_reason(policy: Policy) -> None:
    """A flow that never got the 400 leaves no-retry-validation not exercised, saying what the flow sent."""
    run = run_of(policy, "update-400", flow(_ok("update", 0.3)))
    outcome = judge_rule(policy, policy.rules["no-retry-validation"], run)
    assert outcome.verdict == Ruling.NOT_EXERCISED
    assert "got 400 (validation)" in outcome.reason
    assert "/update" in outcome.reason


def test_a_run_stopped_at_the_deadline_fails_the_budget(policy: Policy) -> None:
    """A client still retrying when the harness stopped it breaks the budget, however few its attempts."""
    attempts = [
        attempt(1, "register", 0.0, 503, row="HTTP_503"),
        attempt(2, "register", 32.0, 503, row="HTTP_503"),
    ]
    run = run_of(policy, "register-503-always", attempts, stopped="deadline")
    outcome = judge_rule(policy, policy.rules["retry-budget"], run)
    assert outcome.verdict == Ruling.FAILED
    assert "deadline" in outcome.reason


LOG_CASES: list[tuple[str, dict[str, Any]]] = [
    ("log-every-attempt", {"cut": 1}),
    ("log-status", {"status": "200"}),
    ("log-code-error", {"drop": "code"}),
    ("log-activity-id", {"drop": "activity_id"}),
    ("log-timestamp-retry", {"drop": "retry"}),
    ("log-timestamp-retry", {"timestamp": "yesterday"}),
    ("log-activity-id", {"activity_id": "another"}),
]


@pytest.mark.parametrize(("rule_id", "flaw"), LOG_CASES, ids=[f"{r}-{next(iter(f))}" for r, f in LOG_CASES])
def test_a_log_flaw_fails_exactly_its_logging_rule(
    policy: Policy, rule_id: str, flaw: dict[str, Any]
) -> None:
    """A log that is right but for one key fails the rule about that key, and no other rule."""
    attempts = flow(*_errors("update", 400, "VALIDATION_FAILED", [0.3]))
    cut = flaw.pop("cut", 0)
    drop = flaw.pop("drop", None)
    log = log_for(attempts, drop=drop, **flaw)[: len(attempts) - cut]
    good = judge_runs(policy, [run_of(policy, "update-400", attempts)])
    assert all(v.verdict != Ruling.FAILED for v in good.values())
    verdicts = judge_runs(policy, [run_of(policy, "update-400", attempts, log)])
    assert {r for r, v in verdicts.items() if v.verdict == Ruling.FAILED} == {rule_id}


def test_the_retry_counter_must_count_the_attempts_of_one_call(policy: Policy) -> None:
    """A retry counter stuck at 0 on a retry fails log-timestamp-retry, naming the attempt it should be."""
    attempts = _register_only(429, "HTTP_429", [0.0, 1.0], code=None, then_ok=True)
    log = log_for(attempts, retry=0)
    outcome = judge_rule(
        policy, policy.rules["log-timestamp-retry"], run_of(policy, "register-429", attempts, log)
    )
    assert outcome.verdict == Ruling.FAILED
    assert "this is attempt 1 of the call" in outcome.evidence[0]


def test_a_lost_answer_logged_with_null_code_and_error_passes_and_only_advice_asks_more(
    policy: Policy,
) -> None:
    """With no answer there is no body: null `code` and `error` are faithful (log-code-error passes);
    only the advice rule asks for a description, and its verdict is `advice`, never a fail."""
    attempts = [attempt(1, "register", 0.0, 200), attempt(2, **_lost("start", 0.1))]
    run: Run = run_of(policy, "start-lost-dropped", attempts)
    assert judge_rule(policy, policy.rules["log-code-error"], run).verdict == Ruling.PASSED
    silent = run_of(policy, "start-lost-dropped", attempts, log_for(attempts, error=None))
    verdicts = judge_runs(policy, [silent])
    assert verdicts["log-code-error"].verdict == Ruling.PASSED
    assert verdicts["log-lost-answer-described"].verdict == Ruling.ADVICE_NOT_FOLLOWED
    assert not policy.rules["log-lost-answer-described"].decides
    assert "fail" not in {v.verdict for v in verdicts.values()}
    assert judge_runs(policy, [run])["log-lost-answer-described"].verdict == Ruling.PASSED
    activity = run.attempts[1].activity_id
    assert activity is not None
    assert ACTIVITY in activity


# -- a run the harness stopped at its caps ---------------------------------------------------------


def _hammered_sync_gate(wait: float) -> list[Any]:
    """/update answered PUSH_TOKEN_NOT_SYNCED eleven times, `wait` s apart (the harness's cap is 10)."""
    times = [0.2 + wait * i for i in range(11)]
    return flow(*_errors("update", 412, "PUSH_TOKEN_NOT_SYNCED", times))


def test_a_client_stopped_mid_retry_is_not_failed_as_one_that_gave_up(policy: Policy) -> None:
    """Still retrying when the harness stopped it at its attempts cap: retry-token-sync is not
    exercised (the fault never cleared, the client never stopped); the waiting rule judges it."""
    run = run_of(policy, "update-token-not-synced", _hammered_sync_gate(0.001), stopped="attempts")
    outcome = judge_rule(policy, policy.rules["retry-token-sync"], run)
    assert outcome.verdict == Ruling.NOT_EXERCISED
    assert "still retrying when the harness stopped it (attempts)" in outcome.reason
    assert "judged by wait-token-sync" in outcome.reason
    verdicts = judge_runs(policy, [run])
    assert _only(verdicts, run.scenario.rules, "fail") == {"wait-token-sync"}


def test_an_attempt_cut_off_in_flight_is_not_taken_for_moving_on(policy: Policy) -> None:
    """Stopped by the harness with the call's last request received but never answered (killed
    in flight): the client was still retrying, so retry-token-sync is still not exercised."""
    hammered = _hammered_sync_gate(0.001)
    cut = attempt(len(hammered) + 1, "update", 0.3, None, lost=True)
    run = run_of(policy, "update-token-not-synced", [*hammered, cut], stopped="attempts")
    assert judge_rule(policy, policy.rules["retry-token-sync"], run).verdict == Ruling.NOT_EXERCISED


def test_spending_the_budget_before_the_fault_clears_fails_the_waiting_rule(policy: Policy) -> None:
    """Waits of 0.1 s clear the mean floor, but eleven attempts in a second, all answered
    PUSH_TOKEN_NOT_SYNCED, are more than the budget allows: wait-token-sync fails, and only it."""
    run = run_of(policy, "update-token-not-synced", _hammered_sync_gate(0.1), stopped="attempts")
    outcome = judge_rule(policy, policy.rules["wait-token-sync"], run)
    assert outcome.verdict == Ruling.FAILED
    assert "11 attempts within 1.0 s" in outcome.reason
    assert "more than the budget's 10" in outcome.reason
    assert _only(judge_runs(policy, [run]), run.scenario.rules, "fail") == {"wait-token-sync"}


def test_a_client_that_gave_up_fails_even_when_the_harness_stopped_it_later(policy: Policy) -> None:
    """Gave up on /update (it went on to /end), then hung until the deadline: that is giving up."""
    attempts = flow(*_errors("update", 412, "PUSH_TOKEN_NOT_SYNCED", [0.2, 2.2]), _ok("end", 2.3))
    run = run_of(policy, "update-token-not-synced", attempts, stopped="deadline")
    outcome = judge_rule(policy, policy.rules["retry-token-sync"], run)
    assert outcome.verdict == Ruling.FAILED
    assert "gave up before a 200: stopped by the harness (deadline)" in outcome.reason


def test_a_slow_client_stopped_at_the_deadline_while_waiting_is_not_failed_as_giving_up(
    policy: Policy,
) -> None:
    """Two 429s 40 s apart, then the deadline: it had not stopped retrying, so retry-rate-limit is
    not exercised (and says so); its slowness is the budget's business."""
    attempts = _register_only(429, "HTTP_429", [0.0, 40.0], code=None)
    run = run_of(policy, "register-429", attempts, stopped="deadline")
    outcome = judge_rule(policy, policy.rules["retry-rate-limit"], run)
    assert outcome.verdict == Ruling.NOT_EXERCISED
    assert "retried 1 time(s) over 40.0 s" in outcome.reason


# -- pairing log lines with attempts ---------------------------------------------------------------


def _lost_start_then_409() -> list[Any]:
    return [
        attempt(1, "register", 0.0, 200),
        attempt(2, **_lost("start", 0.1)),
        attempt(3, "start", 1.0, 409, row="ALREADY_STARTED", code="ALREADY_STARTED"),
        attempt(4, "update", 1.1, 200),
    ]


def test_a_missing_line_fails_only_the_every_attempt_rule(policy: Policy) -> None:
    """No line for the lost /start: the repeat's line (retry 1) is paired with the repeat, not shifted
    onto the lost attempt, so the status and code rules still pass."""
    attempts = _lost_start_then_409()
    log = tuple(line for line in log_for(attempts) if line.data and line.data["status"] is not None)
    run = run_of(policy, "start-lost-dropped", attempts, log)
    verdicts = judge_runs(policy, [run])
    assert _only(verdicts, run.scenario.rules, "fail") == {"log-every-attempt"}
    assert "attempt not logged: #2 " in verdicts["log-every-attempt"].outcomes[0].evidence[0]


def test_a_counter_off_by_one_fails_only_the_retry_rule(policy: Policy) -> None:
    """Retry counters counted from 1 still pair in order: only log-timestamp-retry fails."""
    attempts = _register_only(429, "HTTP_429", [0.0, 1.0, 3.0], code=None, then_ok=True)
    shifted = []
    for line in log_for(attempts):
        data = {**(line.data or {})}
        data["retry"] += 1
        shifted.append(LogLine(line.number, json.dumps(data), data))
    run = run_of(policy, "register-429", attempts, tuple(shifted))
    assert _only(judge_runs(policy, [run]), run.scenario.rules, "fail") == {"log-timestamp-retry"}


def test_the_attempt_a_stopped_client_could_not_log_is_spared(policy: Policy) -> None:
    """Killed by the harness after its last attempt, a client may not have written that line: not a
    logging flaw. Without the stop, the same missing line is one."""
    attempts = _hammered_sync_gate(0.001)
    log = log_for(attempts)[:-1]
    stopped = judge_rule(
        policy,
        policy.rules["log-every-attempt"],
        run_of(policy, "update-token-not-synced", attempts, log, stopped="attempts"),
    )
    assert stopped.verdict == Ruling.PASSED
    assert "the harness stopped the client (attempts)" in stopped.reason
    ended = judge_rule(
        policy, policy.rules["log-every-attempt"], run_of(policy, "update-token-not-synced", attempts, log)
    )
    assert ended.verdict == Ruling.FAILED


# -- calls and retries -----------------------------------------------------------------------------


def _two_updates(second_retry: int) -> tuple[list[Any], Any]:
    """register, start, /update (body A) answered 400, then /update (body B) answered 200, logged
    with `retry` 0 then `second_retry`."""
    attempts = [
        *flow(),
        attempt(3, "update", 0.3, 400, row="VALIDATION_FAILED", code="VALIDATION_FAILED", body="a"),
        attempt(4, "update", 1.3, 200, body="b"),
    ]
    lines = list(log_for(attempts))
    last = {**dict(lines[-1].data or {}), "retry": second_retry}
    lines[-1] = LogLine(lines[-1].number, json.dumps(last), last)
    return attempts, tuple(lines)


def test_a_second_update_with_a_new_body_is_a_new_call_not_a_retry(policy: Policy) -> None:
    """Two /update calls on one activity with two bodies, the second logged as a first attempt:
    the 400 was not sent again, and the retry counters are right."""
    attempts, log = _two_updates(second_retry=0)
    verdicts = judge_runs(policy, [run_of(policy, "update-400", attempts, log)])
    assert verdicts["no-retry-validation"].verdict == Ruling.PASSED, verdicts["no-retry-validation"].reason
    assert verdicts["log-timestamp-retry"].verdict == Ruling.PASSED, verdicts["log-timestamp-retry"].reason
    assert [len(c.attempts) for c in group_calls(attempts)] == [1, 1, 1, 1]


def test_a_request_the_log_marks_as_a_retry_is_one_even_with_a_new_body(policy: Policy) -> None:
    """The same second /update, logged with `retry` 1: the client says it retried the 400."""
    attempts, log = _two_updates(second_retry=1)
    verdicts = judge_runs(policy, [run_of(policy, "update-400", attempts, log)])
    assert verdicts["no-retry-validation"].verdict == Ruling.FAILED
    assert "sent again 1 time(s)" in verdicts["no-retry-validation"].reason
    assert verdicts["log-timestamp-retry"].verdict == Ruling.PASSED


def test_the_same_body_sent_again_is_a_retry_whatever_the_log_says() -> None:
    """Same endpoint, activity and body: one call of two attempts."""
    attempts = [*flow(), attempt(3, "update", 0.3, 502, body="a"), attempt(4, "update", 1.0, 200, body="a")]
    assert [len(c.attempts) for c in group_calls(attempts)] == [1, 1, 2]


def test_a_later_call_is_not_counted_as_attempts_of_an_earlier_one(policy: Policy) -> None:
    """PUSH_TOKEN_NOT_SYNCED twice on /update (body A), then 200, then /update (body B) logged as a
    first attempt: two calls, and log-timestamp-retry passes with the counters 0, 1, 2, 0."""
    gated = [
        attempt(3 + i, "update", 0.2 + 2 * i, 412, row="PUSH_TOKEN_NOT_SYNCED", body="a") for i in range(2)
    ]
    ok = [attempt(5, "update", 4.2, 200, body="a"), attempt(6, "update", 5.0, 200, body="b")]
    attempts = [*flow(), *gated, *ok]
    log = log_for(attempts)
    assert [line.data["retry"] for line in log[2:] if line.data] == [0, 1, 2, 0]
    assert [len(c.attempts) for c in group_calls(attempts)] == [1, 1, 3, 1]
    rule = policy.rules["log-timestamp-retry"]
    assert (
        judge_rule(policy, rule, run_of(policy, "update-412-token", attempts, log)).verdict == Ruling.PASSED
    )

"""The reference client (conformance.client) on its own: its policy, backoff, budgets, log and
flow, against respx routes and a virtual clock (no sandbox, no harness, no wall time)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from conformance.client import (
    Answer,
    Backoff,
    GaveUp,
    LiveActivityClient,
    NoResponse,
    ProbablyDoneByLostAttempt,
    RateBudget,
    Rejected,
    RetryBudget,
    RetryPolicy,
    Success,
    Uncertain,
    run_flow,
)
from conformance.client.__main__ import main
from conformance.client.policy import Retry, Stop
from conformance.client.settings import FlowSettings
from conformance.contract import load_contract
from conformance.core.clock import parse_rfc3339

BASE_URL = "http://api.test"
KEY = "secret-key-4f9a1c"
CONTRACT = load_contract()


class Clock:
    """A virtual monotonic clock: `sleep` moves it, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def read(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, clock: Clock) -> FlowSettings:
    return FlowSettings(
        base_url=BASE_URL,
        api_key=KEY,
        insider_ids=("a", "b", "c"),
        activity_type="DeliveryActivityAttributes",
        log_file=tmp_path / "attempts.jsonl",
        sleep=clock.sleep,
        now=clock.read,
    )


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as mock:
        yield mock


def path(endpoint: str) -> str:
    return CONTRACT.paths[endpoint]


def error(status: int, code: str | None = None) -> httpx.Response:
    if code is None:
        return httpx.Response(status)
    return httpx.Response(status, json={"error": f"{code.lower()} happened", "code": code})


def ok(**fields: Any) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", **fields})


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 (jitter draws, not secrets)


def log_lines(settings: FlowSettings) -> list[dict[str, Any]]:
    return [json.loads(line) for line in settings.log_file.read_text().splitlines()]


# -- the policy reads the retry table ------------------------------------------------------------


@pytest.fixture(scope="module")
def policy() -> RetryPolicy:
    return RetryPolicy.from_contract(CONTRACT)


@pytest.mark.parametrize(
    ("endpoint", "status", "code"),
    [
        ("update", 400, "VALIDATION_FAILED"),
        ("register", 401, None),
        ("register", 403, "LIVE_ACTIVITY_DISABLED"),
        ("update", 404, "NOT_FOUND"),
        ("start", 409, "ALREADY_STARTED"),
        ("register", 412, "APNS_CERT_MISSING"),
        ("register", 422, "NO_ELIGIBLE_DEVICE"),
        ("register", 404, "APP_NOT_FOUND"),  # no retry entry at all: not retried either
    ],
)
def test_rows_the_table_calls_unsafe_are_final(
    policy: RetryPolicy, endpoint: str, status: int, code: str | None
) -> None:
    """A row whose retry entry says "No" (or has none) ends the call as Rejected."""
    decision = policy.decide(endpoint, Answer(status, code, "x"), lost_before=False)
    assert isinstance(decision, Stop)
    assert decision.kind == "rejected"


@pytest.mark.parametrize(("status", "code"), [(429, None), (503, None), (502, "UPSTREAM_UNAVAILABLE")])
def test_retryable_rows_back_off_on_an_idempotent_endpoint(
    policy: RetryPolicy, status: int, code: str | None
) -> None:
    """429, 503 and 502 on /update are retried after a backoff wait, for the row's reason."""
    answer = Answer(status, code, None)
    row = policy.row_for("update", answer)
    assert row is not None
    assert row.retry is not None
    assert policy.decide("update", answer, lost_before=False) == Retry("backoff", row.retry.strategy, status)


@pytest.mark.parametrize("endpoint", ["register", "start", "end"])
def test_502_on_a_non_idempotent_endpoint_is_not_retried(policy: RetryPolicy, endpoint: str) -> None:
    """The 502 row is retried 'on idempotent endpoints' only: elsewhere the call ends Uncertain."""
    decision = policy.decide(endpoint, Answer(502, "UPSTREAM_UNAVAILABLE", None), lost_before=False)
    assert isinstance(decision, Stop)
    assert decision.kind == "uncertain"


def test_push_token_not_synced_waits_for_the_sync(policy: RetryPolicy) -> None:
    """PUSH_TOKEN_NOT_SYNCED is retried after the sync wait, not the backoff."""
    decision = policy.decide("update", Answer(412, "PUSH_TOKEN_NOT_SYNCED", None), lost_before=False)
    assert isinstance(decision, Retry)
    assert decision.wait == "sync"


@pytest.mark.parametrize(
    ("endpoint", "repeat_status", "repeat_code"),
    [("start", 409, "ALREADY_STARTED"), ("end", 404, "NOT_FOUND")],
)
def test_after_a_lost_response_the_warned_answer_means_probably_done(
    policy: RetryPolicy, endpoint: str, repeat_status: int, repeat_code: str
) -> None:
    """The retry warning's answer to a repeat (409 on /start, 404 on /end) ends the call as probably
    done by the lost attempt; without a lost attempt the same answer is final."""
    lost = policy.decide(endpoint, NoResponse("ReadTimeout", maybe_committed=True), lost_before=False)
    assert isinstance(lost, Retry)
    after = policy.decide(endpoint, Answer(repeat_status, repeat_code, None), lost_before=True)
    assert after == Stop(
        "probably_done", f"the repeat after a lost response got {repeat_status} {repeat_code}"
    )
    plain = policy.decide(endpoint, Answer(repeat_status, repeat_code, None), lost_before=False)
    assert isinstance(plain, Stop)
    assert plain.kind == "rejected"


@pytest.mark.parametrize("endpoint", ["start", "end"])
def test_the_repeat_after_a_loss_is_the_last_attempt(policy: RetryPolicy, endpoint: str) -> None:
    """After a lost /start or /end, the one repeat ends the call whatever it gets: nothing, or a
    retryable answer, leaves it Uncertain rather than sending a third time."""
    for outcome in (NoResponse("ReadTimeout", maybe_committed=True), Answer(503, None, None)):
        decision = policy.decide(endpoint, outcome, lost_before=True)
        assert isinstance(decision, Stop)
        assert decision.kind == "uncertain"


def test_a_lost_register_is_not_repeated_but_an_unsent_one_is(policy: RetryPolicy) -> None:
    """/register creates an activity per call: a lost one is Uncertain; one never sent is retried."""
    lost = policy.decide("register", NoResponse("ReadTimeout", maybe_committed=True), lost_before=False)
    assert isinstance(lost, Stop)
    assert lost.kind == "uncertain"
    unsent = policy.decide("register", NoResponse("ConnectError", maybe_committed=False), lost_before=False)
    assert isinstance(unsent, Retry)


# -- backoff and budgets -------------------------------------------------------------------------


def test_backoff_ceilings_follow_the_tables_example() -> None:
    """The ceilings are the 429 row's example, 1, 2, 4, 8 s, continued."""
    backoff = Backoff.from_contract(CONTRACT)
    assert [backoff.ceiling(n) for n in range(1, 6)] == [1, 2, 4, 8, 16]


def test_backoff_uses_full_jitter_below_each_ceiling() -> None:
    """Each backoff wait lies in [0, ceiling], and they do not all sit at the ceiling."""
    backoff, rng = Backoff.from_contract(CONTRACT), seeded(7)
    waits = [backoff.wait("backoff", 3, rng) for _ in range(200)]
    assert all(0 <= w <= 4 for w in waits)
    assert min(waits) < 1
    assert max(waits) > 3


def test_sync_wait_is_the_documented_minimum_sync_delay() -> None:
    """The sync-gate wait is behaviour.yaml's minimum token-sync delay, without jitter."""
    backoff = Backoff.from_contract(CONTRACT)
    assert backoff.wait("sync", 5, seeded(1)) == CONTRACT.behaviour.sync_gate.delay_min_seconds


def test_retry_budget_covers_one_rate_window() -> None:
    """Time bound: one rate window; attempts: enough for the ceilings to add up to that window."""
    budget = RetryBudget.from_contract(CONTRACT, Backoff.from_contract(CONTRACT))
    assert budget == RetryBudget(attempts=7, seconds=60.0)
    assert budget.allows(attempts_made=6, elapsed=30, next_wait=30)
    assert not budget.allows(attempts_made=7, elapsed=0, next_wait=0)
    assert not budget.allows(attempts_made=1, elapsed=50, next_wait=10.5)


def test_rate_budget_waits_once_its_share_of_the_window_is_spent(clock: Clock) -> None:
    """The budget allows its share of the limit per key + path + method, then waits out the window;
    another path has its own count, and the key is not kept."""
    budget = RateBudget.from_contract(CONTRACT, now=clock.read, sleep=clock.sleep, share=0.003)
    assert budget.requests == 3
    for _ in range(3):
        assert budget.acquire(api_key=KEY, path="/p", method="POST") == 0
    assert budget.acquire(api_key=KEY, path="/other", method="POST") == 0
    assert budget.acquire(api_key=KEY, path="/p", method="POST") == 60
    assert KEY not in repr(budget._sent)


def test_rate_budget_keeps_below_the_documented_limit() -> None:
    """By default the budget stays below the 429 row's limit."""
    budget = RateBudget.from_contract(CONTRACT, now=lambda: 0.0, sleep=lambda _: None)
    assert 0 < budget.requests < CONTRACT.behaviour.rate_limit.requests


# -- the client: attempts, waits, results, log ---------------------------------------------------


def test_429s_are_retried_with_waits_and_every_attempt_logged(
    settings: FlowSettings, clock: Clock, router: respx.MockRouter
) -> None:
    """Three 429s then 200: Success after four attempts, three waits, four log lines 0..3."""
    router.post(path("register")).mock(
        side_effect=[error(429), error(429), error(429), ok(activity_id="act-1")]
    )
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        result = client.call("register", {"insider_ids": ["a"]})
    assert result == Success("register", {"status": "success", "activity_id": "act-1"}, attempts=4)
    assert len(clock.sleeps) == 3
    lines = log_lines(settings)
    assert [(line["status"], line["retry"]) for line in lines] == [(429, 0), (429, 1), (429, 2), (200, 3)]
    assert lines[-1]["activity_id"] == "act-1"


def test_a_lost_start_is_repeated_once_and_409_is_probably_done(
    settings: FlowSettings, router: respx.MockRouter
) -> None:
    """A /start that timed out is repeated once; its 409 is ProbablyDoneByLostAttempt, not Success."""
    route = router.post(path("start")).mock(
        side_effect=[httpx.ReadTimeout("lost"), error(409, "ALREADY_STARTED")]
    )
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        result = client.call("start", {"activity_id": "act-1"}, activity_id="act-1")
    assert isinstance(result, ProbablyDoneByLostAttempt)
    assert route.call_count == 2
    lines = log_lines(settings)
    assert [(line["status"], line["retry"], line["activity_id"]) for line in lines] == [
        (None, 0, "act-1"),
        (409, 1, "act-1"),
    ]
    assert lines[0]["error"]


def test_a_start_lost_twice_is_not_sent_a_third_time(
    settings: FlowSettings, router: respx.MockRouter
) -> None:
    """Two lost answers to /start: two attempts, then Uncertain."""
    route = router.post(path("start")).mock(side_effect=httpx.RemoteProtocolError("dropped"))
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        result = client.call("start", {"activity_id": "act-1"}, activity_id="act-1")
    assert isinstance(result, Uncertain)
    assert route.call_count == 2


def test_a_persistent_503_ends_within_the_budget(
    settings: FlowSettings, clock: Clock, router: respx.MockRouter
) -> None:
    """503 on every attempt: GaveUp within seven attempts and one rate window of (virtual) time."""
    route = router.post(path("register")).mock(return_value=error(503))
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        result = client.call("register", {})
    assert isinstance(result, GaveUp)
    assert 2 <= route.call_count <= 7
    assert sum(clock.sleeps) <= 60


def test_a_400_is_sent_once(settings: FlowSettings, clock: Clock, router: respx.MockRouter) -> None:
    """A 400 is Rejected at once, with the table's strategy as the fix, and never slept on."""
    route = router.post(path("update")).mock(return_value=error(400, "VALIDATION_FAILED"))
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        result = client.call("update", {}, activity_id="act-1")
    assert isinstance(result, Rejected)
    assert "must not be retried" in result.fix
    assert route.call_count == 1
    assert clock.sleeps == []


def test_requests_carry_the_key_and_the_log_never_does(
    settings: FlowSettings, router: respx.MockRouter
) -> None:
    """The key goes in the openapi's X-Api-Key header; no log line holds it."""
    route = router.post(path("register")).mock(return_value=ok(activity_id="act-1"))
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        client.call("register", {})
    assert route.calls.last.request.headers["X-Api-Key"] == KEY
    assert KEY not in settings.log_file.read_text()


def test_every_log_line_has_every_key_of_the_certification_format(
    settings: FlowSettings, router: respx.MockRouter
) -> None:
    """Each line carries `endpoint` and one key per contract logging field, null where empty."""
    router.post(path("register")).mock(side_effect=[error(503), ok(activity_id="act-1")])
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        client.call("register", {})
    for line in log_lines(settings):
        assert {"endpoint", "status", "code", "error", "activity_id", "timestamp", "retry"} <= set(line)


def test_log_timestamps_follow_the_injected_clock(
    settings: FlowSettings, clock: Clock, router: respx.MockRouter
) -> None:
    """The timestamps of two attempts lie as far apart as the virtual clock moved between them."""
    router.post(path("update")).mock(side_effect=[error(412, "PUSH_TOKEN_NOT_SYNCED"), ok()])
    with LiveActivityClient(settings, contract=CONTRACT) as client:
        client.call("update", {}, activity_id="act-1")
    first, second = (parse_rfc3339(line["timestamp"]) for line in log_lines(settings))
    assert first is not None
    assert second is not None
    assert (second - first).total_seconds() == pytest.approx(sum(clock.sleeps))


# -- the flow and the command --------------------------------------------------------------------


def _healthy_api(router: respx.MockRouter) -> None:
    router.post(path("register")).mock(return_value=ok(activity_id="act-1"))
    for endpoint in ("add-users", "remove-users", "start", "update", "end"):
        router.post(path(endpoint)).mock(return_value=ok())


def test_flow_registers_adjusts_the_segment_and_runs_the_lifecycle(
    settings: FlowSettings, router: respx.MockRouter
) -> None:
    """register(a, b) -> add-users(c) -> remove-users(a) -> start -> update -> end, one activity id."""
    _healthy_api(router)
    report = run_flow(settings)
    assert report.finished
    sent = [(call.request.url.path, json.loads(call.request.content)) for call in router.calls]
    assert [p.rsplit("/", 1)[1] for p, _ in sent] == [
        "register",
        "add-users",
        "remove-users",
        "start",
        "update",
        "end",
    ]
    assert sent[0][1]["insider_ids"] == ["a", "b"]
    assert sent[1][1]["insider_ids"] == ["c"]
    assert sent[2][1]["insider_ids"] == ["a"]
    assert all(body["activity_id"] == "act-1" for _, body in sent[1:])


def test_flow_stops_at_a_final_answer(settings: FlowSettings, router: respx.MockRouter) -> None:
    """A 400 on /update ends the flow there: no /end follows, and the report says where it stopped."""
    _healthy_api(router)
    router.post(path("update")).mock(return_value=error(400, "VALIDATION_FAILED"))
    report = run_flow(settings)
    assert not report.finished
    assert router.routes[-1].call_count == 0 or not any(
        c.request.url.path == path("end") for c in router.calls
    )
    assert report.summary().startswith("flow stopped at /update: Rejected 400 VALIDATION_FAILED")


def test_command_exits_1_with_one_line_and_no_key(
    settings: FlowSettings, router: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m conformance.client` on a failing flow: exit 1, one line on stderr, no key."""
    _healthy_api(router)
    router.post(path("start")).mock(return_value=error(502, "UPSTREAM_UNAVAILABLE"))
    env = {
        "LA_BASE_URL": BASE_URL,
        "LA_API_KEY": KEY,
        "LA_INSIDER_IDS": "a,b,c",
        "LA_ACTIVITY_TYPE": "DeliveryActivityAttributes",
        "LA_LOG_FILE": str(settings.log_file),
    }
    assert main(env) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.count("\n") == 1
    assert "stopped at /start: Uncertain 502" in out.err
    assert KEY not in out.err


def test_command_names_missing_variables(capsys: pytest.CaptureFixture[str]) -> None:
    """Without the LA_* variables: exit 2 and one line naming them."""
    assert main({"LA_BASE_URL": BASE_URL}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "LA_API_KEY, LA_INSIDER_IDS, LA_ACTIVITY_TYPE, LA_LOG_FILE" in err


def test_command_refuses_a_base_url_that_is_not_http(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A base URL that is not http(s) is bad input: exit 2, one line naming the variable."""
    env = {
        "LA_BASE_URL": "ftp://api.test",
        "LA_API_KEY": KEY,
        "LA_INSIDER_IDS": "a",
        "LA_ACTIVITY_TYPE": "T",
        "LA_LOG_FILE": str(tmp_path / "log"),
    }
    assert main(env) == 2
    err = capsys.readouterr().err
    assert err == "conformance.client: LA_BASE_URL must be an http:// or https:// URL, not 'ftp://api.test'\n"


def test_command_names_a_log_file_it_cannot_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, router: respx.MockRouter
) -> None:
    """A log file in a missing directory: exit 2, one line naming the file, no traceback."""
    _healthy_api(router)
    log = tmp_path / "missing" / "attempts.jsonl"
    env = {
        "LA_BASE_URL": BASE_URL,
        "LA_API_KEY": KEY,
        "LA_INSIDER_IDS": "a",
        "LA_ACTIVITY_TYPE": "T",
        "LA_LOG_FILE": str(log),
    }
    assert main(env) == 2
    assert (
        capsys.readouterr().err
        == f"conformance.client: cannot write the log {log}: No such file or directory\n"
    )

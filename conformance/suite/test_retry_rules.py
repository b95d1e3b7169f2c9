"""The retry-strategy table, checked from the API's side.

Rows the table marks not safe to retry must give the same answer when repeated and change nothing;
the rows marked safe must clear as the strategy says; the /start and /end warnings must hold.
"""

from __future__ import annotations

import pytest

from conformance.cassettes.tags import tagging_case
from conformance.contract import Contract, load_contract
from conformance.contract.model import RetryWarning
from conformance.core.exchange import Exchange, Request
from conformance.generate.bodies import push_body, segment_body
from conformance.suite.provoke import provocations
from conformance.suite.rate_limit import (
    burst_size,
    fill,
    harmless_successes,
    provoke_rate_limit,
    verify_not_limited,
)
from conformance.suite.valid import update_endpoint, valid_body
from conformance.targets.arrange import Arranger
from conformance.targets.target import SYNC_MARGIN_SECONDS
from conformance.targets.verifier import Verifier

BACKOFF_FACTOR = 2.0
# How long the client waits for an answer the target was told to drop: a timeout, as in the warning.
LOST_RESPONSE_TIMEOUT_SECONDS = 1.0


def _not_retryable(contract: Contract) -> list[tuple[str, str]]:
    """(row, endpoint) for every row marked not safe to retry, on the first endpoint that provokes it."""
    pairs = []
    for row in contract.table.rows:
        if row.retry is None or row.retry.safe:
            continue
        endpoint = next(
            (
                e
                for e in row.endpoints
                if any(p.kind == "request" and p.exclusive for p in provocations(contract, row.id, e))
            ),
            None,
        )
        if endpoint is not None:
            pairs.append((row.id, endpoint))
    return pairs


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    contract = load_contract(metafunc.config.getoption("contracts"))
    if "not_retryable" in metafunc.fixturenames:
        pairs = _not_retryable(contract)
        metafunc.parametrize("not_retryable", pairs, ids=[f"{r}-{e}" for r, e in pairs])
    if "transient_row" in metafunc.fixturenames:
        rows = [
            f.row for f in contract.behaviour.fault_only if (r := contract.table.row(f.row).retry) and r.safe
        ]
        metafunc.parametrize("transient_row", rows)


def _same_answer(first: Exchange, second: Exchange) -> bool:
    a, b = first.response, second.response
    return a is not None and b is not None and (a.status, a.code) == (b.status, b.code)


def test_not_retryable_row_repeats_identically(
    verifier: Verifier, arrange: Arranger, not_retryable: tuple[str, str]
) -> None:
    """A request answered with a not-retryable row gets the same status and code again, and no change."""
    row_id, endpoint = not_retryable
    chosen = next(
        p for p in provocations(verifier.contract, row_id, endpoint) if p.kind == "request" and p.exclusive
    )
    verifier.require_account(chosen.account, endpoint=endpoint, rows=(row_id,))
    request = chosen.build(arrange)
    first = verifier.verify(request, case=f"{chosen.label} (first)")
    second = verifier.verify(request, case=f"{chosen.label} (repeated)")
    row = verifier.contract.table.row(row_id)
    strategy = row.retry.strategy if row.retry else ""
    before = first.response.status if first.response else first.error
    after = second.response.status if second.response else second.error
    assert _same_answer(first, second), (
        f"{row.describe()} is not safe to retry ({strategy}), "
        f"yet the identical request got {before} then {after}"
    )


def _first_call(arrange: Arranger, warning: RetryWarning) -> Request:
    """The call a warning is about, on an activity where it succeeds (sync-gated: started and synced)."""
    gated = warning.endpoint in arrange.contract.behaviour.sync_gate.endpoints
    activity = arrange.synced() if gated else arrange.register()
    return Request(warning.endpoint, push_body(activity))


def _answers_as_warned(repeat: Exchange, warning: RetryWarning) -> None:
    assert repeat.response is not None, warning.text
    assert repeat.response.status == warning.repeat_status, warning.text
    if warning.repeat_code is not None:
        assert repeat.response.code == warning.repeat_code, warning.text


@pytest.mark.synced
def test_repeat_after_success_follows_the_retry_warning(verifier: Verifier, arrange: Arranger) -> None:
    """A second /start answers 409 ALREADY_STARTED and a second /end 404, as the warnings say."""
    for warning in verifier.contract.table.retry_warnings:
        request = _first_call(arrange, warning)
        verifier.verify(request, case=f"{warning.endpoint} (first)")
        _answers_as_warned(verifier.verify(request, case=f"{warning.endpoint} (repeated)"), warning)


@pytest.mark.synced
def test_lost_response_then_retry_follows_the_warning(verifier: Verifier, arrange: Arranger) -> None:
    """/start or /end committed but its answer lost: the blind retry gets the warned 409 or 404."""
    for warning in verifier.contract.table.retry_warnings:
        request = _first_call(arrange, warning)
        with arrange.fault(warning.endpoint, "drop_after_commit"):
            lost = verifier.target.client.send(request, timeout=LOST_RESPONSE_TIMEOUT_SECONDS)
        assert lost.response is None, "the injected drop must look like a timeout to the client"
        verifier.assume_committed(request)
        retry = verifier.verify(request, case=f"{warning.endpoint} retried after a lost response")
        _answers_as_warned(retry, warning)


def test_push_token_not_synced_resolves_within_sync_bound(verifier: Verifier, arrange: Arranger) -> None:
    """/update right after /start resolves, retried with backoff, within the target's sync bound."""
    activity = arrange.register()
    arrange.start(activity)
    bound = verifier.profile.sync_delay_seconds
    waited, delay = 0.0, max(bound / 8, 0.01)
    endpoint, started = update_endpoint(verifier.contract), verifier.contract.roles.starts
    request = Request(endpoint, push_body(activity))
    ok = verifier.contract.behaviour.success_status
    while True:
        exchange = verifier.verify(request, case=f"{endpoint} {waited:.2f} s after {started}")
        if exchange.response is not None and exchange.response.status == ok:
            break
        assert waited <= bound, f"PUSH_TOKEN_NOT_SYNCED still after the declared sync bound of {bound} s"
        # The table says only "wait a few seconds and retry": the backoff is ours, and the last wait
        # ends just past the bound, where the sync is due (a doubling would overshoot it by up to 2x).
        step = min(delay, bound - waited + SYNC_MARGIN_SECONDS)
        verifier.target.wait(step)
        waited, delay = waited + step, delay * BACKOFF_FACTOR


@pytest.mark.spends_rate_budget
def test_rate_limit_clears_with_backoff(verifier: Verifier, arrange: Arranger) -> None:
    """After a 429, exponential backoff (the table's 1 s, 2 s, 4 s, ...) clears it within one window."""
    rate = verifier.contract.behaviour.rate_limit
    row = verifier.contract.table.row(rate.row)
    assert row.retry is not None
    assert row.retry.backoff_example_seconds
    if not verifier.target.clock_is_virtual and not verifier.target.allow_rate_limit_probe:
        verifier.skip(
            f"backing off through a real {rate.per_seconds} s rate window takes up to a minute and "
            "spends rate budget: pass --allow-rate-limit-probe",
            rows=(rate.row,),
        )
    endpoint = verifier.contract.roles.creates_activity
    chosen = next(p for p in provocations(verifier.contract, rate.row, endpoint) if p.kind == "rate_limit")
    provoke_rate_limit(arrange, chosen, endpoint)
    waited = 0.0
    for delay in verifier.target.backoff_delays():
        verifier.target.wait(delay)
        waited += delay
        with tagging_case(f"retry after {waited:g} s of backoff", (rate.row,)):
            retry = verifier.target.client.send(Request(endpoint, raw=b""))
        if retry.response is not None and retry.response.status != row.status:
            return
    pytest.fail(
        f"still {row.status} after backing off {waited:g} s, longer than the {rate.per_seconds} s window"
    )


@pytest.mark.spends_rate_budget
def test_rate_limit_is_the_documented_one(verifier: Verifier, arrange: Arranger) -> None:
    """The documented number of requests per window passes; a burst of them reaches 429 soon after.

    The fillers are successes that change nothing, so they count whether or not the target counts
    rejected requests (behaviour.yaml readings: rate-limit-counts). On a virtual clock no window ends
    mid-burst: the request after the limit is judged as the 429 row. On a real one a fixed window may
    end mid-burst, so the burst goes on (to twice the limit) until the first 429, which must come after
    the limit; then the next request is judged.
    """
    rate = verifier.contract.behaviour.rate_limit
    if not verifier.target.clock_is_virtual and not verifier.target.allow_rate_limit_probe:
        verifier.skip(
            f"checking the {rate.requests}/min limit itself spends a whole window of a live "
            "target's budget: pass --allow-rate-limit-probe",
            rows=(rate.row,),
        )
    endpoint = verifier.contract.roles.removes_from_segment
    exact = verifier.target.clock_is_virtual
    fillers = harmless_successes(arrange, endpoint, rate.requests if exact else burst_size(rate.requests))
    chosen = next(p for p in provocations(verifier.contract, rate.row, endpoint) if p.kind == "rate_limit")
    request = chosen.build(arrange)
    verifier.target.wait(rate.per_seconds)  # a fresh window for every bucket
    try:
        burst = fill(verifier, fillers)
        first = burst.first_limited
        assert first is None or first > rate.requests, (
            f"429 after {first - 1} requests in one window; the table documents {rate.requests}/min"
        )
        if first is None and burst.seconds > rate.per_seconds:
            verifier.skip(
                f"the burst took {burst.seconds:.0f} s, longer than the {rate.per_seconds} s window",
                endpoint=endpoint,
                rows=(rate.row,),
            )
        verifier.world.pending_rows[endpoint] = rate.row
        verifier.verify(request, case=f"after a burst of {rate.requests}/min and more")
    finally:
        verifier.world.pending_rows.pop(endpoint, None)
        verifier.target.wait(rate.per_seconds)  # leave a fresh window: the suite never causes a 429 itself


@pytest.mark.spends_rate_budget
def test_rate_buckets_are_per_key_path_and_method(verifier: Verifier, arrange: Arranger) -> None:
    """With one endpoint's bucket exhausted for the good key, another endpoint and another key are not
    limited: the docs fix one bucket per API key, path and method (behaviour.yaml rate_limit.bucket)."""
    contract, rate = verifier.contract, verifier.contract.behaviour.rate_limit
    roles = contract.roles
    endpoint, beside = roles.removes_from_segment, roles.adds_to_segment
    chosen = next(p for p in provocations(contract, rate.row, endpoint) if p.kind == "rate_limit")
    activity = arrange.register()
    others = [s for s, a in verifier.profile.accounts.items() if s != "good" and a.key() is not None]

    def unaffected() -> None:
        body = valid_body(verifier, beside, activity)
        verify_not_limited(
            verifier, Request(beside, body), case=f"/{beside} while /{endpoint}'s bucket is full"
        )
        for other in others[:1]:
            request = Request(endpoint, valid_body(verifier, endpoint, activity), account=other)
            verify_not_limited(
                verifier, request, case=f"key {other} on /{endpoint} while the good key's is full"
            )

    try:
        provoke_rate_limit(arrange, chosen, endpoint, while_limited=unaffected)
    finally:
        if verifier.target.control is None:
            verifier.target.wait(
                rate.per_seconds
            )  # leave a fresh window: the suite never causes a 429 itself
    if not others:
        verifier.skip(
            "the target profile offers no key besides the good one: another key's bucket not checked",
            endpoint=endpoint,
            rows=(rate.row,),
        )


def test_transient_row_clears_on_retry(verifier: Verifier, arrange: Arranger, transient_row: str) -> None:
    """An injected transient row (502, 503) on a documented idempotent segment edit clears on retry."""
    row = verifier.contract.table.row(transient_row)
    behaviour, roles = verifier.contract.behaviour, verifier.contract.roles
    endpoint = next(
        e
        for e in (roles.removes_from_segment, roles.adds_to_segment)
        if behaviour.idempotent.get(e) and behaviour.idempotency[e].level == "documented"
    )
    activity = arrange.register()
    insider = verifier.profile.syncing_insiders()[0].insider_id
    request = Request(endpoint, segment_body(activity, [insider]))
    with arrange.fault(endpoint, "status", status=row.status, row=transient_row):
        verifier.verify(request, case=f"injected {row.describe()}")
    verifier.verify(request, case="retried after the transient error")

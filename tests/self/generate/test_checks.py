"""Checks and the judge: a response against the oracle's alternatives; the violation message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core.exchange import Exchange, Request
from conformance.generate.expected import ABSENT, Alternative, Expected, Present
from conformance.judging.checks import judge, lookup, registered_checks
from conformance.judging.failures import ContractViolation, violation
from conformance.judging.results import Verdict
from conformance.targets.api_client import ApiClient
from tests.self.generate.generate_support import (
    T0,
    devices,
    error_body,
    exact,
    exchange,
    expect,
    one,
    push_body,
    register_body,
    syncing_ids,
    world,
)
from tests.self.reference import bundled_contract, sandbox_profile

DATA = Path(__file__).parent / "data"
UPDATE_SNAPSHOTS = "CONFORMANCE_UPDATE_SNAPSHOTS"


def _error(status: int, *codes: str, rule: str = "rule", body: dict[str, Any] | None = None) -> Alternative:
    return Alternative("error", status, rule, "documented", codes, body or {})


def _ok(rule: str = "rule", **facts: Any) -> Alternative:
    return Alternative("ok", bundled_contract().behaviour.success_status, rule, "documented", (), facts)


def _expected(*alternatives: Alternative, recorded_only: bool = False) -> Expected:
    return Expected(alternatives, tuple(a.rule for a in alternatives), recorded_only=recorded_only)


REQUEST = Request("register", register_body())


def _judge(expected: Expected, status: int, body: Any = None, *, raw: bytes | None = None) -> Any:
    return judge(bundled_contract(), expected, exchange(REQUEST, status, body, raw=raw))


def _failed_checks(judgement: Any) -> set[str]:
    return {problem.split(":")[0] for _, problems in judgement.misses for problem in problems}


# -- matching ------------------------------------------------------------------------------------


def test_response_matching_one_of_several_alternatives_passes_and_names_it() -> None:
    """Of several acceptable errors, the one the response carries passes and is named as the winner."""
    expected = expect(Request("register", {**register_body(), "activity_type": "", "insider_ids": []}))
    judgement = judge(
        bundled_contract(), expected, exchange(REQUEST, 400, error_body("INSIDER_IDS_OUT_OF_RANGE"))
    )
    assert judgement.verdict == Verdict.PASSED
    assert judgement.matched is not None
    assert judgement.matched.rule == "insider_ids.below_minimum"


def test_recorded_only_expectation_records_any_response() -> None:
    """A case the contract does not decide is recorded, whatever comes back."""
    expected = expect(Request("register", {**register_body(), "zz_unknown": 1}))
    assert _judge(expected, 418, {"anything": True}).verdict == Verdict.RECORDED


def test_no_response_fails_with_the_transport_error() -> None:
    """A timeout on an asserted case fails, and every alternative names the error."""
    judgement = judge(bundled_contract(), _expected(_ok()), Exchange(REQUEST, None, "timeout: ReadTimeout"))
    assert judgement.verdict == Verdict.FAILED
    assert judgement.misses[0][1] == ("timeout: ReadTimeout",)


# -- bodies the table says are absent --------------------------------------------------------------


def test_429_with_a_body_fails_no_body_check() -> None:
    """The table documents 429 without a body: a body there fails `no_body_where_table_says_none`."""
    judgement = _judge(_expected(_error(429, "HTTP_429")), 429, {"message": "Too Many Requests"})
    assert judgement.verdict == Verdict.FAILED
    assert _failed_checks(judgement) == {"no_body_where_table_says_none"}


def test_429_without_a_body_passes() -> None:
    """A bare 429 is what the table documents."""
    assert _judge(_expected(_error(429, "HTTP_429")), 429, raw=b"").verdict == Verdict.PASSED


@pytest.mark.parametrize("row", ["HTTP_401", "HTTP_503"])
@pytest.mark.parametrize("raw", [b"", b'{"message": "Unauthorized"}', b"<html>denied</html>"])
def test_401_and_503_pass_with_or_without_a_body(row: str, raw: bytes) -> None:
    """Only *some* 401/503 have no body (the table): a body there is not a failure."""
    status = bundled_contract().status_of(row)
    assert _judge(_expected(_error(status, row)), status, raw=raw).verdict == Verdict.PASSED


# -- codes and envelopes -------------------------------------------------------------------------


def test_wrong_code_fails_code_matches_row() -> None:
    """The right status with another row's code fails `code_matches_row` alone."""
    judgement = _judge(_expected(_error(404, "NOT_FOUND")), 404, error_body("APP_NOT_FOUND"))
    assert judgement.verdict == Verdict.FAILED
    assert _failed_checks(judgement) == {"code_matches_row"}


def test_wrong_status_fails_status_matches_row() -> None:
    """Another status with the documented code fails `status_matches_row` alone."""
    judgement = _judge(_expected(_error(404, "NOT_FOUND")), 410, error_body("NOT_FOUND"))
    assert _failed_checks(judgement) == {"status_matches_row"}


def test_extra_code_is_accepted_where_behaviour_lists_it() -> None:
    """BAD_REQUEST (a code RRF names but the table does not) passes where behaviour.yaml accepts it."""
    expected = expect(Request("register", raw=b"{"))
    assert _judge(expected, 400, error_body("BAD_REQUEST")).verdict == Verdict.PASSED


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"code": "NOT_FOUND"}, id="no-error"),
        pytest.param({"code": "NOT_FOUND", "error": None}, id="null-error"),
        pytest.param({"code": "NOT_FOUND", "error": 404}, id="number-error"),
        pytest.param({"code": "NOT_FOUND", "error": {"text": "x"}}, id="object-error"),
    ],
)
def test_missing_error_string_fails_the_envelope_check(body: dict[str, Any]) -> None:
    """A coded error without an `error` string fails `error_envelope_is_documented`."""
    judgement = _judge(_expected(_error(404, "NOT_FOUND")), 404, body)
    assert judgement.verdict == Verdict.FAILED
    assert _failed_checks(judgement) == {"error_envelope_is_documented"}


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1]"])
def test_coded_error_without_a_json_object_fails(raw: bytes) -> None:
    """A coded error whose body is empty or not a JSON object fails the code and envelope checks."""
    judgement = _judge(_expected(_error(404, "NOT_FOUND")), 404, raw=raw)
    assert _failed_checks(judgement) == {"code_matches_row", "error_envelope_is_documented"}


def test_status_only_alternative_accepts_any_body() -> None:
    """An error alternative without codes (the content-type 400) asserts the status only."""
    assert _judge(_expected(_error(400)), 400, raw=b"Bad Request").verdict == Verdict.PASSED


def test_success_without_status_success_fails() -> None:
    """A 200 without `status: success` fails `success_envelope_is_documented`."""
    judgement = _judge(_expected(_ok()), 200, {"activity_id": "a"})
    assert _failed_checks(judgement) == {"success_envelope_is_documented"}


# -- body facts ----------------------------------------------------------------------------------


def _gate_expected() -> Expected:
    segment = syncing_ids() + [i.insider_id for i in sandbox_profile().never_syncing_insiders()]
    state = world("STARTED", segment=segment, started_at=T0)
    return expect(
        Request("update", push_body()), state=state, when=exact(sandbox_profile().sync_delay_seconds)
    )


def test_success_body_facts_are_checked() -> None:
    """A 200 whose counters differ from the oracle's facts fails `body_facts_hold`, naming it."""
    expected = _gate_expected()
    judgement = _judge(expected, 200, {"status": "success", "sessions_triggered": 1, "skipped_not_synced": 0})
    assert judgement.verdict == Verdict.FAILED
    problems = " ".join(p for _, ps in judgement.misses for p in ps)
    assert "sessions_triggered=1" in problems
    assert "skipped_not_synced=0" in problems


def test_absent_fact_fails_when_present() -> None:
    """skipped_not_synced must be absent when all synced: a 0 there fails."""
    count = devices(*syncing_ids())
    alternative = _ok(sessions_triggered=count, skipped_not_synced=ABSENT)
    body = {"status": "success", "sessions_triggered": count, "skipped_not_synced": 0}
    assert _judge(_expected(alternative), 200, body).verdict == Verdict.FAILED
    del body["skipped_not_synced"]
    assert _judge(_expected(alternative), 200, body).verdict == Verdict.PASSED


def _no_eligible() -> tuple[Expected, dict[str, Any]]:
    ids = [one(name).insider_id for name in ("push_disabled", "android", "gdpr_denied")]
    expected = expect(Request("register", register_body(ids)))
    body = error_body(
        "NO_ELIGIBLE_DEVICE",
        skipped={
            "push_permission_disabled": devices(ids[0]),
            "unsupported_platform": devices(ids[1]),
            "unsupported_os_version": 0,
            "push_to_start_token_missing": 0,
            "user_not_found": 0,
        },
        gdpr_denied_details=[{"insider_id": ids[2], "devices_count": devices(ids[2])}],
    )
    return expected, body


def test_no_eligible_device_with_the_documented_counts_passes() -> None:
    """A 422 NO_ELIGIBLE_DEVICE carrying the right skipped counts and gdpr list passes."""
    expected, body = _no_eligible()
    assert _judge(expected, 422, body).verdict == Verdict.PASSED


@pytest.mark.parametrize("wrong", ["skipped", "gdpr"])
def test_no_eligible_device_with_wrong_counts_fails(wrong: str) -> None:
    """A 422 NO_ELIGIBLE_DEVICE whose skipped counts or gdpr list differ from the oracle's facts fails."""
    expected, body = _no_eligible()
    if wrong == "skipped":
        body["skipped"]["push_permission_disabled"] += 5
    else:
        body["gdpr_denied_details"] = []
    assert _judge(expected, 422, body).verdict == Verdict.FAILED


# -- what never matters --------------------------------------------------------------------------

EXTRA = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(
        lambda k: (
            k
            not in {
                "status",
                "code",
                "error",
                "skipped",
                "gdpr_denied_details",
                "sessions_triggered",
                "skipped_not_synced",
            }
        )
    ),
    st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2),
    max_size=4,
)


def _cases() -> list[tuple[Expected, int, dict[str, Any]]]:
    gate = _gate_expected()
    alternative = gate.alternatives[0]
    exact = {k: v for k, v in alternative.body.items() if v is not ABSENT and not isinstance(v, Present)}
    ok_body = {"status": "success", **exact}
    no_eligible, body_422 = _no_eligible()
    not_found = _expected(_error(404, "NOT_FOUND"))
    denied = ["self-test-gdpr-b", "self-test-gdpr-a", "self-test-gdpr-c"]
    facts = {"gdpr_denied_details.insider_id": sorted(denied), "skipped.user_not_found": 0}
    listed = _expected(
        Alternative("ok", bundled_contract().behaviour.success_status, "rule", "documented", (), facts)
    )
    listed_body = {
        "status": "success",
        "skipped": {"user_not_found": 0, "push_permission_disabled": 0},
        "gdpr_denied_details": [{"insider_id": i, "devices_count": 1} for i in denied],
    }
    return [
        (gate, 200, ok_body),
        (no_eligible, 422, body_422),
        (not_found, 404, error_body("NOT_FOUND")),
        (listed, 200, listed_body),
    ]


@settings(max_examples=100)
@given(case=st.sampled_from(_cases()), extra=EXTRA)
def test_extra_response_fields_never_fail(
    case: tuple[Expected, int, dict[str, Any]], extra: dict[str, Any]
) -> None:
    """Property: fields the contract does not name, added to a passing response, never make it fail."""
    expected, status, body = case
    assert _judge(expected, status, {**body, **extra}).verdict == Verdict.PASSED


@settings(max_examples=100)
@given(case=st.sampled_from(_cases()), data=st.data())
def test_field_order_never_matters(case: tuple[Expected, int, dict[str, Any]], data: st.DataObject) -> None:
    """Property: any order of a passing response's keys (and of its gdpr list) passes just the same."""
    expected, status, body = case
    keys = data.draw(st.permutations(list(body)), label="key order")
    shuffled = {key: body[key] for key in keys}
    if "skipped" in shuffled:
        inner = data.draw(st.permutations(list(body["skipped"])), label="skipped order")
        shuffled["skipped"] = {key: body["skipped"][key] for key in inner}
    if "gdpr_denied_details" in shuffled:
        shuffled["gdpr_denied_details"] = data.draw(
            st.permutations(body["gdpr_denied_details"]), label="gdpr order"
        )
    assert _judge(expected, status, shuffled).verdict == Verdict.PASSED


@pytest.mark.parametrize(
    ("body", "dotted", "value"),
    [
        ({"a": {"b": 1}}, "a.b", 1),
        ({"a": {}}, "a.b", ABSENT),
        ({"a": 5}, "a.b", ABSENT),
        ({"a": [{"b": "y"}, {"b": "x"}, {}]}, "a.b", sorted(["y", "x", ABSENT], key=str)),
    ],
)
def test_lookup_reads_dotted_fields(body: Any, dotted: str, value: Any) -> None:
    """lookup follows dotted fields, reads lists element-wise (sorted), and gives ABSENT for a gap."""
    assert lookup(body, dotted) == value


def test_checks_are_registered_under_statement_names() -> None:
    """The built-in checks are registered, each named as a fact."""
    assert set(registered_checks()) >= {
        "status_matches_row",
        "code_matches_row",
        "error_envelope_is_documented",
        "no_body_where_table_says_none",
        "success_envelope_is_documented",
        "body_facts_hold",
    }


# -- the violation message -----------------------------------------------------------------------


def _violation(request: Request, status: int, body: Any) -> ContractViolation:
    expected = expect(request)
    observed = exchange(request, status, body)
    judgement = judge(bundled_contract(), expected, observed)
    assert judgement.verdict == Verdict.FAILED
    with httpx.Client(base_url=sandbox_profile().base_url) as http:
        curl = ApiClient(bundled_contract(), sandbox_profile(), http, None).curl(request)
    return violation(bundled_contract(), observed, expected, judgement, curl)


def test_violation_names_row_request_and_expected_vs_received() -> None:
    """A violation message names the row (status, code, meaning, fix), the curl, expected and received."""
    request = Request("update", push_body(activity_id="never-registered"))
    message = str(_violation(request, 409, error_body("ALREADY_STARTED")))
    row = bundled_contract().table.row("NOT_FOUND")
    assert f"{row.status} {row.code} ({row.meaning})" in message
    assert f"suggested fix: {row.fix}" in message
    assert "curl -sS -X POST http://127.0.0.1:8080/api/v1/live-activity/update" in message
    assert "expected 404 NOT_FOUND [lifecycle:update:DEAD, documented]" in message
    assert "received 409 " in message
    assert "ALREADY_STARTED" in message
    for secret in sandbox_profile().secrets():
        assert secret not in message


def test_violation_details_carry_the_structured_fields() -> None:
    """Reports read the violation's fields, never its text."""
    request = Request("update", push_body(activity_id="never-registered"))
    details = _violation(request, 409, error_body("ALREADY_STARTED")).details
    assert details.endpoint == "update"
    assert details.rows == ("lifecycle:update:DEAD",)
    assert details.level == "documented"
    assert details.received.startswith("409 ")
    assert details.documented == ("404 NOT_FOUND [lifecycle:update:DEAD, documented]",)


def test_violation_message_snapshot() -> None:
    """The full message for a /register breaking two rules that got a 200 matches the stored snapshot."""
    request = Request("register", {**register_body(), "activity_type": "", "insider_ids": []})
    message = str(_violation(request, 200, {"status": "success", "activity_id": "a-1"}))
    snapshot = DATA / "violation_register_two_rules.txt"
    if os.environ.get(UPDATE_SNAPSHOTS):
        snapshot.write_text(message + "\n", encoding="utf-8")
    assert message + "\n" == snapshot.read_text(encoding="utf-8"), (
        f"set {UPDATE_SNAPSHOTS}=1 to accept a new message"
    )

"""The oracle: what the contract says a conforming API answers to a request in a given state.

Every expectation here is stated twice: once in the test (read off the published table and behaviour.yaml),
once by the oracle, so that a wrong rule in either shows. Numbers (limits, edges) come from the contract.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance.core.clock import ServerTime, parse_rfc3339, rfc3339
from conformance.core.exchange import Request
from conformance.generate.expected import ABSENT, COUNT, PRESENT, Alternative, AtLeast
from conformance.generate.field_rules import field_case, fields
from conformance.generate.oracle import FAMILIES, Family
from conformance.generate.request_rules import account, request_shape
from conformance.generate.state_rules import state
from tests.self.generate.generate_support import (
    ACTIVITY_ID,
    EXACT,
    PUSH_ENDPOINTS,
    SEGMENT_ENDPOINTS,
    T0,
    codes,
    devices,
    exact,
    expect,
    never_syncing_ids,
    one,
    push_body,
    register_body,
    segment_body,
    settled_world,
    syncing_ids,
    valid_body,
    world,
)
from tests.self.reference import bundled_contract, sandbox_profile

WINDOW = bundled_contract().behaviour.ends_at
MIN_S, MAX_S = WINDOW.minimum.value, WINDOW.maximum.value
IDS = bundled_contract().behaviour.insider_ids
FIELD_RULES = {
    (rule.field, endpoint): rule
    for rule in bundled_contract().behaviour.field_rules
    for endpoint in rule.endpoints
}


def _facts(alternative: Alternative) -> dict[str, Any]:
    """An alternative's body facts, less the fields the success schema merely requires."""
    return {k: v for k, v in alternative.body.items() if v is not PRESENT}


def _one_error(expected: Any) -> tuple[int, set[str]]:
    """The status and codes of an expectation that is exactly one asserted error alternative."""
    assert not expected.recorded_only, expected
    assert len(expected.alternatives) == 1, expected
    alternative = expected.alternatives[0]
    assert alternative.kind == "error", expected
    return alternative.status, set(alternative.codes)


# -- body rules ----------------------------------------------------------------------------------

BODY_CASES = [
    pytest.param(b"", "empty", {"REQUEST_INVALID"}, id="empty"),
    pytest.param(
        b'{"activity_type": ', "unparseable", {"REQUEST_INVALID", "BAD_REQUEST"}, id="truncated-json"
    ),
    pytest.param(b"activity_type=x", "unparseable", {"REQUEST_INVALID", "BAD_REQUEST"}, id="form-encoded"),
    pytest.param(b"\xff\xfe{}", "unparseable", {"REQUEST_INVALID", "BAD_REQUEST"}, id="not-utf8"),
    pytest.param(
        b"[1, 2]", "not_object", {"REQUEST_INVALID", "VALIDATION_FAILED", "BAD_REQUEST"}, id="json-array"
    ),
    pytest.param(
        b'"x"', "not_object", {"REQUEST_INVALID", "VALIDATION_FAILED", "BAD_REQUEST"}, id="json-string"
    ),
    pytest.param(
        b"null", "not_object", {"REQUEST_INVALID", "VALIDATION_FAILED", "BAD_REQUEST"}, id="json-null"
    ),
    pytest.param(
        b"{}",
        "empty_object",
        {
            "REQUEST_INVALID",
            "VALIDATION_FAILED",
            "ACTIVITY_TYPE_REQUIRED",
            "ACTIVITY_ID_REQUIRED",
            "INSIDER_IDS_OUT_OF_RANGE",
        },
        id="empty-object",
    ),
]


@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
@pytest.mark.parametrize(("raw", "case", "documented"), BODY_CASES)
def test_body_rule_gives_behaviour_codes(endpoint: str, raw: bytes, case: str, documented: set[str]) -> None:
    """A malformed body gets exactly the codes behaviour.yaml lists for its body rule, on every endpoint."""
    expected = expect(Request(endpoint, raw=raw))
    status, accepted = _one_error(expected)
    rule = bundled_contract().behaviour.body_rule(case)
    assert (status, accepted) == (400, documented)
    assert accepted == set(rule.expectation.outcome.codes)
    assert expected.alternatives[0].level == rule.expectation.level


@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
def test_whitespace_only_body_is_empty_or_unparseable(endpoint: str) -> None:
    """Whitespace is no JSON and holds no field: the empty and the unparseable rule both apply, so
    REQUEST_INVALID and BAD_REQUEST (the two sides of FACTS §11.1) are both accepted."""
    expected = expect(Request(endpoint, raw=b"  \n\t "))
    assert not expected.recorded_only
    assert set(expected.rules) == {"body-empty", "body-unparseable"}
    assert {(a.status, c) for a in expected.alternatives for c in a.codes} == {
        (400, "REQUEST_INVALID"),
        (400, "BAD_REQUEST"),
    }


@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_content_type_not_json_asserts_status_only(endpoint: str, content_type: str | None) -> None:
    """A valid body sent as anything but application/json gets a 400 with no code asserted (on an
    activity whose state documents the endpoint as no error: then the body rule alone is broken)."""
    state = settled_world(endpoint)
    request = Request(endpoint, valid_body(endpoint), content_type=content_type)
    expected = expect(request, state=state)
    assert _one_error(expected) == (400, set())
    assert expected.rules == ("content-type-not-json",)


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON", "application/json; charset=utf-8"]
)
def test_json_media_type_is_read_case_insensitively_with_parameters(content_type: str) -> None:
    """`application/json` with any case and a charset parameter breaks no body rule."""
    expected = expect(Request("register", register_body(), content_type=content_type))
    assert {a.kind for a in expected.alternatives} == {"ok"}


def test_body_rule_and_content_type_both_accepted() -> None:
    """An empty body sent as text/plain accepts the empty-body code and the status-only 400."""
    expected = expect(Request("register", raw=b"", content_type="text/plain"))
    assert set(expected.rules) == {"content-type-not-json", "body-empty"}
    assert {(a.status, a.codes) for a in expected.alternatives} == {(400, ()), (400, ("REQUEST_INVALID",))}


# -- field rules ---------------------------------------------------------------------------------

BREAKS: dict[str, Any] = {"empty": "", "whitespace": "   ", "null": None, "wrong_type": 12345}
FIELD_CASES = [
    # (field, endpoints, case, codes read off the table and behaviour.yaml)
    ("activity_type", ("register", *PUSH_ENDPOINTS), "missing", {"ACTIVITY_TYPE_REQUIRED"}),
    ("activity_type", ("register", *PUSH_ENDPOINTS), "empty", {"ACTIVITY_TYPE_REQUIRED"}),
    ("activity_type", ("register", *PUSH_ENDPOINTS), "whitespace", {"ACTIVITY_TYPE_REQUIRED"}),
    (
        "activity_type",
        ("register", *PUSH_ENDPOINTS),
        "null",
        {"ACTIVITY_TYPE_REQUIRED", "VALIDATION_FAILED", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    (
        "activity_type",
        ("register", *PUSH_ENDPOINTS),
        "wrong_type",
        {"ACTIVITY_TYPE_REQUIRED", "VALIDATION_FAILED", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    ("activity_type", SEGMENT_ENDPOINTS, "missing", {"ACTIVITY_TYPE_REQUIRED", "VALIDATION_FAILED"}),
    ("activity_type", SEGMENT_ENDPOINTS, "empty", {"ACTIVITY_TYPE_REQUIRED", "VALIDATION_FAILED"}),
    ("activity_type", SEGMENT_ENDPOINTS, "whitespace", {"ACTIVITY_TYPE_REQUIRED", "VALIDATION_FAILED"}),
    ("activity_id", (*SEGMENT_ENDPOINTS, *PUSH_ENDPOINTS), "missing", {"ACTIVITY_ID_REQUIRED"}),
    ("activity_id", (*SEGMENT_ENDPOINTS, *PUSH_ENDPOINTS), "empty", {"ACTIVITY_ID_REQUIRED"}),
    ("activity_id", (*SEGMENT_ENDPOINTS, *PUSH_ENDPOINTS), "whitespace", {"ACTIVITY_ID_REQUIRED"}),
    (
        "activity_id",
        (*SEGMENT_ENDPOINTS, *PUSH_ENDPOINTS),
        "null",
        {"ACTIVITY_ID_REQUIRED", "VALIDATION_FAILED", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    (
        "activity_id",
        (*SEGMENT_ENDPOINTS, *PUSH_ENDPOINTS),
        "wrong_type",
        {"ACTIVITY_ID_REQUIRED", "VALIDATION_FAILED", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    (
        "insider_ids",
        ("register", *SEGMENT_ENDPOINTS),
        "missing",
        {"INSIDER_IDS_OUT_OF_RANGE", "VALIDATION_FAILED"},
    ),
    (
        "insider_ids",
        ("register", *SEGMENT_ENDPOINTS),
        "null",
        {"INSIDER_IDS_OUT_OF_RANGE", "VALIDATION_FAILED", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    (
        "insider_ids",
        ("register", *SEGMENT_ENDPOINTS),
        "wrong_type",
        {"INSIDER_IDS_OUT_OF_RANGE", "VALIDATION_FAILED", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    ("ends_at", ("register",), "missing", {"VALIDATION_FAILED", "ENDS_AT_IN_PAST"}),
    (
        "ends_at",
        ("register",),
        "empty",
        {"VALIDATION_FAILED", "ENDS_AT_IN_PAST", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    (
        "ends_at",
        ("register",),
        "wrong_type",
        {"VALIDATION_FAILED", "ENDS_AT_IN_PAST", "REQUEST_INVALID", "BAD_REQUEST"},
    ),
    ("content", PUSH_ENDPOINTS, "missing", {"VALIDATION_FAILED"}),
    ("content", PUSH_ENDPOINTS, "wrong_type", {"VALIDATION_FAILED", "REQUEST_INVALID", "BAD_REQUEST"}),
    ("content.content_state", PUSH_ENDPOINTS, "missing", {"VALIDATION_FAILED"}),
    ("content.title", ("start",), "missing", {"VALIDATION_FAILED"}),
    ("content.message", ("start",), "missing", {"VALIDATION_FAILED"}),
]


def _broken(body: dict[str, Any], dotted: str, case: str) -> dict[str, Any]:
    """`body` with one field broken in the named way (written out here, independent of the strategies)."""
    *parents, name = dotted.split(".")
    copy = {**body}
    node = copy
    for part in parents:
        node[part] = {**node[part]}
        node = node[part]
    if case == "missing":
        del node[name]
    else:
        node[name] = BREAKS[case]
    return copy


@pytest.mark.parametrize(
    ("endpoint", "dotted", "case", "documented"),
    [
        pytest.param(endpoint, dotted, case, documented, id=f"{endpoint}-{dotted}-{case}")
        for dotted, endpoints, case, documented in FIELD_CASES
        for endpoint in endpoints
    ],
)
def test_broken_field_gives_behaviour_codes(
    endpoint: str, dotted: str, case: str, documented: set[str]
) -> None:
    """Each documented way of breaking a required field gets exactly its behaviour.yaml codes."""
    state = settled_world(endpoint)
    expected = expect(Request(endpoint, _broken(valid_body(endpoint), dotted, case)), state=state)
    rule = FIELD_RULES[(dotted, endpoint)]
    assert _one_error(expected) == (400, documented)
    assert expected.rules == (f"{rule.id}:{case}",)
    assert expected.alternatives[0].level == rule.cases[case].level


def test_field_cases_cover_every_asserted_case_of_the_contract() -> None:
    """The table above names every asserted (field, endpoint, case) behaviour.yaml states."""
    stated = {
        (rule.field, endpoint, case)
        for rule in bundled_contract().behaviour.field_rules
        for endpoint in rule.endpoints
        for case, expectation in rule.cases.items()
        if expectation.asserted and case != "not_a_timestamp"
    }
    tested = {
        (dotted, endpoint, case) for dotted, endpoints, case, _ in FIELD_CASES for endpoint in endpoints
    }
    assert tested == stated


@pytest.mark.parametrize(
    "text",
    [
        "next tuesday",
        "2026-05-20",
        "2026-05-20 14:30:00+00:00",
        "2026-05-20T14:30:00",
        pytest.param("20260520T143000Z", id="basic-format"),
        pytest.param("2026-05-20T14:30Z", id="no-seconds"),
        pytest.param("2026-W21-3T14:30:00Z", id="week-date"),
        pytest.param("2026-05-20T14:30:00+0200", id="offset-without-colon"),
    ],
)
def test_ends_at_not_a_timestamp(text: str) -> None:
    """An ends_at that is no RFC 3339 timestamp with an offset gets the not_a_timestamp codes."""
    expected = expect(Request("register", {**register_body(), "ends_at": text}))
    assert _one_error(expected) == (
        400,
        {"VALIDATION_FAILED", "REQUEST_INVALID", "ENDS_AT_IN_PAST", "BAD_REQUEST"},
    )
    assert expected.rules == ("ends-at-required:not_a_timestamp",)


def test_ends_at_with_lowercase_separators_is_a_timestamp() -> None:
    """RFC 3339 allows a lowercase `t` and `z` (the sandbox reads them): such an ends_at breaks no rule."""
    text = rfc3339(T0 + timedelta(hours=1)).lower()
    expected = expect(Request("register", {**register_body(), "ends_at": text}))
    assert {a.kind for a in expected.alternatives} == {"ok"}


@pytest.mark.parametrize(
    ("endpoint", "dotted", "value"),
    [
        ("add-users", "activity_type", None),
        ("remove-users", "activity_type", 7),
        ("register", "ends_at", "   "),
    ],
)
def test_field_case_behaviour_does_not_state_is_recorded_only(endpoint: str, dotted: str, value: Any) -> None:
    """A break behaviour.yaml lists no case for (null activity_type on /add-users) is only recorded."""
    expected = expect(Request(endpoint, {**valid_body(endpoint), dotted: value}))
    assert expected.recorded_only
    assert expected.level == "undocumented"


@pytest.mark.parametrize(
    ("value", "kind", "case"),
    [
        (ABSENT, "string", "missing"),
        (None, "string", "null"),
        (5, "string", "wrong_type"),
        ("", "string", "empty"),
        (" \t", "string", "whitespace"),
        ("x", "string", None),
        ("x", "array", "wrong_type"),
        ([], "array", None),
        ([], "object", "wrong_type"),
        ({}, "object", None),
        (5, "other", None),
    ],
)
def test_field_case_names_how_a_field_is_broken(value: Any, kind: Any, case: str | None) -> None:
    """field_case tells missing, null, wrong_type, empty and whitespace apart, and None for a fine value."""
    body = {} if value is ABSENT else {"field": value}
    assert field_case(body, "field", kind) == case


@pytest.mark.parametrize("parent", [ABSENT, None, "text", [1]])
def test_field_case_under_missing_or_non_object_parent_is_not_judged(parent: Any) -> None:
    """A nested field under a missing or non-object parent is left to the parent's rule."""
    body = {} if parent is ABSENT else {"content": parent}
    assert field_case(body, "content.title", "string") is None


# -- insider_ids ---------------------------------------------------------------------------------


def _ids(count: int) -> list[str]:
    known = syncing_ids()
    return (known + [f"self-test-unknown-{n}" for n in range(max(0, count - len(known)))])[:count]


@pytest.mark.parametrize("endpoint", IDS.endpoints)
@pytest.mark.parametrize(
    ("count", "accepted"),
    [
        pytest.param(IDS.min_items - 1, False, id="min-1"),
        pytest.param(IDS.min_items, True, id="min"),
        pytest.param(IDS.max_items, True, id="max"),
        pytest.param(IDS.max_items + 1, False, id="max+1"),
    ],
)
def test_insider_id_count_at_the_edges(endpoint: str, count: int, accepted: bool) -> None:
    """0 and max+1 insider ids get INSIDER_IDS_OUT_OF_RANGE; 1 and max ids are accepted."""
    body = register_body(_ids(count)) if endpoint == "register" else segment_body(_ids(count))
    expected = expect(Request(endpoint, body))
    if accepted:
        assert {a.kind for a in expected.alternatives} == {"ok"}
        assert not expected.recorded_only
    else:
        assert _one_error(expected) == (400, {IDS.row})
        assert expected.level == "documented"


def test_insider_id_limits_come_from_the_table_row() -> None:
    """The range is the INSIDER_IDS_OUT_OF_RANGE row's limit, as its wording '1-10,000' says."""
    row = bundled_contract().table.row(IDS.row)
    assert (IDS.min_items, IDS.max_items) == (row.limit["min_items"], row.limit["max_items"])
    assert f"{IDS.min_items}-{IDS.max_items:,}" in row.meaning


@pytest.mark.parametrize("element", ["", "  ", 5, None])
def test_blank_insider_id_element_is_recorded_only(element: Any) -> None:
    """A blank or non-string element of insider_ids is undocumented: recorded, never judged."""
    expected = expect(Request("register", register_body([*syncing_ids(), element])))
    assert expected.recorded_only
    assert "insider_ids.blank_element" in expected.rules


def test_duplicate_insider_ids_are_recorded_only() -> None:
    """The same insider twice in one call is undocumented: recorded, never judged."""
    first = syncing_ids()[0]
    expected = expect(Request("register", register_body([first, first])))
    assert expected.recorded_only
    assert expected.rules == ("insider_ids.duplicates",)


# -- ends_at -------------------------------------------------------------------------------------

ENDS_AT_EDGES = [
    pytest.param(-1, {"ENDS_AT_IN_PAST"}, id="past"),
    pytest.param(0, {"ENDS_AT_IN_PAST", "ENDS_AT_TOO_SOON"}, id="now"),
    pytest.param(MIN_S - 1, {"ENDS_AT_TOO_SOON"}, id="min-1"),
    pytest.param(MIN_S, None, id="min"),
    pytest.param(MIN_S + 1, None, id="min+1"),
    pytest.param(MAX_S - 1, None, id="max-1"),
    pytest.param(MAX_S, None, id="max"),
    pytest.param(MAX_S + 1, {"ENDS_AT_TOO_FAR"}, id="max+1"),
]


@pytest.mark.parametrize(("offset", "documented"), ENDS_AT_EDGES)
@pytest.mark.parametrize("hours", [0, 2, -5.5], ids=["utc", "plus-2h", "minus-5h30"])
def test_ends_at_edges_with_exact_server_time(offset: int, documented: set[str] | None, hours: float) -> None:
    """ends_at at each edge of the window, on an exactly known clock, written in any UTC offset."""
    zone = timezone(timedelta(hours=hours))
    ends_at = (T0 + timedelta(seconds=offset)).astimezone(zone).isoformat()
    expected = expect(Request("register", {**register_body(), "ends_at": ends_at}), when=EXACT)
    if documented is None:
        assert {a.kind for a in expected.alternatives} == {"ok"}
    else:
        assert _one_error(expected) == (400, documented)


def test_ends_at_edges_come_from_the_table_rows() -> None:
    """The window's edges are the TOO_SOON and TOO_FAR rows' limits, both accepted at the edge itself."""
    assert bundled_contract().table.row(WINDOW.minimum.code).limit["min_seconds"] == MIN_S
    assert bundled_contract().table.row(WINDOW.maximum.code).limit["max_seconds"] == MAX_S
    assert WINDOW.minimum.accepted_at_edge
    assert WINDOW.maximum.accepted_at_edge


def test_ends_at_straddling_now_accepts_both_codes() -> None:
    """When the clock's uncertainty straddles now, IN_PAST and TOO_SOON are both accepted, and asserted."""
    wide = ServerTime(earliest=T0 - timedelta(seconds=1.5), latest=T0 + timedelta(seconds=1.5))
    expected = expect(Request("register", register_body(ends_in=0)), when=wide)
    assert not expected.recorded_only
    assert codes(expected) == {"ENDS_AT_IN_PAST", "ENDS_AT_TOO_SOON"}
    assert {a.status for a in expected.alternatives} == {400}


@pytest.mark.parametrize(("offset", "code"), [(MIN_S, "ENDS_AT_TOO_SOON"), (MAX_S + 1, "ENDS_AT_TOO_FAR")])
def test_ends_at_straddling_an_accepting_edge_is_recorded(offset: int, code: str) -> None:
    """When the uncertainty straddles the min or max edge, the code is accepted and the case only recorded."""
    wide = ServerTime(earliest=T0 - timedelta(seconds=1), latest=T0 + timedelta(seconds=1))
    expected = expect(Request("register", register_body(ends_in=offset)), when=wide)
    assert expected.recorded_only
    assert "ends-at-straddles-edge" in expected.rules
    assert code in codes(expected)


@pytest.mark.parametrize(
    "text", ["2026-05-20T14:30:00Z", "2026-05-20T14:30:00.250+02:00", "2026-05-20T14:30:00-00:00"]
)
def test_parse_rfc3339_reads_rfc_3339(text: str) -> None:
    """parse_rfc3339 reads RFC 3339 timestamps, with fractions and numeric offsets."""
    moment = parse_rfc3339(text)
    assert moment is not None
    assert moment.tzinfo is not None


# -- several rules, undocumented rules -----------------------------------------------------------


def test_several_broken_rules_accept_every_rules_code() -> None:
    """A /register breaking activity_type, insider_ids and ends_at accepts each rule's code."""
    body = {"activity_type": "", "insider_ids": [], "ends_at": rfc3339(T0 - timedelta(seconds=60))}
    expected = expect(Request("register", body, account="disabled"))
    assert set(expected.rules) == {
        "account:disabled",
        "activity-type-required:empty",
        "insider_ids.below_minimum",
        "ends_at_window.past",
    }
    assert codes(expected) == {"LIVE_ACTIVITY_DISABLED", "ACTIVITY_TYPE_REQUIRED", IDS.row, "ENDS_AT_IN_PAST"}
    assert not expected.recorded_only


def test_broken_rules_are_listed_in_the_sandboxs_precedence_order() -> None:
    """The rules a request breaks come family by family, as the sandbox's check groups run
    (behaviour.yaml precedence.sandbox_choice): account, body, fields, insider_ids, ends_at."""
    body = {"activity_type": "", "insider_ids": [], "ends_at": rfc3339(T0 - timedelta(seconds=60))}
    expected = expect(Request("register", body, content_type="text/plain", account="disabled"))
    assert expected.rules == (
        "account:disabled",
        "content-type-not-json",
        "activity-type-required:empty",
        "insider_ids.below_minimum",
        "ends_at_window.past",
    )


def test_families_run_in_the_order_of_the_sandboxs_check_groups() -> None:
    """FAMILIES follows behaviour.yaml's precedence.sandbox_choice, each family where its group is."""
    groups: dict[Family, str] = {
        account: "account",
        request_shape: "body",
        fields: "fields",
        state: "lifecycle",
    }
    order = list(bundled_contract().behaviour.precedence.sandbox_choice["order"])
    assert set(FAMILIES) == set(groups)
    positions = [order.index(groups[family]) for family in FAMILIES]
    assert positions == sorted(positions)


@settings(max_examples=150)
@given(data=st.data())
def test_any_set_of_broken_fields_accepts_each_ones_codes(data: st.DataObject) -> None:
    """Property: breaking any two or more required fields, in any stated way, accepts each one's codes."""
    endpoint = data.draw(st.sampled_from(bundled_contract().endpoints), label="endpoint")
    stated = [(d, c) for d, endpoints, c, _ in FIELD_CASES if endpoint in endpoints and "." not in d]
    chosen = data.draw(
        st.lists(st.sampled_from(stated), min_size=2, unique_by=lambda fc: fc[0]), label="breaks"
    )
    body = valid_body(endpoint)
    for dotted, case in chosen:
        body = _broken(body, dotted, case)
    assume(body)  # an emptied body is `{}`, a body rule of its own
    # On an activity where the endpoint's answer is documented (not /end on a REGISTERED one).
    expected = expect(Request(endpoint, body), state=settled_world(endpoint))
    for dotted, case in chosen:
        rule = FIELD_RULES[(dotted, endpoint)]
        assert f"{rule.id}:{case}" in expected.rules
        assert set(rule.cases[case].outcome.codes) <= codes(expected)
    assert not expected.recorded_only


@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
def test_unknown_request_field_is_recorded_only(endpoint: str) -> None:
    """A body carrying a field no page documents is recorded, never judged (a probe)."""
    expected = expect(Request(endpoint, {**valid_body(endpoint), "zz_unknown": 1}))
    assert expected.recorded_only
    assert "unknown-request-fields:zz_unknown" in expected.rules


def test_documented_and_undocumented_rule_together_is_recorded_only() -> None:
    """A request breaking a documented and an undocumented rule is recorded, with both rules named."""
    expected = expect(Request("register", {**register_body(), "activity_type": "", "zz_unknown": 1}))
    assert expected.recorded_only
    assert set(expected.rules) == {"activity-type-required:empty", "unknown-request-fields:zz_unknown"}
    assert "ACTIVITY_TYPE_REQUIRED" in codes(expected)


# -- accounts ------------------------------------------------------------------------------------

ACCOUNT_ROWS = {
    "missing_key": (401, "HTTP_401"),
    "unknown_key": (401, "HTTP_401"),
    "not_renewed": (401, "HTTP_401"),
    "unbound": (400, "PARTNER_REQUIRED"),
    "unknown_app": (404, "APP_NOT_FOUND"),
    "disabled": (403, "LIVE_ACTIVITY_DISABLED"),
    "no_cert": (412, "APNS_CERT_MISSING"),
    "p12_cert": (412, "APNS_CERT_TYPE_UNSUPPORTED"),
}


def test_account_table_covers_every_account_state() -> None:
    """Every account state of behaviour.yaml but `good` has a row in this test."""
    assert set(ACCOUNT_ROWS) == set(bundled_contract().behaviour.accounts) - {"good"}


@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
@pytest.mark.parametrize("account", sorted(ACCOUNT_ROWS))
def test_account_state_gives_its_row(endpoint: str, account: str) -> None:
    """A valid request with a key in a bad account state gets that state's row on every endpoint."""
    expected = expect(Request(endpoint, valid_body(endpoint), account=account))
    status, row = ACCOUNT_ROWS[account]
    # To another account every activity is unknown: where the request names one, NOT_FOUND is accepted too.
    unknown_activity = set() if endpoint == "register" else {(404, ("NOT_FOUND",))}
    assert {(a.status, a.codes) for a in expected.alternatives} == {(status, (row,))} | unknown_activity
    assert expected.rules[0] == f"account:{account}"
    assert expected.level == "documented"
    assert not expected.recorded_only


@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
def test_good_account_breaks_no_account_rule(endpoint: str) -> None:
    """A valid request with the good key is judged on its body and the state alone."""
    expected = expect(Request(endpoint, valid_body(endpoint)))
    assert not any(rule.startswith("account:") for rule in expected.rules)


# -- lifecycle -----------------------------------------------------------------------------------

LIFECYCLE = {
    ("add-users", "REGISTERED"): "ok",
    ("add-users", "STARTED"): "ALREADY_STARTED",
    ("add-users", "DEAD"): "NOT_FOUND",
    ("remove-users", "REGISTERED"): "ok",
    ("remove-users", "STARTED"): "ALREADY_STARTED",
    ("remove-users", "DEAD"): "NOT_FOUND",
    ("start", "REGISTERED"): "ok",
    ("start", "STARTED"): "ALREADY_STARTED",
    ("start", "DEAD"): "NOT_FOUND",
    ("update", "REGISTERED"): "PUSH_TOKEN_NOT_SYNCED",  # nothing has synced before /start
    ("update", "STARTED"): "ok",  # started long ago: every syncing device has synced
    ("update", "DEAD"): "NOT_FOUND",
    ("end", "REGISTERED"): "recorded",  # undocumented; the sandbox chose the sync gate
    ("end", "STARTED"): "ok",
    ("end", "DEAD"): "NOT_FOUND",
}


def test_lifecycle_table_covers_every_transition_of_the_contract() -> None:
    """The table above has one entry per (endpoint, state) pair behaviour.yaml lists."""
    assert set(LIFECYCLE) == set(bundled_contract().behaviour.lifecycle.transitions)


@pytest.mark.parametrize(("endpoint", "state"), sorted(LIFECYCLE), ids=str)
def test_lifecycle_pair_gives_its_outcome(endpoint: str, state: str) -> None:
    """Each endpoint in each activity state gets what the lifecycle table says."""
    started = T0 - timedelta(hours=1) if state != "REGISTERED" else None
    expected = expect(Request(endpoint, valid_body(endpoint)), state=world(state, started_at=started))
    outcome = LIFECYCLE[(endpoint, state)]
    if outcome == "recorded":
        assert expected.recorded_only
    elif outcome == "ok":
        assert not expected.recorded_only
        assert {a.kind for a in expected.alternatives} == {"ok"}
    else:
        status, accepted = _one_error(expected)
        assert accepted == {outcome}
        assert status == bundled_contract().status_of(outcome)


@pytest.mark.parametrize("endpoint", [*SEGMENT_ENDPOINTS, *PUSH_ENDPOINTS])
def test_unknown_activity_id_is_dead(endpoint: str) -> None:
    """An activity id the world does not know is DEAD: 404 NOT_FOUND on every endpoint that takes one."""
    expected = expect(
        Request(endpoint, valid_body(endpoint, activity_id="never-registered")), state=world(None)
    )
    assert _one_error(expected) == (404, {"NOT_FOUND"})
    assert expected.rules == (f"lifecycle:{endpoint}:DEAD",)


@pytest.mark.parametrize("state", ["REGISTERED", "STARTED"])
@pytest.mark.parametrize("endpoint", [*SEGMENT_ENDPOINTS, *PUSH_ENDPOINTS])
def test_expired_activity_is_dead(endpoint: str, state: str) -> None:
    """An activity whose ends_at has passed answers as DEAD, whatever state it was in."""
    expired = world(state, ends_in=-1)
    expected = expect(Request(endpoint, valid_body(endpoint)), state=expired)
    assert _one_error(expected) == (404, {"NOT_FOUND"})


@pytest.mark.parametrize(
    ("endpoint", "state", "refusal"),
    [
        ("start", "STARTED", "ALREADY_STARTED"),
        ("add-users", "STARTED", "ALREADY_STARTED"),
        ("update", "DEAD", "NOT_FOUND"),
        ("end", None, "NOT_FOUND"),
        ("update", "REGISTERED", "PUSH_TOKEN_NOT_SYNCED"),  # nothing can have synced: the gate may win
    ],
)
def test_broken_request_naming_an_activity_also_accepts_the_state_refusal(
    endpoint: str, state: str | None, refusal: str | None
) -> None:
    """A broken request naming an activity whose state refuses the endpoint accepts either code."""
    body = {k: v for k, v in valid_body(endpoint).items() if k != "activity_type"}
    expected = expect(Request(endpoint, body), state=world(state, started_at=T0))
    field_codes = set(FIELD_RULES[("activity_type", endpoint)].cases["missing"].outcome.codes)
    assert codes(expected) == field_codes | ({refusal} if refusal else set())
    assert not expected.recorded_only


def test_broken_request_on_an_activity_in_an_open_state_is_recorded() -> None:
    """/end on a REGISTERED activity is an open point (readings: end-on-registered): a broken /end
    there may get the field's code or whatever that state answers, so it is recorded, not judged."""
    body = {k: v for k, v in valid_body("end").items() if k != "activity_type"}
    expected = expect(Request("end", body), state=world("REGISTERED", started_at=T0))
    assert expected.recorded_only
    assert "lifecycle:end:REGISTERED" in expected.rules


def test_broken_activity_id_names_no_state() -> None:
    """When the activity_id itself is broken, no activity is named and no state refusal is added."""
    state = world("STARTED", started_at=T0)
    expected = expect(Request("start", {**push_body(), "activity_id": "  "}), state=state)
    assert codes(expected) == {"ACTIVITY_ID_REQUIRED"}


def test_mismatched_activity_type_is_recorded_only() -> None:
    """An activity_type other than the registered one is an undocumented probe: recorded, never judged."""
    expected = expect(Request("start", {**push_body(), "activity_type": "OtherAttributes"}))
    assert expected.recorded_only
    assert "mismatched-activity-type" in expected.rules


def test_start_triggers_one_session_per_segment_device() -> None:
    """A valid /start expects one session per device of the segment."""
    expected = expect(Request("start", push_body()))
    assert _facts(expected.alternatives[0]) == {"sessions_triggered": devices(*syncing_ids())}


def test_remove_users_counts_removed_devices() -> None:
    """A /remove-users of segment members expects their devices counted as removed."""
    ids = syncing_ids()[:2]
    expected = expect(Request("remove-users", segment_body(ids)))
    assert expected.alternatives[0].body["removed"] == devices(*ids)


# -- the sync gate -------------------------------------------------------------------------------


def _gate(endpoint: str, segment: list[str], after_start: float) -> Any:
    """The expectation of /update or /end `after_start` seconds after /start, on an exact clock."""
    state = world("STARTED", segment=segment, started_at=T0)
    return expect(Request(endpoint, push_body()), state=state, when=exact(after_start))


BOUND = sandbox_profile().sync_delay_seconds


@pytest.mark.parametrize("endpoint", bundled_contract().behaviour.sync_gate.endpoints)
def test_sync_gate_all_synced_after_the_bound(endpoint: str) -> None:
    """After the profile's sync bound, a segment of syncing devices: 200, no skipped_not_synced."""
    expected = _gate(endpoint, syncing_ids(), BOUND)
    assert len(expected.alternatives) == 1
    facts = _facts(expected.alternatives[0])
    assert facts == {
        "sessions_triggered": devices(*syncing_ids()),
        bundled_contract().behaviour.sync_gate.count_field: ABSENT,
    }


@pytest.mark.parametrize("endpoint", bundled_contract().behaviour.sync_gate.endpoints)
def test_sync_gate_some_synced_counts_the_never_syncing(endpoint: str) -> None:
    """After the bound, with never-syncing devices in the segment: skipped_not_synced is their count."""
    expected = _gate(endpoint, syncing_ids() + never_syncing_ids(), BOUND)
    assert len(expected.alternatives) == 1
    facts = _facts(expected.alternatives[0])
    assert facts == {
        "sessions_triggered": devices(*syncing_ids()),
        bundled_contract().behaviour.sync_gate.count_field: devices(*never_syncing_ids()),
    }
    assert devices(*never_syncing_ids()) > 0


@pytest.mark.parametrize("after_start", [0.0, BOUND, BOUND * 10])
@pytest.mark.parametrize("endpoint", bundled_contract().behaviour.sync_gate.endpoints)
def test_sync_gate_none_synced_is_412(endpoint: str, after_start: float) -> None:
    """A segment of never-syncing devices gets PUSH_TOKEN_NOT_SYNCED, before and after the bound."""
    expected = _gate(endpoint, never_syncing_ids(), after_start)
    assert _one_error(expected) == (412, {"PUSH_TOKEN_NOT_SYNCED"})


@pytest.mark.parametrize("endpoint", bundled_contract().behaviour.sync_gate.endpoints)
def test_sync_gate_before_the_bound_accepts_every_count(endpoint: str) -> None:
    """Before the bound, none, some or all may have synced: 412 and 200 are both accepted."""
    expected = _gate(endpoint, syncing_ids(), BOUND / 2)
    kinds = [(a.kind, a.codes) for a in expected.alternatives]
    assert ("error", ("PUSH_TOKEN_NOT_SYNCED",)) in kinds
    assert ("ok", ()) in kinds
    assert len(kinds) == devices(*syncing_ids()) + 1
    assert "sync_gate.delay_seconds" in expected.rules
    assert not expected.recorded_only


@pytest.mark.parametrize(
    ("targets", "facts"),
    [
        pytest.param("syncing", {"sessions_triggered": 1}, id="one-syncing-device"),
        pytest.param("never", None, id="one-never-syncing-device"),
    ],
)
def test_sync_gate_counts_only_the_addressed_devices(targets: str, facts: dict[str, int] | None) -> None:
    """target_devices narrows the gate to the devices it names."""
    insider = (
        sandbox_profile().syncing_insiders()[0]
        if targets == "syncing"
        else sandbox_profile().never_syncing_insiders()[0]
    )
    pair = [{"insider_id": insider.insider_id, "udid": insider.devices[0].udid}]
    state = world("STARTED", segment=syncing_ids() + never_syncing_ids(), started_at=T0)
    expected = expect(Request("update", push_body(target_devices=pair)), state=state, when=exact(BOUND))
    if facts is None:
        assert _one_error(expected) == (412, {"PUSH_TOKEN_NOT_SYNCED"})
    else:
        assert _facts(expected.alternatives[0]) == {
            **facts,
            bundled_contract().behaviour.sync_gate.count_field: ABSENT,
        }


@pytest.mark.parametrize(("case", "value"), [("empty", ""), ("whitespace", "  "), ("missing", ABSENT)])
@pytest.mark.parametrize("name", bundled_contract().behaviour.target_devices.element_fields)
def test_blank_target_device_field_is_target_devices_invalid(name: str, case: str, value: Any) -> None:
    """An empty, blank or absent insider_id or udid in target_devices gets TARGET_DEVICES_INVALID."""
    element = {"insider_id": syncing_ids()[0], "udid": "u-1"}
    element = {k: v for k, v in {**element, name: value}.items() if v is not ABSENT}
    state = world("STARTED", started_at=T0)
    expected = expect(Request("update", push_body(target_devices=[element])), state=state, when=exact(BOUND))
    assert _one_error(expected) == (400, {"TARGET_DEVICES_INVALID"})
    assert expected.rules == (f"target_devices.cases.{case}",)


# -- eligibility ---------------------------------------------------------------------------------


@pytest.mark.parametrize("insider_id", [one("no_profile").insider_id, "self-test-nobody"])
def test_single_insider_without_profile_is_profile_not_found(insider_id: str) -> None:
    """A /register of exactly one insider with no profile gets PROFILE_NOT_FOUND ('register (single)')."""
    expected = expect(Request("register", register_body([insider_id])))
    assert _one_error(expected) == (404, {"PROFILE_NOT_FOUND"})


def test_single_insider_without_profile_on_add_users_is_no_eligible_device() -> None:
    """The 'single' qualifier is /register's: on /add-users one unknown insider leaves no eligible device."""
    expected = expect(Request("add-users", segment_body(["self-test-nobody"])))
    assert _one_error(expected) == (422, {"NO_ELIGIBLE_DEVICE"})


INELIGIBLE = ["push_disabled", "android", "old_ios", "no_push_to_start_token", "gdpr_denied", "no_profile"]


@pytest.mark.parametrize("endpoint", bundled_contract().behaviour.eligibility.no_eligible_endpoints)
def test_all_ineligible_is_no_eligible_device_with_skipped_counts(endpoint: str) -> None:
    """A segment with no eligible device gets NO_ELIGIBLE_DEVICE carrying each class's skipped count."""
    ids = [one(name).insider_id for name in INELIGIBLE]
    body = register_body(ids) if endpoint == "register" else segment_body(ids)
    expected = expect(Request(endpoint, body))
    assert _one_error(expected) == (422, {"NO_ELIGIBLE_DEVICE"})
    facts = _facts(expected.alternatives[0])
    assert {k: v for k, v in facts.items() if k.startswith("skipped.")} == {
        "skipped.push_permission_disabled": devices(one("push_disabled").insider_id),
        "skipped.unsupported_platform": devices(one("android").insider_id),
        "skipped.unsupported_os_version": devices(one("old_ios").insider_id),
        "skipped.push_to_start_token_missing": devices(one("no_push_to_start_token").insider_id),
        "skipped.user_not_found": COUNT,  # present; its unit (insiders or devices) is not documented
    }
    gdpr = facts.get("gdpr_denied_details.insider_id")
    assert gdpr == ([one("gdpr_denied").insider_id] if endpoint == "register" else None)


def test_register_lists_gdpr_denied_insiders_beside_eligible_ones() -> None:
    """A /register with eligible and GDPR-denied insiders succeeds and lists the denied ones."""
    ids = [*syncing_ids(), one("gdpr_denied").insider_id]
    expected = expect(Request("register", register_body(ids)))
    facts = _facts(expected.alternatives[0])
    assert expected.alternatives[0].kind == "ok"
    assert facts["gdpr_denied_details.insider_id"] == [one("gdpr_denied").insider_id]
    assert facts["matched"] == len(syncing_ids())
    assert facts["added+refreshed"] == devices(*syncing_ids())


def test_add_users_of_segment_members_counts_them_refreshed() -> None:
    """/add-users of insiders already in the segment: their devices are all refreshed (none added)."""
    ids = syncing_ids()[:1]
    facts = _facts(expect(Request("add-users", segment_body(ids))).alternatives[0])
    assert (facts["matched"], facts["added+refreshed"], facts["refreshed"]) == (
        1,
        devices(*ids),
        AtLeast(devices(*ids)),
    )


def test_register_counters_hold_under_every_reading() -> None:
    """added + refreshed is fixed, refreshed only bounded below (its scope is a reading), and matched
    counts insiders or devices: one alternative each, naming the reading it takes."""
    ids = syncing_ids()
    expected = expect(Request("register", register_body(ids)))
    matched = {a.reading: _facts(a)["matched"] for a in expected.alternatives}
    assert matched == {"matched-unit=insiders": len(ids), "matched-unit=devices": devices(*ids)}
    assert devices(*ids) != len(ids), "the profile has an insider with several devices"
    for alternative in expected.alternatives:
        assert _facts(alternative)["refreshed"] == AtLeast(0)
        assert _facts(alternative)["added+refreshed"] == devices(*ids)
        assert alternative.body["activity_id"] is PRESENT


# -- injected rows -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "status"),
    [("UPSTREAM_UNAVAILABLE", 502), ("HTTP_503", 503), (bundled_contract().behaviour.rate_limit.row, 429)],
)
def test_pending_injected_row_replaces_the_prediction(row: str, status: int) -> None:
    """A row the target was told to produce for an endpoint is the only outcome of its next request."""
    state = world("STARTED", started_at=T0)
    state.pending_rows["update"] = row
    expected = expect(Request("update", {"activity_id": ""}), state=state)
    assert _one_error(expected) == (status, {row})
    assert expected.rules == (f"injected:{row}",)
    other = expect(Request("start", push_body()), state=state)
    assert other.rules == ("lifecycle:start:STARTED",)


def test_pending_row_without_a_fault_expectation_is_an_error() -> None:
    """Injecting a row that is neither fault-only nor the rate limit is a test bug, said at once."""
    state = world()
    state.pending_rows["register"] = "NOT_FOUND"
    with pytest.raises(ValueError, match="NOT_FOUND"):
        expect(Request("register", register_body()), state=state)


# -- the oracle never gives up -------------------------------------------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(["", "  ", ACTIVITY_ID, sandbox_profile().activity_type, rfc3339(T0), *syncing_ids()])
)
JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["insider_id", "udid", "title", "content_state", "x"]), children, max_size=4
        )
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "activity_id",
        "activity_type",
        "insider_ids",
        "ends_at",
        "content",
        "target_devices",
        "attributes",
        "extra",
    ]
)
BODIES = st.dictionaries(FIELDS, JSON, max_size=7) | JSON


@settings(max_examples=400)
@given(
    endpoint=st.sampled_from(bundled_contract().endpoints),
    body=BODIES,
    state=st.sampled_from([None, "REGISTERED", "STARTED", "DEAD"]),
    skew=st.floats(-10, 10),
    width=st.floats(0, 3),
)
def test_oracle_answers_any_json_body(
    endpoint: str, body: Any, state: str | None, skew: float, width: float
) -> None:
    """Property: for any JSON body, the oracle gives an alternative or records the case; never raises."""
    when = ServerTime(T0 + timedelta(seconds=skew), T0 + timedelta(seconds=skew + width))
    expected = expect(Request(endpoint, body), state=world(state), when=when)
    assert expected.alternatives or expected.recorded_only
    assert expected.rules


@settings(max_examples=200)
@given(endpoint=st.sampled_from(bundled_contract().endpoints), raw=st.binary(max_size=40))
def test_oracle_answers_any_raw_body(endpoint: str, raw: bytes) -> None:
    """Property: for any raw bytes, the oracle gives an alternative or records the case; never raises."""
    expected = expect(Request(endpoint, raw=raw))
    assert expected.alternatives or expected.recorded_only


def test_expected_level_is_the_weakest_alternative() -> None:
    """An expectation mixing documented and inferred alternatives is only as sure as the inferred one."""
    expected = expect(Request("register", {**register_body(), "activity_type": "", "insider_ids": None}))
    assert {a.level for a in expected.alternatives} == {"documented", "inferred"}
    assert expected.level == "inferred"

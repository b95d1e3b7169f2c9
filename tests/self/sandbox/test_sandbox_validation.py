"""Body, field, insider_ids, ends_at and target_devices checks, and the precedence between check groups."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

import pytest

from conformance.core.clock import VirtualClock
from conformance.sandbox.decide import Codes
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import Api, build, code_of, key

B = bundled_contract().behaviour
WINDOW = B.ends_at
IDS = B.insider_ids
CODES = Codes(B)
ELIGIBLE = sandbox_profile().syncing_insiders()[0]
UNKNOWN_ACTIVITY = "00000000-0000-4000-8000-000000000000"


def _expected(code: str | None) -> str | None:
    return None if code is None else bundled_contract().body_code(code)


# -- ends_at ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-1, WINDOW.past_code),
        (0, CODES.decided(WINDOW.at_now)),
        (WINDOW.minimum.value - 1, WINDOW.minimum.code),
        (WINDOW.minimum.value, None),
        (WINDOW.maximum.value, None),
        (WINDOW.maximum.value + 1, WINDOW.maximum.code),
    ],
)
def test_ends_at_edges_are_exact(api: Api, offset: int, expected: str | None) -> None:
    """ends_at: past, now, below/at the 5-minute edge, at/above the 7-day edge, to the second."""
    response = api.post("register", api.register_body([ELIGIBLE.insider_id], ends_in=offset))
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert (response.status_code, code_of(response)) == (bundled_contract().status_of(expected), expected)


@pytest.mark.parametrize(
    "text", ["tomorrow", "2026-05-20", "2026-05-20T10:00:00", "2026-05-20T25:00:00Z", "1e9"]
)
def test_ends_at_that_is_no_timestamp(api: Api, text: str) -> None:
    """An ends_at that is no RFC 3339 timestamp gets the first code of the not_a_timestamp case."""
    body = {**api.register_body([ELIGIBLE.insider_id]), "ends_at": text}
    rule = next(r for r in B.field_rules if r.field == WINDOW.field)
    assert code_of(api.post("register", body)) == _expected(CODES.decided(rule.cases["not_a_timestamp"]))


def test_ends_at_offsets_and_fractions_are_read(api: Api, clock: VirtualClock) -> None:
    """A timestamp with another offset and fractional seconds is read as the instant it names."""
    moment = (clock.now() + timedelta(seconds=WINDOW.minimum.value + 0.5)).astimezone(
        timezone(timedelta(hours=5))
    )
    body = {**api.register_body([ELIGIBLE.insider_id]), "ends_at": moment.isoformat()}
    assert api.post("register", body).status_code == 200


# -- insider_ids -----------------------------------------------------------------------------------


def _ids(count: int) -> list[str]:
    # One eligible insider keeps the request clear of NO_ELIGIBLE_DEVICE; the rest have no profile.
    return [ELIGIBLE.insider_id, *(f"nobody-{n}" for n in range(count - 1))][:count]


@pytest.mark.parametrize("endpoint", IDS.endpoints)
@pytest.mark.parametrize(
    ("count", "rejected"),
    [(IDS.min_items - 1, True), (IDS.min_items, False), (IDS.max_items, False), (IDS.max_items + 1, True)],
)
def test_insider_ids_size_edges(api: Api, endpoint: str, count: int, rejected: bool) -> None:
    """insider_ids of 0 and 10,001 are out of range on every endpoint taking them; 1 and 10,000 are not."""
    activity_id = api.register(ELIGIBLE)
    response = api.post(endpoint, api.body_for(endpoint, activity_id, _ids(count)))
    if rejected:
        assert code_of(response) == IDS.row
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("blank", ["", "   ", None, 7])
def test_blank_insider_id_element(api: Api, blank: Any) -> None:
    """A blank or non-string insider_ids element gets the sandbox_choice code."""
    response = api.post("register", api.register_body([ELIGIBLE.insider_id, blank]))
    assert code_of(response) == _expected(CODES.decided(IDS.blank_element))


def test_duplicate_insider_ids_are_accepted(api: Api) -> None:
    """Duplicates inside one call are the sandbox_choice `ok`: the repeat counts as refreshed."""
    response = api.post("register", api.register_body([ELIGIBLE.insider_id] * 2))
    assert response.status_code == 200
    assert response.json()["refreshed"] == len(ELIGIBLE.devices)


# -- body ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "content", "content_type"),
    [
        ("empty", b"", "application/json"),
        ("empty", b"  \n", "application/json"),
        ("unparseable", b"{", "application/json"),
        ("unparseable", b"\xff\xfe{}", "application/json"),
        ("unparseable", b"[" * 100_000, "application/json"),
        ("unparseable", b'{"a": NaN}', "application/json"),
        ("not_object", b"[1, 2]", "application/json"),
        ("not_object", b'"text"', "application/json"),
        ("empty_object", b"{}", "application/json"),
        ("wrong_content_type", b'{"activity_type": "x"}', "text/plain"),
        ("wrong_content_type", b'{"activity_type": "x"}', "application/jsonp"),
    ],
)
@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
def test_body_rules(api: Api, endpoint: str, case: str, content: bytes, content_type: str) -> None:
    """Each broken body gets the first code of its body rule (a generic 400 where only the status is set)."""
    rule = B.body_rule(case).expectation
    response = api.post(endpoint, content=content, headers={"Content-Type": content_type})
    assert response.status_code == (rule.outcome.status or 400)
    assert code_of(response) == _expected(CODES.decided(rule))


def test_missing_content_type_is_a_400(api: Api) -> None:
    """No Content-Type header at all is the wrong_content_type case."""
    response = api.post("register", content=b'{"activity_type": "x"}')
    assert response.status_code == B.body_rule("wrong_content_type").expectation.outcome.status


def test_content_type_parameters_are_allowed(api: Api) -> None:
    """`application/json; charset=utf-8`, in any case, is JSON."""
    body = api.register_body([ELIGIBLE.insider_id])
    response = api.post(
        "register",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "Application/JSON; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text


def test_oversized_body_is_refused(clock: VirtualClock) -> None:
    """A body over the configured cap gets a 400 with the unparseable body code, not a 5xx."""
    sandbox = build(clock, max_body_bytes=1024)
    with sandbox.client() as client:
        response = Api(client, clock).post(
            "register", content=b"{" + b" " * 2048 + b"}", headers={"Content-Type": "application/json"}
        )
    assert code_of(response) == _expected(CODES.decided(B.body_rule("unparseable").expectation))


# -- fields ----------------------------------------------------------------------------------------

BROKEN: dict[str, Any] = {
    "empty": "",
    "whitespace": "  \t",
    "null": None,
    "wrong_type": 42,
    "not_a_timestamp": "soon",
}
FIELD_CASES = [
    pytest.param(rule, endpoint, case, id=f"{rule.id}-{endpoint}-{case}")
    for rule in B.field_rules
    for endpoint in rule.endpoints
    for case in rule.cases
]


def _break(body: dict[str, Any], path: str, case: str) -> dict[str, Any]:
    *parents, name = path.split(".")
    node = body
    for part in parents:
        node = node[part]
    if case == "missing":
        node.pop(name, None)
    else:
        node[name] = BROKEN[case]
    return body


@pytest.mark.parametrize(("rule", "endpoint", "case"), FIELD_CASES)
def test_field_rules(api: Api, rule: Any, endpoint: str, case: str) -> None:
    """Each broken field gets its case's first code, or passes where the sandbox_choice is `ok`."""
    activity_id = api.synced(ELIGIBLE)
    response = api.post(
        endpoint, _break(api.body_for(endpoint, activity_id, [ELIGIBLE.insider_id]), rule.field, case)
    )
    expected = CODES.decided(rule.cases[case])
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert (response.status_code, code_of(response)) == (
            bundled_contract().status_of(expected),
            _expected(expected),
        )


def test_wrong_type_where_no_case_names_it(api: Api) -> None:
    """A field broken in a way its rule lists no case for (a numeric title on /start) is a generic 400."""
    body = api.push_body(api.register(ELIGIBLE))
    body["content"]["title"] = 5
    assert code_of(api.post("start", body)) == CODES.fallback


# -- target_devices --------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", B.target_devices.endpoints)
@pytest.mark.parametrize(
    "element",
    [
        {"insider_id": "", "udid": "u"},
        {"insider_id": "i", "udid": ""},
        {"insider_id": " ", "udid": "u"},
        {"insider_id": "i", "udid": "\t"},
        {"udid": "u"},
        {"insider_id": "i"},
        {"insider_id": 3, "udid": "u"},
        "not-an-object",
    ],
)
def test_target_devices_invalid(api: Api, endpoint: str, element: Any) -> None:
    """An element with a missing, empty or blank insider_id or udid is TARGET_DEVICES_INVALID."""
    body = {**api.push_body(api.synced(ELIGIBLE)), "target_devices": [element]}
    assert code_of(api.post(endpoint, body)) == B.target_devices.row


def test_target_devices_not_a_list(api: Api) -> None:
    """target_devices that is no list is a malformed target list."""
    body = {**api.push_body(api.synced(ELIGIBLE)), "target_devices": {"insider_id": "i"}}
    assert code_of(api.post("start", body)) == B.target_devices.row


def test_empty_target_devices_is_the_whole_segment(api: Api) -> None:
    """An empty target_devices list broadcasts to the whole segment."""
    body = {**api.push_body(api.register(ELIGIBLE)), "target_devices": []}
    response = api.post("start", body)
    assert response.json()["sessions_triggered"] == len(ELIGIBLE.devices)


# -- precedence ------------------------------------------------------------------------------------


def test_default_precedence_is_the_sandbox_choice(api: Api) -> None:
    """A disabled key with an empty body: the account group comes first, as the sandbox_choice orders."""
    response = api.post(
        "register", content=b"", account="disabled", headers={"Content-Type": "application/json"}
    )
    assert code_of(response) == bundled_contract().body_code(CODES.decided(B.accounts["disabled"]) or "")


def test_precedence_can_be_reordered(clock: VirtualClock) -> None:
    """Another precedence order answers a request breaking several rules with the first group's code."""
    order = ("lifecycle", "target_devices", "ends_at_window", "insider_ids", "fields", "body", "account")
    sandbox = build(clock, precedence=order)
    with sandbox.client() as client:
        api = Api(client, clock)
        empty = api.post(
            "register", content=b"", account="disabled", headers={"Content-Type": "application/json"}
        )
        assert code_of(empty) == B.body_rule("empty").expectation.outcome.codes[0]
        # An unknown activity with a bad target list: lifecycle (NOT_FOUND) now beats target_devices.
        body = {**api.push_body(UNKNOWN_ACTIVITY), "target_devices": [{"insider_id": "", "udid": ""}]}
        assert code_of(api.post("start", body)) == CODES.decided(
            B.lifecycle.transition("start", "DEAD").expectation
        )
        # A key-less request with a valid body reaches the account group last: still a 401.
        assert api.post("register", api.register_body([ELIGIBLE.insider_id]), account=None).status_code == 401


def test_precedence_must_name_every_group_once(clock: VirtualClock) -> None:
    """A precedence that drops or repeats a group is refused when the sandbox is built."""
    with pytest.raises(ValueError, match="precedence"):
        build(clock, precedence=("account", "body"))


def test_header_name_is_case_insensitive(api: Api) -> None:
    """The API key header is matched whatever its casing."""
    body = api.register_body([ELIGIBLE.insider_id])
    response = api.post("register", body, account=None, headers={"x-API-key": key("good")})
    assert response.status_code == 200

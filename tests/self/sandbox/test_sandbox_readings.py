"""The sandbox's switches: for every reading of behaviour.yaml, each option answers as it says.

A reading is a point the docs leave open. The sandbox takes each reading's default unless switched,
and every other option changes only what that option describes; codes, statuses and limits still
come from the contract. Each test says which (reading, option) pairs it shows, and a test fails when
the contract lists an option no test shows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import formatdate
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from conformance.cli import main
from conformance.contract import Expectation
from conformance.core.clock import VirtualClock
from conformance.sandbox import Fault, Sandbox
from conformance.sandbox.decide import Codes
from conformance.sandbox.readings import IMPLEMENTED, all_switched, resolve_readings
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import (
    ONE_HOUR,
    Api,
    build,
    code_of,
    device_count,
    insider,
    serve_command,
)

B = bundled_contract().behaviour
CODES = Codes(B)
FALLBACK = B.sandbox_fallback_code
NO_ELIGIBLE = B.eligibility.no_eligible_code
COUNT_FIELD = B.sync_gate.count_field
WINDOW = B.rate_limit.per_seconds
SYNCING = sandbox_profile().syncing_insiders()[0]  # more than one device
OTHER = sandbox_profile().syncing_insiders()[1]
GDPR = insider("gdpr_denied")
ROOT = Path(__file__).resolve().parents[3]
# A whole minute: a window-aligned start for the rate-limit tests.
ALIGNED = datetime(2031, 5, 4, 3, 2, 0, tzinfo=UTC)

COVERED: set[tuple[str, str]] = set()
Test = TypeVar("Test", bound=Callable[..., None])


def covers(reading: str, *options: str) -> Callable[[Test], Test]:
    """Mark a test as showing these options of `reading`."""

    def mark(test: Test) -> Test:
        COVERED.update((reading, option) for option in options)
        return test

    return mark


@dataclass(frozen=True)
class Bench:
    api: Api
    sandbox: Sandbox


Make = Callable[..., Bench]


@pytest.fixture
def make(clock: VirtualClock) -> Iterator[Make]:
    """Build a sandbox on the test's clock with some readings (and config); its caller is closed after."""
    with contextlib.ExitStack() as stack:

        def bench(
            readings: Mapping[str, str] | None = None, *, on: VirtualClock | None = None, **config: Any
        ) -> Bench:
            sandbox = build(on or clock, readings=dict(readings or {}), **config)
            return Bench(Api(stack.enter_context(sandbox.client()), on or clock), sandbox)

        yield bench


def _decided(expectation: Expectation) -> str:
    """The code the default sandbox answers for an expectation that is an error."""
    code = CODES.decided(expectation)
    assert code is not None
    return code


def _raw(api: Api, endpoint: str, content: bytes) -> httpx.Response:
    return api.post(endpoint, content=content, headers={"Content-Type": "application/json"})


def _state(bench: Bench, activity_id: str) -> str | None:
    return next((a.state for a in bench.sandbox.control.activities() if a.activity_id == activity_id), None)


# -- the registry ----------------------------------------------------------------------------------


def test_the_sandbox_implements_exactly_the_readings_and_options_of_the_contract() -> None:
    """Every reading of behaviour.yaml has a switch with its options in order, and no switch is extra."""
    assert dict(IMPLEMENTED) == {rid: tuple(r.options) for rid, r in B.readings.items()}


def test_every_option_of_every_reading_has_a_test() -> None:
    """A new reading or option in behaviour.yaml fails here until a test shows what the sandbox does."""
    listed = {(rid, option) for rid, r in B.readings.items() for option in r.options}
    assert listed - COVERED == set()


def test_unspecified_readings_take_their_default(clock: VirtualClock) -> None:
    """Settings carry every reading: the chosen one's option, every other one's default."""
    chosen = next(iter(all_switched(B).items()))
    settings = build(clock, readings=dict([chosen])).settings
    assert dict(settings.readings) == {rid: r.default for rid, r in B.readings.items()} | dict([chosen])


def test_an_unknown_reading_is_refused_naming_the_valid_ones(clock: VirtualClock) -> None:
    """An unknown reading id is a ValueError that lists every reading id."""
    with pytest.raises(ValueError, match="unknown reading 'no-such-reading'") as raised:
        build(clock, readings={"no-such-reading": "x"})
    assert all(rid in str(raised.value) for rid in B.readings)


def test_an_unknown_option_is_refused_naming_the_valid_ones(clock: VirtualClock) -> None:
    """An option a reading lacks is a ValueError that lists that reading's options."""
    reading = next(iter(B.readings.values()))
    with pytest.raises(ValueError, match="no option 'no-such-option'") as raised:
        build(clock, readings={reading.id: "no-such-option"})
    assert all(option in str(raised.value) for option in reading.options)


def test_an_option_the_sandbox_does_not_implement_is_refused() -> None:
    """An option the contract gains before the sandbox implements it cannot be switched on."""
    reading = next(iter(B.readings.values()))
    grown = dataclasses.replace(reading, options={**reading.options, "newer": "a later reading"})
    behaviour = dataclasses.replace(B, readings={**B.readings, reading.id: grown})
    with pytest.raises(ValueError, match="does not implement option 'newer'"):
        resolve_readings(behaviour, {reading.id: "newer"})


def test_every_reading_switched_at_once_builds(make: Make) -> None:
    """All other readings together make one sandbox, which still registers an activity."""
    assert make(all_switched(B)).api.register(SYNCING)


# -- body, fields, precedence, codes -----------------------------------------------------------------


@covers("unparseable-body-code", "request-invalid", "bad-request")
@pytest.mark.parametrize("option", list(B.readings["unparseable-body-code"].options))
def test_unparseable_and_blank_bodies_get_the_code_the_option_names(make: Make, option: str) -> None:
    """request-invalid: as the table; bad-request: unparseable and whitespace-only bodies get BAD_REQUEST,
    a body of no bytes stays REQUEST_INVALID."""
    empty = _decided(B.body_rule("empty").expectation)
    unparseable = _decided(B.body_rule("unparseable").expectation)
    assert "BAD_REQUEST" in B.extra_codes
    expected = {"request-invalid": (unparseable, empty), "bad-request": ("BAD_REQUEST", "BAD_REQUEST")}
    api = make({"unparseable-body-code": option}).api
    answers = [_raw(api, "register", body) for body in (b'{"activity_type": ', b" \n\t", b"")]
    assert [code_of(a) for a in answers] == [*expected[option], empty]
    assert {a.status_code for a in answers} == {
        bundled_contract().status_of(c) for c in (*expected[option], empty)
    }


@covers("wrong-type-code", "field-code", "bad-request")
@pytest.mark.parametrize("option", list(B.readings["wrong-type-code"].options))
def test_wrongly_typed_fields_get_the_code_the_option_names(make: Make, option: str) -> None:
    """field-code: a wrongly typed or null field gets its rule's code; bad-request: BAD_REQUEST (a body
    that cannot be read as the request), where the case accepts it; a blank field keeps its code."""
    api = make({"wrong-type-code": option}).api
    rule = next(r for r in B.field_rules if r.field == "activity_type" and "register" in r.endpoints)
    body = api.register_body([SYNCING.insider_id])
    answers = {
        case: api.post("register", {**body, "activity_type": value})
        for case, value in (("wrong_type", 12345), ("null", None), ("empty", ""))
    }
    for case, answer in answers.items():
        accepted = rule.cases[case].outcome.codes
        wanted = "BAD_REQUEST" if option == "bad-request" and case != "empty" else _decided(rule.cases[case])
        assert wanted in accepted
        assert (answer.status_code, code_of(answer)) == (bundled_contract().status_of(wanted), wanted)


@covers("unknown-request-fields", "ignored")
def test_unknown_fields_are_ignored_by_default(make: Make) -> None:
    """ignored: an undeclared top-level field changes nothing."""
    api = make().api
    body = {**api.register_body([SYNCING.insider_id]), "conformance_probe_field": True}
    assert api.post("register", body).status_code == 200


@covers("unknown-request-fields", "rejected")
@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
def test_rejected_unknown_fields_get_the_fallback_code(make: Make, endpoint: str) -> None:
    """rejected: a top-level field the endpoint's request schema does not declare gets 400 and the
    fallback code, and nothing changes; declared optional fields still pass."""
    bench = make({"unknown-request-fields": "rejected"})
    api = bench.api
    activity_id = api.register(SYNCING)
    body = {**api.body_for(endpoint, activity_id, [OTHER.insider_id]), "conformance_probe_field": True}
    before = bench.sandbox.control.activities()
    response = api.post(endpoint, body)
    assert (response.status_code, code_of(response)) == (bundled_contract().status_of(FALLBACK), FALLBACK)
    assert bench.sandbox.control.activities() == before
    if endpoint == "start":  # target_devices is declared: not unknown
        targets = [(SYNCING.insider_id, SYNCING.devices[0].udid)]
        assert api.post("start", api.push_body(activity_id, targets)).status_code == 200


def test_rejected_unknown_fields_include_an_activity_id_on_register(make: Make) -> None:
    """RegisterRequest does not declare activity_id, so under `rejected` a client-sent one is unknown."""
    api = make({"unknown-request-fields": "rejected"}).api
    body = {**api.register_body([SYNCING.insider_id]), "activity_id": "client-chosen"}
    assert code_of(api.post("register", body)) == FALLBACK


@covers("title-message-on-update-end", "optional", "required")
@pytest.mark.parametrize("option", list(B.readings["title-message-on-update-end"].options))
@pytest.mark.parametrize(("endpoint", "left_out"), [("update", "title"), ("end", "message")])
def test_update_and_end_without_title_or_message_pass_or_are_refused(
    make: Make, option: str, endpoint: str, left_out: str
) -> None:
    """optional: /update and /end without title or message succeed; required: 400 with the fallback code."""
    bench = make({"title-message-on-update-end": option})
    activity_id = bench.api.synced(SYNCING)
    body = bench.api.push_body(activity_id)
    del body["content"][left_out]
    response = bench.api.post(endpoint, body)
    if option == "optional":
        assert response.status_code == 200, response.text
    else:
        assert code_of(response) == FALLBACK
        assert _state(bench, activity_id) == "STARTED"
        assert bench.api.post(endpoint, bench.api.push_body(activity_id)).status_code == 200


@covers("which-error-wins", "sandbox-order", "reversed")
def test_reversed_precedence_lets_the_last_group_win(make: Make) -> None:
    """reversed: the check groups run in the reverse of the sandbox_choice order, so of a disabled key
    and an empty insider_ids the insider_ids rule answers; sandbox-order: the account does."""
    order = tuple(B.precedence.sandbox_choice["order"])
    default, reversed_ = make(), make({"which-error-wins": "reversed"})
    assert (default.sandbox.settings.precedence, reversed_.sandbox.settings.precedence) == (
        order,
        order[::-1],
    )
    both: dict[str, Any] = {"insider_ids": []}
    assert code_of(default.api.post("register", both, account="disabled")) == CODES.decided(
        B.accounts["disabled"]
    )
    assert code_of(reversed_.api.post("register", both, account="disabled")) == B.insider_ids.row


def test_an_explicit_precedence_wins_over_the_reversed_reading(make: Make) -> None:
    """A SandboxConfig.precedence is taken as given, whatever which-error-wins says."""
    order = tuple(B.precedence.sandbox_choice["order"])
    chosen = (*order[1:], order[0])
    bench = make({"which-error-wins": "reversed"}, precedence=chosen)
    assert bench.sandbox.settings.precedence == chosen


@covers("several-codes-accepted", "first", "last")
@pytest.mark.parametrize("option", list(B.readings["several-codes-accepted"].options))
def test_several_accepted_codes_answer_the_first_or_the_last(make: Make, option: str) -> None:
    """first: a case accepting several codes answers the first listed; last: the last listed."""
    rule = next(r for r in B.field_rules_for("register") if r.field == "activity_type")
    codes = rule.cases["null"].outcome.codes
    assert len(codes) > 1
    api = make({"several-codes-accepted": option}).api
    body = {**api.register_body([SYNCING.insider_id]), "activity_type": None}
    assert code_of(api.post("register", body)) == codes[0 if option == "first" else -1]


# -- eligibility counters ----------------------------------------------------------------------------


@covers("matched-unit", "insiders", "devices")
@pytest.mark.parametrize("option", list(B.readings["matched-unit"].options))
@pytest.mark.parametrize("endpoint", ["register", "add-users"])
def test_matched_counts_insiders_or_devices(make: Make, option: str, endpoint: str) -> None:
    """insiders: matched counts eligible insiders; devices: matched = added + refreshed."""
    api = make({"matched-unit": option}).api
    ids = [SYNCING.insider_id, OTHER.insider_id]
    activity_id = api.register(SYNCING)
    body = api.post(endpoint, api.body_for(endpoint, activity_id, ids)).json()
    expected = {"insiders": len(ids), "devices": device_count(SYNCING, OTHER)}
    assert expected["insiders"] != expected["devices"]
    assert body["matched"] == expected[option]
    assert body["added"] + body["refreshed"] == device_count(SYNCING, OTHER)


@covers("gdpr-denied-in-matched", "listed-only", "counted")
@pytest.mark.parametrize("unit", list(B.readings["matched-unit"].options))
@pytest.mark.parametrize("option", list(B.readings["gdpr-denied-in-matched"].options))
def test_gdpr_denied_insiders_are_listed_or_also_counted_in_matched(
    make: Make, option: str, unit: str
) -> None:
    """listed-only: matched leaves the GDPR-denied insider out; counted: it counts it too, in the unit
    matched-unit says; it is listed either way."""
    api = make({"gdpr-denied-in-matched": option, "matched-unit": unit}).api
    body = api.post("register", api.register_body([SYNCING.insider_id, GDPR.insider_id])).json()
    eligible = {"insiders": 1, "devices": device_count(SYNCING)}[unit]
    extra = {"insiders": 1, "devices": device_count(GDPR)}[unit] if option == "counted" else 0
    assert body["matched"] == eligible + extra
    assert [d["insider_id"] for d in body["gdpr_denied_details"]] == [GDPR.insider_id]


@covers("refreshed-scope", "this-activity", "same-type")
@pytest.mark.parametrize("option", list(B.readings["refreshed-scope"].options))
def test_devices_in_another_live_activity_of_the_type_are_added_or_refreshed(make: Make, option: str) -> None:
    """same-type: devices already in another live activity of the owner and type count as refreshed (and
    still join the segment); this-activity: they count as added."""
    bench = make({"refreshed-scope": option})
    api = bench.api
    api.register(SYNCING)
    response = api.post("register", api.register_body([SYNCING.insider_id, OTHER.insider_id])).json()
    moved = len(SYNCING.devices) if option == "same-type" else 0
    assert (response["added"], response["refreshed"]) == (device_count(SYNCING, OTHER) - moved, moved)
    (view,) = [a for a in bench.sandbox.control.activities() if a.activity_id == response["activity_id"]]
    assert len(view.devices) == device_count(SYNCING, OTHER)


def test_same_type_counts_only_live_activities_of_the_type(make: Make, clock: VirtualClock) -> None:
    """same-type on /add-users: devices of another live activity of the type refresh; those of an
    activity of another type, of an ended one or of an expired one are added."""
    api = make({"refreshed-scope": "same-type"}).api
    first, second, third = sandbox_profile().syncing_insiders()[:3]
    other_type = {**api.register_body([first.insider_id]), "activity_type": "AnotherAttributes"}
    assert api.post("register", other_type).status_code == 200
    ended = api.synced(second)
    assert api.post("end", api.push_body(ended)).status_code == 200
    api.register(third, ends_in=B.ends_at.minimum.value)
    clock.advance(B.ends_at.minimum.value)  # that one has expired
    offline = sandbox_profile().never_syncing_insiders()[0]
    ids = [first.insider_id, second.insider_id, third.insider_id]
    body = api.post("add-users", api.segment_body(api.register(offline), ids)).json()
    assert (body["added"], body["refreshed"]) == (device_count(first, second, third), 0)
    api.register(first)  # now first's devices are in a live activity of the type
    body = api.post("add-users", api.segment_body(api.register(offline), [first.insider_id])).json()
    assert (body["added"], body["refreshed"]) == (0, len(first.devices))


@covers("repeated-id-in-call", "refreshed", "ignored")
@pytest.mark.parametrize("option", list(B.readings["repeated-id-in-call"].options))
def test_a_repeated_id_counts_as_refreshed_or_not_at_all(make: Make, option: str) -> None:
    """refreshed: a repeat's devices count as refreshed; ignored: the repeat counts nothing."""
    api = make({"repeated-id-in-call": option}).api
    body = api.post("register", api.register_body([SYNCING.insider_id] * 2)).json()
    repeat = len(SYNCING.devices) if option == "refreshed" else 0
    assert (body["matched"], body["added"], body["refreshed"]) == (1, len(SYNCING.devices), repeat)


@covers("gdpr-details-on-add-users", "present", "absent")
@pytest.mark.parametrize("option", list(B.readings["gdpr-details-on-add-users"].options))
def test_add_users_lists_gdpr_denied_insiders_or_never_does(make: Make, option: str) -> None:
    """present: /add-users lists GDPR-denied insiders; absent: it never does. /register always does."""
    api = make({"gdpr-details-on-add-users": option}).api
    registered = api.post("register", api.register_body([SYNCING.insider_id, GDPR.insider_id])).json()
    assert "gdpr_denied_details" in registered
    added = api.post(
        "add-users", api.segment_body(registered["activity_id"], [OTHER.insider_id, GDPR.insider_id])
    )
    assert ("gdpr_denied_details" in added.json()) == (option == "present")


# -- bodies and headers ------------------------------------------------------------------------------


@covers("bodies-of-401-and-503", "empty", "json")
@pytest.mark.parametrize("option", list(B.readings["bodies-of-401-and-503"].options))
def test_401_and_503_have_no_body_or_a_json_error(make: Make, option: str) -> None:
    """empty: 401 and 503 have no body; json: a JSON body with an `error` string and no `code`."""
    bench = make({"bodies-of-401-and-503": option})
    unauthorized = bench.api.post("register", bench.api.register_body([SYNCING.insider_id]), account=None)
    bench.sandbox.control.inject("register", Fault.respond(bundled_contract().status_of("HTTP_503")))
    unavailable = bench.api.post("register", bench.api.register_body([SYNCING.insider_id]))
    for response, row in ((unauthorized, "HTTP_401"), (unavailable, "HTTP_503")):
        assert response.status_code == bundled_contract().status_of(row)
        if option == "empty":
            assert (response.content, response.headers.get("content-type")) == (b"", None)
        else:
            assert response.headers["content-type"] == "application/json"
            assert list(response.json()) == ["error"]
            assert isinstance(response.json()["error"], str)


@covers("retry-after-header", "absent", "present")
@pytest.mark.parametrize("window", list(B.readings["rate-limit-window"].options))
@pytest.mark.parametrize("option", list(B.readings["retry-after-header"].options))
def test_429_carries_retry_after_until_the_bucket_admits_or_nothing(
    make: Make, option: str, window: str
) -> None:
    """present: a 429 carries Retry-After, the whole seconds until the bucket admits again (at least 1,
    also on an injected 429); absent: no such header."""
    clock = VirtualClock(ALIGNED + timedelta(seconds=10))
    readings = {"retry-after-header": option, "rate-limit-window": window}
    bench = make(readings, on=clock, rate_limit_per_minute=1)
    api = bench.api
    assert api.post("start", {}).status_code == 400
    clock.advance(10.5)
    refused = api.post("start", {})
    assert refused.status_code == bundled_contract().status_of(B.rate_limit.row)
    bench.sandbox.control.inject("update", Fault.respond(bundled_contract().status_of(B.rate_limit.row)))
    injected = api.post("update", {})
    if option == "absent":
        assert "retry-after" not in refused.headers
        assert "retry-after" not in injected.headers
        return
    # fixed: the window ends 60 s after ALIGNED; sliding: the first request leaves 60 s after it was made
    left = WINDOW - 20.5 if window == "fixed" else WINDOW - 10.5
    assert refused.headers["retry-after"] == str(math.ceil(left))
    assert injected.headers["retry-after"] == "1"


# -- lifecycle ---------------------------------------------------------------------------------------


@covers("end-on-registered", "push-token-not-synced", "not-found", "ok")
@pytest.mark.parametrize("option", list(B.readings["end-on-registered"].options))
def test_end_on_a_registered_activity_answers_412_or_404_or_ends_it(make: Make, option: str) -> None:
    """push-token-not-synced: 412, the activity stays; not-found: 404 NOT_FOUND, it stays REGISTERED;
    ok: 200 with sessions_triggered 0, and it is deleted as /end deletes."""
    bench = make({"end-on-registered": option})
    activity_id = bench.api.register(SYNCING)
    response = bench.api.post("end", bench.api.push_body(activity_id))
    dead = _decided(B.lifecycle.transition("end", "DEAD").expectation)
    if option == "ok":
        assert (response.status_code, response.json()["sessions_triggered"]) == (200, 0)
        assert _state(bench, activity_id) is None
        assert code_of(bench.api.post("end", bench.api.push_body(activity_id))) == dead
        return
    expected = {"push-token-not-synced": _decided(B.sync_gate.none_synced), "not-found": dead}
    assert code_of(response) == expected[option]
    assert response.status_code == bundled_contract().status_of(expected[option])
    assert _state(bench, activity_id) == "REGISTERED"


@covers("start-without-matching-target", "ok", "no-eligible-device")
@pytest.mark.parametrize("option", list(B.readings["start-without-matching-target"].options))
def test_start_whose_targets_match_no_device_starts_or_is_refused(make: Make, option: str) -> None:
    """ok: 200 with sessions_triggered 0 and the activity started; no-eligible-device: 422 with every
    skipped key at 0, and the activity stays REGISTERED."""
    bench = make({"start-without-matching-target": option})
    activity_id = bench.api.register(SYNCING)
    response = bench.api.post("start", bench.api.push_body(activity_id, [("stranger", "phone")]))
    if option == "ok":
        assert (response.status_code, response.json()["sessions_triggered"]) == (200, 0)
        assert _state(bench, activity_id) == "STARTED"
        return
    assert (response.status_code, code_of(response)) == (
        bundled_contract().status_of(NO_ELIGIBLE),
        NO_ELIGIBLE,
    )
    assert response.json()["skipped"] == dict.fromkeys(B.eligibility.skipped_keys, 0)
    assert _state(bench, activity_id) == "REGISTERED"
    matching = [(SYNCING.insider_id, SYNCING.devices[0].udid)]
    assert (
        bench.api.post("start", bench.api.push_body(activity_id, matching)).json()["sessions_triggered"] == 1
    )


MISMATCH_ENDPOINTS = next(p.endpoints for p in B.probes if p.id == "mismatched-activity-type")


@covers("mismatched-activity-type", "accepted", "rejected")
@pytest.mark.parametrize("option", list(B.readings["mismatched-activity-type"].options))
@pytest.mark.parametrize("endpoint", MISMATCH_ENDPOINTS)
def test_a_mismatched_activity_type_goes_through_or_is_refused(
    make: Make, option: str, endpoint: str
) -> None:
    """accepted: the call goes through as with the registered type; rejected: 400 with the fallback code
    and nothing changes."""
    bench = make({"mismatched-activity-type": option})
    activity_id = bench.api.register(SYNCING)
    if endpoint in ("update", "end"):
        bench.api.post("start", bench.api.push_body(activity_id))
        bench.api.clock.advance(sandbox_profile().sync_delay_seconds)
    body = {**bench.api.body_for(endpoint, activity_id, [OTHER.insider_id]), "activity_type": "OtherType"}
    before = bench.sandbox.control.activities()
    response = bench.api.post(endpoint, body)
    if option == "accepted":
        assert response.status_code == 200, response.text
        return
    assert (response.status_code, code_of(response)) == (bundled_contract().status_of(FALLBACK), FALLBACK)
    assert bench.sandbox.control.activities() == before


# -- rate limit --------------------------------------------------------------------------------------


@covers("rate-limit-counts", "every-request", "successes-only")
@pytest.mark.parametrize("option", list(B.readings["rate-limit-counts"].options))
def test_what_counts_against_the_rate_limit(make: Make, option: str) -> None:
    """every-request: refused requests count too; successes-only: only 200s count, and a request is
    refused once the bucket holds `limit` successes in the window."""
    limit = 2
    api = make({"rate-limit-counts": option}, rate_limit_per_minute=limit).api
    rate_limited = bundled_contract().status_of(B.rate_limit.row)
    failures = [api.post("register", {}).status_code for _ in range(limit + 1)]
    if option == "every-request":
        assert failures == [400] * limit + [rate_limited]
        return
    assert failures == [400] * (limit + 1)
    good = api.register_body([SYNCING.insider_id])
    assert [api.post("register", good).status_code for _ in range(limit + 1)] == [200] * limit + [
        rate_limited
    ]
    assert api.post("register", {}).status_code == rate_limited


@covers("rate-limit-window", "fixed", "sliding")
@pytest.mark.parametrize("option", list(B.readings["rate-limit-window"].options))
def test_fixed_and_sliding_rate_windows(make: Make, option: str) -> None:
    """fixed: a new clock-aligned window admits again at once; sliding: only a whole window after the
    request that filled the bucket."""
    clock = VirtualClock(ALIGNED + timedelta(seconds=WINDOW - 1))
    api = make({"rate-limit-window": option}, on=clock, rate_limit_per_minute=1).api
    rate_limited = bundled_contract().status_of(B.rate_limit.row)
    assert [api.post("start", {}).status_code for _ in range(2)] == [400, rate_limited]
    clock.advance(1)
    assert api.post("start", {}).status_code == (400 if option == "fixed" else rate_limited)
    clock.advance(WINDOW - 1)
    assert api.post("start", {}).status_code == (rate_limited if option == "fixed" else 400)


@pytest.mark.parametrize("window", list(B.readings["rate-limit-window"].options))
@pytest.mark.parametrize("counts", list(B.readings["rate-limit-counts"].options))
def test_limit_rate_starts_a_fresh_count_under_every_window(make: Make, window: str, counts: str) -> None:
    """limit_rate forgets what was counted, whatever the window and whatever counts."""
    bench = make({"rate-limit-window": window, "rate-limit-counts": counts}, rate_limit_per_minute=1)
    good = bench.api.register_body([SYNCING.insider_id])
    assert [bench.api.post("register", good).status_code for _ in range(2)] == [
        200,
        bundled_contract().status_of(B.rate_limit.row),
    ]
    bench.sandbox.control.limit_rate(1)
    assert bench.api.post("register", good).status_code == 200


# -- time --------------------------------------------------------------------------------------------


@covers("clock-resolution", "real-time", "whole-seconds")
@pytest.mark.parametrize("option", list(B.readings["clock-resolution"].options))
def test_ends_at_window_in_real_time_or_whole_seconds(make: Make, option: str) -> None:
    """real-time: the exact difference decides; whole-seconds: ends_at and the clock are both floored
    to the second. Fractions and any UTC offset in ends_at are read exactly under both."""
    low, high = B.ends_at.minimum, B.ends_at.maximum
    clock = VirtualClock(ALIGNED + timedelta(seconds=0.7))
    api = make({"clock-resolution": option}, on=clock).api
    plus_two = timezone(timedelta(hours=2))

    def answer(seconds_from_whole: float) -> str | None:
        ends_at = (ALIGNED + timedelta(seconds=seconds_from_whole)).astimezone(plus_two).isoformat()
        body = {**api.register_body([SYNCING.insider_id]), "ends_at": ends_at}
        return code_of(api.post("register", body))

    # 0.3 s short of the minimum, but in the same whole second as it
    assert answer(low.value + 0.4) == (low.code if option == "real-time" else None)
    assert answer(low.value + 0.7) is None  # the minimum exactly
    assert answer(low.value - 0.1) == low.code  # a whole second short of it under both
    # 0.2 s beyond the maximum, but in the same whole second as it
    assert answer(high.value + 0.9) == (high.code if option == "real-time" else None)
    assert answer(high.value + 1.0) == high.code


@covers("token-sync", "at-bound", "staggered")
@pytest.mark.parametrize("option", list(B.readings["token-sync"].options))
def test_tokens_sync_at_the_bound_or_one_by_one(make: Make, option: str) -> None:
    """at-bound: every device syncs at the sync delay; staggered: of n syncing devices in sorted order
    the k-th syncs at delay * k / n, the last exactly at the bound."""
    delay = 3.0
    bench = make({"token-sync": option}, sync_delay_seconds=delay)
    api = bench.api
    insiders = sandbox_profile().syncing_insiders()[:2]
    devices = sorted((i.insider_id, d.udid) for i in insiders for d in i.devices)
    activity_id = api.started(*insiders)
    not_synced = CODES.decided(B.sync_gate.none_synced)
    step = delay / len(devices)
    for k in range(1, len(devices) + 1):
        api.clock.advance(step - 0.001)
        assert code_of(api.post("update", api.push_body(activity_id, devices[k - 1 : k]))) == not_synced
        api.clock.advance(0.001)
        response = api.post("update", api.push_body(activity_id))
        synced = len(devices) if option == "at-bound" and k == len(devices) else k
        if option == "at-bound" and k < len(devices):
            assert code_of(response) == not_synced
            continue
        assert response.json()["sessions_triggered"] == synced
        assert response.json().get(COUNT_FIELD, 0) == len(devices) - synced


# -- clock offset and latency ------------------------------------------------------------------------


def test_clock_offset_moves_the_date_header_and_the_ends_at_window(make: Make, clock: VirtualClock) -> None:
    """With an offset the sandbox's `Date`, its ends_at window, its expiry and its control clock read the
    injected time plus the offset."""
    offset = 1800.0
    bench = make(clock_offset_seconds=offset)
    api = bench.api
    assert bench.sandbox.control.now() == clock.now() + timedelta(seconds=offset)
    minimum = B.ends_at.minimum
    # ends_at far enough ahead of the injected clock, but not of the sandbox's
    too_soon = {**api.register_body([SYNCING.insider_id], ends_in=offset + minimum.value - 1)}
    response = api.post("register", too_soon)
    assert code_of(response) == minimum.code
    sandbox_now = clock.now() + timedelta(seconds=offset)
    assert response.headers["date"] == formatdate(int(sandbox_now.timestamp()), usegmt=True)
    activity_id = api.register(SYNCING, ends_in=offset + minimum.value)
    clock.advance(minimum.value)
    assert _state(bench, activity_id) is None  # expired on the sandbox's clock


def test_a_negative_clock_offset_puts_the_sandbox_behind(make: Make) -> None:
    """A negative offset: an ends_at the injected clock calls past is in the future for the sandbox."""
    api = make(clock_offset_seconds=-ONE_HOUR).api
    assert api.post("register", api.register_body([SYNCING.insider_id], ends_in=-60)).status_code == 200


@pytest.mark.parametrize(
    ("config", "problem"),
    [({"latency_ms": -1}, "latency"), ({"clock_offset_seconds": math.nan}, "clock offset")],
)
def test_bad_latency_or_clock_offset_is_refused(
    clock: VirtualClock, config: dict[str, Any], problem: str
) -> None:
    """A negative latency or a clock offset that is not a finite number is a ValueError."""
    with pytest.raises(ValueError, match=problem):
        build(clock, **config)


def test_latency_delays_each_way(make: Make) -> None:
    """latency_ms holds the request before it is handled and the answer before it leaves: 2x a round trip."""
    latency_ms = 60
    api = make(latency_ms=latency_ms).api
    started = time.monotonic()
    assert api.post("start", {}).status_code == 400
    assert time.monotonic() - started >= 2 * latency_ms / 1000


# -- the command line --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--reading", "no-such-reading=x"], list(B.readings)),
        (["--reading", "matched-unit=dozens"], list(B.readings["matched-unit"].options)),
        (["--reading", "matched-unit"], ["ID=OPTION"]),
        (["--latency-ms", "-5"], ["latency"]),
        (["--clock-offset", "inf"], ["clock offset"]),
    ],
)
def test_serve_refuses_a_bad_reading_or_value_with_one_message(
    capsys: pytest.CaptureFixture[str], arguments: list[str], named: list[str]
) -> None:
    """A bad --reading, --latency-ms or --clock-offset ends with exit status 2 and one usage message (the
    problem on one line, naming the valid choices, then its fix), never a traceback."""
    assert main(["sandbox", "serve", "--port", "0", *arguments]) == 2
    captured = capsys.readouterr()
    problem, fix = captured.err.splitlines()
    assert problem.startswith("usage error")
    assert all(name in problem for name in named)
    assert fix.strip().startswith("fix:")
    assert captured.out == ""


def test_serve_banner_lists_the_switched_readings_offset_and_latency() -> None:
    """--other-readings switches every reading (a --reading overrides one), and the banner says which,
    with the clock offset and the latency."""
    kept = next(iter(B.readings.values()))
    command = serve_command(
        "--other-readings",
        "--reading",
        f"{kept.id}={kept.default}",
        "--clock-offset",
        "-2.5",
        "--latency-ms",
        "5",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        banner: list[str] = []
        while not banner or not banner[-1].startswith("Ctrl-C"):
            banner.append(process.stdout.readline())
            assert banner[-1], "the banner ended early"
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    text = "".join(banner)
    switched = {rid: option for rid, option in all_switched(B).items() if rid != kept.id}
    assert all(f"reading {rid}={option}" in text for rid, option in switched.items())
    assert f"reading {kept.id}=" not in text
    assert "clock offset -2.5 s" in text
    assert "latency 5 ms" in text

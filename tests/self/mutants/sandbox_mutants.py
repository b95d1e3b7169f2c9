"""The mutant table: every deliberate fault the suite must catch, and the variations it must accept.

Each entry is a name, a category, a one-line description, how it is applied (a contract edit, a
request rewrite or a response corruption) and a probe whose answer it changes. `survives` marks a
fault the suite is known to miss, with the check that is missing: the self-tests expect it to
survive (strict xfail), so closing the gap in the suite turns that test red until the mark is
removed. `NAMED_EDGE_MOVED` says which named ends_at edge case must be the first to catch each
mutant that moves an edge.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conformance.contract import load_contract
from conformance.generate.strategies import ends_at_edges
from tests.self.mutants.mutant_kinds import (
    ContractEdit,
    Gap,
    Mutant,
    answered,
    becomes,
    blank_in,
    bodyless,
    both,
    carrying,
    incomplete_elements_dropped,
    merged,
    nested_without,
    offset_dropped,
    one_of_statuses,
    overlapping,
    plus_one,
    to,
    unparseable_request,
    where,
    without,
)
from tests.self.mutants.mutant_probes import (
    after,
    beside_the_limit,
    first_of,
    one_syncing_one_offline,
    over_the_limit,
    raw,
    register,
    register_count,
    register_in_zone,
    register_without,
    target_device_without,
    together,
)

ERRORS, BEHAVIOUR = "errors.yaml", "behaviour.yaml"
_CONTRACT = load_contract()
_RATE, _IDS = _CONTRACT.behaviour.rate_limit, _CONTRACT.behaviour.insider_ids
_DEVICES = _CONTRACT.behaviour.target_devices
_TARGET_INSIDER = (_CONTRACT.behaviour.target_devices.field, "insider_id")
_LOW, _HIGH = _CONTRACT.behaviour.ends_at.minimum.value, _CONTRACT.behaviour.ends_at.maximum.value
# The suite's label of each named ends_at edge (test_ends_at_named_edge[<label>-<zone>]), by offset.
_EDGE = {edge.value: edge.label for edge in ends_at_edges(_CONTRACT)}
SUCCESS_PUSH = {"status": "success", "sessions_triggered": 0}
INTERNAL_ERROR = {"error": "Internal Server Error"}
# How long the racy /start leaves between its check and its commit (see Gap): the suite's 4 parallel
# /start reached the in-process sandbox within 22 ms of each other with 6 suite runs on 2 cores. One
# gap per started activity costs an in-process suite run about 12 s.
RACE_SECONDS = 0.1
CATEGORIES = frozenset(
    {
        "boundary",
        "code",
        "status",
        "body presence",
        "body fields",
        "envelope",
        "lifecycle",
        "sync gate",
        "eligibility",
        "rate limiting",
        "robustness",
        "time zone",
        "concurrency",
    }
)


def _errors(old: str, new: str) -> ContractEdit:
    return ContractEdit(ERRORS, old, new)


def _behaviour(old: str, new: str) -> ContractEdit:
    return ContractEdit(BEHAVIOUR, old, new)


def _edge_exclusive(limit: str) -> ContractEdit:
    """The ends_at window's edge at `limit` (min_seconds | max_seconds) refused rather than accepted."""
    return _behaviour(
        f"limit: {limit}\n    accepted_at_edge: true", f"limit: {limit}\n    accepted_at_edge: false"
    )


def _refreshed_as_added(body: dict[str, Any]) -> dict[str, Any]:
    return {"added": body.get("added", 0) + body["refreshed"], "refreshed": 0}


CONTRACT_MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        name="ends-at-min-plus-1s",
        category="boundary",
        description="ENDS_AT_TOO_SOON's edge moved by one second: exactly 5:00 away is refused",
        edit=_errors("min_seconds: 300", "min_seconds: 301"),
        probe=register(ends_in=300),
    ),
    Mutant(
        name="ends-at-max-minus-1s",
        category="boundary",
        description="ENDS_AT_TOO_FAR's edge moved by one second: exactly 7 days away is refused",
        edit=_errors("max_seconds: 604800", "max_seconds: 604799"),
        probe=register(ends_in=604800),
    ),
    Mutant(
        name="ends-at-min-exclusive",
        category="boundary",
        description="ENDS_AT_TOO_SOON's edge made exclusive: exactly 5:00 away is refused",
        edit=_edge_exclusive("min_seconds"),
        probe=register(ends_in=_LOW),
    ),
    Mutant(
        name="ends-at-max-exclusive",
        category="boundary",
        description="ENDS_AT_TOO_FAR's edge made exclusive: exactly 7 days away is refused",
        edit=_edge_exclusive("max_seconds"),
        probe=register(ends_in=_HIGH),
    ),
    Mutant(
        name="ends-at-min-minus-1s",
        category="boundary",
        description="ENDS_AT_TOO_SOON's edge moved one second lower: 4:59 away is accepted",
        edit=_errors(f"min_seconds: {_LOW}", f"min_seconds: {_LOW - 1}"),
        probe=register(ends_in=_LOW - 1),
    ),
    Mutant(
        name="ends-at-max-plus-1s",
        category="boundary",
        description="ENDS_AT_TOO_FAR's edge moved one second higher: 7 days + 1 s away is accepted",
        edit=_errors(f"max_seconds: {_HIGH}", f"max_seconds: {_HIGH + 1}"),
        probe=register(ends_in=_HIGH + 1),
    ),
    Mutant(
        name="insider-ids-max-minus-1",
        category="boundary",
        description="INSIDER_IDS_OUT_OF_RANGE's maximum moved by one id: 10,000 ids are refused",
        edit=_errors("max_items: 10000", "max_items: 9999"),
        probe=register_count(_IDS.max_items),
    ),
    Mutant(
        name="insider-ids-min-plus-1",
        category="boundary",
        description="INSIDER_IDS_OUT_OF_RANGE's minimum moved by one id: a single id is refused",
        edit=_errors("min_items: 1\n", "min_items: 2\n"),
        probe=register_count(_IDS.min_items),
    ),
    Mutant(
        name="rate-limit-plus-1",
        category="rate limiting",
        description="the 429 comes one request late: 1,001 requests a minute pass",
        edit=_errors(f"requests: {_RATE.requests}", f"requests: {_RATE.requests + 1}"),
        probe=over_the_limit(_RATE.requests, lowered=False),
    ),
    Mutant(
        name="rate-bucket-per-key",
        category="rate limiting",
        description="one rate bucket per API key, not per key, path and method: a full /remove-users "
        "bucket limits /add-users too",
        edit=_behaviour("bucket: [api_key, path, method]", "bucket: [api_key]"),
        probe=beside_the_limit(2, "remove-users", "add-users"),
    ),
    Mutant(
        name="field-wrong-code",
        category="code",
        description="a missing activity_type gets VALIDATION_FAILED instead of ACTIVITY_TYPE_REQUIRED",
        edit=_behaviour(
            "      missing: {expect: {codes: [ACTIVITY_TYPE_REQUIRED]}",
            "      missing: {expect: {codes: [VALIDATION_FAILED]}",
        ),
        probe=register_without("activity_type"),
    ),
    Mutant(
        name="unparseable-body-wrong-code",
        category="code",
        description="an unparseable body gets VALIDATION_FAILED instead of REQUEST_INVALID",
        edit=_behaviour(
            "expect: {codes: [REQUEST_INVALID, BAD_REQUEST]}", "expect: {codes: [VALIDATION_FAILED]}"
        ),
        probe=raw("register", b'{"activity_type": '),
    ),
    Mutant(
        name="unbound-key-wrong-code",
        category="code",
        description="a key bound to no customer gets VALIDATION_FAILED instead of PARTNER_REQUIRED",
        edit=_behaviour(
            "unbound: {expect: {codes: [PARTNER_REQUIRED]}", "unbound: {expect: {codes: [VALIDATION_FAILED]}"
        ),
        probe=register(account="unbound"),
    ),
    Mutant(
        name="not-renewed-key-wrong-code",
        category="code",
        description="a key whose account was not renewed gets 412 PARTNER_REQUIRED instead of 401",
        edit=_behaviour(
            "not_renewed: {expect: {codes: [HTTP_401]}", "not_renewed: {expect: {codes: [PARTNER_REQUIRED]}"
        ),
        probe=register(account="not_renewed"),
    ),
    Mutant(
        name="target-device-without-field-ignored",
        category="code",
        description="an element of target_devices without its udid is ignored, not TARGET_DEVICES_INVALID",
        rewrite=incomplete_elements_dropped(_DEVICES.field, _DEVICES.element_fields),
        probe=target_device_without("update", "udid"),
    ),
    Mutant(
        name="single-ghost-wrong-code",
        category="eligibility",
        description="/register of one insider without a profile gets APP_NOT_FOUND, not PROFILE_NOT_FOUND",
        edit=_behaviour(
            "    code: PROFILE_NOT_FOUND\n    endpoint: register",
            "    code: APP_NOT_FOUND\n    endpoint: register",
        ),
        probe=register(first_of("no_profile")),
    ),
    Mutant(
        name="no-eligible-wrong-status",
        category="eligibility",
        description="no eligible device left gets 400 VALIDATION_FAILED, not 422 NO_ELIGIBLE_DEVICE",
        edit=_behaviour("    code: NO_ELIGIBLE_DEVICE", "    code: VALIDATION_FAILED"),
        probe=register(first_of("android")),
    ),
    Mutant(
        name="android-wrong-counter",
        category="eligibility",
        description="an Android device counts in skipped.unsupported_os_version, not unsupported_platform",
        edit=_behaviour(
            "android: {skipped: unsupported_platform", "android: {skipped: unsupported_os_version"
        ),
        probe=register(first_of("eligible", "android")),
    ),
    Mutant(
        name="start-twice-ok",
        category="lifecycle",
        description="the missing 409: a second /start is accepted instead of ALREADY_STARTED",
        edit=_behaviour(
            "{endpoint: start, from: STARTED, expect: {codes: [ALREADY_STARTED]},",
            "{endpoint: start, from: STARTED, outcome: ok,",
        ),
        probe=after("started", "start"),
    ),
    Mutant(
        name="add-users-after-start-ok",
        category="lifecycle",
        description="the missing 409: /add-users on a started activity is accepted",
        edit=_behaviour(
            "{endpoint: add-users, from: STARTED, expect: {codes: [ALREADY_STARTED]},",
            "{endpoint: add-users, from: STARTED, outcome: ok,",
        ),
        probe=after("started", "add-users"),
    ),
    Mutant(
        name="end-keeps-activity",
        category="lifecycle",
        description="a state transition skipped: /end leaves the activity alive, a second /end succeeds",
        edit=_behaviour(
            "{endpoint: end, from: STARTED, outcome: sync_gate, to: DEAD,",
            "{endpoint: end, from: STARTED, outcome: sync_gate,",
        ),
        probe=after("ended", "end"),
    ),
    Mutant(
        name="update-skips-sync-gate",
        category="sync gate",
        description="/update pushes at once after /start, with no PUSH_TOKEN_NOT_SYNCED gate",
        edit=_behaviour(
            "{endpoint: update, from: STARTED, outcome: sync_gate,",
            "{endpoint: update, from: STARTED, outcome: ok,",
        ),
        probe=after("started", "update"),
    ),
    Mutant(
        name="empty-target-devices-refused",
        category="code",
        description="`target_devices: []` gets TARGET_DEVICES_INVALID instead of the whole segment",
        edit=_behaviour(
            "empty_list: {outcome: ok,", "empty_list: {expect: {codes: [TARGET_DEVICES_INVALID]},"
        ),
        probe=after("registered", "start", target_devices=[]),
    ),
    Mutant(
        name="not-synced-wrong-code",
        category="sync gate",
        description="no device synced gets 412 APNS_CERT_MISSING instead of PUSH_TOKEN_NOT_SYNCED",
        edit=_behaviour(
            "none_synced: {expect: {codes: [PUSH_TOKEN_NOT_SYNCED]}",
            "none_synced: {expect: {codes: [APNS_CERT_MISSING]}",
        ),
        probe=after("started", "update"),
    ),
)

REQUEST_MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        name="ends-at-offset-ignored",
        category="time zone",
        description="ends_at's UTC offset is ignored: `...T10:00+05:30` is read as `...T10:00Z`",
        rewrite=offset_dropped("ends_at"),
        probe=register_in_zone(60, timedelta(hours=5, minutes=30)),
    ),
)

RESPONSE_MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        name="429-with-body",
        category="body presence",
        description="a 429 carries a JSON body, which the table documents as never there",
        corrupt=where(both(one_of_statuses(429), bodyless), becomes(body={"error": "Too many requests"})),
        probe=over_the_limit(1),
    ),
    Mutant(
        name="bad-json-500",
        category="robustness",
        description="an unparseable JSON body gets 500 instead of the documented 400",
        corrupt=where(both(answered(400), unparseable_request), becomes(500, INTERNAL_ERROR)),
        probe=raw("register", b'{"activity_type": '),
    ),
    Mutant(
        name="content-type-415",
        category="status",
        description="a body sent as text/plain gets 415 instead of the documented 400",
        corrupt=where(answered(400, code="VALIDATION_FAILED"), becomes(415)),
        probe=raw("register", b'{"activity_type": "x"}', content_type="text/plain"),
    ),
    Mutant(
        name="already-started-as-400",
        category="status",
        description="ALREADY_STARTED comes with status 400 instead of 409",
        corrupt=where(answered(409), becomes(400)),
        probe=after("started", "start"),
    ),
    Mutant(
        name="success-without-status",
        category="envelope",
        description='a success body lacks `"status": "success"`',
        corrupt=where(both(answered(200), carrying("status")), without("status")),
        probe=register(),
    ),
    Mutant(
        name="error-without-message",
        category="envelope",
        description="an error envelope lacks the `error` string",
        corrupt=where(carrying("error"), without("error")),
        probe=register_without("activity_type"),
    ),
    Mutant(
        name="end-after-end-200",
        category="lifecycle",
        description="/end on an ended activity answers 200 instead of 404 NOT_FOUND",
        corrupt=where(answered(404, code="NOT_FOUND", endpoint="end"), becomes(200, SUCCESS_PUSH)),
        probe=after("ended", "end"),
    ),
    Mutant(
        name="skipped-not-synced-plus-1",
        category="sync gate",
        description="skipped_not_synced counts one device too many",
        corrupt=where(carrying("skipped_not_synced"), plus_one("skipped_not_synced")),
        probe=after("synced", "update", one_syncing_one_offline),
    ),
    Mutant(
        name="blank-target-insider-accepted-on-update",
        category="sync gate",
        description="/update accepts a blank insider_id in target_devices, then answers 412 (none synced)",
        corrupt=where(
            both(answered(400, code="TARGET_DEVICES_INVALID", endpoint="update"), blank_in(*_TARGET_INSIDER)),
            becomes(412, {"error": "push token not synced", "code": "PUSH_TOKEN_NOT_SYNCED"}),
        ),
        probe=after("synced", "update", target_devices=[{"insider_id": "", "udid": "any-udid"}]),
    ),
    Mutant(
        name="added-plus-1",
        category="eligibility",
        description="/register's `added` counts one device too many",
        corrupt=where(both(answered(200, endpoint="register"), carrying("added")), plus_one("added")),
        probe=register(),
    ),
    Mutant(
        name="no-eligible-without-skipped",
        category="eligibility",
        description="a 422 NO_ELIGIBLE_DEVICE lacks the `skipped` counters the table tells clients to read",
        corrupt=where(answered(422), without("skipped")),
        probe=register(first_of("android")),
    ),
    Mutant(
        name="gdpr-details-dropped",
        category="eligibility",
        description="/register leaves out gdpr_denied_details for a GDPR-denied insider",
        corrupt=where(answered(200, endpoint="register"), without("gdpr_denied_details")),
        probe=register(first_of("eligible", "gdpr_denied")),
    ),
    Mutant(
        name="refreshed-counted-as-added",
        category="eligibility",
        description="a device already in the activity's segment counts as added, not as refreshed",
        corrupt=where(both(answered(200), carrying("refreshed")), merged(_refreshed_as_added)),
        probe=after("registered", "add-users"),
    ),
    Mutant(
        name="skipped-key-dropped",
        category="body fields",
        description="`skipped` lacks user_not_found on /register and /add-users (their 200 and 422)",
        corrupt=where(
            both(to("register", "add-users"), carrying("skipped")),
            nested_without("skipped", "user_not_found"),
        ),
        probe=register(),
    ),
    Mutant(
        name="register-without-activity-id",
        category="body fields",
        description="a /register 200 lacks the activity_id its success schema requires",
        corrupt=where(answered(200, endpoint="register"), without("activity_id")),
        probe=register(),
    ),
    Mutant(
        name="start-not-atomic",
        category="concurrency",
        description="/start is not atomic: /starts of one activity in flight at once all get 200",
        corrupt=where(
            both(answered(409, code="ALREADY_STARTED", endpoint="start"), overlapping),
            becomes(200, SUCCESS_PUSH),
        ),
        gap=Gap("start", RACE_SECONDS),
        probe=together("registered", "start"),
    ),
)

MUTANTS: tuple[Mutant, ...] = (*CONTRACT_MUTANTS, *REQUEST_MUTANTS, *RESPONSE_MUTANTS)

# Differences the docs allow: the suite must pass on each.
CONFORMING: tuple[Mutant, ...] = (
    Mutant(
        name="401-and-503-with-body",
        category="conforming",
        description="401 and 503 carry a JSON body (the table: only *some* of them have none)",
        corrupt=where(both(one_of_statuses(401, 503), bodyless), becomes(body={"error": "Unauthorized"})),
        probe=register(account=None),
    ),
    Mutant(
        name="other-error-wording",
        category="conforming",
        description="every `error` message is worded differently (wording is for people, never judged)",
        corrupt=where(carrying("error"), merged(lambda body: {"error": f"Sorry: {body['error'].lower()}"})),
        probe=register_without("activity_type"),
    ),
    Mutant(
        name="extra-response-fields",
        category="conforming",
        description="every JSON answer carries an undocumented extra field (a request id)",
        corrupt=merged(lambda _: {"request_id": "req-0001"}),
        probe=register(),
    ),
)

BY_NAME: dict[str, Mutant] = {m.name: m for m in (*MUTANTS, *CONFORMING)}
if len(BY_NAME) != len(MUTANTS) + len(CONFORMING):
    raise ValueError("two mutants share a name")

# Mutants that move an ends_at edge by one second, and the label of the suite's named edge case
# (test_ends_at_named_edge[<label>-<zone>]) whose answer each changes: the first case to fail.
NAMED_EDGE_MOVED: dict[str, str] = {
    "ends-at-min-plus-1s": _EDGE[_LOW],
    "ends-at-max-minus-1s": _EDGE[_HIGH],
    "ends-at-min-exclusive": _EDGE[_LOW],
    "ends-at-max-exclusive": _EDGE[_HIGH],
    "ends-at-min-minus-1s": _EDGE[_LOW - 1],
    "ends-at-max-plus-1s": _EDGE[_HIGH + 1],
}
if not NAMED_EDGE_MOVED.keys() <= BY_NAME.keys():
    raise ValueError(f"no such mutant: {sorted(NAMED_EDGE_MOVED.keys() - BY_NAME.keys())}")

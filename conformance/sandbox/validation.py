"""The request check groups, driven by behaviour.yaml and the request schemas of openapi.yaml.

Each group answers the code of the first rule the request breaks, or None. A group that needs
something an earlier-broken rule denies it (a parsed object, a list) passes, so that any precedence
order of the groups gives a request exactly one answer: that of the first group that objects.
The lifecycle group needs the activity store and lives in `conformance.sandbox.state`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conformance.contract import Contract
from conformance.contract.model import BodyRule
from conformance.core.clock import Clock, parse_rfc3339
from conformance.sandbox.decide import Codes, decide
from conformance.sandbox.incoming import BLANK_BODY, Incoming
from conformance.sandbox.readings import (
    CLOCK_RESOLUTION,
    TITLE_MESSAGE_ON_UPDATE_END,
    UNKNOWN_REQUEST_FIELDS,
    UNPARSEABLE_BODY_CODE,
    WRONG_TYPE_CODE,
    Readings,
)

RequestCheck = Callable[[Incoming], str | None]

_MISSING = object()
JSON_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "string": str,
    "array": list,
    "object": dict,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}
# A broken case a rule does not list falls back to the next name; malformed values (a wrong type, an
# unreadable timestamp) are never accepted, while an absent or blank optional value is.
FALLBACK: Mapping[str, tuple[str, ...]] = {
    "null": ("null", "wrong_type"),
    "whitespace": ("whitespace", "empty"),
}
MALFORMED = frozenset({"null", "wrong_type", "not_a_timestamp"})
# The cases the reading wrong-type-code=bad-request reads as a body that cannot be parsed as the request.
WRONGLY_TYPED = frozenset({"null", "wrong_type"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The fields the reading title-message-on-update-end makes required where their case is undocumented.
TITLE_AND_MESSAGE = frozenset({"content.title", "content.message"})


def _string_case(value: object) -> str | None:
    """How a required string is broken: missing, null, wrong_type, empty, whitespace; None if fine."""
    if value is _MISSING:
        return "missing"
    if value is None:
        return "null"
    if not isinstance(value, str):
        return "wrong_type"
    if not value:
        return "empty"
    return "whitespace" if not value.strip() else None


@dataclass(frozen=True)
class _FieldCheck:
    path: tuple[str, ...]
    json_type: type | tuple[type, ...] | None
    timestamp: bool
    codes: Mapping[str, str | None]  # broken case -> decided code (None: accepted)
    fallback: str  # for a malformed value no case names

    def case_of(self, data: Mapping[str, Any]) -> str | None:
        value: object = data
        for part in self.path:
            value = value.get(part, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING or value is None:
            return "missing" if value is _MISSING else "null"
        if self.json_type is not None and (
            not isinstance(value, self.json_type) or (isinstance(value, bool) and self.json_type is not bool)
        ):
            return "wrong_type"
        if isinstance(value, str):
            case = _string_case(value)
            if case is None and self.timestamp and parse_rfc3339(value) is None:
                return "not_a_timestamp"
            return case
        return None

    def code_for(self, case: str) -> str | None:
        for name in FALLBACK.get(case, (case,)):
            if name in self.codes:
                return self.codes[name]
        return self.fallback if case in MALFORMED else None


class Checks:
    """Every check group but lifecycle, precomputed from the contract and the readings taken."""

    def __init__(self, contract: Contract, clock: Clock, codes: Codes, readings: Readings) -> None:
        behaviour = contract.behaviour
        self._fallback = codes.fallback
        self._clock = clock
        self._accounts = {state: codes.decided(e) for state, e in behaviour.accounts.items()}
        self._content_type_code = codes.decided(behaviour.body_rule("wrong_content_type").expectation)
        self._body_codes = _body_codes(behaviour.body_rules, codes, readings)
        required = readings.takes(TITLE_MESSAGE_ON_UPDATE_END, "required")
        unreadable = _option_code("bad-request") if readings.takes(WRONG_TYPE_CODE, "bad-request") else None
        self._fields = {
            endpoint: _field_checks(contract, endpoint, codes, required, unreadable)
            for endpoint in contract.endpoints
        }
        self._declared = (
            {endpoint: frozenset(contract.request_properties(endpoint)) for endpoint in contract.endpoints}
            if readings.takes(UNKNOWN_REQUEST_FIELDS, "rejected")
            else None
        )
        self._whole_seconds = readings.takes(CLOCK_RESOLUTION, "whole-seconds")
        self._ids = behaviour.insider_ids
        self._blank_id_code = codes.decided(self._ids.blank_element)
        self._window = behaviour.ends_at
        self._at_now_code = codes.decided(self._window.at_now)
        self._devices = behaviour.target_devices
        self._device_codes = {case: codes.decided(e) for case, e in self._devices.cases.items()}
        self._empty_devices_code = codes.of(decide(self._devices.empty_list))

    def groups(self) -> dict[str, RequestCheck]:
        return {
            "account": self.account,
            "body": self.body,
            "fields": self.fields,
            "insider_ids": self.insider_ids,
            "ends_at_window": self.ends_at_window,
            "target_devices": self.target_devices,
        }

    def account(self, incoming: Incoming) -> str | None:
        return self._accounts.get(incoming.account, self._fallback)

    def body(self, incoming: Incoming) -> str | None:
        if not incoming.json_content_type:
            return self._content_type_code
        return (
            None if incoming.body_case is None else self._body_codes.get(incoming.body_case, self._fallback)
        )

    def fields(self, incoming: Incoming) -> str | None:
        if incoming.body_case is not None:
            return None
        for check in self._fields[incoming.endpoint]:
            case = check.case_of(incoming.data)
            code = None if case is None else check.code_for(case)
            if code is not None:
                return code
        return self._unknown_field_code(incoming)

    def _unknown_field_code(self, incoming: Incoming) -> str | None:
        """unknown-request-fields=rejected: a top-level field openapi.yaml does not declare is refused."""
        if self._declared is None or set(incoming.data) <= self._declared[incoming.endpoint]:
            return None
        return self._fallback

    def insider_ids(self, incoming: Incoming) -> str | None:
        ids = incoming.data.get(self._ids.field)
        if incoming.endpoint not in self._ids.endpoints or not isinstance(ids, list):
            return None
        if not self._ids.min_items <= len(ids) <= self._ids.max_items:
            return self._ids.row
        if any(not isinstance(i, str) or not i.strip() for i in ids):
            return self._blank_id_code
        return None

    def ends_at_window(self, incoming: Incoming) -> str | None:
        value = incoming.data.get(self._window.field)
        if incoming.endpoint != self._window.endpoint or not isinstance(value, str):
            return None
        ends_at = parse_rfc3339(value)
        return None if ends_at is None else self._window_code(self._seconds_until(ends_at))

    def _seconds_until(self, moment: datetime) -> float:
        """From now to `moment`: exact, or in whole seconds of both (clock-resolution=whole-seconds)."""
        now = self._clock.now()
        if self._whole_seconds:
            return float(_whole_second(moment) - _whole_second(now))
        return (moment - now).total_seconds()

    def _window_code(self, offset: float) -> str | None:
        """The code for an ends_at `offset` seconds from now (the edges come from the table's rows)."""
        low, high = self._window.minimum, self._window.maximum
        if offset <= 0:
            return self._window.past_code if offset < 0 else self._at_now_code
        if offset < low.value or (offset == low.value and not low.accepted_at_edge):
            return low.code
        if offset > high.value or (offset == high.value and not high.accepted_at_edge):
            return high.code
        return None

    def target_devices(self, incoming: Incoming) -> str | None:
        devices = incoming.data.get(self._devices.field, _MISSING)
        if incoming.endpoint not in self._devices.endpoints or devices is _MISSING:
            return None
        if not isinstance(devices, list):
            return self._devices.row
        if not devices:
            return self._empty_devices_code
        for device in devices:
            if not isinstance(device, dict):
                return self._devices.row
            for name in self._devices.element_fields:
                case = _string_case(device.get(name, _MISSING))
                if case is not None:
                    return self._device_codes.get(case) or self._devices.row
        return None


def _body_codes(rules: tuple[BodyRule, ...], codes: Codes, readings: Readings) -> dict[str, str | None]:
    """Body case -> code. A blank body gets the empty body's code, unless unparseable-body-code is
    `bad-request`: then it and an unparseable body get that accepted code of the unparseable rule."""
    found = {rule.case: codes.decided(rule.expectation) for rule in rules}
    found[BLANK_BODY] = found.get("empty", codes.fallback)
    if readings.takes(UNPARSEABLE_BODY_CODE, "bad-request"):
        found["unparseable"] = found[BLANK_BODY] = _code_named(rules, "unparseable", "bad-request")
    return found


def _option_code(option: str) -> str:
    """The code an option is named after (`bad-request` names BAD_REQUEST)."""
    return option.replace("-", "_").upper()


def _code_named(rules: tuple[BodyRule, ...], case: str, option: str) -> str:
    """The code of the `case` rule that the option names (`bad-request` names BAD_REQUEST)."""
    wanted = _option_code(option)
    accepted = next((rule.expectation.outcome.codes for rule in rules if rule.case == case), ())
    if wanted not in accepted:
        raise ValueError(f"behaviour.yaml body case {case!r} does not accept {wanted}, option {option!r}")
    return wanted


def _field_checks(
    contract: Contract,
    endpoint: str,
    codes: Codes,
    title_and_message_required: bool,
    unreadable: str | None,
) -> tuple[_FieldCheck, ...]:
    """The field rules of one endpoint, in file order, with each field's type from openapi.yaml.

    `unreadable` (wrong-type-code=bad-request): the code a wrongly typed field gets, where its case
    accepts it (a body that cannot be parsed as the request)."""
    checks = []
    for rule in contract.behaviour.field_rules_for(endpoint):
        path = tuple(rule.field.split("."))
        schema = contract.request_field(endpoint, rule.field)
        decided = {
            case: unreadable if unreadable in e.outcome.codes and case in WRONGLY_TYPED else codes.decided(e)
            for case, e in rule.cases.items()
        }
        if title_and_message_required and rule.field in TITLE_AND_MESSAGE:
            # title-message-on-update-end=required: the param tables win where the docs leave it open.
            decided.update({case: codes.fallback for case, e in rule.cases.items() if not e.asserted})
        checks.append(
            _FieldCheck(
                path=path,
                json_type=JSON_TYPES.get(schema.get("type", "")),
                timestamp=schema.get("format") == "date-time",
                codes=decided,
                fallback=codes.fallback,
            )
        )
    return tuple(checks)


def _whole_second(moment: datetime) -> int:
    """The UNIX time of `moment`, floored to the second; exact for any UTC offset and fraction."""
    return int((moment.astimezone(UTC).replace(microsecond=0) - EPOCH).total_seconds())

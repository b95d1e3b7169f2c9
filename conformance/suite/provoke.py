"""How to provoke each row of the error table on each endpoint, derived from behaviour.yaml.

For a (row, endpoint) pair, `provocations` lists every request the contract says may produce that
row: an account key, a malformed body, a broken field, an edge of a range, a lifecycle state, the
sync gate, an eligibility class, the rate limit, or an injected fault. The suite prefers one whose
only acceptable outcome is the row; where every candidate also allows other codes, the row counts as
verified only when the target answers with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from conformance.contract import Contract
from conformance.contract.model import EndsAtWindow, Expectation
from conformance.exchange import Request
from conformance.generate.oracle import ActivityModel
from conformance.generate.strategies import FieldBreak, field_breaks, insider_ids, place_ends_at
from conformance.targets.target import Verifier

Need = Literal["nothing", "registered", "started", "synced", "dead"]
BODY_CASES = {
    "empty": b"",
    "unparseable": b'{"activity_type": ',
    "not_object": b"[1, 2]",
    "empty_object": b"{}",
}
PAST_OFFSET_SECONDS = -3600
NEED_OF_STATE: dict[str, Need] = {"REGISTERED": "registered", "STARTED": "started", "DEAD": "dead"}


@dataclass(frozen=True)
class Provocation:
    label: str
    codes: tuple[str, ...]  # every code the contract allows for this request
    build: Callable[[Verifier], Request]
    kind: Literal["request", "rate_limit", "fault"] = "request"
    account: str = "good"

    @property
    def exclusive(self) -> bool:
        return len(self.codes) == 1


def provocations(contract: Contract, row: str, endpoint: str) -> list[Provocation]:
    """Every way the contract gives of provoking `row` on `endpoint`; exclusive ones first."""
    found = [p for p in _all(contract, endpoint) if row in p.codes]
    return sorted(found, key=lambda p: not p.exclusive)


def _codes(expectation: Expectation) -> tuple[str, ...]:
    sides = tuple(c for side in expectation.conflict if side.outcome for c in side.outcome.codes)
    return tuple(dict.fromkeys(expectation.outcome.codes + sides))


def _all(contract: Contract, endpoint: str) -> Iterator[Provocation]:
    b = contract.behaviour
    for state, expectation in b.accounts.items():
        if expectation.outcome.kind == "error":
            yield Provocation(f"account {state}", _codes(expectation), _valid(endpoint, state), account=state)
    for rule in b.body_rules:
        if rule.case in BODY_CASES:
            raw = BODY_CASES[rule.case]
            yield Provocation(f"body {rule.case}", _codes(rule.expectation), _raw(endpoint, raw))
    for broken in field_breaks(contract, endpoint):
        expectation = next(r for r in b.field_rules if r.id == broken.rule).cases[broken.case]
        if expectation.asserted:
            yield Provocation(
                broken.label,
                _codes(expectation),
                _mutated(endpoint, _broken(broken)),
            )
    yield from _ranges(contract, endpoint)
    yield from _states(contract, endpoint)
    yield Provocation("rate limit", (b.rate_limit.row,), _valid(endpoint, "good"), kind="rate_limit")
    for fault in b.fault_only:
        yield Provocation(f"injected {fault.row}", (fault.row,), _valid(endpoint, "good"), kind="fault")


def _ranges(contract: Contract, endpoint: str) -> Iterator[Provocation]:
    b = contract.behaviour
    ids = b.insider_ids
    if endpoint in ids.endpoints:
        for label, count in (
            ("0 insider ids", ids.min_items - 1),
            ("too many insider ids", ids.max_items + 1),
        ):
            yield Provocation(
                label,
                (ids.row,),
                _mutated(endpoint, _with(ids.field, _ids(count))),
            )
    window = b.ends_at
    if endpoint == window.endpoint:
        for label, offset, code in (
            ("ends_at in the past", PAST_OFFSET_SECONDS, window.past_code),
            ("ends_at too soon", window.minimum.value - 60, window.minimum.code),
            ("ends_at too far", window.maximum.value + 3600, window.maximum.code),
        ):
            yield Provocation(
                label,
                (code,),
                _mutated(endpoint, _with(window.field, _ends_at(offset, window))),
            )
    devices = b.target_devices
    if endpoint in devices.endpoints:

        def blank_udid(body: dict[str, object], v: Verifier) -> dict[str, object]:
            insider = v.profile.syncing_insiders()[0]
            return {**body, devices.field: [{"insider_id": insider.insider_id, "udid": ""}]}

        yield Provocation("blank udid in target_devices", (devices.row,), _mutated(endpoint, blank_udid))


def _states(contract: Contract, endpoint: str) -> Iterator[Provocation]:
    b = contract.behaviour
    if endpoint != "register":
        for state in b.lifecycle.states:
            expectation = b.lifecycle.transition(endpoint, state).expectation
            if expectation.asserted and expectation.outcome.kind == "error":
                need = NEED_OF_STATE[state]
                yield Provocation(
                    f"{endpoint} on a {state} activity", _codes(expectation), _valid(endpoint, "good", need)
                )
    if endpoint in b.sync_gate.endpoints:
        yield Provocation("no target device synced", _codes(b.sync_gate.none_synced), _unsynced(endpoint))
    eligibility = b.eligibility
    if endpoint in eligibility.no_eligible_endpoints:
        yield Provocation("no eligible device", (eligibility.no_eligible_code,), _ineligible(endpoint))
    if endpoint == "register":

        def ghost(v: Verifier) -> Request:
            body = _body(v, endpoint, None)
            return Request(endpoint, {**body, "insider_ids": ["conformance-no-such-insider"]})

        yield Provocation("one insider without a profile", (eligibility.single_without_profile_code,), ghost)


# -- request builders ----------------------------------------------------------------------------


def _activity(v: Verifier, endpoint: str, need: Need) -> ActivityModel | None:
    if endpoint == "register":
        return None
    if need == "nothing":
        need = "synced" if endpoint in ("update", "end") else "registered"
    activity = v.register()
    if need == "dead":
        return v.ended(activity)
    if need in ("started", "synced"):
        v.start(activity)
    if need == "synced":
        v.wait_for_sync()
    return activity


def _body(v: Verifier, endpoint: str, activity: ActivityModel | None) -> dict[str, object]:
    if endpoint == "register":
        window = v.contract.behaviour.ends_at
        return {
            "activity_type": v.profile.activity_type,
            "insider_ids": [i.insider_id for i in v.profile.syncing_insiders()],
            "ends_at": place_ends_at(window.minimum.value + 120, v.when(), window)[0],
        }
    assert activity is not None
    if endpoint in ("add-users", "remove-users"):
        return v.segment_body(activity, [i.insider_id for i in v.profile.syncing_insiders()[:1]])
    return v.push_body(activity)


def _valid(endpoint: str, account: str, need: Need = "nothing") -> Callable[[Verifier], Request]:
    def build(v: Verifier) -> Request:
        return Request(endpoint, _body(v, endpoint, _activity(v, endpoint, need)), account=account)

    return build


Mutation = Callable[[dict[str, object], Verifier], dict[str, object]]
Value = Callable[[Verifier], object]


def _raw(endpoint: str, raw: bytes) -> Callable[[Verifier], Request]:
    return lambda _: Request(endpoint, raw=raw)


def _broken(broken: FieldBreak) -> Mutation:
    return lambda body, _: broken.apply(body)


def _with(name: str, value: Value) -> Mutation:
    return lambda body, v: {**body, name: value(v)}


def _ids(count: int) -> Value:
    return lambda v: insider_ids(count, v.profile)


def _ends_at(offset: int, window: EndsAtWindow) -> Value:
    return lambda v: place_ends_at(offset, v.when(), window)[0]


def _mutated(endpoint: str, mutate: Mutation) -> Callable[[Verifier], Request]:
    def build(v: Verifier) -> Request:
        return Request(endpoint, mutate(_body(v, endpoint, _activity(v, endpoint, "nothing")), v))

    return build


def _unsynced(endpoint: str) -> Callable[[Verifier], Request]:
    def build(v: Verifier) -> Request:
        offline = v.profile.never_syncing_insiders()
        if not offline:
            v.skip("the target profile lists no eligible device that never syncs", endpoint=endpoint)
        activity = v.register(offline)
        v.start(activity)
        return Request(endpoint, v.push_body(activity))

    return build


def _ineligible(endpoint: str) -> Callable[[Verifier], Request]:
    def build(v: Verifier) -> Request:
        classes = v.contract.behaviour.eligibility.classes
        ineligible = [
            i
            for i in v.profile.insiders
            if classes[i.eligibility].counter is None and i.eligibility != "no_profile"
        ]
        if not ineligible:
            v.skip("the target profile lists no ineligible insider", endpoint=endpoint)
        ids = [i.insider_id for i in ineligible]
        if endpoint == "register":
            return Request(endpoint, {**_body(v, endpoint, None), "insider_ids": ids})
        activity = v.register()
        return Request(endpoint, v.segment_body(activity, ids))

    return build

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
from conformance.core.exchange import Request
from conformance.generate.bodies import push_body, segment_body
from conformance.generate.strategies import FieldBreak, field_breaks, insider_ids, place_ends_at
from conformance.suite.valid import Need, activity_for, creating_body, need_of_state, valid_body
from conformance.targets.arrange import Arranger

BODY_CASES = {
    "empty": b"",
    "unparseable": b'{"activity_type": ',
    "not_object": b"[1, 2]",
    "empty_object": b"{}",
}
PAST_OFFSET_SECONDS = -3600

Build = Callable[[Arranger], Request]


@dataclass(frozen=True)
class Provocation:
    label: str
    codes: tuple[str, ...]  # every code the contract allows for this request
    build: Build
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
            label = f"account {state}{_unseen_activity(contract, endpoint)}"
            yield Provocation(label, _codes(expectation), _valid(endpoint, state), account=state)
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


def _unseen_activity(contract: Contract, endpoint: str) -> str:
    """What the label of an account case adds on an endpoint that acts on an activity: a key of another
    account sees no activity, so the answer to an unknown one is documented too, and no arrangement
    separates the two (which check comes first is not documented)."""
    if endpoint == contract.roles.creates_activity:
        return ""
    unknown = contract.behaviour.lifecycle.transition(endpoint, contract.ended_state).expectation
    codes = " or ".join(unknown.outcome.codes)
    return f" (either its code or {codes}: the key sees no activity; no arrangement separates them)"


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

        def blank_udid(body: dict[str, object], arrange: Arranger) -> dict[str, object]:
            insider = arrange.profile.syncing_insiders()[0]
            return {**body, devices.field: [{"insider_id": insider.insider_id, "udid": ""}]}

        yield Provocation("blank udid in target_devices", (devices.row,), _mutated(endpoint, blank_udid))


def _states(contract: Contract, endpoint: str) -> Iterator[Provocation]:
    b = contract.behaviour
    if endpoint != contract.roles.creates_activity:
        for state in b.lifecycle.states:
            expectation = b.lifecycle.transition(endpoint, state).expectation
            if expectation.asserted and expectation.outcome.kind == "error":
                need = need_of_state(contract, state)
                yield Provocation(
                    f"{endpoint} on a {state} activity", _codes(expectation), _valid(endpoint, "good", need)
                )
    if endpoint in b.sync_gate.endpoints:
        yield Provocation("no target device synced", _codes(b.sync_gate.none_synced), _unsynced(endpoint))
    eligibility = b.eligibility
    if endpoint in eligibility.no_eligible_endpoints:
        yield Provocation("no eligible device", (eligibility.no_eligible_code,), _ineligible(endpoint))
    if endpoint == eligibility.single_without_profile_endpoint:

        def ghost(arrange: Arranger) -> Request:
            return Request(endpoint, creating_body(arrange.verifier, ["conformance-no-such-insider"]))

        yield Provocation("one insider without a profile", (eligibility.single_without_profile_code,), ghost)


# -- request builders ----------------------------------------------------------------------------


def _valid(endpoint: str, account: str, need: Need = "nothing") -> Build:
    def build(arrange: Arranger) -> Request:
        activity = activity_for(arrange, endpoint, need)
        return Request(endpoint, valid_body(arrange.verifier, endpoint, activity), account=account)

    return build


Mutation = Callable[[dict[str, object], Arranger], dict[str, object]]
Value = Callable[[Arranger], object]


def _raw(endpoint: str, raw: bytes) -> Build:
    return lambda _: Request(endpoint, raw=raw)


def _broken(broken: FieldBreak) -> Mutation:
    return lambda body, _: broken.apply(body)


def _with(name: str, value: Value) -> Mutation:
    return lambda body, arrange: {**body, name: value(arrange)}


def _ids(count: int) -> Value:
    return lambda arrange: insider_ids(count, arrange.profile)


def _ends_at(offset: int, window: EndsAtWindow) -> Value:
    return lambda arrange: place_ends_at(offset, arrange.when(), window)[0]


def _mutated(endpoint: str, mutate: Mutation) -> Build:
    def build(arrange: Arranger) -> Request:
        body = valid_body(arrange.verifier, endpoint, activity_for(arrange, endpoint))
        return Request(endpoint, mutate(body, arrange))

    return build


def _unsynced(endpoint: str) -> Build:
    def build(arrange: Arranger) -> Request:
        offline = arrange.profile.never_syncing_insiders()
        if not offline:
            arrange.skip("the target profile lists no eligible device that never syncs", endpoint=endpoint)
        activity = arrange.register(offline)
        arrange.start(activity)
        return Request(endpoint, push_body(activity))

    return build


def _ineligible(endpoint: str) -> Build:
    def build(arrange: Arranger) -> Request:
        classes = arrange.contract.behaviour.eligibility.classes
        ineligible = [
            i
            for i in arrange.profile.insiders
            if classes[i.eligibility].counter is None and i.eligibility != "no_profile"
        ]
        if not ineligible:
            arrange.skip("the target profile lists no ineligible insider", endpoint=endpoint)
        ids = [i.insider_id for i in ineligible]
        if endpoint == arrange.contract.roles.creates_activity:
            return Request(endpoint, creating_body(arrange.verifier, ids))
        return Request(endpoint, segment_body(arrange.register(), ids))

    return build

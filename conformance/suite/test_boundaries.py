"""Boundaries from the contract: named edges always, Hypothesis around them.

The edges are read from contracts/ (see conformance.generate.strategies); the expected outcome of
every generated request comes from the oracle, never from the test.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.contract import Contract
from conformance.core.clock import ServerTime
from conformance.core.exchange import Request
from conformance.generate.bodies import push_body, segment_body
from conformance.generate.strategies import (
    FieldBreak,
    NamedEdge,
    blank_strings,
    ends_at_offsets,
    field_breaks,
    insider_ids,
    near_an_edge,
    place_ends_at,
)
from conformance.generate.world import ActivityModel
from conformance.suite.valid import activity_for, creating_body, valid_body
from conformance.targets.arrange import Arranger
from conformance.targets.verifier import Verifier

# RFC 3339 lets ends_at name any zone; a server that drops the offset is wrong by hours.
ZONES = (timedelta(0), timedelta(hours=5, minutes=30), -timedelta(hours=8))


def _zone(offset: timedelta) -> str:
    return "UTC" if not offset else f"UTC{'+' if offset > timedelta(0) else '-'}{abs(offset)}"


def _verify_ends_at(verifier: Verifier, offset: int, label: str, utc_offset: timedelta) -> None:
    window = verifier.contract.behaviour.ends_at
    # The zone as the ends_at text ends (`+05:30`): `timezone.tzname` writes it `UTC+05:30`.
    zone = f", written {timezone(utc_offset).tzname(None)[-6:]}" if utc_offset else ""

    def place(when: ServerTime) -> Request:
        ends_at, _ = place_ends_at(offset, when, window, utc_offset=utc_offset)
        return Request(window.endpoint, creating_body(verifier, ends_at=ends_at))

    if near_an_edge(offset, window):
        # Aimed mid-second on the server's clock, and aimed again if it lands elsewhere (see
        # place_ends_at and Verifier.verify_aimed).
        verifier.verify_aimed(
            place,
            case=lambda certainty: f"ends_at {label} ({certainty}{zone})",
            missed=lambda certainty: f"ends_at now{offset:+d} s ({certainty}{zone})",
        )
        return
    when = verifier.when()
    ends_at, certainty = place_ends_at(offset, when, window, utc_offset=utc_offset)
    verifier.verify(
        Request(window.endpoint, creating_body(verifier, ends_at=ends_at)),
        case=f"ends_at {label} ({certainty}{zone})",
        when=when,
    )


@pytest.mark.parametrize("utc_offset", ZONES, ids=[_zone(z) for z in ZONES])
def test_ends_at_named_edge(verifier: Verifier, ends_at_edge: NamedEdge, utc_offset: timedelta) -> None:
    """ends_at at each named edge of the window, written in UTC and in other zones, gets the
    documented code, or is accepted."""
    _verify_ends_at(verifier, ends_at_edge.value, ends_at_edge.label, utc_offset)


@given(data=st.data())
def test_ends_at_anywhere(verifier: Verifier, data: st.DataObject) -> None:
    """ends_at at any offset from now, in any zone, gets what the window's edges say."""
    offset = data.draw(ends_at_offsets(verifier.contract), label="offset seconds")
    zone = data.draw(st.sampled_from(ZONES), label="UTC offset")
    _verify_ends_at(verifier, offset, f"now{offset:+d} s", zone)


def _verify_insider_count(arrange: Arranger, endpoint: str, count: int) -> None:
    verifier = arrange.verifier
    ids = insider_ids(count, verifier.profile)
    if endpoint == verifier.contract.roles.creates_activity:
        body = creating_body(verifier, ids)
    else:
        body = segment_body(arrange.reuse("registered", arrange.register), ids)
    verifier.verify(Request(endpoint, body), case=f"{count} insider ids")


def test_insider_ids_named_count(arrange: Arranger, insider_id_count: NamedEdge) -> None:
    """0, 1, 2, max - 1, max and max + 1 insider ids on every endpoint that takes them."""
    for endpoint in arrange.contract.behaviour.insider_ids.endpoints:
        _verify_insider_count(arrange, endpoint, insider_id_count.value)


@given(data=st.data())
def test_insider_ids_any_count(arrange: Arranger, data: st.DataObject) -> None:
    """Any number of insider ids is accepted inside the documented range and rejected outside it."""
    rule = arrange.contract.behaviour.insider_ids
    endpoint = data.draw(st.sampled_from(rule.endpoints), label="endpoint")
    count = data.draw(st.integers(0, rule.max_items + 50), label="count")
    _verify_insider_count(arrange, endpoint, count)


def _device_pairs(verifier: Verifier) -> list[dict[str, str]]:
    """target_devices naming every device of the syncing insiders: the segment an arranged activity has."""
    return [
        {"insider_id": i.insider_id, "udid": d.udid}
        for i in verifier.profile.syncing_insiders()
        for d in i.devices
    ]


def _verify_blank_device_field(
    arrange: Arranger, endpoint: str, position: int, name: str, blank: str
) -> None:
    rule = arrange.contract.behaviour.target_devices
    pairs = _device_pairs(arrange.verifier)
    pairs[position] = {**pairs[position], name: blank}
    body = push_body(_answering_activity(arrange, endpoint), **{rule.field: pairs})
    arrange.verifier.verify(Request(endpoint, body), case=f"target_devices[{position}].{name} blank")


@pytest.mark.synced
def test_blank_target_device_field_named(arrange: Arranger, devices_endpoint: str) -> None:
    """An empty insider_id, and an empty udid, in target_devices is TARGET_DEVICES_INVALID, on an
    activity whose only other documented answer is a success (synced, where the sync gate applies)."""
    for name in arrange.contract.behaviour.target_devices.element_fields:
        _verify_blank_device_field(arrange, devices_endpoint, 0, name, "")


@pytest.mark.synced
@given(data=st.data())
def test_blank_target_device_field(arrange: Arranger, data: st.DataObject) -> None:
    """A blank insider_id or udid at any position of target_devices is TARGET_DEVICES_INVALID."""
    rule = arrange.contract.behaviour.target_devices
    endpoint = data.draw(st.sampled_from(rule.endpoints), label="endpoint")
    position = data.draw(st.integers(0, len(_device_pairs(arrange.verifier)) - 1), label="position")
    name = data.draw(st.sampled_from(rule.element_fields), label="field")
    _verify_blank_device_field(arrange, endpoint, position, name, data.draw(blank_strings(), label="blank"))


@pytest.mark.synced
def test_empty_target_devices_is_the_whole_segment(arrange: Arranger, devices_endpoint: str) -> None:
    """`target_devices: []` is documented as the whole segment, as an omitted one: every device is
    pushed to (on /update and /end, once synced, so that a 412 cannot stand in for the answer)."""
    rule = arrange.contract.behaviour.target_devices
    body = push_body(_fresh(arrange, devices_endpoint), **{rule.field: []})
    arrange.verifier.verify(Request(devices_endpoint, body), case=f"{rule.field}: [] (the whole segment)")


def _answering_activity(arrange: Arranger, endpoint: str) -> ActivityModel:
    """This test's activity on which a valid request of `endpoint` gets a success and no other
    documented answer: registered; started and past its sync bound for a sync-gated endpoint (else
    412 PUSH_TOKEN_NOT_SYNCED would be documented too, and could stand in for the subject's answer).
    Broken, a request then breaks its one rule alone, whichever check the target runs first. The
    examples of one test share the activity while it stays in that state (`Arranger.reuse`)."""
    gated = endpoint in arrange.contract.behaviour.sync_gate.endpoints
    return arrange.reuse("synced" if gated else "registered", lambda: _fresh(arrange, endpoint))


def _fresh(arrange: Arranger, endpoint: str) -> ActivityModel:
    """A new activity a valid request of `endpoint` (one that acts on an activity) succeeds on."""
    activity = activity_for(arrange, endpoint)
    assert activity is not None, f"/{endpoint} acts on an existing activity"
    return activity


def _shaped_body(arrange: Arranger, endpoint: str) -> dict[str, Any]:
    """A well-formed body for `endpoint`, on an activity in a state whose only documented answer to
    it is a success (`_answering_activity`): broken, the body then breaks that rule alone."""
    if endpoint == arrange.contract.roles.creates_activity:
        return creating_body(arrange.verifier)
    return valid_body(arrange.verifier, endpoint, _answering_activity(arrange, endpoint))


@pytest.mark.synced
def test_broken_required_field(arrange: Arranger, field_break: tuple[str, FieldBreak]) -> None:
    """Each way behaviour.yaml lists of breaking a required field gets its documented code."""
    endpoint, broken = field_break
    body = _shaped_body(arrange, endpoint)
    arrange.verifier.verify(Request(endpoint, broken.apply(body)), case=broken.label)


def test_malformed_body(verifier: Verifier, malformed_body: tuple[str, str, bytes]) -> None:
    """Empty, unparseable and non-object bodies get the documented 400."""
    endpoint, label, raw = malformed_body
    verifier.verify(Request(endpoint, raw=raw), case=label)


def test_wrong_content_type(verifier: Verifier, endpoint: str) -> None:
    """A body sent without `Content-Type: application/json` gets 400."""
    creates = endpoint == verifier.contract.roles.creates_activity
    body = creating_body(verifier) if creates else {"activity_id": "x", "activity_type": "y"}
    verifier.verify(Request(endpoint, body, content_type="text/plain"), case="text/plain body")


@pytest.mark.synced
@given(data=st.data())
def test_several_broken_rules(arrange: Arranger, data: st.DataObject) -> None:
    """A request breaking several rules gets the code of one of them (which one wins is recorded)."""
    contract = arrange.contract
    endpoint = data.draw(st.sampled_from(contract.endpoints), label="endpoint")
    breaks = [b for b in field_breaks(contract, endpoint) if _asserted(contract, b)]
    chosen = data.draw(
        st.lists(st.sampled_from(breaks), min_size=2, max_size=3, unique_by=lambda b: b.field), label="breaks"
    )
    body = _shaped_body(arrange, endpoint)
    for broken in chosen:
        body = broken.apply(body)
    arrange.verifier.verify(Request(endpoint, body), case=" + ".join(b.label for b in chosen))


def _asserted(contract: Contract, broken: FieldBreak) -> bool:
    rule = next(r for r in contract.behaviour.field_rules if r.id == broken.rule)
    return rule.cases[broken.case].asserted

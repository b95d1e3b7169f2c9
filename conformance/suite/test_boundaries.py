"""Boundaries from the contract: named edges always, Hypothesis around them.

The edges are read from contracts/ (see conformance.generate.strategies); the expected outcome of
every generated request comes from the oracle, never from the test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.exchange import Request
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
from conformance.targets.target import Verifier

# RFC 3339 lets ends_at name any zone; a server that drops the offset is wrong by hours.
ZONES = (timedelta(0), timedelta(hours=5, minutes=30), -timedelta(hours=8))


def _zone(offset: timedelta) -> str:
    return "UTC" if not offset else f"UTC{'+' if offset > timedelta(0) else '-'}{abs(offset)}"


def _register_body(conformance: Verifier, **fields: Any) -> dict[str, Any]:
    window = conformance.contract.behaviour.ends_at
    if "ends_at" not in fields:  # reading the clock only when needed keeps an aimed request on time
        fields["ends_at"] = place_ends_at(window.minimum.value + 120, conformance.when(), window)[0]
    return {
        "activity_type": conformance.profile.activity_type,
        "insider_ids": [i.insider_id for i in conformance.profile.syncing_insiders()],
        **fields,
    }


def _verify_ends_at(conformance: Verifier, offset: int, label: str, utc_offset: timedelta) -> None:
    window = conformance.contract.behaviour.ends_at
    # Near an edge, the request is aimed mid-second on the server's clock (see place_ends_at).
    when = conformance.aim() if near_an_edge(offset, window) else conformance.when()
    ends_at, certainty = place_ends_at(offset, when, window, utc_offset=utc_offset)
    request = Request(window.endpoint, _register_body(conformance, ends_at=ends_at))
    zone = f", written {ends_at[-6:]}" if utc_offset else ""
    conformance.verify(request, case=f"ends_at {label} ({certainty}{zone})", when=when)


@pytest.mark.parametrize("utc_offset", ZONES, ids=[_zone(z) for z in ZONES])
def test_ends_at_named_edge(conformance: Verifier, ends_at_edge: NamedEdge, utc_offset: timedelta) -> None:
    """ends_at at each named edge of the window, written in UTC and in other zones, gets the
    documented code, or is accepted."""
    _verify_ends_at(conformance, ends_at_edge.value, ends_at_edge.label, utc_offset)


@given(data=st.data())
def test_ends_at_anywhere(conformance: Verifier, data: st.DataObject) -> None:
    """ends_at at any offset from now, in any zone, gets what the window's edges say."""
    offset = data.draw(ends_at_offsets(conformance.contract), label="offset seconds")
    zone = data.draw(st.sampled_from(ZONES), label="UTC offset")
    _verify_ends_at(conformance, offset, f"now{offset:+d} s", zone)


def _verify_insider_count(conformance: Verifier, endpoint: str, count: int) -> None:
    ids = insider_ids(count, conformance.profile)
    if endpoint == "register":
        body = _register_body(conformance, insider_ids=ids)
    else:
        body = conformance.segment_body(conformance.register(), ids)
    conformance.verify(Request(endpoint, body), case=f"{count} insider ids")


def test_insider_ids_named_count(conformance: Verifier, insider_id_count: NamedEdge) -> None:
    """0, 1, 2, max - 1, max and max + 1 insider ids on every endpoint that takes them."""
    for endpoint in conformance.contract.behaviour.insider_ids.endpoints:
        _verify_insider_count(conformance, endpoint, insider_id_count.value)


@given(data=st.data())
def test_insider_ids_any_count(conformance: Verifier, data: st.DataObject) -> None:
    """Any number of insider ids is accepted inside the documented range and rejected outside it."""
    rule = conformance.contract.behaviour.insider_ids
    endpoint = data.draw(st.sampled_from(rule.endpoints), label="endpoint")
    count = data.draw(st.integers(0, rule.max_items + 50), label="count")
    _verify_insider_count(conformance, endpoint, count)


@given(data=st.data())
def test_blank_target_device_field(conformance: Verifier, data: st.DataObject) -> None:
    """A blank insider_id or udid at any position of target_devices is TARGET_DEVICES_INVALID."""
    rule = conformance.contract.behaviour.target_devices
    endpoint = data.draw(st.sampled_from(rule.endpoints), label="endpoint")
    activity = conformance.register()
    pairs = [
        {"insider_id": i.insider_id, "udid": d.udid}
        for i in conformance.profile.syncing_insiders()
        for d in i.devices
    ]
    position = data.draw(st.integers(0, len(pairs) - 1), label="position")
    name = data.draw(st.sampled_from(rule.element_fields), label="field")
    pairs[position] = {**pairs[position], name: data.draw(blank_strings(), label="blank")}
    body = conformance.push_body(activity, **{rule.field: pairs})
    conformance.verify(Request(endpoint, body), case=f"target_devices[{position}].{name} blank")


def _shaped_body(conformance: Verifier, endpoint: str) -> dict[str, Any]:
    """A well-formed body for `endpoint`, on a fresh activity in the first state whose answer to the
    endpoint is documented and no error (REGISTERED; STARTED for /end): broken, the body then breaks
    that rule alone, whichever check the target runs first."""
    if endpoint == "register":
        return _register_body(conformance)
    activity = conformance.register()
    if conformance.contract.behaviour.lifecycle.answering_states(endpoint)[0] == "STARTED":
        conformance.start(activity)
    if endpoint in ("add-users", "remove-users"):
        return conformance.segment_body(activity, [conformance.profile.syncing_insiders()[0].insider_id])
    return conformance.push_body(activity)


def test_broken_required_field(conformance: Verifier, field_break: tuple[str, FieldBreak]) -> None:
    """Each way behaviour.yaml lists of breaking a required field gets its documented code."""
    endpoint, broken = field_break
    body = _shaped_body(conformance, endpoint)
    conformance.verify(Request(endpoint, broken.apply(body)), case=broken.label)


def test_malformed_body(conformance: Verifier, malformed_body: tuple[str, str, bytes]) -> None:
    """Empty, unparseable and non-object bodies get the documented 400."""
    endpoint, label, raw = malformed_body
    conformance.verify(Request(endpoint, raw=raw), case=label)


def test_wrong_content_type(conformance: Verifier, endpoint: str) -> None:
    """A body sent without `Content-Type: application/json` gets 400."""
    body = (
        _register_body(conformance) if endpoint == "register" else {"activity_id": "x", "activity_type": "y"}
    )
    conformance.verify(Request(endpoint, body, content_type="text/plain"), case="text/plain body")


@given(data=st.data())
def test_several_broken_rules(conformance: Verifier, data: st.DataObject) -> None:
    """A request breaking several rules gets the code of one of them (which one wins is recorded)."""
    endpoint = data.draw(st.sampled_from(conformance.contract.endpoints), label="endpoint")
    breaks = [b for b in field_breaks(conformance.contract, endpoint) if _asserted(conformance, b)]
    chosen = data.draw(
        st.lists(st.sampled_from(breaks), min_size=2, max_size=3, unique_by=lambda b: b.field), label="breaks"
    )
    body = _shaped_body(conformance, endpoint)
    for broken in chosen:
        body = broken.apply(body)
    conformance.verify(Request(endpoint, body), case=" + ".join(b.label for b in chosen))


def _asserted(conformance: Verifier, broken: FieldBreak) -> bool:
    rule = next(r for r in conformance.contract.behaviour.field_rules if r.id == broken.rule)
    return rule.cases[broken.case].asserted

"""Strategies and named edges: edges read from the contract, placed timestamps on their side."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core.clock import ServerTime
from conformance.core.exchange import Request
from conformance.generate.expected import Expected
from conformance.generate.field_rules import field_case
from conformance.generate.strategies import (
    BREAKS,
    FieldBreak,
    blank_strings,
    ends_at_edges,
    ends_at_offsets,
    field_breaks,
    insider_id_counts,
    insider_ids,
    malformed_bodies,
    place_ends_at,
)
from tests.self.generate.generate_support import (
    T0,
    exact,
    expect,
    push_body,
    register_body,
    settled_world,
    valid_body,
)
from tests.self.reference import bundled_contract, sandbox_profile

WINDOW = bundled_contract().behaviour.ends_at
MIN_S, MAX_S = WINDOW.minimum.value, WINDOW.maximum.value
MAX_WIDTH_SECONDS = 3.0


# -- named edges ---------------------------------------------------------------------------------


def test_ends_at_edges_are_derived_from_the_contract() -> None:
    """The named ends_at edges are -1, min-1, min, min+1, max-1, max, max+1 of the contract's window."""
    values = [edge.value for edge in ends_at_edges(bundled_contract())]
    assert values == [-1, MIN_S - 1, MIN_S, MIN_S + 1, MAX_S - 1, MAX_S, MAX_S + 1]


def test_ends_at_edge_labels_are_unique_and_readable() -> None:
    """Each edge has its own label, naming the minute:second or days it stands for."""
    labels = [edge.label for edge in ends_at_edges(bundled_contract())]
    assert len(set(labels)) == len(labels)
    assert any(f"{MIN_S // 60}:00" in label for label in labels)
    assert any(f"{MAX_S / 86_400:g} d" in label for label in labels)


def test_insider_id_counts_are_derived_from_the_contract() -> None:
    """The named insider_ids counts are min-1, min, min+1, max-1, max and max+1 of the table's row."""
    rule = bundled_contract().behaviour.insider_ids
    low, high = rule.min_items, rule.max_items
    assert [edge.value for edge in insider_id_counts(bundled_contract())] == [
        low - 1,
        low,
        low + 1,
        high - 1,
        high,
        high + 1,
    ]


@pytest.mark.parametrize("count", [edge.value for edge in insider_id_counts(bundled_contract())])
def test_insider_ids_gives_distinct_ids_known_ones_first(count: int) -> None:
    """insider_ids(n) gives n distinct ids, the profile's syncing insiders first."""
    ids = insider_ids(count, sandbox_profile())
    known = [i.insider_id for i in sandbox_profile().syncing_insiders()]
    assert len(ids) == count
    assert len(set(ids)) == count
    assert ids[: len(known)] == known[:count]


@given(offset=ends_at_offsets(bundled_contract()))
def test_ends_at_offsets_stay_within_four_windows(offset: int) -> None:
    """Property: generated offsets lie between -max and 4 x max seconds."""
    assert -MAX_S <= offset <= 4 * MAX_S


@given(text=blank_strings())
def test_blank_strings_are_blank(text: str) -> None:
    """Property: every blank string is empty or whitespace only."""
    assert not text.strip()


@pytest.mark.parametrize(("label", "raw"), malformed_bodies())
def test_malformed_bodies_are_not_json_objects(label: str, raw: bytes) -> None:
    """Every malformed body breaks a body rule on every endpoint (the oracle names one)."""
    for endpoint in bundled_contract().endpoints:
        expected = expect(Request(endpoint, raw=raw))
        assert expected.rules[0].startswith("body-"), label


# -- place_ends_at -------------------------------------------------------------------------------


def _window_verdict(expected: Expected) -> str:
    """`rejected` when any ends_at rule is broken, else `accepted`."""
    broken = {r for r in expected.rules if r.startswith("ends-at-") and r != "ends-at-straddles-edge"}
    return "rejected" if broken else "accepted"


def _verdict_at(ends_at: str, when: ServerTime) -> Expected:
    return expect(Request("register", {**register_body(), "ends_at": ends_at}), when=when)


@settings(max_examples=400)
@given(
    offset=st.one_of(
        st.sampled_from([e.value for e in ends_at_edges(bundled_contract())] + [0]),
        ends_at_offsets(bundled_contract()),
    ),
    start_us=st.integers(0, 999_999),
    width=st.floats(0, MAX_WIDTH_SECONDS),
)
def test_placed_ends_at_lands_on_the_intended_side_of_every_edge(
    offset: int, start_us: int, width: float
) -> None:
    """Property: for any clock uncertainty up to 3 s, a placed ends_at gets the exact offset's verdict."""
    earliest = T0 + timedelta(microseconds=start_us)
    when = ServerTime(earliest=earliest, latest=earliest + timedelta(seconds=width))
    placed, _ = place_ends_at(offset, when, WINDOW)
    seen = _verdict_at(placed, when)
    intended = _verdict_at(register_body(ends_in=offset)["ends_at"], exact())
    if "ends-at-straddles-edge" not in seen.rules:
        assert _window_verdict(seen) == _window_verdict(intended), (placed, seen.rules, intended.rules)
    assert "ends-at-straddles-edge" not in seen.rules, "a placed ends_at straddled an edge"


@pytest.mark.parametrize("offset", [e.value for e in ends_at_edges(bundled_contract())])
def test_placed_ends_at_on_a_whole_second_exact_clock_is_the_offset(offset: int) -> None:
    """On an exact clock standing on a whole second, ends_at is placed exactly `offset` away, and the
    label says the clock is exact."""
    placed, certainty = place_ends_at(offset, exact(), WINDOW)
    assert placed == register_body(ends_in=offset)["ends_at"]
    assert certainty == "exact clock"


def _seen_offsets(placed: str, when: ServerTime) -> tuple[float, float]:
    moment = datetime.fromisoformat(placed)
    return (moment - when.latest).total_seconds(), (moment - when.earliest).total_seconds()


@pytest.mark.parametrize("offset", [e.value for e in ends_at_edges(bundled_contract())])
@pytest.mark.parametrize(
    ("fraction", "width"),
    [
        pytest.param(0.0, 0.0, id="whole-second-exact"),
        pytest.param(0.0, 2.0, id="whole-second-2s-wide"),
        pytest.param(0.25, 1.5, id="quarter-second-1.5s-wide"),
        pytest.param(0.25, 0.0, id="quarter-second-exact"),
        pytest.param(0.6, 1.5, id="0.6-second-1.5s-wide"),
    ],
)
def test_server_sees_the_offset_within_the_stated_tolerance(
    offset: int, fraction: float, width: float
) -> None:
    """The server sees the placed ends_at at most the bounds' width beyond the intended offset, and
    the label states that width rounded up to whole seconds (the same words every run)."""
    earliest = T0 + timedelta(seconds=fraction)
    when = ServerTime(earliest=earliest, latest=earliest + timedelta(seconds=width))
    placed, certainty = place_ends_at(offset, when, WINDOW)
    low, high = _seen_offsets(placed, when)
    assert max(abs(low - offset), abs(high - offset)) <= width, (low, high, width)
    assert certainty == ("exact clock" if not width else f"tolerance {math.ceil(width)} s")


# -- field breaks --------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", bundled_contract().endpoints)
def test_field_breaks_are_the_cases_behaviour_states(endpoint: str) -> None:
    """field_breaks lists exactly the (field, case) pairs behaviour.yaml states for the endpoint."""
    stated = {
        (r.id, r.field, case)
        for r in bundled_contract().behaviour.field_rules_for(endpoint)
        for case in r.cases
    }
    assert {(b.rule, b.field, b.case) for b in field_breaks(bundled_contract(), endpoint)} == stated


@pytest.mark.parametrize(
    ("endpoint", "broken"),
    [
        pytest.param(e, b, id=f"{e}-{b.label}")
        for e in bundled_contract().endpoints
        for b in field_breaks(bundled_contract(), e)
    ],
)
def test_applied_field_break_is_the_break_the_oracle_sees(endpoint: str, broken: FieldBreak) -> None:
    """Applying a break to a valid body makes the oracle name exactly that rule and case (on an
    activity whose state documents the endpoint as no error)."""
    body = valid_body(endpoint)
    state = settled_world(endpoint)
    expected = expect(Request(endpoint, broken.apply(body)), state=state)
    assert expected.rules == (f"{broken.rule}:{broken.case}",)
    assert body == valid_body(endpoint), "apply changed its input"


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_break_on_nested_field_changes_only_that_field(case: str) -> None:
    """A nested break (content.title) changes that field alone and leaves the input untouched."""
    body = push_body()
    broken = FieldBreak("rule", "content.title", case).apply(body)
    assert body == push_body()
    assert {k: v for k, v in broken["content"].items() if k != "title"} == {
        k: v for k, v in body["content"].items() if k != "title"
    }
    assert {k: v for k, v in broken.items() if k != "content"} == {
        k: v for k, v in body.items() if k != "content"
    }
    kind: Any = "string"
    assert field_case(broken, "content.title", kind) == (None if case == "not_a_timestamp" else case)


def test_missing_break_on_nested_field_removes_it() -> None:
    """A `missing` break on content.content_state removes that key from a copy of content only."""
    body = push_body()
    broken = FieldBreak("rule", "content.content_state", "missing").apply(body)
    assert "content_state" not in broken["content"]
    assert "content_state" in body["content"]


@pytest.mark.parametrize("parent", ["not-an-object", 12, None, ["a"]])
def test_break_under_non_object_parent_leaves_body_alone(parent: Any) -> None:
    """Breaking content.title when content is not an object changes nothing: the parent's rule is broken."""
    body = {**push_body(), "content": parent}
    for case in BREAKS:
        assert FieldBreak("rule", "content.title", case).apply(body) == body


@pytest.mark.parametrize(("value", "kind"), [("text", str), (["a"], list), ({"a": 1}, dict), (7, int)])
def test_wrong_type_break_changes_the_type(value: Any, kind: type) -> None:
    """`wrong_type` replaces a value by one of another JSON type."""
    assert not isinstance(BREAKS["wrong_type"](value), kind)


@given(
    base=st.dictionaries(
        st.sampled_from(["a", "b", "content"]), st.integers() | st.text(max_size=3), max_size=3
    ),
    case=st.sampled_from(sorted(BREAKS)),
)
def test_apply_never_mutates_its_input(base: dict[str, Any], case: str) -> None:
    """Property: FieldBreak.apply returns a new body and leaves any input as it was."""
    snapshot = dict(base)
    FieldBreak("rule", "content.title", case).apply(base)
    FieldBreak("rule", "a", case).apply(base)
    assert base == snapshot

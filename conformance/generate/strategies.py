"""Hypothesis strategies and named edge cases, built from the contract alone.

Every edge comes from `contracts/` (the ends_at window from the table's "less than 5 minutes" and
"more than 7 days" rows, the insider_ids range from its "1-10,000" row, the broken-field cases from
behaviour.yaml), so a new table moves the edges the suite probes without touching this module.
Named edges are plain lists that the suite always runs; the strategies explore around them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from conformance.contract import Contract
from conformance.contract.model import EndsAtWindow, FieldRule
from conformance.core.clock import ServerTime, rfc3339
from conformance.profile.target_profile import TargetProfile

BLANKS = ("", " ", "\t", "  \n ")
SECONDS_PER_MINUTE = 60


@dataclass(frozen=True)
class NamedEdge:
    label: str
    value: int


def ends_at_edges(contract: Contract) -> tuple[NamedEdge, ...]:
    """The past, each edge and a second either side of it (4:59 / 5:00 / 5:01, 7 d -1 s / 7 d / 7 d +1 s)."""
    window = contract.behaviour.ends_at
    low, high = window.minimum.value, window.maximum.value
    return (
        NamedEdge("in the past (-1 s)", -1),
        NamedEdge(f"{_clock(low - 1)} (min - 1 s)", low - 1),
        NamedEdge(f"{_clock(low)} (min, exactly)", low),
        NamedEdge(f"{_clock(low + 1)} (min + 1 s)", low + 1),
        NamedEdge(f"{_days(high)} - 1 s (max - 1 s)", high - 1),
        NamedEdge(f"{_days(high)} (max, exactly)", high),
        NamedEdge(f"{_days(high)} + 1 s (max + 1 s)", high + 1),
    )


def ends_at_offsets(contract: Contract) -> st.SearchStrategy[int]:
    """Offsets (s) from the server's now: anywhere, with weight near the edges and inside the window."""
    window = contract.behaviour.ends_at
    low, high = window.minimum.value, window.maximum.value
    near = st.sampled_from((0, low, high)).flatmap(lambda edge: st.integers(edge - 5, edge + 5))
    return st.one_of(
        near,
        st.integers(low, high),
        st.integers(-high, -1),
        st.integers(0, low - 1),
        st.integers(high + 1, 4 * high),
    )


def place_ends_at(
    offset: int, when: ServerTime, window: EndsAtWindow, *, utc_offset: timedelta = timedelta(0)
) -> tuple[str, str]:
    """An ends_at the server will see on the same side of every edge as `offset`; and how sure.

    The server handles the request somewhere in [when.earliest, when.latest]. An offset at or just
    above an edge is anchored on the latest moment (so the server sees at least `offset`); one below
    an edge, on the earliest (so it sees at most `offset`). The fraction of a second is kept: when
    the bounds lie inside one second of the server's clock (`ServerClock.aim`), a server comparing
    whole seconds sees exactly `offset` and one comparing in real time sees it within the bounds'
    width, on the same side of every edge. `utc_offset` writes the same moment in another zone.

    The second value states the uncertainty for the case label, in words that stay the same from
    run to run (a drift report pairs cases by label): an exact clock, an aimed request (under a
    second), or the width rounded up to whole seconds.
    """
    nearest = min(_band_starts(window), key=lambda edge: abs(offset - edge))
    anchor = when.latest if offset >= nearest else when.earliest
    moment = anchor + timedelta(seconds=offset)
    return rfc3339(moment, exact=True, utc_offset=utc_offset), stated_certainty(when)


def stated_certainty(when: ServerTime) -> str:
    """How sure a placement within `when` is, for a case label (see `place_ends_at`)."""
    width = (when.latest - when.earliest).total_seconds()
    if width == 0:
        return "exact clock"
    if when.phase is not None:
        return "aimed mid-second, tolerance under 1 s"
    return f"tolerance {math.ceil(width)} s"


def missed_aim(handled: ServerTime) -> str:
    """The certainty of an aimed request the target handled outside the aimed bounds (it left late,
    or its round trip was slower than the aim assumed): the bounds it really had, in whole seconds."""
    return f"aim missed, tolerance {math.ceil((handled.latest - handled.earliest).total_seconds())} s"


def _band_starts(window: EndsAtWindow) -> tuple[int, int, int]:
    """The first offset of each band after the first: past | too soon | accepted | too far."""
    return (
        0,
        window.minimum.value if window.minimum.accepted_at_edge else window.minimum.value + 1,
        window.maximum.value + 1 if window.maximum.accepted_at_edge else window.maximum.value,
    )


def near_an_edge(offset: int, window: EndsAtWindow) -> bool:
    """Within a second of where the answer changes: worth aiming the request (`ServerClock.aim`)."""
    return any(abs(offset - edge) <= 1 for edge in _band_starts(window))


def insider_id_counts(contract: Contract) -> tuple[NamedEdge, ...]:
    """0, 1, 2, max - 1, max, max + 1 insider ids."""
    rule = contract.behaviour.insider_ids
    low, high = rule.min_items, rule.max_items
    return tuple(
        NamedEdge(f"{n} ids", n) for n in sorted({low - 1, low, low + 1, high - 1, high, high + 1}) if n >= 0
    )


def insider_ids(count: int, profile: TargetProfile) -> list[str]:
    """`count` distinct insider ids: the profile's eligible ones first, then ids no profile has."""
    known = [i.insider_id for i in profile.syncing_insiders()]
    return (known + [f"conformance-unknown-{n}" for n in range(max(0, count - len(known)))])[:count]


def blank_strings() -> st.SearchStrategy[str]:
    """Empty and whitespace-only strings (what the table calls empty, and what REG calls blank)."""
    return st.one_of(st.sampled_from(BLANKS), st.text(alphabet=" \t\n\r", min_size=1, max_size=5))


@dataclass(frozen=True)
class FieldBreak:
    """One way of breaking one required field, from a behaviour.yaml field rule."""

    rule: str
    field: str
    case: str

    @property
    def label(self) -> str:
        return f"{self.field} {self.case}"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        broken: dict[str, Any] = _deep_copy(body)
        *parents, name = self.field.split(".")
        node = broken
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return broken  # the parent is already broken: its rule is the one the body breaks
        if self.case == "missing":
            node.pop(name, None)
        else:
            node[name] = BREAKS[self.case](node.get(name))
        return broken


BREAKS: dict[str, Callable[[Any], Any]] = {
    "empty": lambda _: "",
    "whitespace": lambda _: "   ",
    "null": lambda _: None,
    "wrong_type": lambda value: 12345 if isinstance(value, str | list) else "not-an-object",
    "not_a_timestamp": lambda _: "next tuesday",
}


def field_breaks(contract: Contract, endpoint: str) -> tuple[FieldBreak, ...]:
    """Every (field, case) that behaviour.yaml states for `endpoint`."""
    rules: tuple[FieldRule, ...] = contract.behaviour.field_rules_for(endpoint)
    return tuple(FieldBreak(r.id, r.field, case) for r in rules for case in r.cases)


def malformed_bodies() -> tuple[tuple[str, bytes], ...]:
    """Bodies that are not a JSON object: empty, unparseable, and JSON of another type."""
    return (
        ("empty body", b""),
        ("whitespace body", b"  \n"),
        ("truncated JSON", b'{"activity_type": '),
        ("not JSON", b"activity_type=x"),
        ("JSON array", b"[1, 2]"),
        ("JSON string", b'"register"'),
        ("JSON number", b"42"),
        ("JSON null", b"null"),
        ("empty object", b"{}"),
    )


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _clock(seconds: int) -> str:
    return f"{seconds // SECONDS_PER_MINUTE}:{seconds % SECONDS_PER_MINUTE:02d}"


def _days(seconds: int) -> str:
    return f"{seconds / 86_400:g} d"


def now_plus(when: ServerTime, seconds: float) -> str:
    """ends_at `seconds` after the latest the server may read now: safely inside when seconds is."""
    return rfc3339(when.latest + timedelta(seconds=seconds))

"""Where the target puts each numeric edge of the contract: to the second, and to the id.

The named-edge tests (test_boundaries.py) ask "is the edge where the table says?"; these probes ask
"where is it?", so that the drift report can say "ENDS_AT_TOO_SOON edge moved from 300 s to 240 s".
Each probe is a /register that creates nothing when accepted: its insiders are ids no profile has,
so an accepted value gets NO_ELIGIBLE_DEVICE (or whatever the target answers that is not the edge's
code). The search starts at the documented edge (two requests when the edge is where documented),
gallops outwards when it is not, then bisects; it never leaves [1, 2 x documented], which bounds
both the requests and the size of the insider_ids bodies.

Every probe goes through `verify`, so it is judged and recorded like any case; a probe that breaks
the contract fails the test, but only after the edge is measured and recorded in the results file.
On a virtual clock an ends_at edge is exact; on a real one it is the interval that the bounds of the
server's clock leave (about the clock tolerance on either side).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from conformance.clock import rfc3339
from conformance.exchange import Request
from conformance.failures import ContractViolation
from conformance.generate.oracle import ServerTime
from conformance.results import Interval, MeasuredEdge, Observed, RunResults, Unit
from conformance.targets.target import Verifier

SERVER_ERRORS = 500
UNKNOWN_INSIDER = "conformance-no-device-{}"
ENDS_AT_INSIDERS = 2  # more than one: a single unknown insider is PROFILE_NOT_FOUND, not "no device"


@dataclass(frozen=True)
class Seen:
    """One probe: the bounds of the value the server saw, and on which side of the edge it fell."""

    low: float
    high: float
    beyond: bool  # on the side of the larger values


@dataclass(frozen=True)
class EdgeSearch:
    """One edge: its row, the documented value, and the first value the documents put beyond it."""

    row: str
    unit: Unit
    documented: int
    first_beyond: int  # documented + 1 where the edge value itself is on the near side
    code_marks_beyond: bool  # a maximum: the row's code is beyond; a minimum: it is on the near side
    low: int = 1

    @property
    def high(self) -> int:
        return 2 * self.documented

    @property
    def request_bound(self) -> int:
        """Galloping from the documented edge to an end of the range, then bisecting the last step."""
        return 2 * math.ceil(math.log2(self.high - self.low + 1)) + 2


def _searches(conformance: Verifier) -> dict[str, EdgeSearch]:
    window = conformance.contract.behaviour.ends_at
    low, high, ids = window.minimum, window.maximum, conformance.contract.behaviour.insider_ids
    return {
        "ends_at-minimum": EdgeSearch(
            low.code, "s", low.value, low.value + (0 if low.accepted_at_edge else 1), False
        ),
        "ends_at-maximum": EdgeSearch(
            high.code, "s", high.value, high.value + (1 if high.accepted_at_edge else 0), True
        ),
        "insider_ids-maximum": EdgeSearch(
            ids.row, "ids", ids.max_items, ids.max_items + 1, True, low=max(1, ids.min_items)
        ),
    }


def find_switch(
    probe: Callable[[int], Seen], start: int, low: int, high: int
) -> tuple[Seen | None, Seen | None]:
    """The last probe on the near side and the first one beyond, both in [low, high].

    None on one side: the switch lies outside the range on that side. Answers are assumed monotone
    (near below the edge, beyond above it); `probe` is asked each value at most once.
    """
    asked: dict[int, Seen] = {}

    def at(value: int) -> Seen:
        if value not in asked:
            asked[value] = probe(value)
        return asked[value]

    start = min(max(start, low + 1), high)
    step = 1
    if at(start).beyond:
        near, beyond = start - 1, start
        while at(near).beyond:
            if near == low:
                return None, at(low)
            beyond, step = near, step * 2
            near = max(low, start - step)
    elif start == high:
        return at(high), None
    else:
        near, beyond = start, start + 1
        while not at(beyond).beyond:
            if beyond == high:
                return at(high), None
            near, step = beyond, step * 2
            beyond = min(high, start + step)
    while beyond - near > 1:
        middle = (near + beyond) // 2
        if at(middle).beyond:
            beyond = middle
        else:
            near = middle
    return at(near), at(beyond)


def first_beyond(near: Seen | None, beyond: Seen | None) -> Interval:
    """Where the first whole value beyond the edge lies, given what the server may have seen.

    The near probe was seen below it and the beyond probe at or above it: on an exact clock the
    interval is one value wide.
    """
    lowest = None if near is None else math.floor(near.low) + 1
    highest = None if beyond is None else math.floor(beyond.high)
    if lowest is not None and highest is not None and lowest > highest:
        lowest, highest = highest, lowest  # answers that are not monotone: keep the interval honest
    return lowest, highest


def _measured(interval: Interval, shift: int) -> int | Interval:
    low, high = (None if bound is None else bound - shift for bound in interval)
    return low if low is not None and low == high else (low, high)


class _Prober:
    """Sends one edge's probes through `verify`: judged and recorded, counted, violations kept."""

    def __init__(self, conformance: Verifier, results: RunResults, search: EdgeSearch) -> None:
        self.conformance = conformance
        self.results = results
        self.search = search
        self.requests = 0
        self.violation: ContractViolation | None = None
        contract = conformance.contract
        self.code = contract.body_code(search.row)
        self.rate_limited = contract.status_of(contract.behaviour.rate_limit.row)

    def beyond(self, request: Request, case: str, when: ServerTime) -> bool:
        self.requests += 1
        try:
            self.conformance.verify(request, case=case, when=when)
        except ContractViolation as violation:
            self.violation = self.violation or violation
        recorded = self.results.cases[-1]
        assert recorded.case == case, "verify records every request it sends"
        observed = self._conclusive(recorded.observed, case)
        return (observed.code == self.code) == self.search.code_marks_beyond

    def _conclusive(self, observed: Observed | None, case: str) -> Observed:
        """An answer that says which side of the edge the value is on (not a timeout, 5xx or 429)."""
        status = None if observed is None else observed.status
        if (
            observed is not None
            and status is not None
            and status < SERVER_ERRORS
            and status != self.rate_limited
        ):
            return observed
        if self.violation is not None:
            raise self.violation
        pytest.fail(f"{case}: the answer ({status}) says nothing about where the edge is", pytrace=False)

    def ends_at(self, offset: int) -> Seen:
        """A /register of insiders without devices, ends_at `offset` s after the server's now.

        The request is aimed mid-second on the server's clock, and ends_at anchored on the side that
        makes a real-time comparison agree with a whole-second one (see `place_ends_at`): at the
        latest moment for a minimum ("at least" is accepted), the earliest for a maximum.
        """
        window = self.conformance.contract.behaviour.ends_at
        when = self.conformance.aim()
        anchor = when.earliest if self.search.code_marks_beyond else when.latest
        moment = anchor + timedelta(seconds=offset)
        body = self._register_body(ENDS_AT_INSIDERS, rfc3339(moment, exact=True))
        case = f"edge probe {self.search.row}: ends_at now{offset:+d} s"
        beyond = self.beyond(Request(window.endpoint, body), case, when)
        # What a server comparing whole seconds saw; one comparing in real time decides alike
        # while the bounds lie inside one second of its clock, and the bounds widen when they do not.
        low = (_whole(moment) - _whole(when.latest)).total_seconds()
        high = (_whole(moment) - _whole(when.earliest)).total_seconds()
        return Seen(low, high, beyond)

    def insider_ids(self, count: int) -> Seen:
        """A /register of `count` insiders without devices, ends_at in the middle of the window."""
        window = self.conformance.contract.behaviour.ends_at
        when = self.conformance.when()
        middle = (window.minimum.value + window.maximum.value) // 2
        body = self._register_body(count, rfc3339(when.latest + timedelta(seconds=middle)))
        case = f"edge probe {self.search.row}: {count} insider ids"
        return Seen(count, count, self.beyond(Request(window.endpoint, body), case, when))

    def _register_body(self, insiders: int, ends_at: str) -> dict[str, object]:
        ids = [UNKNOWN_INSIDER.format(n) for n in range(insiders)]
        assert not {i.insider_id for i in self.conformance.profile.insiders} & set(ids)
        return {
            "activity_type": self.conformance.profile.activity_type,
            "insider_ids": ids,
            "ends_at": ends_at,
        }


def _whole(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@pytest.mark.parametrize("edge", ["ends_at-minimum", "ends_at-maximum", "insider_ids-maximum"])
def test_edge_is_where_documented(conformance: Verifier, conformance_results: RunResults, edge: str) -> None:
    """Measure the edge, record it in the results file, and fail if any probe broke the contract."""
    search = _searches(conformance)[edge]
    prober = _Prober(conformance, conformance_results, search)
    probe = prober.ends_at if search.unit == "s" else prober.insider_ids
    near, beyond = find_switch(probe, search.first_beyond, search.low, search.high)
    measured = _measured(first_beyond(near, beyond), search.first_beyond - search.documented)
    conformance_results.record_edge(
        search.row, MeasuredEdge(search.documented, measured, search.unit, prober.requests)
    )
    assert prober.requests <= search.request_bound
    if prober.violation is not None:
        prober.violation.add_note(
            f"{search.row} edge measured at {measured} {search.unit}, documented {search.documented}"
        )
        raise prober.violation

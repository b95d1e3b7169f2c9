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

from datetime import datetime, timedelta

import pytest

from conformance.core.clock import ServerTime, rfc3339
from conformance.core.exchange import Request
from conformance.generate.bodies import register_body
from conformance.judging.failures import ContractViolation
from conformance.judging.results import Interval, MeasuredEdge, Observed, RunResults
from conformance.suite.edge_search import EdgeSearch, Seen, find_switch, first_beyond
from conformance.targets.verifier import Verifier

SERVER_ERRORS = 500
UNKNOWN_INSIDER = "conformance-no-device-{}"
ENDS_AT_INSIDERS = 2  # more than one: a single unknown insider is PROFILE_NOT_FOUND, not "no device"


def _searches(verifier: Verifier) -> dict[str, EdgeSearch]:
    window = verifier.contract.behaviour.ends_at
    low, high, ids = window.minimum, window.maximum, verifier.contract.behaviour.insider_ids
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


def _measured(interval: Interval, shift: int) -> int | Interval:
    low, high = (None if bound is None else bound - shift for bound in interval)
    return low if low is not None and low == high else (low, high)


class _Prober:
    """Sends one edge's probes through `verify`: judged and recorded, counted, violations kept."""

    def __init__(self, verifier: Verifier, results: RunResults, search: EdgeSearch) -> None:
        self.verifier = verifier
        self.results = results
        self.search = search
        self.requests = 0
        self.violation: ContractViolation | None = None
        contract = verifier.contract
        self.code = contract.body_code(search.row)
        self.rate_limited = contract.status_of(contract.behaviour.rate_limit.row)

    def beyond(self, request: Request, case: str, when: ServerTime) -> bool:
        self.requests += 1
        try:
            self.verifier.verify(request, case=case, when=when)
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
        window = self.verifier.contract.behaviour.ends_at
        when = self.verifier.aim()
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
        window = self.verifier.contract.behaviour.ends_at
        when = self.verifier.when()
        middle = (window.minimum.value + window.maximum.value) // 2
        body = self._register_body(count, rfc3339(when.latest + timedelta(seconds=middle)))
        case = f"edge probe {self.search.row}: {count} insider ids"
        return Seen(count, count, self.beyond(Request(window.endpoint, body), case, when))

    def _register_body(self, insiders: int, ends_at: str) -> dict[str, object]:
        """A valid body but for its insiders: ids no profile has, so an accepted one creates nothing."""
        ids = [UNKNOWN_INSIDER.format(n) for n in range(insiders)]
        profile = self.verifier.profile
        assert not {i.insider_id for i in profile.insiders} & set(ids)
        return register_body(self.verifier.contract, profile, ids, ends_at)


def _whole(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@pytest.mark.parametrize("edge", ["ends_at-minimum", "ends_at-maximum", "insider_ids-maximum"])
def test_edge_is_where_documented(verifier: Verifier, conformance_results: RunResults, edge: str) -> None:
    """Measure the edge, record it in the results file, and fail if any probe broke the contract."""
    search = _searches(verifier)[edge]
    prober = _Prober(verifier, conformance_results, search)
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

"""Provoking the rate limit without harming anyone, under either reading of what counts against it.

On a target with a control API the limit is lowered for a moment (a fresh window, a few requests);
on a live target only with `--allow-rate-limit-probe`, since it spends the real budget. Whether
rejected requests count against the limit is not documented (behaviour.yaml readings:
rate-limit-counts), so the bucket is filled first with requests that change nothing and get a 400,
and, if no 429 comes, with successes. A live target gets only successes that change nothing (a
/remove-users of an insider not in the segment, a /add-users of one already in it); where an
endpoint has none, the row is left unverified with the reason rather than creating or pushing
a thousand times.

A probe exhausts its bucket for up to a window, so on a target without a control API the tests
that provoke 429 run last (see `spends_rate_budget` in conftest.py), and the suite's own client
backs off when it meets a 429 it did not ask for.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.cassettes import tagging_case
from conformance.exchange import Exchange, Request
from conformance.suite.provoke import Provocation
from conformance.targets.target import Verifier

LOWERED_LIMIT = 2
BURST_MARGIN = 1.1  # a burst stops after this many times the limit without a 429
NOT_IN_SEGMENT = "conformance-not-in-segment"


def provoke_rate_limit(conformance: Verifier, chosen: Provocation, endpoint: str) -> Exchange:
    """Exhaust the (key, path, method) bucket of `endpoint`, then verify that the next request gets 429.

    Requests are built before a burst: arranging one (a sync wait) takes time, and a fixed window
    could turn over in the middle of the burst.
    """
    row = conformance.contract.behaviour.rate_limit.row
    control = conformance.target.control
    if control is None and not conformance.target.allow_rate_limit_probe:
        conformance.skip(
            "provoking 429 on a live target spends its real rate budget: pass --allow-rate-limit-probe",
            endpoint=endpoint,
            rows=(row,),
        )
    limit = LOWERED_LIMIT if control is not None else conformance.contract.behaviour.rate_limit.requests
    burst = int(limit * BURST_MARGIN) + 1
    request = chosen.build(conformance)
    if control is not None:
        control.limit_rate(LOWERED_LIMIT)
    case = "over the rate limit"
    try:
        if not _fill(conformance, [Request(endpoint, raw=b"")] * burst):
            case += " (rejected requests did not count: reading rate-limit-counts=successes-only)"
            # Rejected requests did not count: successes must. Each is built (and arranged, under the
            # normal limit) before any is sent; then the lowered limit starts afresh.
            if control is not None:
                control.limit_rate(None)
                successes = [chosen.build(conformance) for _ in range(burst)]
                control.limit_rate(LOWERED_LIMIT)
            else:
                successes = harmless_successes(conformance, endpoint, burst)
            if not successes or not _fill(conformance, successes):
                _not_reached(conformance, endpoint, burst, no_harmless_success=not successes)
        return _expect_limited(conformance, request, endpoint, row, case)
    finally:
        if control is not None:
            control.limit_rate(None)


def _fill(conformance: Verifier, fillers: list[Request]) -> bool:
    """Send fillers until the target answers 429 (True), or none of them gets one (False).

    Fillers are arrangement: sent, not judged, and not spending the client's own budget.
    """
    limited = conformance.contract.status_of(conformance.contract.behaviour.rate_limit.row)
    return any(
        exchange.response is not None and exchange.response.status == limited
        for exchange in send_fillers(conformance, fillers)
    )


def send_fillers(conformance: Verifier, fillers: list[Request]) -> Iterator[Exchange]:
    """Send each filler as it is asked for (so a caller can stop early), tagged for the cassette."""
    row = conformance.contract.behaviour.rate_limit.row
    for filler in fillers:
        with tagging_case("rate limit filler", (row,)):
            exchange = conformance.target.client.send(filler, spend_budget=False)
        yield exchange


def harmless_successes(conformance: Verifier, endpoint: str, count: int) -> list[Request]:
    """Requests on `endpoint` that succeed and change nothing; none on an endpoint whose every
    success creates an activity or pushes to devices."""
    if endpoint not in ("remove-users", "add-users"):
        return []
    activity = conformance.register()
    present = conformance.profile.syncing_insiders()[0].insider_id
    ids = [NOT_IN_SEGMENT] if endpoint == "remove-users" else [present]
    return [Request(endpoint, conformance.segment_body(activity, ids))] * count


def _not_reached(conformance: Verifier, endpoint: str, burst: int, *, no_harmless_success: bool) -> None:
    """No 429 after a burst of rejected requests: the target counts only successes. Where none can be
    sent harmlessly, the row is not verified; otherwise the verdict on the next request says it."""
    if no_harmless_success:
        conformance.skip(
            f"{burst} rejected requests to /{endpoint} got no 429: the target counts only successes "
            "against the limit (reading rate-limit-counts=successes-only), and every success on "
            f"/{endpoint} creates an activity or pushes to devices: not verified",
            endpoint=endpoint,
            rows=(conformance.contract.behaviour.rate_limit.row,),
        )


def _expect_limited(conformance: Verifier, request: Request, endpoint: str, row: str, case: str) -> Exchange:
    conformance.world.pending_rows[endpoint] = row
    try:
        return conformance.verify(request, case=case)
    finally:
        conformance.world.pending_rows.pop(endpoint, None)

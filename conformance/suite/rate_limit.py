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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from conformance.cassettes.tags import tagging_case
from conformance.core.exchange import Exchange, Request
from conformance.generate.bodies import segment_body
from conformance.suite.provoke import Provocation
from conformance.targets.arrange import Arranger
from conformance.targets.verifier import Verifier

LOWERED_LIMIT = 2
NOT_IN_SEGMENT = "conformance-not-in-segment"


def burst_size(limit: int) -> int:
    """Requests that surely reach a limit within one window's time: in fixed windows the burst may
    straddle a window's end, and 2 x limit + 1 requests put more than the limit into one of them."""
    return 2 * limit + 1


@dataclass(frozen=True)
class Burst:
    """Fillers sent in a row: where the first 429 came (1-based; None: none came), and how long it took."""

    first_limited: int | None
    seconds: float


def provoke_rate_limit(
    arrange: Arranger, chosen: Provocation, endpoint: str, *, while_limited: Callable[[], None] | None = None
) -> Exchange:
    """Exhaust the (key, path, method) bucket of `endpoint`, then verify that the next request gets 429;
    then `while_limited`, if given, runs while the bucket is still exhausted.

    Requests are built before a burst: arranging one (a sync wait) takes time, and a fixed window
    could turn over in the middle of the burst.
    """
    verifier = arrange.verifier
    rate = verifier.contract.behaviour.rate_limit
    control = verifier.target.control
    if control is None and not verifier.target.allow_rate_limit_probe:
        verifier.skip(
            "provoking 429 on a live target spends its real rate budget: pass --allow-rate-limit-probe",
            endpoint=endpoint,
            rows=(rate.row,),
        )
    size = burst_size(LOWERED_LIMIT if control is not None else rate.requests)
    request = chosen.build(arrange)
    if control is not None:
        control.limit_rate(LOWERED_LIMIT)
    case = "over the rate limit"
    try:
        rejected = fill(verifier, [Request(endpoint, raw=b"")] * size)
        if rejected.first_limited is None:
            _too_slow(verifier, endpoint, rejected)
            case += " (rejected requests did not count: reading rate-limit-counts=successes-only)"
            # Successes must count, then. Each is built (and arranged, under the normal limit) before
            # any is sent; then the lowered limit starts afresh.
            if control is not None:
                control.limit_rate(None)
                successes = [chosen.build(arrange) for _ in range(size)]
                control.limit_rate(LOWERED_LIMIT)
            else:
                successes = harmless_successes(arrange, endpoint, size)
            if not successes:
                _no_harmless_success(verifier, endpoint, size)
            _too_slow(verifier, endpoint, fill(verifier, successes))
        limited = _expect_limited(verifier, request, endpoint, rate.row, case)
        if while_limited is not None:
            while_limited()
        return limited
    finally:
        if control is not None:
            control.limit_rate(None)


def verify_not_limited(verifier: Verifier, request: Request, *, case: str) -> Exchange:
    """Send `request` once, with no backoff on a 429, and judge it: for a test whose subject is that
    this request's bucket has room (the client's usual backoff would wait a 429 away unseen)."""
    when = verifier.when()
    with tagging_case(case, (verifier.contract.behaviour.rate_limit.row,)):
        exchange = verifier.target.client.send(request)
    return verifier.conclude(exchange, case=case, when=when)


def fill(verifier: Verifier, fillers: list[Request]) -> Burst:
    """Send fillers in a row until the target answers 429, timed on the target's clock.

    Fillers are arrangement: sent, not judged, and not spending the client's own budget.
    """
    limited = verifier.contract.status_of(verifier.contract.behaviour.rate_limit.row)
    started = verifier.target.clock.reads_at_most()
    first = next(
        (
            n
            for n, exchange in enumerate(send_fillers(verifier, fillers), start=1)
            if exchange.response is not None and exchange.response.status == limited
        ),
        None,
    )
    return Burst(first, (verifier.target.clock.reads_at_most() - started).total_seconds())


def _too_slow(verifier: Verifier, endpoint: str, burst: Burst) -> None:
    """A burst without a 429 that outlasted a window proves nothing of the limit: not verified."""
    rate = verifier.contract.behaviour.rate_limit
    if burst.first_limited is None and burst.seconds > rate.per_seconds:
        verifier.skip(
            f"a burst to /{endpoint} took {burst.seconds:.0f} s, longer than the {rate.per_seconds} s "
            "rate window, so the limit cannot be reached at this latency: not verified",
            endpoint=endpoint,
            rows=(rate.row,),
        )


def send_fillers(verifier: Verifier, fillers: list[Request]) -> Iterator[Exchange]:
    """Send each filler as it is asked for (so a caller can stop early), tagged for the cassette."""
    row = verifier.contract.behaviour.rate_limit.row
    for filler in fillers:
        with tagging_case("rate limit filler", (row,)):
            exchange = verifier.target.client.send(filler, spend_budget=False)
        yield exchange


def harmless_successes(arrange: Arranger, endpoint: str, count: int) -> list[Request]:
    """Requests on `endpoint` that succeed and change nothing: removing an insider not in the
    segment, adding one already in it. None on an endpoint whose every success creates an activity or
    pushes to devices."""
    roles = arrange.contract.roles
    if endpoint not in (roles.removes_from_segment, roles.adds_to_segment):
        return []
    activity = arrange.register()
    present = arrange.profile.syncing_insiders()[0].insider_id
    ids = [NOT_IN_SEGMENT] if endpoint == roles.removes_from_segment else [present]
    return [Request(endpoint, segment_body(activity, ids))] * count


def _no_harmless_success(verifier: Verifier, endpoint: str, size: int) -> None:
    verifier.skip(
        f"{size} rejected requests to /{endpoint} got no 429: the target counts only successes "
        "against the limit (reading rate-limit-counts=successes-only), and every success on "
        f"/{endpoint} creates an activity or pushes to devices: not verified",
        endpoint=endpoint,
        rows=(verifier.contract.behaviour.rate_limit.row,),
    )


def _expect_limited(verifier: Verifier, request: Request, endpoint: str, row: str, case: str) -> Exchange:
    verifier.world.pending_rows[endpoint] = row
    try:
        return verifier.verify(request, case=case)
    finally:
        verifier.world.pending_rows.pop(endpoint, None)

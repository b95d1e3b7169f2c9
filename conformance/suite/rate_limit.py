"""Provoking the rate limit without harming anyone.

On a target with a control API the limit is lowered for a moment (a fresh window, two requests);
on a live target only with `--allow-rate-limit-probe`, since it spends the real budget. Fillers are
requests with an empty body: a 400 that changes nothing on the target.
"""

from __future__ import annotations

from conformance.exchange import Exchange, Request
from conformance.suite.provoke import Provocation
from conformance.targets.target import Verifier

LOWERED_LIMIT = 2
BURST_MARGIN = 1.1  # a live burst stops after this many times the documented limit


def provoke_rate_limit(conformance: Verifier, chosen: Provocation, endpoint: str) -> Exchange:
    """Exhaust the (key, path, method) bucket of `endpoint`, then verify that the next request gets 429."""
    row = conformance.contract.behaviour.rate_limit.row
    request = chosen.build(conformance)
    control = conformance.target.control
    filler = Request(endpoint, raw=b"")
    if control is not None:
        control.limit_rate(LOWERED_LIMIT)
        try:
            for n in range(LOWERED_LIMIT):
                conformance.verify(filler, case=f"rate limit filler {n + 1}/{LOWERED_LIMIT}")
            return _expect_limited(conformance, request, endpoint, row)
        finally:
            control.limit_rate(None)
    if not conformance.target.allow_rate_limit_probe:
        conformance.skip(
            "provoking 429 on a live target spends its real rate budget: pass --allow-rate-limit-probe",
            endpoint=endpoint,
            rows=(row,),
        )
    limit = conformance.contract.behaviour.rate_limit.requests
    client = conformance.target.client
    for _ in range(int(limit * BURST_MARGIN)):
        response = client.send(filler, spend_budget=False).response
        if response is not None and response.status == conformance.contract.status_of(row):
            return _expect_limited(conformance, request, endpoint, row)
    return _expect_limited(conformance, request, endpoint, row)


def _expect_limited(conformance: Verifier, request: Request, endpoint: str, row: str) -> Exchange:
    conformance.world.pending_rows[endpoint] = row
    try:
        return conformance.verify(request, case="over the rate limit")
    finally:
        conformance.world.pending_rows.pop(endpoint, None)

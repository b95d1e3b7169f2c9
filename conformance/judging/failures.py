"""Structured failures: which documented row broke, on which request, expected vs received.

Reports read the fields; the message is for people: the row with its meaning and suggested fix, the
request as curl (key redacted), the documented outcomes and what came back.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.contract import Contract
from conformance.core.exchange import Exchange
from conformance.generate.expected import Alternative, Expected
from conformance.judging.checks import Judgement

BODY_PREVIEW = 300
CURL_PREVIEW = 600  # a request of 10,000 insider ids is shown cut, with its full size


@dataclass(frozen=True)
class FailureDetails:
    endpoint: str
    rows: tuple[str, ...]
    level: str
    curl: str
    documented: tuple[str, ...]
    received: str
    checks: tuple[str, ...]


class ContractViolation(AssertionError):
    """A response no acceptable outcome allows: the API does not behave as documented."""

    def __init__(self, details: FailureDetails, message: str, exchange: Exchange) -> None:
        self.details = details
        self.exchange = exchange  # what was sent and observed, for callers that go on from a failure
        super().__init__(message)


def describe(contract: Contract, alternative: Alternative) -> str:
    """`404 NOT_FOUND [lifecycle:update:DEAD, documented]` or `200 success (sessions_triggered=2)`."""
    if alternative.kind == "ok":
        facts = ", ".join(f"{k}={'absent' if v == '<absent>' else v}" for k, v in alternative.body.items())
        what = f"{alternative.status} success" + (f" ({facts})" if facts else "")
    else:
        codes = [contract.body_code(c) or "(no body)" for c in alternative.codes]
        what = f"{alternative.status} " + ("|".join(codes) if codes else "(any code)")
    reading = f", {alternative.reading}" if alternative.reading else ""
    return f"{what} [{alternative.rule}{reading}, {alternative.level}]"


def received(exchange: Exchange) -> str:
    response = exchange.response
    if response is None:
        return exchange.error or "no response"
    body = response.content.decode("utf-8", errors="replace")
    if len(body) > BODY_PREVIEW:
        body = body[:BODY_PREVIEW] + "..."
    return f"{response.status} {body or '(empty body)'}"


def violation(
    contract: Contract, exchange: Exchange, expected: Expected, judgement: Judgement, curl: str
) -> ContractViolation:
    endpoint = exchange.request.endpoint
    rows = _rows(contract, expected)
    details = FailureDetails(
        endpoint=endpoint,
        rows=tuple(r for r in expected.rules),
        level=expected.level,
        curl=curl if len(curl) <= CURL_PREVIEW else f"{curl[:CURL_PREVIEW]}... ({len(curl)} characters)",
        documented=tuple(describe(contract, a) for a in expected.alternatives),
        received=received(exchange),
        checks=tuple(f"{describe(contract, a)}: {'; '.join(failed)}" for a, failed in _nearest(judgement)),
    )
    lines = [f"/{endpoint} does not behave as documented ({expected.level}):"]
    for row in rows:
        lines.append(f"  row      {row.describe()}  endpoints: {', '.join(row.endpoints)}")
        lines.append(f"           suggested fix: {row.fix}")
    lines.append(f"  request  {details.curl}")
    lines += [f"  expected {d}" for d in details.documented]
    lines.append(f"  received {details.received}")
    lines += [f"  nearest  {c}" for c in details.checks]
    return ContractViolation(details, "\n".join(lines), exchange)


def _rows(contract: Contract, expected: Expected) -> list:  # type: ignore[type-arg]
    ids = dict.fromkeys(c for a in expected.alternatives for c in a.codes)
    return [contract.table.row(i) for i in ids if i not in contract.behaviour.extra_codes]


def _nearest(judgement: Judgement) -> list[tuple[Alternative, tuple[str, ...]]]:
    """The alternatives that failed fewest checks first (vcrpy's 'closest match' idea)."""
    return sorted(judgement.misses, key=lambda miss: len(miss[1]))[:3]

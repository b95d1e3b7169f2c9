"""The verify-and-record step: send a request, ask the oracle, judge, record the case.

A `Verifier` is what a test gets (the `verifier` fixture): it raises a `ContractViolation` that
names the broken row, and records whatever the target cannot show as not verified, with the reason.
Arranging activities for a test is `targets/arrange.py`'s job; it verifies through this.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field, replace
from datetime import datetime
from threading import Barrier
from typing import Any, NoReturn

import pytest

from conformance.cassettes.tags import tagging_case
from conformance.contract import Contract
from conformance.core.clock import ServerTime
from conformance.core.exchange import Exchange, Request
from conformance.generate.expected import Alternative, Expected
from conformance.generate.oracle import expected_outcome
from conformance.generate.strategies import missed_aim, stated_certainty
from conformance.generate.world import ActivityModel, World
from conformance.judging.checks import judge
from conformance.judging.failures import describe, violation
from conformance.judging.results import ARRANGEMENT, CaseResult, Observed, Verdict, unverified
from conformance.profile.target_profile import TargetProfile
from conformance.targets.target import ClockJumped, Target

BARRIER_TIMEOUT_SECONDS = 10.0  # threads of one parallel send: started together, never waiting forever
# Aims at one edge case: a miss (a late send, a slow round trip) is aimed again, up to this many in all.
AIM_ATTEMPTS = 4


@dataclass
class Verifier:
    """The suite's handle in one test: verify requests, record verdicts, skip with reasons."""

    target: Target
    test: str
    record_property: Callable[[str, object], None]
    # Activities this test started: waits for sync depend on them only, so a test's requests (and
    # its cassette) are the same whichever tests ran before it.
    started: list[ActivityModel] = field(default_factory=list)
    # Where its cases go: the run's results, unless it prepares ahead for a test not known yet (the
    # sync pool keeps them until it hands the activity over: conformance/targets/syncpool.py).
    sink: Callable[[CaseResult], None] | None = None

    def __repr__(self) -> str:
        """Short: Hypothesis prints the fixture's repr in failure reports, and the world is large."""
        return f"Verifier({self.test!r} on {self.target.name})"

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        printer.text(repr(self))

    @property
    def contract(self) -> Contract:
        return self.target.contract

    @property
    def profile(self) -> TargetProfile:
        return self.target.profile

    @property
    def world(self) -> World:
        return self.target.world

    def when(self) -> ServerTime:
        return self.target.when()

    def aim(self) -> ServerTime:
        return self.target.aim()

    # -- verdicts ---------------------------------------------------------------------------------

    def verify(
        self,
        request: Request,
        *,
        case: str,
        when: ServerTime | None = None,
        arrangement: bool = False,
        probe: bool = False,
    ) -> Exchange:
        """Send, predict, judge and record; raise a ContractViolation when no documented outcome fits.

        An `arrangement` sets a test up: it must give what the test needs (a success, and a created
        activity's id); anything else about its answer is recorded, never failed. A `probe` asks
        what the documentation leaves open: its answer is recorded whatever documented rule the
        oracle also finds, since the probe's own question decides it.
        """
        moment = when or self.target.when()
        expected = expected_outcome(self.world, request, moment)
        # The cassette tags of the requests sent inside the block (see conformance/cassettes/tags.py).
        with tagging_case(case, _rows(expected)):
            exchange = self._send(request, expected)
        return self.conclude(
            exchange, case=case, when=moment, arrangement=arrangement, probe=probe, expected=expected
        )

    def verify_aimed(
        self,
        place: Callable[[ServerTime], Request],
        *,
        case: Callable[[str], str],
        missed: Callable[[str], str],
    ) -> Exchange:
        """Verify a request placed at an edge (`place` builds it for the aimed bounds), as `verify` does.

        The placement holds only where the target handled the request inside the aimed bounds, which
        the real send time and round trip tell. An attempt that landed elsewhere (our process was
        slow to send, the answer slow to come) asked another question: it is judged with the bounds
        it had, labelled by `missed`, and the edge is aimed again. The last attempt is judged as it
        landed, labelled by `case` with the uncertainty it had. Both take the certainty's words.
        """
        for attempt in range(1, AIM_ATTEMPTS + 1):
            when = self.aim()
            request = place(when)
            expected = expected_outcome(self.world, request, when)
            aimed = case(stated_certainty(when))
            with tagging_case(aimed, _rows(expected)):
                exchange = self._send(request, expected)
            handled = self._handled(exchange, when)
            if _inside(handled, when):
                return self.conclude(exchange, case=aimed, when=when, expected=expected, handled=handled)
            label = case if attempt == AIM_ATTEMPTS else missed
            last = self.conclude(
                exchange, case=label(missed_aim(handled)), when=when, expected=expected, handled=handled
            )
        return last

    def conclude(
        self,
        exchange: Exchange,
        *,
        case: str,
        when: ServerTime,
        arrangement: bool = False,
        probe: bool = False,
        expected: Expected | None = None,
        handled: ServerTime | None = None,
    ) -> Exchange:
        """Judge and record an exchange already sent (read at `when`), as `verify` does; `expected` is
        the prediction made before sending, if there was one (the world may have moved since);
        `handled`, the bounds the target handled it in, if `_handled` gave them already."""
        request = exchange.request
        expected = expected or expected_outcome(self.world, request, when)
        response = exchange.response
        handled = handled or self._handled(exchange, when)
        if handled != when:
            expected = expected_outcome(self.world, request, handled)
        judgement = judge(self.contract, expected, exchange)
        arranged = (
            arrangement and judgement.verdict == Verdict.FAILED and self._gives_what_tests_need(exchange)
        )
        if arranged or (probe and judgement.verdict != Verdict.RECORDED):
            judgement = replace(judgement, verdict=Verdict.RECORDED)
        rows, codes = _rows(expected), _codes(expected)
        self.record_property("contract_rows", ",".join(rows))
        self.record_property("codes", ",".join(filter(None, (self.contract.body_code(c) for c in codes))))
        result = CaseResult(
            test=self.test,
            case=case,
            endpoint=request.endpoint,
            rows=rows,
            level=expected.level,
            expected=tuple(self.target.scrub(describe(self.contract, a)) for a in expected.alternatives),
            observed=_observed(exchange, self.target.scrub),
            verdict=judgement.verdict,
            matched=_matched(judgement.matched),
            latency_ms=round(response.latency_seconds * 1000, 3) if response else None,
            expectations=_judged(expected, judgement.matched),
        )
        if arranged:
            miss = "; ".join(judgement.misses[0][1]) if judgement.misses else ""
            result = replace(result, reason=self.target.scrub(f"arrangement, not judged further: {miss}"))
        if judgement.verdict == Verdict.FAILED and self.target.clock_jump is not None:
            self._record(replace(result, verdict=Verdict.ERROR, reason=self.target.clock_jump))
            raise ClockJumped(self.target.clock_jump)
        if judgement.verdict == Verdict.FAILED:
            error = violation(self.contract, exchange, expected, judgement, self.target.client.curl(request))
            message = self.target.scrub(str(error))
            curl = self.target.scrub(error.details.curl)
            self._record(replace(result, reason=message.splitlines()[0], request=curl))
            raise type(error)(error.details, message, exchange)
        self._record(result)
        if response is not None and response.status == self.contract.behaviour.success_status:
            self._follow(request, response.json())
        return exchange

    def _handled(self, exchange: Exchange, when: ServerTime) -> ServerTime:
        """The target handled the request after `when.earliest` and before its answer arrived: judge
        with that bracket, not with the allowance guessed before sending (a loaded target can be slow)."""
        response = exchange.response
        if response is None:
            return when
        sent = response.sent_at
        return self.target.clock.handled(when, sent, sent + response.latency_seconds)

    def _record(self, result: CaseResult) -> None:
        (self.sink or self.target.record)(result)

    def arrange(self, request: Request, *, when: ServerTime | None = None) -> Exchange:
        """Set a test up with `request`: judged only on what the test needs (see `verify`)."""
        return self.verify(request, case=f"{ARRANGEMENT}{request.endpoint}", when=when, arrangement=True)

    def send_together(self, request: Request, copies: int, *, case: str) -> list[Exchange]:
        """Send `copies` of a request at once, each from a thread of its own (over HTTP, on a
        connection of its own); judge none of them.

        The threads wait at a barrier, so that no copy leaves before every thread is ready; each
        sends in a copy of this context, so the cassette tags reach every request.
        """
        expected = expected_outcome(self.world, request, self.when())
        ready = Barrier(copies)

        def send() -> Exchange:
            ready.wait(BARRIER_TIMEOUT_SECONDS)
            return self.target.client.send(request)

        with tagging_case(case, _rows(expected)), ThreadPoolExecutor(max_workers=copies) as pool:
            sends = [pool.submit(copy_context().run, send) for _ in range(copies)]
            return [s.result() for s in sends]

    def assume_committed(self, request: Request) -> None:
        """The target handled `request` but its answer was lost: update the world as for a success."""
        self._follow(request, {})

    def _send(self, request: Request, expected: Expected) -> Exchange:
        """Send; back off on a 429 unless the oracle predicts one (the request provokes it)."""
        rate_row = self.contract.behaviour.rate_limit.row
        if any(rate_row in a.codes for a in expected.alternatives):
            return self.target.client.send(request)
        return self.target.send(request)

    def _gives_what_tests_need(self, exchange: Exchange) -> bool:
        """A success; for a creating request, one that names the activity it created."""
        response = exchange.response
        if response is None or response.status != self.contract.behaviour.success_status:
            return False
        body = response.json()
        return exchange.request.endpoint != self.contract.roles.creates_activity or (
            isinstance(body, dict) and isinstance(body.get("activity_id"), str)
        )

    def _follow(self, request: Request, response_body: Any) -> None:
        """Move the world as a success moves the target; keep what this test started."""
        started = self.world.follow(request, response_body, self._started_at)
        if started is not None:
            self.started.append(started)

    def _started_at(self) -> datetime:
        """The latest the server may have read when it started an activity."""
        self.target.when()  # calibrates a bracketed clock on first use
        return self.target.clock.reads_at_most()

    # -- what the target cannot show ----------------------------------------------------------------

    def skip(self, reason: str, *, endpoint: str = "", rows: tuple[str, ...] = ()) -> NoReturn:
        """Skip the test and record it as not verified, with the reason."""
        reason = self.target.scrub(reason)
        self._record(unverified(self.test, Verdict.SKIPPED, reason, endpoint=endpoint, rows=rows))
        pytest.skip(reason)

    def require_account(self, state: str, *, endpoint: str = "", rows: tuple[str, ...] = ()) -> None:
        if not self.target.client.has_account(state):
            where = self.profile.accounts.get(state)
            how = (
                f"set {where.env}"
                if where is not None and where.env
                else f"add accounts.{state} to the profile"
            )
            self.skip(
                f"the target profile offers no key for account state {state!r} ({how})",
                endpoint=endpoint,
                rows=rows,
            )


def _inside(handled: ServerTime, aimed: ServerTime) -> bool:
    """The target handled the request within the bounds its placement assumed."""
    return aimed.earliest <= handled.earliest and handled.latest <= aimed.latest


def _codes(expected: Expected) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for a in expected.alternatives for c in a.codes))


def _rows(expected: Expected) -> tuple[str, ...]:
    """The contract rows a case exercises: the codes it may get, else the rules it falls under."""
    return _codes(expected) or expected.rules


def _judged(expected: Expected, matched: Alternative | None) -> tuple[str, ...]:
    """The expectations a verdict is about: the one the answer met, else every one it could have met;
    and the undocumented ones the request fell under, which only record."""
    alternatives = (matched,) if matched is not None else expected.alternatives
    return tuple(dict.fromkeys([*(e for a in alternatives for e in a.expectations), *expected.undocumented]))


def _matched(alternative: Alternative | None) -> str | None:
    """The rule whose outcome the target chose, and the reading of an open point it took, if any."""
    if alternative is None:
        return None
    return f"{alternative.rule} [{alternative.reading}]" if alternative.reading else alternative.rule


def _observed(exchange: Exchange, scrub: Callable[[str], str]) -> Observed:
    """What the target answered, its text scrubbed (a target may echo a key or an insider id)."""
    response = exchange.response
    if response is None:
        return Observed(status=None, code=None, body_fields=(), has_body=False, error=exchange.error)
    body = response.json()
    return Observed(
        status=response.status,
        code=None if response.code is None else scrub(response.code),
        body_fields=tuple(sorted(scrub(k) for k in body)) if isinstance(body, dict) else (),
        has_body=bool(response.content.strip()),
    )

"""An edge case is judged under its name only where the target handled it inside the aimed bounds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx

from conformance.core.clock import Phase, ServerTime, rfc3339
from conformance.core.exchange import Request
from conformance.generate.bodies import register_body
from conformance.judging.results import CaseResult, Verdict
from conformance.targets.kinds import kind_named
from conformance.targets.target import Target
from conformance.targets.verifier import AIM_ATTEMPTS, Verifier
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.targets.targets_support import client

NOW = datetime(2026, 5, 20, 10, 0, 0, 500000, tzinfo=UTC)
AIMED = ServerTime(NOW, NOW + timedelta(seconds=0.1), Phase(0.0, 0.05, 0.3))
LATE = ServerTime(NOW + timedelta(seconds=0.4), NOW + timedelta(seconds=0.45), AIMED.phase)


class ScriptedClock:
    """Aims at AIMED every time; says the target handled each request in the next of `handled`."""

    calibrated = True
    tolerance_seconds = 0.1

    def __init__(self, handled: list[ServerTime]) -> None:
        self._handled: Iterator[ServerTime] = iter(handled)
        self.aims = 0

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        """Nothing to learn: scripted."""

    def reads_at_most(self) -> datetime:
        return AIMED.latest

    def when(self) -> ServerTime:
        return AIMED

    def aim(self) -> ServerTime:
        self.aims += 1
        return AIMED

    def handled(self, moment: ServerTime, sent: float, received: float) -> ServerTime:  # noqa: ARG002
        return next(self._handled)

    def sharpen(self, send: Callable[[], object]) -> None:
        """Nothing to learn: scripted."""


def _aimed_cases(handled: list[ServerTime]) -> tuple[list[CaseResult], int]:
    """The cases one aimed verification of a too-soon ends_at records, and how often it aimed."""
    contract = bundled_contract()
    window = contract.behaviour.ends_at
    code = contract.body_code(window.minimum.expectation.outcome.codes[0])

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "ends_at is too soon", "code": code})

    ids = [i.insider_id for i in sandbox_profile().syncing_insiders()]
    recorded: list[CaseResult] = []
    clock = ScriptedClock(handled)
    target = Target(
        kind_named("live").traits, contract, sandbox_profile(), client(handler), clock, None, recorded.append
    )
    verifier = Verifier(target=target, test="test_aimed", record_property=lambda *_: None)

    def place(when: ServerTime) -> Request:
        ends_at = rfc3339(when.latest + timedelta(seconds=60), exact=True)
        return Request(window.endpoint, register_body(contract, sandbox_profile(), ids, ends_at))

    verifier.verify_aimed(place, case=lambda c: f"edge ({c})", missed=lambda c: f"near the edge ({c})")
    return recorded, clock.aims


def test_a_request_handled_inside_the_aimed_bounds_is_judged_under_the_edge_name() -> None:
    cases, aims = _aimed_cases([AIMED])
    assert aims == 1
    assert [(c.case, c.verdict) for c in cases] == [
        ("edge (aimed mid-second, tolerance under 1 s)", Verdict.PASSED)
    ]


def test_a_late_request_is_judged_as_what_it_was_and_the_edge_aimed_again() -> None:
    cases, aims = _aimed_cases([LATE, AIMED])
    assert aims == 2
    assert [(c.case, c.verdict) for c in cases] == [
        ("near the edge (aim missed, tolerance 1 s)", Verdict.PASSED),
        ("edge (aimed mid-second, tolerance under 1 s)", Verdict.PASSED),
    ]


def test_an_edge_that_misses_every_aim_states_the_uncertainty_it_had() -> None:
    cases, aims = _aimed_cases([LATE] * AIM_ATTEMPTS)
    assert aims == AIM_ATTEMPTS
    assert cases[-1].case == "edge (aim missed, tolerance 1 s)"
    assert all(c.case.startswith("near the edge (aim missed") for c in cases[:-1])

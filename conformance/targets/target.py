"""A target under test and the per-test handle the suite's tests use.

`Target` owns the client, the server clock, the suite's model of the target's state (`World`), the
optional control API (faults, clock) and the cleanup registry. `Verifier` is what a test gets: it
sends a request, asks the oracle, judges, records the case, and raises a `ContractViolation` that
names the broken row. Whatever the target cannot do is skipped with the reason, and recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import copy_context
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from threading import Barrier
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pytest

from conformance.cassettes import Pseudonyms, not_recorded, tagging_case
from conformance.checks import judge
from conformance.clock import rfc3339
from conformance.contract import Contract
from conformance.contract.model import State
from conformance.exchange import Exchange, Request
from conformance.failures import describe, violation
from conformance.generate.oracle import (
    ActivityModel,
    Alternative,
    Expected,
    ServerTime,
    World,
    expected_outcome,
)
from conformance.results import CaseResult, Observed, unverified
from conformance.targets.client import ApiClient, redact
from conformance.targets.profile import Insider, TargetProfile, replace_ids
from conformance.targets.servertime import ServerClock

if TYPE_CHECKING:
    from conformance.targets.replay import Replay

FaultKind = Literal["status", "latency", "drop_after_commit"]
SYNC_MARGIN_SECONDS = 0.05
BARRIER_TIMEOUT_SECONDS = 10.0  # threads of one parallel send: started together, never waiting forever


class Control(Protocol):
    """What a target's control API offers: faults and, for a virtual clock, moving time."""

    clock_is_virtual: bool

    def inject(
        self,
        endpoint: str | None,
        kind: FaultKind,
        *,
        status: int | None = None,
        latency_ms: int = 0,
        times: int = 1,
    ) -> None: ...

    def clear_faults(self) -> None: ...

    def advance_clock(self, seconds: float) -> None: ...

    def limit_rate(self, requests_per_minute: int | None) -> None:
        """Enforce this limit from a fresh window on (None: the target's own limit again)."""


class Recorder(Protocol):
    def __call__(self, result: CaseResult) -> None: ...


@dataclass(frozen=True)
class Offers:
    """What a target offers the suite besides its API; the suite's path through a test depends on it,
    so a cassette records it and its replay offers the test the same."""

    control: bool  # a control API (faults)
    virtual_clock: bool  # a clock the suite moves instead of sleeping
    rate_limit_probe: bool  # a 429 may be provoked
    accounts: tuple[str, ...]  # the account states it has keys for

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Offers:
        data = json.loads(text)
        return cls(
            bool(data["control"]),
            bool(data["virtual_clock"]),
            bool(data["rate_limit_probe"]),
            tuple(data["accounts"]),
        )


@dataclass
class Target:
    name: str
    contract: Contract
    profile: TargetProfile
    client: ApiClient
    clock: ServerClock
    control: Control | None
    record: Recorder
    allow_rate_limit_probe: bool = False
    # Live recordings, and their replays: what replaces the profile's insider ids and udids in cassettes.
    pseudonyms: Pseudonyms | None = None
    # Replay only: sets, per test, the clock and the offers its recording had.
    replay: Replay | None = None
    # A live target's insiders are real people: messages name them by profile entry, not by id.
    alias_personal_ids: bool = False
    world: World = field(init=False)
    registered: list[ActivityModel] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.world = World(self.contract, self.profile)
        self.client.on_exchange.append(self._observe)

    def _observe(self, exchange: Exchange) -> None:
        response = exchange.response
        if response is not None:
            self.clock.observe(
                response.headers.get("date"), response.sent_at, response.sent_at + response.latency_seconds
            )

    def when(self) -> ServerTime:
        if not self.clock.calibrated:
            self.calibrate()
        return self.clock.when()

    def aim(self) -> ServerTime:
        """Bounds for a request sent right away, placed mid-second on the target's clock if it can be
        (a real clock: this may wait up to a second). For timestamps at an edge: see `place_ends_at`."""
        self.when()  # calibrates a bracketed clock on first use
        return self.clock.aim()

    @property
    def tolerance_seconds(self) -> float:
        """How far from a placed timestamp the server may see it (0 on a virtual clock)."""
        self.when()  # calibrates a bracketed clock on first use
        return self.clock.tolerance_seconds

    def calibrate(self) -> None:
        """Learn the server's clock from a few harmless requests (an empty body: 400, no state).

        Not recorded: they belong to the run, not to the test that happened to read the clock first.
        """

        def harmless() -> None:
            self.client.send(Request("register", raw=b""))

        with not_recorded():
            for _ in range(3):
                harmless()
            self.clock.sharpen(harmless)

    @property
    def clock_is_virtual(self) -> bool:
        return self.control is not None and self.control.clock_is_virtual

    @property
    def pseudonym_key(self) -> str | None:
        """The fingerprint of the key of the pseudonyms in this target's cassettes, if it has any."""
        return self.pseudonyms.fingerprint if self.pseudonyms is not None else None

    def offers(self) -> Offers:
        return Offers(
            control=self.control is not None,
            virtual_clock=self.clock_is_virtual,
            rate_limit_probe=self.allow_rate_limit_probe,
            accounts=tuple(s for s in self.profile.accounts if self.client.has_account(s)),
        )

    def send(self, request: Request) -> Exchange:
        """Send as the retry table says a client should: on a 429, back off and send again.

        The delays are the table's example (1, 2, 4, 8 s), doubled on until they have waited out a
        whole rate window: a bucket another client (or a probe) exhausted is free again by then.
        """
        rate = self.contract.behaviour.rate_limit
        exchange = self.client.send(request)
        for delay in self.backoff_delays():
            response = exchange.response
            if response is None or response.status != self.contract.status_of(rate.row):
                break
            self.wait(delay)
            exchange = self.client.send(request)
        return exchange

    def backoff_delays(self) -> Iterator[float]:
        """The retry table's example delays for a 429, doubled on until a whole window has passed."""
        rate = self.contract.behaviour.rate_limit
        retry = self.contract.table.row(rate.row).retry
        delays = list(retry.backoff_example_seconds) if retry is not None else [1]
        while sum(delays) < rate.per_seconds:
            delays.append(delays[-1] * 2)
        yield from delays

    def wait(self, seconds: float) -> None:
        """Let time pass on the target: move a virtual clock, sleep through a real one.

        A replay never sleeps: that time passed while recording, and its clock reads as it did then.
        """
        if self.replay is not None:
            self.replay.wait(seconds)
        elif self.control is not None and self.control.clock_is_virtual:
            self.control.advance_clock(seconds)
        else:
            time.sleep(seconds)

    def secrets(self) -> tuple[str, ...]:
        """Every key of the profile, sandbox keys included: no key of any kind reaches output."""
        return self.profile.secrets()

    def scrub(self, text: str) -> str:
        """Text the suite prints or writes: no key ever; from a live target, no insider id or udid."""
        text = redact(text, self.secrets())
        return replace_ids(text, self.profile.aliases()) if self.alias_personal_ids else text

    def clean_up(self) -> None:
        """End every started activity the run left alive (also after a failure or Ctrl-C).

        A REGISTERED activity cannot be ended without a /start that pushes to real devices, so it
        is left to expire at its ends_at (the shortest the suite's margin allows) and listed.
        A replay has nothing to clean: it never reached a target.
        """
        if self.replay is not None:
            return
        for activity in self.registered:
            if activity.state != "STARTED":
                continue
            body = {
                "activity_id": activity.activity_id,
                "activity_type": activity.activity_type,
                "content": {"title": "Conformance run ended", "message": "cleanup", "content_state": {}},
            }
            for _ in range(2):
                exchange = self.send(Request("end", body))
                status = exchange.response.status if exchange.response else None
                if status != self.contract.status_of(
                    self.contract.behaviour.sync_gate.none_synced.outcome.codes[0]
                ):
                    break
                self.wait(self.profile.sync_delay_seconds)
            if (
                exchange.response is not None
                and exchange.response.status == self.contract.behaviour.success_status
            ):
                activity.state = "DEAD"

    def leftovers(self) -> list[str]:
        """Activities still alive on the target, with their expiry: the report lists them."""
        return [
            f"{a.activity_id} ({a.state}, expires {rfc3339(a.ends_at)})"
            for a in self.registered
            if a.state != "DEAD"
        ]


@dataclass
class Verifier:
    """The suite's handle in one test: verify requests, arrange state, skip with reasons."""

    target: Target
    test: str
    record_property: Callable[[str, object], None]
    # Activities this test started: waits for sync depend on them only, so a test's requests (and
    # its cassette) are the same whichever tests ran before it.
    started: list[ActivityModel] = field(default_factory=list)

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
        with tagging_case(case, _rows(expected)):
            exchange = self._send(request, expected)
        return self.conclude(
            exchange, case=case, when=moment, arrangement=arrangement, probe=probe, expected=expected
        )

    def conclude(
        self,
        exchange: Exchange,
        *,
        case: str,
        when: ServerTime,
        arrangement: bool = False,
        probe: bool = False,
        expected: Expected | None = None,
    ) -> Exchange:
        """Judge and record an exchange already sent (read at `when`), as `verify` does; `expected` is
        the prediction made before sending, if there was one (the world may have moved since)."""
        request = exchange.request
        expected = expected or expected_outcome(self.world, request, when)
        # The target handled the request after `when.earliest` and before its answer arrived: judge
        # with that bracket, not with the allowance guessed before sending (a loaded target can be slow).
        response = exchange.response
        if response is not None:
            sent = response.sent_at
            handled = self.target.clock.handled(when, sent, sent + response.latency_seconds)
            if handled != when:
                expected = expected_outcome(self.world, request, handled)
        judgement = judge(self.contract, expected, exchange)
        arranged = arrangement and judgement.verdict == "failed" and self._gives_what_tests_need(exchange)
        if arranged or (probe and judgement.verdict != "recorded"):
            judgement = replace(judgement, verdict="recorded")
        response = exchange.response
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
            observed=_observed(exchange),
            verdict=judgement.verdict,
            matched=_matched(judgement.matched),
            latency_ms=round(response.latency_seconds * 1000, 3) if response else None,
        )
        if arranged:
            miss = "; ".join(judgement.misses[0][1]) if judgement.misses else ""
            result = replace(result, reason=self.target.scrub(f"arrangement, not judged further: {miss}"))
        if judgement.verdict == "failed":
            error = violation(self.contract, exchange, expected, judgement, self.target.client.curl(request))
            message = self.target.scrub(str(error))
            self.target.record(replace(result, reason=message.splitlines()[0]))
            raise type(error)(error.details, message, exchange)
        self.target.record(result)
        self._follow(exchange)
        return exchange

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

    def arrange(self, request: Request, *, when: ServerTime | None = None) -> Exchange:
        """Set a test up with `request`: judged only on what the test needs (see `verify`)."""
        return self.verify(request, case=f"arrange: {request.endpoint}", when=when, arrangement=True)

    def _send(self, request: Request, expected: Expected) -> Exchange:
        """Send; back off on a 429 unless the oracle predicts one (the request provokes it)."""
        rate_row = self.contract.behaviour.rate_limit.row
        if any(rate_row in a.codes for a in expected.alternatives):
            return self.target.client.send(request)
        return self.target.send(request)

    def _gives_what_tests_need(self, exchange: Exchange) -> bool:
        """A success; for a /register, one that names the activity it created."""
        response = exchange.response
        if response is None or response.status != self.contract.behaviour.success_status:
            return False
        body = response.json()
        return exchange.request.endpoint != "register" or (
            isinstance(body, dict) and isinstance(body.get("activity_id"), str)
        )

    def assume_committed(self, request: Request) -> None:
        """The target handled `request` but its answer was lost: update the world as for a success."""
        self._follow_success(request, {})

    def _follow(self, exchange: Exchange) -> None:
        """Update the world from a success the oracle allowed (register, start, end, segment edits)."""
        response = exchange.response
        if response is not None and response.status == self.contract.behaviour.success_status:
            self._follow_success(exchange.request, response.json())

    def _follow_success(self, request: Request, response_body: Any) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        activity = self.world.activity(request.activity_id())
        if request.endpoint == "register":
            self._registered(response_body, body)
        elif activity is not None:
            to = self._after_success(request.endpoint, activity.state)
            if to is not None:
                activity.state = to
                if to == "STARTED":
                    # The latest the server may have read when it started it: compared with a later
                    # `when().earliest`, the difference never exceeds the time that really passed.
                    self.target.when()  # calibrates a bracketed clock on first use
                    activity.started_at = self.target.clock.reads_at_most()
                    self.started.append(activity)
            if request.endpoint == "add-users":
                activity.segment |= {i for i in body["insider_ids"] if self._eligible(i)}
            if request.endpoint == "remove-users":
                activity.segment -= set(body["insider_ids"])

    def _after_success(self, endpoint: str, state: State) -> State | None:
        """The state a success leaves an activity in. Where the lifecycle leaves the state open (a 200
        /end on a REGISTERED activity, under one reading), a success does what it does in the states
        the documentation covers: a /end deletes, a /start starts."""
        lifecycle = self.contract.behaviour.lifecycle
        transition = lifecycle.transition(endpoint, state)
        if transition.expectation.asserted:
            return transition.to
        leads_to = {t.to for (e, _), t in lifecycle.transitions.items() if e == endpoint and t.to}
        return leads_to.pop() if len(leads_to) == 1 else None

    def _registered(self, response_body: Any, request_body: dict[str, Any]) -> None:
        activity_id = response_body.get("activity_id") if isinstance(response_body, dict) else None
        if not isinstance(activity_id, str):
            return
        model = ActivityModel(
            activity_id=activity_id,
            activity_type=request_body["activity_type"],
            state=self.contract.behaviour.lifecycle.after_register,
            segment={i for i in request_body["insider_ids"] if self._eligible(i)},
            ends_at=datetime.fromisoformat(request_body["ends_at"]),
        )
        self.world.activities[activity_id] = model
        self.target.registered.append(model)

    def _eligible(self, insider_id: str) -> bool:
        insider = next((i for i in self.profile.insiders if i.insider_id == insider_id), None)
        classes = self.contract.behaviour.eligibility.classes
        return insider is not None and classes[insider.eligibility].counter is not None

    # -- arranging state ------------------------------------------------------------------------

    def register(
        self,
        insiders: tuple[Insider, ...] | None = None,
        *,
        ends_in: float | None = None,
        case: str | None = None,
    ) -> ActivityModel:
        """A /register of `insiders` (default: the syncing eligible ones), ending soon after the
        shortest lifetime allowed. Without a `case` it arranges a test and is judged only on what the
        test needs; with one it is the test's subject, judged in full."""
        chosen = insiders or self.profile.syncing_insiders()
        if not chosen:
            self.skip("the target profile lists no eligible insider whose devices sync")
        window = self.contract.behaviour.ends_at
        seconds = (
            ends_in if ends_in is not None else window.minimum.value + 60 + self.target.tolerance_seconds
        )
        when = self.when()
        body = {
            "activity_type": self.profile.activity_type,
            "insider_ids": [i.insider_id for i in chosen],
            "ends_at": rfc3339(when.latest + timedelta(seconds=seconds)),
        }
        request = Request("register", body)
        exchange = (
            self.arrange(request, when=when) if case is None else self.verify(request, case=case, when=when)
        )
        activity_id = exchange.response.json()["activity_id"] if exchange.response else None
        model = self.world.activity(activity_id)
        if model is None:
            pytest.fail("a valid /register did not return an activity_id")
        return model

    def push_body(self, activity: ActivityModel, **extra: Any) -> dict[str, Any]:
        """A valid /start, /update or /end body for `activity`."""
        return {
            "activity_id": activity.activity_id,
            "activity_type": activity.activity_type,
            "content": {
                "title": "Conformance",
                "message": "suite",
                "content_state": {"status": "in_transit"},
            },
            **extra,
        }

    def segment_body(self, activity: ActivityModel, insider_ids: list[str]) -> dict[str, Any]:
        return {
            "activity_id": activity.activity_id,
            "activity_type": activity.activity_type,
            "insider_ids": insider_ids,
        }

    def start(self, activity: ActivityModel) -> Exchange:
        return self.verify(
            Request("start", self.push_body(activity)), case="arrange: start", arrangement=True
        )

    def wait_for_sync(self) -> None:
        """Wait until what this test started is past the target's declared sync bound (virtual: move it)."""
        bound = timedelta(seconds=self.profile.sync_delay_seconds)
        starts = [a.started_at for a in self.started if a.started_at is not None]
        if starts:
            remaining = (max(starts) + bound - self.when().earliest).total_seconds()
            if remaining > 0:
                self.target.wait(remaining + SYNC_MARGIN_SECONDS)

    def ended(self, activity: ActivityModel) -> ActivityModel:
        """A started, synced, then ended activity (DEAD)."""
        self.start(activity)
        self.wait_for_sync()
        self.arrange(Request("end", self.push_body(activity)))
        return activity

    # -- what the target cannot do ----------------------------------------------------------------

    def skip(self, reason: str, *, endpoint: str = "", rows: tuple[str, ...] = ()) -> None:
        """Skip the test and record it as not verified, with the reason."""
        reason = self.target.scrub(reason)
        self.target.record(unverified(self.test, "skipped", reason, endpoint=endpoint, rows=rows))
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

    def require_control(
        self, fault: FaultKind | None = None, *, endpoint: str = "", rows: tuple[str, ...] = ()
    ) -> Control:
        control = self.target.control
        if control is None or (fault is not None and fault not in self.profile.faults):
            self.skip(
                f"the target cannot inject {fault or 'faults'} (no control API in its profile)",
                endpoint=endpoint,
                rows=rows,
            )
        assert control is not None
        return control

    @contextmanager
    def fault(
        self, endpoint: str, kind: FaultKind, *, row: str | None = None, **options: Any
    ) -> Iterator[Control]:
        """Inject a fault into the next request of `endpoint`; the oracle then expects `row`."""
        control = self.require_control(kind, endpoint=endpoint, rows=(row,) if row else ())
        control.inject(endpoint, kind, **options)
        if row is not None:
            self.world.pending_rows[endpoint] = row
        try:
            yield control
        finally:
            control.clear_faults()
            self.world.pending_rows.pop(endpoint, None)


def _codes(expected: Expected) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for a in expected.alternatives for c in a.codes))


def _rows(expected: Expected) -> tuple[str, ...]:
    """The contract rows a case exercises: the codes it may get, else the rules it falls under."""
    return _codes(expected) or expected.rules


def _matched(alternative: Alternative | None) -> str | None:
    """The rule whose outcome the target chose, and the reading of an open point it took, if any."""
    if alternative is None:
        return None
    return f"{alternative.rule} [{alternative.reading}]" if alternative.reading else alternative.rule


def _observed(exchange: Exchange) -> Observed:
    response = exchange.response
    if response is None:
        return Observed(status=None, code=None, body_fields=(), has_body=False, error=exchange.error)
    body = response.json()
    return Observed(
        status=response.status,
        code=response.code,
        body_fields=tuple(sorted(body)) if isinstance(body, dict) else (),
        has_body=bool(response.content.strip()),
    )

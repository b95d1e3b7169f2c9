"""A target under test: its client, its clock, its control API, and what the suite knows of its state.

A `Target` is opened by its kind (`targets/kinds/`) once per run. It sends as the retry table says a
client should, lets time pass on the target, keeps keys and personal ids out of what the suite
writes, and ends at the run's end what the run started.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from conformance.cassettes.pseudonyms import Pseudonyms
from conformance.cassettes.tags import not_recorded
from conformance.contract import Contract
from conformance.core.clock import ServerTime, rfc3339
from conformance.core.exchange import Exchange, Request
from conformance.core.printable import printable, redact
from conformance.generate.bodies import push_body
from conformance.generate.world import ActivityModel, World
from conformance.judging.results import CaseResult
from conformance.profile.offers import Offers
from conformance.profile.target_profile import TargetProfile, replace_ids
from conformance.profile.traits import Traits
from conformance.targets.api_client import ApiClient
from conformance.targets.control_client import Control
from conformance.targets.servertime import ServerClock, offset_bounds

# A `Date` more than this beyond every earlier one is a jump of the target's clock, not latency.
CLOCK_JUMP_SECONDS = 5.0
CLEANUP_ATTEMPTS = 2  # an /end refused for want of a synced token is sent once more, after the sync delay
SYNC_MARGIN_SECONDS = 0.05  # waited past a sync bound, so that a target on time is surely past it


class ClockJumped(BaseException):
    """The target's clock jumped: the run stops (the plugin), as for `TargetStopped`, and for the
    same reasons a BaseException."""


class Recorder(Protocol):
    def __call__(self, result: CaseResult, /) -> None: ...


@dataclass
class Target:
    kind: Traits  # what kind of target it is (see targets/kind.py)
    contract: Contract
    profile: TargetProfile
    client: ApiClient
    clock: ServerClock
    control: Control | None
    record: Recorder
    allow_rate_limit_probe: bool = False
    # What replaces the profile's insider ids and udids in cassettes (recording from, or replaying, a
    # target with personal data).
    pseudonyms: Pseudonyms | None = None
    # How time passes on the target when its clock is not virtual (a replay never really sleeps).
    sleep: Callable[[float], None] = time.sleep
    world: World = field(init=False)
    # Why the target's time can no longer be trusted (its clock jumped), once it cannot.
    clock_jump: str | None = field(default=None, init=False)
    # Activities whose /start was on its way when the run was stopped: the target may have started
    # them, so cleanup sends each an /end too (and follows only a success).
    maybe_started: list[ActivityModel] = field(default_factory=list, init=False)
    _offset: tuple[float, float] | None = field(default=None, init=False, repr=False)
    # The fastest round trip seen: what one request costs at the least (sizes the sync pool).
    fastest_round_trip: float = field(default=math.inf, init=False)

    def __post_init__(self) -> None:
        self.world = World(self.contract, self.profile)
        self.client.on_exchange.append(self._observe)

    @property
    def name(self) -> str:
        return self.kind.name

    def _observe(self, exchange: Exchange) -> None:
        response = exchange.response
        if response is None:
            return
        self.fastest_round_trip = min(self.fastest_round_trip, response.latency_seconds)
        date, sent = response.headers.get("date"), response.sent_at
        if not self._jumped(date, sent, sent + response.latency_seconds):
            self.clock.observe(date, sent, sent + response.latency_seconds)

    def _jumped(self, date: str | None, sent: float, received: float) -> bool:
        """Does this `Date` contradict every earlier one by more than `CLOCK_JUMP_SECONDS`? Then the
        target's clock jumped (or it lies): the clock keeps what it knew, and `clock_jump` says why
        verdicts that depend on the target's time can no longer be reached.

        Only a real clock is watched: a virtual one moves when the suite moves it, and a replay's
        headers were stamped at recording time."""
        sample = offset_bounds(date, sent, received) if date and not self._clock_moves_itself() else None
        if sample is None:
            return False
        if self._offset is None:
            self._offset = sample
            return False
        low, high = self._offset
        if max(sample[0] - high, low - sample[1]) > CLOCK_JUMP_SECONDS:
            jump = (sample[0] + sample[1] - low - high) / 2  # between the brackets' middles
            self.clock_jump = self.clock_jump or (
                f"the target's clock jumped by {jump:+.0f} s during the run (a Date header of "
                f"{printable(date or '')!r}): a verdict that depends on its time cannot be reached"
            )
            return True
        narrowed = (max(low, sample[0]), min(high, sample[1]))
        self._offset = narrowed if narrowed[0] <= narrowed[1] else sample
        return False

    def _clock_moves_itself(self) -> bool:
        return self.kind.replays or self.clock_is_virtual

    # -- its clock ---------------------------------------------------------------------------------

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
            self.client.send(Request(self.contract.roles.creates_activity, raw=b""))

        with not_recorded():
            for _ in range(3):
                harmless()
            self.clock.sharpen(harmless)

    @property
    def clock_is_virtual(self) -> bool:
        return self.control is not None and self.control.clock_is_virtual

    def wait(self, seconds: float) -> None:
        """Let time pass on the target: move a virtual clock, else let it pass."""
        if self.control is not None and self.control.clock_is_virtual:
            self.control.advance_clock(seconds)
        else:
            self.sleep(seconds)

    # -- what it offers ------------------------------------------------------------------------------

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

    # -- sending -----------------------------------------------------------------------------------

    def send(self, request: Request) -> Exchange:
        """Send as the retry table says a client should: on a 429, back off and send again."""
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
        """The retry table's example delays for a 429 (1, 2, 4, 8 s), doubled on until they have waited
        out a whole rate window: a bucket another client (or a probe) exhausted is free again by then."""
        rate = self.contract.behaviour.rate_limit
        retry = self.contract.table.row(rate.row).retry
        delays = list(retry.backoff_example_seconds) if retry is not None else [1]
        while sum(delays) < rate.per_seconds:
            delays.append(delays[-1] * 2)
        yield from delays

    # -- what the suite writes -------------------------------------------------------------------

    def secrets(self) -> tuple[str, ...]:
        """Every key of the profile, sandbox keys included: no key of any kind reaches output."""
        return self.profile.secrets()

    def scrub(self, text: str) -> str:
        """Text the suite prints or writes: no key ever; of personal data, no insider id or udid."""
        text = redact(text, self.secrets())
        return replace_ids(text, self.profile.aliases()) if self.kind.personal_data else text

    # -- the run's end -------------------------------------------------------------------------------

    def clean_up(self) -> None:
        """End every started activity the run left alive (also after a failure or Ctrl-C).

        A REGISTERED activity cannot be ended without a /start that pushes to real devices, so it
        is left to expire at its ends_at (the shortest the suite's margin allows) and listed.
        A replay has nothing to clean: it never reached a target.
        """
        if self.kind.replays or self.client.stopped is not None:  # a target that stopped answering
            return
        started = self._alive(self.contract.started_state)
        pending = [*started, *(a for a in self.maybe_started if a not in started)]
        for attempt in range(CLEANUP_ATTEMPTS):
            if attempt:  # one wait for all the refused ones, not one each
                self.wait_for_sync(pending)
            # Refused after its sync bound had passed, an activity's devices will not sync (a phone
            # switched off): another /end would be refused too, so it is listed as a leftover.
            pending = [a for a in pending if self._end_refused_unsynced(a) and self._sync_left(a) > 0]
            if not pending:
                break

    def wait_for_sync(self, activities: list[ActivityModel]) -> None:
        """Wait until every one of `activities` is past the declared sync bound since its /start (a
        whole bound for one whose /start time is unknown: it may have arrived just now)."""
        left = max((self._sync_left(a) for a in activities), default=0.0)
        if left > 0:
            self.wait(left + SYNC_MARGIN_SECONDS)

    def _sync_left(self, activity: ActivityModel) -> float:
        """Seconds until the declared sync bound surely passed since `activity`'s /start."""
        bound = self.profile.sync_delay_seconds
        if activity.started_at is None:
            return bound
        return (activity.started_at - self.when().earliest).total_seconds() + bound

    def _end_refused_unsynced(self, activity: ActivityModel) -> bool:
        """End `activity`; True when the target refused for want of a synced token (worth a retry)."""
        not_synced = self.contract.status_of(self.contract.behaviour.sync_gate.none_synced.outcome.codes[0])
        request = Request(self.contract.roles.ends, push_body(activity))
        response = self.send(request).response
        if response is not None and response.status == self.contract.behaviour.success_status:
            self.world.follow(request, response.json(), self.clock.reads_at_most)
        return response is not None and response.status == not_synced

    def leftovers(self) -> list[str]:
        """Activities still alive on the target, with their expiry: the results list them."""
        if self.kind.replays:
            return []
        alive = {*self.contract.behaviour.lifecycle.states} - {self.contract.ended_state}
        return [
            f"{a.activity_id} ({self._state_of(a)}, expires {rfc3339(a.ends_at)})"
            for a in self._alive(*alive)
        ]

    def _state_of(self, activity: ActivityModel) -> str:
        """Its state as far as the run knows; one whose /start was cut off may have been started."""
        if activity in self.maybe_started and activity.state != self.contract.started_state:
            return f"{self.contract.started_state}, if its /start arrived"
        return activity.state

    def _alive(self, *states: str) -> list[ActivityModel]:
        """The run's activities in one of `states` that have not surely expired by now (all of them,
        when a target that stopped answering left the clock unread)."""
        known = self.clock.calibrated or self.client.stopped is None
        now = self.when().earliest if known else datetime.min.replace(tzinfo=UTC)
        return [a for a in self.world.activities.values() if a.state in states and a.ends_at > now]

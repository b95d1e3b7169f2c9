"""The retry table as decisions: given how an attempt ended, retry (and how to wait) or stop (and why).

Nothing here restates the table. Every status, code and condition comes from the contract:
errors.yaml's rows and their joined `retry` entries (safe or not, "on idempotent endpoints"),
its `retry_warnings` for /start and /end, behaviour.yaml's idempotency per endpoint and the
sync gate's code. A vendor copying this client keeps the copy honest by loading the same files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from conformance.client.outcomes import Answer
from conformance.contract import Contract, ErrorRow

Wait = Literal["backoff", "sync"]


@dataclass(frozen=True)
class NoResponse:
    """An attempt that got no HTTP answer.

    `maybe_committed` is the distinction the /start warning is about: a connection that was never
    made sent nothing (always safe to repeat), but a timeout or a dropped connection after the
    request went out may hide a request the server committed.
    """

    detail: str
    maybe_committed: bool


AttemptOutcome = Answer | NoResponse


@dataclass(frozen=True)
class Retry:
    """Send the same request again after a wait of this kind; `status` is the answer that asked for
    it (None when no response came)."""

    wait: Wait
    reason: str
    status: int | None = None


@dataclass(frozen=True)
class Stop:
    """The call is over; `kind` picks the result type the client returns."""

    kind: Literal["success", "rejected", "probably_done", "uncertain"]
    reason: str


RetryDecision = Retry | Stop


@dataclass(frozen=True)
class RepeatAnswer:
    """What a repeat of a call that already succeeded gets (the retry warnings of /start and /end)."""

    status: int
    code: str | None  # None: any code with that status (the /end warning names the status only)

    def matches(self, answer: Answer) -> bool:
        return answer.status == self.status and (self.code is None or answer.code == self.code)


@dataclass(frozen=True)
class RetryPolicy:
    """Decides, per endpoint, what an attempt's outcome means; build it with `from_contract`."""

    success_status: int
    rows: Mapping[str, tuple[ErrorRow, ...]]  # endpoint -> the table rows that name it
    idempotent: Mapping[str, bool]
    repeat_answers: Mapping[str, RepeatAnswer]  # endpoint -> the answer to a repeat after a lost success
    sync_gate_codes: frozenset[str]

    @classmethod
    def from_contract(cls, contract: Contract) -> RetryPolicy:
        behaviour = contract.behaviour
        return cls(
            success_status=behaviour.success_status,
            rows={e: contract.table.rows_for(e) for e in contract.endpoints},
            idempotent=dict(behaviour.idempotent),
            repeat_answers={
                w.endpoint: RepeatAnswer(w.repeat_status, w.repeat_code)
                for w in contract.table.retry_warnings
            },
            sync_gate_codes=frozenset(
                code
                for row_id in behaviour.sync_gate.none_synced.outcome.codes
                if (code := contract.body_code(row_id))
            ),
        )

    def decide(self, endpoint: str, outcome: AttemptOutcome, *, lost_before: bool) -> RetryDecision:
        """What to do after one attempt; `lost_before` says an earlier attempt of this call may
        have been committed without us seeing the answer."""
        if isinstance(outcome, NoResponse):
            return self._after_no_response(endpoint, outcome, lost_before=lost_before)
        if outcome.status == self.success_status:
            return Stop("success", "")
        repeat = self.repeat_answers.get(endpoint)
        if lost_before and repeat is not None:
            return _read_status_check(endpoint, outcome, repeat)
        row = self.row_for(endpoint, outcome)
        if row is None or row.retry is None:
            return Stop("rejected", "no retry rule for this answer: the table does not call it retryable")
        if not row.retry.safe:
            return Stop("rejected", row.retry.strategy)
        if row.retry.idempotent_only and not self.idempotent.get(endpoint, False):
            return Stop(
                "uncertain",
                f"{row.describe()} on /{endpoint}, which is not idempotent: it may have taken effect, "
                "so it is not retried blindly (retry table: be careful with /start and /end)",
            )
        wait: Wait = "sync" if outcome.code in self.sync_gate_codes else "backoff"
        return Retry(wait, row.retry.strategy, outcome.status)

    def row_for(self, endpoint: str, answer: Answer) -> ErrorRow | None:
        """The table row this answer is: its status and code, or the status's body-less row (401,
        429, 503 may come with or without a body)."""
        same_status = [r for r in self.rows.get(endpoint, ()) if r.status == answer.status]
        exact = next((r for r in same_status if r.code is not None and r.code == answer.code), None)
        return exact or next((r for r in same_status if r.code is None), None)

    def _after_no_response(self, endpoint: str, outcome: NoResponse, *, lost_before: bool) -> RetryDecision:
        if not outcome.maybe_committed or self.idempotent.get(endpoint, False):
            return Retry("backoff", f"{outcome.detail}; repeating it changes nothing")
        if endpoint in self.repeat_answers and not lost_before:
            # /start and /end: one repeat is the status check; `repeat_answers` says how to read it.
            return Retry("backoff", f"{outcome.detail}; the repeat's answer tells if it was done")
        return Stop(
            "uncertain",
            f"{outcome.detail} on /{endpoint}, which is not idempotent: another attempt could do it twice",
        )


def _read_status_check(endpoint: str, answer: Answer, repeat: RepeatAnswer) -> Stop:
    """The one repeat of a /start or /end whose response was lost is its status check (the API has
    no status endpoint), and the call ends with it, whatever it says: the warning's answer (409 on
    /start, 404 on /end) means the lost attempt most probably did it (not a plain success: another
    process may have), and any other answer leaves the state unknown. A third attempt would only
    guess again."""
    said = f"{answer.status} {answer.code or ''}".strip()
    if repeat.matches(answer):
        return Stop("probably_done", f"the repeat after a lost response got {said}")
    return Stop(
        "uncertain",
        f"the repeat after a lost /{endpoint} response got {said}: whether the lost attempt took "
        "effect is unknown, so it is not sent a third time",
    )

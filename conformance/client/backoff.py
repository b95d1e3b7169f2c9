"""How long to wait before a retry, and when to stop retrying at all.

Exponential backoff with *full jitter* (a wait drawn uniformly between 0 and the exponential
ceiling): when many clients hit a 429 or a 503 at the same moment, fixed 1-2-4-8 s waits bring them
back at the same moments too, and the jitter spreads them out. The ceilings follow the table's own
example for 429 ("e.g. 1s, 2s, 4s, 8s"), read from the contract.

The budget bounds both the attempts and the total time of one call: a client that retries without
bound turns an outage into a flood. One rate window (the limit's `per_seconds`) is the time bound,
since a fixed window refills within it.

The sync-gate wait is not jittered: PUSH_TOKEN_NOT_SYNCED is not load, it is the devices' token
sync, which the docs say takes a few seconds; retrying sooner than the documented minimum delay
only spends requests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from conformance.client.policy import Retry, Wait
from conformance.contract import Contract


@dataclass(frozen=True)
class Backoff:
    """Waits before retries: the `n`-th retry after a backoff answer waits up to base * factor^(n-1)."""

    base_seconds: float
    factor: float
    sync_seconds: float

    @classmethod
    def from_contract(cls, contract: Contract) -> Backoff:
        behaviour = contract.behaviour
        example = _backoff_example(contract)
        return cls(
            base_seconds=example[0],
            factor=example[1] / example[0],
            sync_seconds=behaviour.sync_gate.delay_min_seconds,
        )

    def ceiling(self, retry: int) -> float:
        """The longest wait before the `retry`-th retry (1-based)."""
        return self.base_seconds * self.factor ** (retry - 1)

    def wait(self, kind: Wait, retry: int, rng: random.Random) -> float:
        if kind == "sync":
            return self.sync_seconds
        return rng.uniform(0.0, self.ceiling(retry))


@dataclass(frozen=True)
class RetryBudget:
    """At most `attempts` attempts and `seconds` of elapsed time per call, whichever comes first."""

    attempts: int
    seconds: float

    @classmethod
    def from_contract(cls, contract: Contract, backoff: Backoff) -> RetryBudget:
        """Enough retries for the backoff ceilings to cover one rate window, and no more time than that."""
        window = float(contract.behaviour.rate_limit.per_seconds)
        retries, covered = 0, 0.0
        while covered < window:
            retries += 1
            covered += backoff.ceiling(retries)
        return cls(attempts=retries + 1, seconds=window)

    def allows(self, *, attempts_made: int, elapsed: float, next_wait: float) -> bool:
        """True when one more attempt, after `next_wait`, stays within both bounds."""
        return attempts_made < self.attempts and elapsed + next_wait <= self.seconds


@dataclass(frozen=True)
class RetrySchedule:
    """When to send the next attempt: the backoff's wait, unless the budget says stop."""

    backoff: Backoff
    budget: RetryBudget
    rng: random.Random

    @classmethod
    def from_contract(cls, contract: Contract, rng: random.Random | None = None) -> RetrySchedule:
        backoff = Backoff.from_contract(contract)
        return cls(backoff, RetryBudget.from_contract(contract, backoff), rng or random.Random())  # noqa: S311 (jitter, not a secret)

    def next_wait(self, retry: Retry, *, attempts_made: int, elapsed: float) -> float | None:
        """Seconds to wait before attempt `attempts_made + 1`, or None when the budget is spent."""
        wait = self.backoff.wait(retry.wait, attempts_made, self.rng)
        return (
            wait if self.budget.allows(attempts_made=attempts_made, elapsed=elapsed, next_wait=wait) else None
        )


def _backoff_example(contract: Contract) -> tuple[int, ...]:
    """The table's example schedule: the rate-limit row's `backoff_example_seconds` (1, 2, 4, 8)."""
    row = contract.table.row(contract.behaviour.rate_limit.row)
    if row.retry is None or len(row.retry.backoff_example_seconds) < 2:
        raise ValueError(f"the {row.id} row has no backoff example to derive a schedule from")
    return row.retry.backoff_example_seconds

"""The client-side rate budget: stay under the documented limit instead of learning it from 429s.

The API counts requests per API key + path + method (behaviour.yaml `rate_limit.bucket`) against
the limit of the 429 row (1,000 per 60 s). A client that keeps its own count waits a little when
its budget is spent, rather than being refused and backing off for much longer. It keeps a share of
the limit (`share`) in reserve, because our clock and the server's window do not start together,
and another process may use the same key.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.contract import Contract

# The part of the documented limit this client lets itself use; the rest absorbs window misalignment.
DEFAULT_SHARE = 0.9


@dataclass
class RateBudget:
    """A sliding window per bucket; `acquire` waits (through the injected `sleep`) until a slot is free."""

    requests: int
    per_seconds: float
    bucket_fields: tuple[str, ...]
    now: Callable[[], float]
    sleep: Callable[[float], None]
    _sent: dict[tuple[str, ...], deque[float]] = field(default_factory=dict)

    @classmethod
    def from_contract(
        cls,
        contract: Contract,
        *,
        now: Callable[[], float],
        sleep: Callable[[float], None],
        share: float = DEFAULT_SHARE,
    ) -> RateBudget:
        limit = contract.behaviour.rate_limit
        return cls(
            requests=max(1, int(limit.requests * share)),
            per_seconds=float(limit.per_seconds),
            bucket_fields=limit.bucket,
            now=now,
            sleep=sleep,
        )

    def acquire(self, **bucket: str) -> float:
        """Take one slot of the bucket named by `bucket` (api_key=..., path=..., method=...);
        returns the seconds waited. The key is hashed: the budget never holds a secret."""
        key = tuple(
            _fingerprint(bucket[name]) if name == "api_key" else bucket[name] for name in self.bucket_fields
        )
        waited = 0.0
        while True:
            now = self.now()
            sent = self._sent.setdefault(key, deque())
            while sent and now - sent[0] >= self.per_seconds:
                sent.popleft()
            if len(sent) < self.requests:
                sent.append(now)
                return waited
            pause = self.per_seconds - (now - sent[0])
            self.sleep(pause)
            waited += pause


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]

"""Injected faults (WireMock-style) and the request journal.

A fault applies to the next `times` requests of one endpoint, or of any endpoint: `status` answers a
row of the error table without touching state, `latency` delays a request that is then handled
normally, `drop_after_commit` handles and commits a request and then never answers it.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from conformance.core.clock import rfc3339

FaultKind = Literal["status", "latency", "drop_after_commit"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "latency", "drop_after_commit")
# ASGI scope extension holding `async () -> None` that drops the current request's connection; the
# in-process transport and the served app each provide their own.
DROP_EXTENSION = "sandbox.drop"


@dataclass(frozen=True)
class Fault:
    """One fault; build it with `respond`, `delay` or `drop`."""

    kind: FaultKind
    status: int | None = None
    latency_ms: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {list(FAULT_KINDS)}, got {self.kind!r}")
        if (self.kind == "status") != (self.status is not None):
            raise ValueError("a status fault, and only a status fault, names a status")
        if self.kind == "latency" and self.latency_ms <= 0:
            raise ValueError("a latency fault needs latency_ms > 0")

    @classmethod
    def respond(cls, status: int) -> Fault:
        """Answer the error-table row with this status (502, 503, 429) instead of handling the request."""
        return cls("status", status=status)

    @classmethod
    def delay(cls, latency_ms: int) -> Fault:
        return cls("latency", latency_ms=latency_ms)

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop_after_commit")


@dataclass
class _Queued:
    endpoint: str | None
    fault: Fault
    remaining: int


class FaultQueue:
    """Faults waiting for requests, applied first-injected first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []

    def inject(self, endpoint: str | None, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.append(_Queued(endpoint, fault, times))

    def take(self, endpoint: str) -> Fault | None:
        """The fault for this request, if any, using up one of its `times`."""
        with self._lock:
            for queued in self._queue:
                if queued.endpoint in (None, endpoint):
                    queued.remaining -= 1
                    if not queued.remaining:
                        self._queue.remove(queued)
                    return queued.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


@dataclass(frozen=True)
class JournalEntry:
    """One customer request as the sandbox saw it. It holds the account state, never the key."""

    sequence: int
    time: datetime
    method: str
    path: str
    endpoint: str
    account: str
    status: int
    code: str | None
    fault: FaultKind | None

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "time": rfc3339(self.time),
            "time_exact": self.time.isoformat(),
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "account": self.account,
            "status": self.status,
            "code": self.code,
            "fault": self.fault,
        }


class Journal:
    """The last `size` requests; sequence numbers keep counting across a reset, so they never repeat."""

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._sequence = itertools.count(1)

    def record(
        self,
        *,
        time: datetime,
        method: str,
        path: str,
        endpoint: str,
        account: str,
        status: int,
        code: str | None,
        fault: FaultKind | None,
    ) -> JournalEntry:
        with self._lock:
            entry = JournalEntry(
                next(self._sequence), time, method, path, endpoint, account, status, code, fault
            )
            self._entries.append(entry)
        return entry

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

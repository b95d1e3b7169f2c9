"""Calls and retries, defined once: the journal's attempts grouped into the calls the client made.

A retry repeats a call: the same endpoint, the same activity and the same request body. A request
that the client's own log marks as a retry (`retry` > 0) is one too, even with a new body (a client
may rebuild its body, say a fresh ends_at, for each attempt). Anything else is a new call, even on
the same endpoint and activity: a flow that sends /update ten times with ten bodies makes ten calls.
Every judge reads calls; none groups attempts itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from conformance.sandbox.scripted import Attempt


@dataclass(frozen=True)
class Call:
    """One call of the client: its first attempt and its retries, in order."""

    attempts: tuple[Attempt, ...]

    @property
    def first(self) -> Attempt:
        return self.attempts[0]

    def retry_index(self, attempt: Attempt) -> int:
        """0 for the call's first attempt, 1 for its first retry, ..."""
        return next(i for i, a in enumerate(self.attempts) if a.sequence == attempt.sequence)

    def after(self, attempt: Attempt) -> list[Attempt]:
        """The call's attempts that followed `attempt`."""
        return [a for a in self.attempts if a.sequence > attempt.sequence]


def _target(attempt: Attempt) -> tuple[str, str | None]:
    return attempt.endpoint, attempt.activity_id


def group_calls(attempts: Sequence[Attempt], logged_retry: Mapping[int, int] | None = None) -> list[Call]:
    """The calls, in the order of their first attempts.

    An attempt continues the latest call on its endpoint and activity when it sends that call's body
    again, or when `logged_retry` (attempt sequence -> the `retry` its log line carries) says it is
    a retry; otherwise it opens a new call.
    """
    logged_retry = logged_retry or {}
    calls: list[list[Attempt]] = []
    latest: dict[tuple[str, str | None], list[Attempt]] = {}
    for attempt in attempts:
        current = latest.get(_target(attempt))
        marked = logged_retry.get(attempt.sequence, 0) > 0
        if current is not None and (marked or current[0].body_sha256 == attempt.body_sha256):
            current.append(attempt)
            continue
        opened = [attempt]
        calls.append(opened)
        latest[_target(attempt)] = opened
    return [Call(tuple(c)) for c in calls]


def call_of(calls: Sequence[Call], attempt: Attempt) -> Call:
    """The call `attempt` belongs to."""
    return next(c for c in calls if any(a.sequence == attempt.sequence for a in c.attempts))

"""What one API call ended with: a typed value per way it can end, never a bare status code.

The caller branches on the type, so "the retry got 409 after a lost /start" cannot be mistaken for
"the /start worked": each outcome the retry table distinguishes has its own class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    """One response as the policy needs it: the status and the body's `code` and `error` fields."""

    status: int
    code: str | None
    error: str | None
    body: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Success:
    """A 200 with `"status": "success"`; `body` holds the endpoint's other fields (activity_id, ...)."""

    endpoint: str
    body: Mapping[str, Any]
    attempts: int


@dataclass(frozen=True)
class ProbablyDoneByLostAttempt:
    """An earlier attempt's response was lost, and the repeat got the answer a repeat of a
    *successful* call gets (409 ALREADY_STARTED on /start, 404 on /end).

    Most likely the lost attempt did the work, but nothing proves it: another process may have
    started or ended the activity. So this is never reported as a plain success, and the call is
    never sent again (a third /start cannot help and a third /end cannot either).
    """

    endpoint: str
    answer: Answer
    attempts: int


@dataclass(frozen=True)
class Rejected:
    """A final answer the retry table says not to retry (400, 401, 403, 404, 409, 412 APNS_CERT_*,
    422): sending the same request again cannot change it; the fix is in `fix`, for a person."""

    endpoint: str
    answer: Answer
    attempts: int
    fix: str


@dataclass(frozen=True)
class Uncertain:
    """The call may or may not have taken effect, and repeating it blindly is unsafe.

    A 502 or a lost response on an endpoint that is not idempotent (/register creates a new
    activity on each call; /start and /end change state once): the retry table says "be careful
    with /start and /end", so the client stops and says what to check instead of guessing.
    """

    endpoint: str
    reason: str
    answer: Answer | None
    attempts: int


@dataclass(frozen=True)
class GaveUp:
    """Retrying was allowed, but the budget (attempts or total time) ran out first."""

    endpoint: str
    reason: str
    answer: Answer | None
    attempts: int


CallResult = Success | ProbablyDoneByLostAttempt | Rejected | Uncertain | GaveUp

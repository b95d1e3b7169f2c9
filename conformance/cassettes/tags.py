"""The tags every recorded request carries, and the channel that brings them to VCR.py's hook.

VCR.py calls `before_record_request` (`vcr.py`) with the request only, deep inside httpx; nothing
of the suite's call stack reaches it. So the suite sets what a request should be tagged with in
context variables around the send (`tagging_test` in the `verifier` fixture, `tagging_case` in
`Verifier.verify`, `not_recorded` in the clock calibration), and the hook reads them with
`current()`. A thread that sends for a test must run in a copy of its context
(`Verifier.send_together`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from conformance.profile.offers import Offers

FORMAT = "1"
TAG = "x-conformance-"
FORMAT_HEADER = TAG + "cassette-format"
START_HEADER = TAG + "test-start"
TARGET_HEADER = TAG + "target"
CASE_HEADER = TAG + "case"
ROWS_HEADER = TAG + "rows"
OFFERS_HEADER = TAG + "target-offers"
READINGS_HEADER = TAG + "clock-readings"
PSEUDONYMS_HEADER = TAG + "pseudonym-key"
# Top-level key of the cassette of a test that sent no request: its tags (`write_requestless`).
REQUESTLESS_KEY = TAG + "test"


@dataclass(frozen=True)
class TestTags:
    """What every request of one test is tagged with."""

    target: str  # the kind of target it was recorded from
    test_start: str  # the target clock when the test started, ISO 8601
    offers: Offers  # what the target offered besides its API
    pseudonym_key: str | None  # the fingerprint of the pseudonym key (recordings of personal data)

    def headers(self) -> dict[str, str]:
        headers = {
            FORMAT_HEADER: FORMAT,
            TARGET_HEADER: self.target,
            START_HEADER: self.test_start,
            OFFERS_HEADER: self.offers.to_json(),
        }
        return headers | ({PSEUDONYMS_HEADER: self.pseudonym_key} if self.pseudonym_key else {})


@dataclass(frozen=True)
class CaseTags:
    case: str
    rows: str

    def headers(self) -> dict[str, str]:
        return {CASE_HEADER: self.case, ROWS_HEADER: self.rows}


@dataclass(frozen=True)
class Current:
    """What a request sent now is tagged with; `recorded` False: it belongs in no cassette."""

    recorded: bool
    test: TestTags | None
    case: CaseTags | None


_TEST: contextvars.ContextVar[TestTags | None] = contextvars.ContextVar("conformance_test", default=None)
_CASE: contextvars.ContextVar[CaseTags | None] = contextvars.ContextVar("conformance_case", default=None)
_UNRECORDED: contextvars.ContextVar[bool] = contextvars.ContextVar("conformance_unrecorded", default=False)


def current() -> Current:
    return Current(recorded=not _UNRECORDED.get(), test=_TEST.get(), case=_CASE.get())


@contextmanager
def tagging_test(tags: TestTags) -> Iterator[None]:
    """Requests sent inside the block belong to the test `tags` names."""
    token = _TEST.set(tags)
    try:
        yield
    finally:
        _TEST.reset(token)


@contextmanager
def tagging_case(case: str, rows: tuple[str, ...]) -> Iterator[None]:
    """Requests sent inside the block belong to `case`, which exercises `rows`."""
    token = _CASE.set(CaseTags(case=case, rows=",".join(rows)))
    try:
        yield
    finally:
        _CASE.reset(token)


@contextmanager
def not_recorded() -> Iterator[None]:
    """Requests sent inside the block reach the target but no cassette (the run's, not a test's)."""
    token = _UNRECORDED.set(True)
    try:
        yield
    finally:
        _UNRECORDED.reset(token)

"""The reference client for the Live Activities API: a small httpx integration to copy.

It follows the vendor's retry table, read from the contract rather than restated: final answers
are not retried, 429/502/503 back off with full jitter within a bounded budget (502 only on
idempotent endpoints), PUSH_TOKEN_NOT_SYNCED is waited out, a /start or /end whose response was
lost is repeated once and a 409/404 on the repeat is reported as *probably done by the lost
attempt*; it keeps its own rate budget under the documented limit and writes the recommended log
record for every attempt. Time comes from `FlowSettings.sleep` / `FlowSettings.now`.

    from conformance.client import run_flow
    report = run_flow(settings)   # FlowSettings: base URL, key, insider ids, activity type, log file
"""

from conformance.client.activity_client import LiveActivityClient, Parts
from conformance.client.backoff import Backoff, RetryBudget, RetrySchedule
from conformance.client.budget import RateBudget
from conformance.client.flow import FlowReport, normal_flow, run_flow
from conformance.client.log import AttemptLog, AttemptRecord, LogFormat
from conformance.client.outcomes import (
    Answer,
    CallResult,
    GaveUp,
    ProbablyDoneByLostAttempt,
    Rejected,
    Success,
    Uncertain,
)
from conformance.client.policy import NoResponse, RetryPolicy

__all__ = [
    "Answer",
    "AttemptLog",
    "AttemptRecord",
    "Backoff",
    "CallResult",
    "FlowReport",
    "GaveUp",
    "LiveActivityClient",
    "LogFormat",
    "NoResponse",
    "Parts",
    "ProbablyDoneByLostAttempt",
    "RateBudget",
    "Rejected",
    "RetryBudget",
    "RetryPolicy",
    "RetrySchedule",
    "Success",
    "Uncertain",
    "normal_flow",
    "run_flow",
]

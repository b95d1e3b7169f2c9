"""Synthetic journals and runs for judging tests: attempts written by hand, times in seconds from a start."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from conformance.certify.findings import LogLine, Run
from conformance.client import LiveActivityClient, Parts, RetrySchedule, normal_flow
from conformance.client.settings import FlowSettings
from conformance.contract import load_contract
from conformance.contract.certification import Policy
from conformance.core.clock import rfc3339
from conformance.sandbox.scripted import Attempt

START = datetime(2026, 5, 20, 10, 0, 0, tzinfo=UTC)
ACTIVITY = "act-1"


def attempt(
    sequence: int,
    endpoint: str,
    at: float,
    status: int | None,
    *,
    row: str | None = None,
    code: str | None = None,
    error: str | None = None,
    activity_id: str | None = ACTIVITY,
    lost: bool = False,
    body: str = "0",
) -> Attempt:
    """An attempt received `at` seconds after START and answered 1 ms later (never, when `lost`)."""
    received = START + timedelta(seconds=at)
    return Attempt(
        sequence=sequence,
        endpoint=endpoint,
        activity_id=None if endpoint == "register" else activity_id,
        body_sha256=body * 64,
        received=received,
        answered=None if lost else received + timedelta(milliseconds=1),
        status=None if lost else status,
        code=code,
        error=error,
        row=row,
        returned_activity_id=ACTIVITY if endpoint == "register" and status == 200 else None,
        scripted="lost" if lost else None,
    )


def log_for(attempts: Sequence[Attempt], drop: str | None = None, **overrides: Any) -> tuple[LogLine, ...]:
    """The log a correct client writes for `attempts`; `drop` leaves a key out, `overrides` change values."""
    lines = []
    seen: dict[tuple[str, str | None, str], int] = {}
    for number, a in enumerate(attempts, start=1):
        key = (a.endpoint, a.activity_id, a.body_sha256)  # one call: same endpoint, activity, body
        record: dict[str, Any] = {
            "endpoint": a.endpoint,
            "status": a.status,
            "code": a.code,
            "error": a.error if a.status is not None else "no response: ReadTimeout",
            "activity_id": a.activity_id or a.returned_activity_id,
            "timestamp": rfc3339(a.received, exact=True),
            "retry": seen.get(key, 0),
        }
        seen[key] = seen.get(key, 0) + 1
        record.update(overrides)
        if drop:
            record.pop(drop)
        lines.append(LogLine(number, json.dumps(record), record))
    return tuple(lines)


def run_of(
    policy: Policy,
    scenario: str,
    attempts: Sequence[Attempt],
    log: tuple[LogLine, ...] | None = None,
    *,
    stopped: str | None = None,
) -> Run:
    return Run(
        scenario=policy.scenarios[scenario],
        started=START,
        attempts=tuple(attempts),
        log=log_for(attempts) if log is None else log,
        ended="exited 0" if stopped is None else f"stopped by the harness ({stopped})",
        stopped=stopped,
        wall_seconds=0.0,
    )


def flow(*errors: Mapping[str, Any]) -> list[Attempt]:
    """register, start, then the given attempts (dicts of `attempt` arguments) in order."""
    base = [attempt(1, "register", 0.0, 200), attempt(2, "start", 0.1, 200)]
    return base + [attempt(3 + i, **e) for i, e in enumerate(errors)]


def stamp(moment: datetime) -> str:
    return rfc3339(moment, exact=True)


def seeded_reference(seed: int) -> Callable[[FlowSettings], None]:
    """The reference client, its jitter drawn from one seeded generator for the whole certification
    (each scenario draws on, as separate processes would draw independently)."""
    rng = random.Random(seed)  # noqa: S311 (jitter draws, not secrets)

    def integration(settings: FlowSettings) -> None:
        contract = load_contract()
        parts = replace(
            Parts.from_contract(contract, settings), schedule=RetrySchedule.from_contract(contract, rng)
        )
        with LiveActivityClient(settings, contract=contract, parts=parts) as client:
            normal_flow(client)

    return integration

"""The recommended log record: one JSON object per attempt, appended to a file as it happens.

The error table's logging recommendation (errors.yaml `error_logging`) asks for the full HTTP
status, the body's `code` and `error`, the activity_id, and the request timestamp with a retry
counter. With those, support can line up your attempts with theirs: which retry of which call met
which answer, and when. Writing one line per *attempt* (not per call) is what makes a retry storm,
or a /start repeated after a lost response, visible afterwards.

`AttemptRecord` names its fields as the contract names the logging fields; the keys of a log line
are the ones `conformance certify` reads (contracts/certification.yaml `log`: `endpoint`, `status`,
`code`, `error`, `activity_id`, `timestamp`, `retry`). Every key is written on every line, null
where the attempt had no such value. The API key is never written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AttemptRecord:
    endpoint: str  # the endpoint's name (register, start, ...), as the contract names it
    status: int | None  # None: no response came (timeout, dropped connection)
    code: str | None
    error: str | None  # the body's `error`, or what went wrong when no response came
    activity_id: str | None  # None only before /register has answered
    request_timestamp: str  # RFC 3339, UTC: when the attempt was sent
    retry_counter: int  # 0 for a call's first attempt, then 1, 2, ...
    outcome: str | None = None  # on the attempt that ended the call: its result type


@dataclass(frozen=True)
class LogFormat:
    """How a record becomes a line: the endpoint's key, and contract logging field -> key."""

    endpoint_key: str
    keys: Mapping[str, str]

    def line(self, record: AttemptRecord) -> dict[str, Any]:
        fields = {key: getattr(record, field) for field, key in self.keys.items()}
        return {self.endpoint_key: record.endpoint, **fields, "outcome": record.outcome}


class AttemptLog:
    """Appends records to `path`, one JSON line each, flushed at once so a crash loses nothing."""

    def __init__(self, path: Path, log_format: LogFormat) -> None:
        self.path = path
        self.format = log_format

    def write(self, record: AttemptRecord) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(self.format.line(record), sort_keys=True) + "\n")

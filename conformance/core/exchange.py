"""Requests and responses as plain values: printable, storable in a results file, replayable.

Every layer above the contract speaks in these: the oracle predicts the outcome of a `Request`, a
target turns it into an `Exchange`, checks judge the `Response`, reports store what was observed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Request:
    """A request as a plain value: printable as curl, storable in a results file, replayable.

    `body` is the JSON value to send; `raw` (exact bytes) wins over it, for empty and malformed
    bodies. `account` names the profile's account state whose key goes in the header, or
    `missing_key` to send none.
    """

    endpoint: str
    body: Any = None
    raw: bytes | None = None
    content_type: str | None = "application/json"
    account: str = "good"

    def content(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode()

    def activity_id(self) -> str | None:
        value = self.body.get("activity_id") if isinstance(self.body, dict) else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes
    latency_seconds: float
    sent_at: float  # the target clock's POSIX time when the request was sent (the suite's estimate)

    def json(self) -> Any:
        """The parsed body, or None when there is none or it is not JSON."""
        if not self.content.strip():
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        body = self.json()
        value = body.get("code") if isinstance(body, dict) else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Exchange:
    request: Request
    response: Response | None  # None when the client saw a timeout or a dropped connection
    error: str | None = None

#!/usr/bin/env python3
"""A second correct integration, written the way a vendor without our package might: the standard
library only (urllib, json), its retry rules typed in from the vendor's retry table by hand.

`conformance certify --command "python urllib_client.py"` must certify it like the reference
client. It reads LA_BASE_URL, LA_API_KEY, LA_INSIDER_IDS, LA_ACTIVITY_TYPE and LA_LOG_FILE, runs
register -> add-users -> remove-users -> start -> update (ETA 20 min) -> update (ETA 10 min) -> end,
and exits 0 when the flow finished (1 otherwise).

How it differs from `conformance.client` on purpose: procedural, two small classes; several /update
calls per activity, each with its own body; equal jitter (half the doubling step plus up to as much
again) instead of full jitter; a shorter timeout and a smaller budget; a sync wait drawn between 2
and 3 s; an attempt whose answer was lost is logged with `code` and `error` null (there was no
body), not with a description.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

Json = dict[str, Any]
JITTER = random.SystemRandom()

PREFIX = "/api/v1/live-activity/"
TIMEOUT = 3.0  # seconds to wait for an answer before taking it as lost
MAX_ATTEMPTS = 6  # per call
MAX_SECONDS = 45.0  # per call, from its first attempt: under one rate window (60 s)
BASE_SECONDS = 1.0  # the retry table's first backoff step
RATE = (900, 60.0)  # our own budget per key + path + method: 90 % of the documented 1,000 / 60 s

# The vendor's retry table, by (status, code); None matches any code of that status.
NEVER = "never"  # fix the request, the key or the account first
BACKOFF = "backoff"  # retry with growing, jittered waits
SYNC = "sync"  # wait a few seconds for the devices' token sync, then retry
IDEMPOTENT_ONLY = "idempotent-only"  # backoff on idempotent endpoints; elsewhere it may have happened
RETRY_TABLE = {
    (412, "PUSH_TOKEN_NOT_SYNCED"): SYNC,
    (429, None): BACKOFF,
    (502, None): IDEMPOTENT_ONLY,
    (503, None): BACKOFF,
}
IDEMPOTENT = {"add-users", "remove-users", "update"}
# After a lost response, the answer a repeat gets when the lost attempt went through.
DONE_BY_LOST_ATTEMPT = {"start": 409, "end": 404}


class Window:
    """Requests sent per bucket in the last window, so we never spend more than RATE allows."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str, str], deque[float]] = {}

    def take(self, bucket: tuple[str, str, str]) -> None:
        limit, seconds = RATE
        sent = self.sent.setdefault(bucket, deque())
        while True:
            now = time.monotonic()
            while sent and now - sent[0] >= seconds:
                sent.popleft()
            if len(sent) < limit:
                sent.append(now)
                return
            time.sleep(seconds - (now - sent[0]))


def post(base_url: str, key: str, endpoint: str, body: Json) -> tuple[int | None, Json, str | None, bool]:
    """(status, body, failure, maybe_committed): status None when no answer came."""
    request = urllib.request.Request(  # noqa: S310 (the harness gives an http:// base URL)
        base_url.rstrip("/") + PREFIX + endpoint,
        data=json.dumps(body).encode(),
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - the URL is the harness's http base URL
            return response.status, parse(response.read()), None, False
    except urllib.error.HTTPError as error:
        return error.code, parse(error.read()), None, False
    except urllib.error.URLError as error:  # raised before the request was fully sent
        return None, {}, f"not sent: {error.reason}", False
    except OSError as error:  # a timeout or a dropped connection while waiting for the answer
        return None, {}, f"no answer: {type(error).__name__}", True


def parse(raw: bytes) -> Json:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def what_next(endpoint: str, status: int | None, code: str | None, lost_before: bool, lost_now: bool) -> str:
    """ "done", "probably-done", "stop", or a retry kind (BACKOFF, SYNC)."""
    if status == 200:
        return "done"
    if lost_before and endpoint in DONE_BY_LOST_ATTEMPT:
        # We already repeated a lost /start or /end once: that repeat was our status check.
        return "probably-done" if status == DONE_BY_LOST_ATTEMPT[endpoint] else "stop"
    if status is None:
        if not lost_now or endpoint in IDEMPOTENT or endpoint in DONE_BY_LOST_ATTEMPT:
            return BACKOFF
        return "stop"  # /register: a repeat would create a second activity
    rule = RETRY_TABLE.get((status, code)) or RETRY_TABLE.get((status, None)) or NEVER
    if rule == IDEMPOTENT_ONLY:
        return BACKOFF if endpoint in IDEMPOTENT else "stop"
    return "stop" if rule == NEVER else rule


class Api:
    def __init__(self, env: dict[str, str]) -> None:
        self.base_url, self.key = env["LA_BASE_URL"], env["LA_API_KEY"]
        self.log_file = env["LA_LOG_FILE"]
        self.window = Window()

    def call(self, endpoint: str, body: Json, activity_id: str | None) -> tuple[str, Json]:
        """Send until done; returns (how it ended, the last body)."""
        first, lost_before = time.monotonic(), False
        for attempt in range(MAX_ATTEMPTS):
            self.window.take((self.key, PREFIX + endpoint, "POST"))
            sent_at = datetime.now(UTC)
            status, answer, _failure, lost_now = post(self.base_url, self.key, endpoint, body)
            code = answer.get("code") if isinstance(answer.get("code"), str) else None
            verdict = what_next(endpoint, status, code, lost_before, lost_now)
            lost_before = lost_before or lost_now
            self.log(
                {
                    "endpoint": endpoint,
                    "status": status,
                    "code": code,
                    "error": answer.get("error"),  # null when no answer came: there was no body
                    "activity_id": activity_id or answer.get("activity_id"),
                    "timestamp": sent_at.isoformat().replace("+00:00", "Z"),
                    "retry": attempt,
                }
            )
            if verdict not in (BACKOFF, SYNC):
                return verdict, answer
            wait = next_wait(verdict, attempt + 1)
            if time.monotonic() + wait - first > MAX_SECONDS:
                break
            time.sleep(wait)
        return "gave-up", {}

    def log(self, line: Json) -> None:
        with open(self.log_file, "a", encoding="utf-8") as out:  # noqa: PTH123 - written as a vendor without pathlib habits would
            out.write(json.dumps(line) + "\n")


def next_wait(kind: str, retry: int) -> float:
    """Equal jitter for backoff (half the table's 1, 2, 4, 8 s step, plus up to as much again);
    a few seconds for the token sync."""
    if kind == SYNC:
        return JITTER.uniform(2.0, 3.0)
    step = BASE_SECONDS * 2.0 ** (retry - 1)
    return float(step / 2 + JITTER.uniform(0.0, step / 2))


def run(env: dict[str, str]) -> str:
    api = Api(env)
    ids = [i for i in env["LA_INSIDER_IDS"].split(",") if i]
    kind = env["LA_ACTIVITY_TYPE"]
    ends_at = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first, late = (ids[:-1], ids[-1:]) if len(ids) > 1 else (ids, [])
    ended, answer = api.call(
        "register", {"activity_type": kind, "insider_ids": first, "ends_at": ends_at}, None
    )
    activity_id = answer.get("activity_id")
    if ended != "done" or not isinstance(activity_id, str):
        return f"register: {ended}"
    steps: list[tuple[str, Json]] = (
        [("add-users", {"insider_ids": late}), ("remove-users", {"insider_ids": first[:1]})] if late else []
    )
    steps += [
        ("start", {"content": {"title": "Order", "message": "On its way", "content_state": {"eta": 30}}}),
        # A delivery updates its ETA as the courier moves: several /update calls, each a new call.
        ("update", {"content": {"title": "Order", "message": "20 minutes", "content_state": {"eta": 20}}}),
        ("update", {"content": {"title": "Order", "message": "10 minutes", "content_state": {"eta": 10}}}),
        ("end", {"content": {"title": "Order", "message": "Delivered", "content_state": {"eta": 0}}}),
    ]
    for endpoint, extra in steps:
        ended, _ = api.call(
            endpoint, {"activity_id": activity_id, "activity_type": kind, **extra}, activity_id
        )
        if ended not in ("done", "probably-done"):
            return f"{endpoint}: {ended}"
    return "done"


if __name__ == "__main__":
    missing = [
        v
        for v in ("LA_BASE_URL", "LA_API_KEY", "LA_INSIDER_IDS", "LA_ACTIVITY_TYPE", "LA_LOG_FILE")
        if not os.environ.get(v)
    ]
    if missing:
        sys.exit(f"urllib_client: set {', '.join(missing)}")
    outcome = run(dict(os.environ))
    if outcome != "done":
        sys.exit(f"urllib_client: stopped at {outcome}")

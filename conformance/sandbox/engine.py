"""One customer request from headers and body to a reply: account, rate limit, check groups, action.

A 429, the limiter's or an injected one, carries `Retry-After` when the reading retry-after-header
is `present`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from conformance.sandbox.actions import Actions
from conformance.sandbox.incoming import Incoming, is_json_media_type, parse_body
from conformance.sandbox.ratelimit import Bucket, RateLimiter
from conformance.sandbox.replies import Replies, Reply
from conformance.sandbox.seed import Seed
from conformance.sandbox.state import ActivityStore
from conformance.sandbox.validation import RequestCheck


@dataclass(frozen=True)
class RawRequest:
    endpoint: str
    path: str
    method: str
    key: str | None
    content_type: str | None
    body: bytes
    too_large: bool

    def bucket(self, parts: tuple[str, ...]) -> Bucket:
        """The rate bucket this request counts in: its values of the contract's `bucket` parts."""
        values = {"api_key": self.key or "", "path": self.path, "method": self.method}
        return tuple(values[part] for part in parts)


class Engine:
    def __init__(
        self,
        *,
        seed: Seed,
        checks: Sequence[RequestCheck],
        store: ActivityStore,
        actions: Actions,
        limiter: RateLimiter,
        replies: Replies,
        rate_limited_row: str,
        bucket: tuple[str, ...],
        retry_after: bool = False,
    ) -> None:
        self._seed = seed
        self._checks = tuple(checks)
        self._store = store
        self._actions = actions
        self._limiter = limiter
        self._replies = replies
        self._rate_limited_row = rate_limited_row
        self._bucket = bucket
        self._retry_after = retry_after

    def stand_in(self, raw: RawRequest, status: int) -> tuple[str, Reply]:
        """(account state, the row of `status`) for an injected status fault: nothing checked or counted."""
        row = self._replies.row_for_status(status)
        reply = self._with_retry_after(self._replies.error(row), raw.bucket(self._bucket))
        return self._seed.account_of(raw.key), reply

    def handle(self, raw: RawRequest) -> tuple[str, Reply]:
        """(account state, reply). Checks run in precedence order; the first objection answers."""
        account = self._seed.account_of(raw.key)
        bucket = raw.bucket(self._bucket)
        if not self._limiter.admit(bucket):
            return account, self._with_retry_after(self._replies.error(self._rate_limited_row), bucket)
        reply = self._handle(raw, account)
        self._limiter.answered(bucket, success=reply.code is None)
        return account, reply

    def _with_retry_after(self, reply: Reply, bucket: Bucket) -> Reply:
        if not self._retry_after or reply.code != self._rate_limited_row:
            return reply
        retry = ("retry-after", str(self._limiter.wait_seconds(bucket)))
        return dataclasses.replace(reply, headers=(*reply.headers, retry))

    def _handle(self, raw: RawRequest, account: str) -> Reply:
        case, data = parse_body(raw.body, too_large=raw.too_large)
        incoming = Incoming(
            endpoint=raw.endpoint,
            path=raw.path,
            method=raw.method,
            key=raw.key,
            account=account,
            json_content_type=is_json_media_type(raw.content_type),
            body_case=case,
            data=data,
        )
        # One lock from the first check to the commit: the lifecycle check and the action it allows
        # see the same state, which is what makes /start an atomic lock.
        with self._store.lock:
            for check in self._checks:
                code = check(incoming)
                if code is not None:
                    return self._replies.error(code)
            return self._actions.run(incoming)

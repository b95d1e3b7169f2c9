"""One customer request from headers and body to a reply: account, rate limit, check groups, action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance.sandbox.actions import Actions
from conformance.sandbox.incoming import Incoming, is_json_media_type, parse_body
from conformance.sandbox.ratelimit import FixedWindowLimiter
from conformance.sandbox.replies import Replies, Reply
from conformance.sandbox.seed import Seed
from conformance.sandbox.state import ActivityStore
from conformance.sandbox.validation import Check


@dataclass(frozen=True)
class RawRequest:
    endpoint: str
    path: str
    method: str
    key: str | None
    content_type: str | None
    body: bytes
    too_large: bool


class Engine:
    def __init__(
        self,
        *,
        seed: Seed,
        checks: Sequence[Check],
        store: ActivityStore,
        actions: Actions,
        limiter: FixedWindowLimiter,
        replies: Replies,
        rate_limited_row: str,
    ) -> None:
        self._seed = seed
        self._checks = tuple(checks)
        self._store = store
        self._actions = actions
        self._limiter = limiter
        self._replies = replies
        self._rate_limited_row = rate_limited_row

    def account_of(self, key: str | None) -> str:
        return self._seed.account_of(key)

    def handle(self, raw: RawRequest) -> tuple[str, Reply]:
        """(account state, reply). Checks run in precedence order; the first objection answers."""
        account = self._seed.account_of(raw.key)
        if not self._limiter.admit((raw.key or "", raw.path, raw.method)):
            return account, self._replies.error(self._rate_limited_row)
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
                    return account, self._replies.error(code)
            return account, self._actions.run(incoming)

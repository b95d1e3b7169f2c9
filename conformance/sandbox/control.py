"""Controlling a running sandbox: the `SandboxControl` object, and the same over HTTP under /_sandbox/.

The HTTP control API answers only requests carrying `X-Sandbox-Control: <token>`; to anything else
it answers the same 404 as a path that does not exist, so a customer key never learns it is there.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance.core.clock import Clock, VirtualClock
from conformance.sandbox.faults import FAULT_KINDS, Fault, FaultQueue, Journal, JournalEntry
from conformance.sandbox.ratelimit import RateLimiter
from conformance.sandbox.replies import Replies
from conformance.sandbox.state import ActivityStore, ActivityView

CONTROL_HEADER = b"x-sandbox-control"


class ClockNotVirtualError(RuntimeError):
    """advance_clock was called on a sandbox that reads a real clock."""


class SandboxControl:
    """`clock` is the sandbox's (the injected one, shifted by any configured offset); `injected` is
    the clock it reads, which advance_clock moves (default: `clock` itself)."""

    def __init__(
        self,
        *,
        clock: Clock,
        endpoints: Collection[str],
        faults: FaultQueue,
        journal: Journal,
        store: ActivityStore,
        limiter: RateLimiter,
        replies: Replies,
        injected: Clock | None = None,
    ) -> None:
        self._clock = clock
        self._injected = injected or clock
        self._endpoints = frozenset(endpoints)
        self._faults = faults
        self._journal = journal
        self._store = store
        self._limiter = limiter
        self._replies = replies

    def inject(self, endpoint: str | None, fault: Fault, times: int = 1) -> None:
        """Apply `fault` to the next `times` requests of `endpoint` (any endpoint when None)."""
        if endpoint is not None and endpoint not in self._endpoints:
            raise ValueError(f"unknown endpoint {endpoint!r}; use one of {sorted(self._endpoints)} or None")
        if fault.status is not None:
            self._replies.row_for_status(fault.status)
        self._faults.inject(endpoint, fault, times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def now(self) -> datetime:
        return self._clock.now()

    def advance_clock(self, seconds: float) -> datetime:
        """Move the virtual clock on; the sandbox's time after it."""
        if not isinstance(self._injected, VirtualClock):
            raise ClockNotVirtualError(
                "this sandbox reads a real clock; build it with a VirtualClock to move time"
            )
        self._injected.advance(seconds)
        return self._clock.now()

    @property
    def clock_is_virtual(self) -> bool:
        return isinstance(self._injected, VirtualClock)

    def limit_rate(self, requests_per_minute: int | None) -> None:
        """Enforce this limit per window from a fresh count on (None: the configured limit again)."""
        self._limiter.set_limit(requests_per_minute)

    def journal(self) -> list[JournalEntry]:
        return self._journal.entries()

    def activities(self) -> tuple[ActivityView, ...]:
        return self._store.snapshot()

    def reset(self) -> None:
        """Drop activities, rate counts and any changed limit, faults, the journal; seed and clock stay."""
        self._store.reset()
        self._limiter.reset()
        self._faults.clear()
        self._journal.clear()


class ControlApi:
    """The HTTP control API, mounted at /_sandbox."""

    def __init__(self, control: SandboxControl, token: str) -> None:
        self._control = control
        self._token = token.encode()
        self._app = Router(
            routes=[
                Route("/faults", self._inject, methods=["POST"]),
                Route("/faults", self._clear, methods=["DELETE"]),
                Route("/clock", self._clock, methods=["GET"]),
                Route("/clock", self._advance, methods=["POST"]),
                Route("/rate-limit", self._limit_rate, methods=["POST"]),
                Route("/journal", self._journal, methods=["GET"]),
                Route("/reset", self._reset, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = next(
            (bytes(v) for k, v in scope.get("headers", ()) if bytes(k).lower() == CONTROL_HEADER), b""
        )
        app: ASGIApp = (
            self._app if hmac.compare_digest(given, self._token) else PlainTextResponse("Not Found", 404)
        )
        await app(scope, receive, send)

    async def _inject(self, request: Request) -> Response:
        data = await _json_object(request)
        try:
            kind = data.get("kind")
            if kind not in FAULT_KINDS:
                raise ValueError(f"kind must be one of {list(FAULT_KINDS)}")
            fault = Fault(
                kind, status=_int_or_none(data.get("status")), latency_ms=int(data.get("latency_ms", 0))
            )
            self._control.inject(data.get("endpoint"), fault, int(data.get("times", 1)))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"injected": fault.kind})

    async def _clear(self, _: Request) -> Response:
        self._control.clear_faults()
        return JSONResponse({"cleared": True})

    async def _advance(self, request: Request) -> Response:
        data = await _json_object(request)
        seconds = data.get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            return JSONResponse({"error": "advance_seconds must be a number"}, 400)
        try:
            now = self._control.advance_clock(seconds)
        except ClockNotVirtualError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"now": now.isoformat()})

    async def _clock(self, _: Request) -> Response:
        return JSONResponse(
            {"now": self._control.now().isoformat(), "virtual": self._control.clock_is_virtual}
        )

    async def _limit_rate(self, request: Request) -> Response:
        try:
            self._control.limit_rate((await _json_object(request)).get("requests_per_minute"))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"limited": True})

    async def _journal(self, _: Request) -> Response:
        return JSONResponse({"entries": [entry.to_json() for entry in self._control.journal()]})

    async def _reset(self, _: Request) -> Response:
        self._control.reset()
        return JSONResponse({"reset": True})


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int_or_none(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("status must be an integer")
    return value

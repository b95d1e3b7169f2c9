"""The ASGI application: Starlette routes for the six endpoints and the control API, faults, journal.

Customer endpoints are raw ASGI callables, not Starlette request handlers: a dropped response must
be able to close the connection without a status line, and the hot path stays short. `Latency` plays
the network: it holds each request before the app sees it and each answer before it leaves.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from email.utils import formatdate

from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.core.clock import Clock
from conformance.sandbox.engine import Engine, RawRequest
from conformance.sandbox.faults import DROP_EXTENSION, FaultQueue, Journal
from conformance.sandbox.http_style import HttpStyle
from conformance.sandbox.replies import Reply

CONTENT_TYPE_HEADER = b"content-type"


class CustomerEndpoint:
    """One of the six endpoints: fault, then the engine, then the journal, then the reply (or a drop)."""

    def __init__(
        self,
        endpoint: str,
        *,
        engine: Engine,
        faults: FaultQueue,
        journal: Journal,
        clock: Clock,
        max_body_bytes: int,
        key_header: str,
    ) -> None:
        self._endpoint = endpoint
        self._key_header = key_header.lower().encode("latin-1")  # ASGI names arrive lower-cased
        self._engine = engine
        self._faults = faults
        self._journal = journal
        self._clock = clock
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _first_headers(scope)
        body, too_large = await _read_body(receive, self._max_body_bytes)
        fault = self._faults.take(self._endpoint)
        raw = RawRequest(
            endpoint=self._endpoint,
            path=scope["path"],
            method=scope["method"],
            key=_latin1(headers.get(self._key_header)),
            content_type=_latin1(headers.get(CONTENT_TYPE_HEADER)),
            body=body,
            too_large=too_large,
        )
        if fault is not None and fault.status is not None:
            # A status fault stands in for the whole service: no check, no rate count, no state change.
            account, reply = self._engine.stand_in(raw, fault.status)
        else:
            if fault is not None and fault.kind == "latency":
                await asyncio.sleep(fault.latency_ms / 1000)
            account, reply = self._engine.handle(raw)
        handled = self._clock.now()
        self._journal.record(
            time=handled,
            method=scope["method"],
            path=scope["path"],
            endpoint=self._endpoint,
            account=account,
            status=reply.status,
            code=reply.body_code,
            fault=fault.kind if fault is not None else None,
        )
        if fault is not None and fault.kind == "drop_after_commit":
            await _drop_extension(scope)()
            return
        await send_reply(send, reply, handled)


async def send_reply(send: Send, reply: Reply, handled: datetime) -> None:
    """The reply, with a `Date` read from the sandbox's own clock when it handled the request.

    A client learns the server's clock from `Date` (the suite brackets it from there); uvicorn's own
    header comes from a cache refreshed about once a second, which lags further under load, and on a
    virtual clock would not even be the time the sandbox judges by.
    """
    content = reply.encoded()
    headers = [
        (b"content-length", str(len(content)).encode()),
        (b"date", _http_date(int(handled.timestamp()))),
        *((name.encode(), value.encode()) for name, value in reply.headers),
    ]
    if reply.body is not None:
        headers.append((CONTENT_TYPE_HEADER, b"application/json"))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


@functools.lru_cache(maxsize=4)
def _http_date(second: int) -> bytes:
    """An HTTP date, made once per second of the clock rather than once per response."""
    return formatdate(second, usegmt=True).encode()


class Latency:
    """One-way network latency: a request waits `seconds` before the app sees it, and its answer
    waits `seconds` again before it leaves, so a round trip costs twice that."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self._app = app
        self._seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        await asyncio.sleep(self._seconds)

        async def delayed(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(self._seconds)
            await send(message)

        await self._app(scope, receive, delayed)


class DropAware:
    """Outermost layer: gives each request a way to be dropped when the server did not bring one.

    The in-process transport brings its own (it raises httpx.ReadTimeout). Under a server, the drop
    waits up to `hang_seconds` for the client to give up, then closes the connection unanswered.
    """

    def __init__(self, app: ASGIApp, hang_seconds: float) -> None:
        self._app = app
        self._hang_seconds = hang_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            extensions = scope.setdefault("extensions", {}) or {}
            scope["extensions"] = extensions
            extensions.setdefault(
                DROP_EXTENSION, functools.partial(_hang_up, receive, send, self._hang_seconds)
            )
        await self._app(scope, receive, send)


async def _hang_up(receive: Receive, send: Send, hang_seconds: float) -> None:
    try:
        async with asyncio.timeout(hang_seconds):
            await _until_disconnect(receive)
            return
    except TimeoutError:
        pass
    # ASGI has no "abort" message; uvicorn's send is a bound method of a cycle that holds the
    # connection's transport, and closing that is the only way to end it without a status line.
    close = getattr(getattr(getattr(send, "__self__", None), "transport", None), "close", None)
    if callable(close):
        close()
    await _until_disconnect(receive)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _drop_extension(scope: Scope) -> Callable[[], Awaitable[None]]:
    drop: Callable[[], Awaitable[None]] = (scope.get("extensions") or {})[DROP_EXTENSION]
    return drop


def build_app(
    endpoints: Mapping[str, CustomerEndpoint],
    paths: Mapping[str, str],
    control: ASGIApp,
    hang_seconds: float,
    latency_ms: int = 0,
    *,
    http: frozenset[str] = frozenset(),
) -> ASGIApp:
    routes: list[Route | Mount] = [
        Route(paths[name], endpoint, methods=["POST"]) for name, endpoint in endpoints.items()
    ]
    routes.append(Mount("/_sandbox", app=control))
    # A bare Router: no slash redirects (a 307 to /_sandbox/ would betray the control API) and no
    # exception middleware on the hot path; anything unrouted is a plain 404 or 405.
    # The HTTP style re-sends each answer inside DropAware, which must hold the server's own `send`.
    app = DropAware(HttpStyle(Router(routes=routes, redirect_slashes=False), http), hang_seconds)
    return Latency(app, latency_ms / 1000) if latency_ms else app


def _first_headers(scope: Scope) -> dict[bytes, bytes]:
    """Header name -> first value; names arrive lower-cased (ASGI), so X-Api-Key matches any casing."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        headers.setdefault(bytes(name).lower(), bytes(value))
    return headers


def _latin1(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body and whether it exceeded `limit`; an oversized body is drained but not kept."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message: Message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        more = message.get("more_body", False)
    return (b"", True) if size > limit else (b"".join(chunks), False)

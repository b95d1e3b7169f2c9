"""An httpx transport that calls the sandbox's ASGI app in-process: no port, no subprocess.

httpx's own ASGITransport is async-only; this one gives a plain `httpx.Client`. It is an
`httpx.MockTransport` (whose handler runs the app) so that VCR.py, which patches MockTransport,
records and replays in-process exchanges like any others. Requests run on one
event loop thread per transport, so a client shared by many threads sees real interleaving, and a
request that outlives its read timeout still completes on the sandbox, as it would on a server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import weakref
from dataclasses import dataclass, field

import httpx
from starlette.types import ASGIApp, Message

from conformance.sandbox.faults import DROP_EXTENSION

BASE_URL = "http://sandbox.invalid"
_SERVER = ("sandbox.invalid", 80)
_CLIENT = ("127.0.0.1", 50000)


@dataclass
class _Exchange:
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    dropped: bool = False


class InProcessTransport(httpx.MockTransport):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(self._answer)
        self._app = app
        self._loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(self._loop,), name="sandbox-in-process", daemon=True
        )
        thread.start()
        # Stops the loop on close(), on garbage collection, or at interpreter exit, whichever is first.
        self._finalizer = weakref.finalize(self, _stop_loop, self._loop, thread)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        future = asyncio.run_coroutine_threadsafe(_exchange(self._app, request, request.read()), self._loop)
        try:
            exchange = future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise httpx.ReadTimeout(
                f"the sandbox did not answer within {timeout} s", request=request
            ) from None
        if exchange.dropped:
            raise httpx.ReadTimeout(
                "the sandbox committed the request and dropped the connection", request=request
            )
        if exchange.status is None:
            raise httpx.RemoteProtocolError("the sandbox app returned without a response", request=request)
        # A stream, not `content=`: httpx then reads it through its own wrapper, which times the exchange.
        stream = httpx.ByteStream(bytes(exchange.body))
        return httpx.Response(exchange.status, headers=exchange.headers, stream=stream, request=request)

    def close(self) -> None:
        self._finalizer()


async def _exchange(app: ASGIApp, request: httpx.Request, body: bytes) -> _Exchange:
    exchange = _Exchange()
    finished = asyncio.Event()
    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            exchange.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            exchange.body += message.get("body", b"")
            if not message.get("more_body", False):
                finished.set()

    async def drop() -> None:
        exchange.dropped = True
        finished.set()

    url = request.url
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "server": _SERVER,
        "client": _CLIENT,
        "state": {},
        "extensions": {DROP_EXTENSION: drop},
    }
    await app(scope, receive, send)
    return exchange


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
    if thread is not threading.current_thread():
        thread.join(timeout=5)


def in_process_client(app: ASGIApp, timeout: float) -> httpx.Client:
    return httpx.Client(transport=InProcessTransport(app), base_url=BASE_URL, timeout=timeout)

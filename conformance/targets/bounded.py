"""Bounded HTTP: every request to a target has a whole-request deadline and a body cap.

httpx's timeouts count per read: a target that sends its answer one byte a second never trips them.
Here every read, write and connect of a request is given at most what is left of that request's
deadline (a network backend wrapped around httpcore's, so the headers and a TLS handshake are bounded
too, not only the body), and the body is streamed and read up to a cap, the rest left unread.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

# The monotonic time by which the request under way in this context must be done; None: unbounded.
_DEADLINE: ContextVar[float | None] = ContextVar("conformance_request_deadline", default=None)


class DeadlinePassed(httpx.TimeoutException):
    """The whole request took longer than its deadline (however fast each read was)."""


class Oversized(Exception):
    """The body was longer than the cap: the rest was not read."""

    def __init__(self, status: int, cap: int) -> None:
        super().__init__(f"oversized: the {status} answer's body exceeded {cap} bytes; the rest was not read")
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Bound everything sent and read in this context to `seconds` from now (yields the deadline)."""
    until = time.monotonic() + seconds
    token = _DEADLINE.set(until)
    try:
        yield until
    finally:
        _DEADLINE.reset(token)


def _left(timeout: float | None) -> float | None:
    """`timeout`, shortened to what is left of the deadline; raises once it has passed."""
    until = _DEADLINE.get()
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, _left(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._backend.connect_unix_socket(path, _left(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bounded_client(**settings: Any) -> httpx.Client:
    """An httpx client whose connections obey `deadline` (its proxies' too, from the environment).

    httpx offers no network backend setting, so it is set on each transport's connection pool.
    """
    client = httpx.Client(**settings)
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if isinstance(pool, httpcore.ConnectionPool):
            pool._network_backend = _DeadlineBackend(pool._network_backend)
    return client


def post(
    http: httpx.Client,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    seconds: float,
    cap: int,
    timeout: Any = httpx.USE_CLIENT_DEFAULT,
) -> Answer:
    """POST and read the answer within `seconds` in all and at most `cap` bytes of body.

    Raises httpx's errors (a `DeadlinePassed` when the whole request took too long) and `Oversized`.
    """
    with deadline(seconds) as until:
        try:
            with http.stream("POST", url, content=content, headers=dict(headers), timeout=timeout) as raw:
                body = bytearray()
                for chunk in raw.iter_bytes():  # decoded: a compressed bomb is capped too
                    body += chunk
                    if len(body) > cap:
                        raise Oversized(raw.status_code, cap)
                    if time.monotonic() > until:  # a transport with no sockets (in-process)
                        raise DeadlinePassed("the request's deadline passed")
                return Answer(raw.status_code, dict(raw.headers), bytes(body))
        except httpx.TimeoutException as exc:
            if time.monotonic() >= until:
                raise DeadlinePassed(f"no complete answer within {seconds:g} s") from exc
            raise

"""A request to a misbehaving server is bounded as a whole (not per read) and its body is capped; a
client whose target stops answering stops sending."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest

from conformance.core.exchange import Request
from conformance.profile.target_profile import Limits
from conformance.targets import bounded
from conformance.targets.api_client import ApiClient, TargetStopped
from tests.self.reference import bundled_contract, sandbox_profile

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
DRIP_SECONDS = 0.02  # 100,000 bytes at this pace: over half an hour unless the deadline cuts it


@contextmanager
def raw_server(answer: bytes, *, drip: bool) -> Iterator[str]:
    """A one-connection-at-a-time HTTP server that sends `answer` whole, or one byte at a time."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # a closed listener does not wake `accept`: it polls `stop`
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.recv(65536)
                try:
                    if not drip:
                        connection.sendall(answer)
                    for n in range(len(answer) if drip else 0):
                        if stop.is_set():
                            break
                        connection.sendall(answer[n : n + 1])
                        time.sleep(DRIP_SECONDS)
                except OSError:  # the client gave up: what the test wants
                    continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def post(url: str, *, seconds: float = 0.3, cap: int = 1 << 20) -> bounded.Answer:
    with bounded.bounded_client(timeout=10.0) as http:
        return bounded.post(http, url + "/x", content=b"{}", headers={}, seconds=seconds, cap=cap)


def test_a_body_dripped_byte_by_byte_ends_at_the_deadline() -> None:
    """Each byte arrives well within the per-read timeout; the whole-request deadline still ends it."""
    with raw_server(HEADERS + b" " * 100_000, drip=False) as url:
        assert len(post(url, seconds=5).content) == 100_000  # the same answer, sent whole, is read
    with raw_server(HEADERS + b" " * 100_000, drip=True) as url, pytest.raises(bounded.DeadlinePassed):
        post(url)


def test_headers_dripped_byte_by_byte_end_at_the_deadline() -> None:
    """The deadline bounds every read of the connection, the status line and headers included."""
    with raw_server(HEADERS * 50, drip=True) as url, pytest.raises(bounded.DeadlinePassed):
        post(url)


def test_a_body_beyond_the_cap_is_oversized_and_not_read_whole() -> None:
    """A body longer than the cap raises `Oversized` naming the status; one within it is read."""
    body = b"x" * 3000
    answer = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    with raw_server(answer, drip=False) as url:
        assert post(url, cap=4096).content == body
        with pytest.raises(bounded.Oversized, match="200 answer's body exceeded 2048 bytes"):
            post(url, cap=2048)


def client(limits: Limits, answers: list[httpx.Response | Exception]) -> ApiClient:
    """An ApiClient over a mock transport that gives `answers` in turn."""
    contract = bundled_contract()

    def handle(_: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    http = httpx.Client(transport=httpx.MockTransport(handle), base_url="http://target.invalid")
    return ApiClient(contract, replace(sandbox_profile(), limits=limits), http, budget=None)


def test_consecutive_unanswered_requests_stop_the_client_and_an_answer_resets_the_count() -> None:
    """With stop_after_unanswered = 2: no answer, an answer, no answer, no answer -> TargetStopped,
    and every later request raises at once, unsent."""
    lost = httpx.ConnectError("refused")
    answers: list[httpx.Response | Exception] = [lost, httpx.Response(400), lost, lost, httpx.Response(400)]
    api = client(Limits(stop_after_unanswered=2), answers)
    request = Request("register", raw=b"")
    assert api.send(request).response is None
    assert api.send(request).response is not None
    assert api.send(request).response is None
    with pytest.raises(TargetStopped, match="2 consecutive requests got no answer"):
        api.send(request)
    with pytest.raises(TargetStopped):
        api.send(request)
    assert len(answers) == 1  # the last request was never sent


def test_an_oversized_answer_is_recorded_as_such_and_counts_as_an_answer() -> None:
    """The exchange carries the oversized error (no response), and it does not stop the run."""
    big = [httpx.Response(200, content=b"x" * 5000) for _ in range(3)]
    api = client(Limits(body_cap_bytes=1024, stop_after_unanswered=1), list(big))
    for _ in range(3):
        exchange = api.send(Request("register", raw=b""))
        assert exchange.response is None
        assert (exchange.error or "").startswith("oversized: the 200 answer's body exceeded 1024 bytes")
    assert api.stopped is None
